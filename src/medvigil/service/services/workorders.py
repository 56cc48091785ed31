"""SVC-4/SVC-9/SVC-11: the work order on the engineer's phone — accept, travel, arrive
(time-stamped), diagnose, act, parts used (issued from stock through the parts app),
performance verification with test data, operator training, the customer's sign-off (name and
a drawn signature stored as an image attachment), and closing with the ISO 13485 7.5.4 question
"is this a complaint?" — yes opens a complaint prefilled from the work order.

Everything typed is saved as it goes (`save_field`, one field per call with the version read:
a stale version is a ConflictError the page shows), so a lost connection loses nothing."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medvigil.core.audit import audit_context
from medvigil.core.permissions import require
from medvigil.core.types import Actor

from ..models import ServiceRequest, WorkOrder

CHANGE_PERM = "service.change_workorder"
MAX_PARTS = 50
MAX_SIGNATURE_BYTES = 300_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _lock(wo: WorkOrder, version: Any, by: Actor) -> WorkOrder:
    obj = WorkOrder.objects.select_for_update(of=("self",)).select_related("request").get(pk=wo.pk)
    obj.check_version(version)
    if (
        by is not None
        and obj.engineer_id != by.pk
        and not by.has_perm("service.dispatch_servicerequest")
    ):
        raise ValidationError(_("Only the engineer assigned to this work order fills it in."))
    return obj


def _lock_request(wo: WorkOrder) -> ServiceRequest:
    return ServiceRequest.objects.select_for_update().get(pk=wo.request_id)


def _step(wo: WorkOrder, *, by: Actor, version: Any, to: str) -> WorkOrder:
    require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by):
        obj = _lock(wo, version, by)
        obj.check_transition(to)
        now = timezone.now()
        obj.status = to
        if to == WorkOrder.Status.ACCEPTED:
            obj.accepted_at = now
        elif to == WorkOrder.Status.TRAVELLING:
            obj.travel_started_at = now
        elif to == WorkOrder.Status.ON_SITE:
            obj.accepted_at = obj.accepted_at or now
            obj.arrived_at = now
            sr = _lock_request(obj)
            if sr.arrived_at is None:
                sr.arrived_at = now  # SVC-2: the arrival clock stops at the first arrival
            sr.status = ServiceRequest.Status.ON_SITE
            sr.save()
        obj.save()
    return obj


def accept(wo: WorkOrder, *, by: Actor, version: Any) -> WorkOrder:
    return _step(wo, by=by, version=version, to=WorkOrder.Status.ACCEPTED)


def start_travel(wo: WorkOrder, *, by: Actor, version: Any) -> WorkOrder:
    return _step(wo, by=by, version=version, to=WorkOrder.Status.TRAVELLING)


def arrive(wo: WorkOrder, *, by: Actor, version: Any) -> WorkOrder:
    return _step(wo, by=by, version=version, to=WorkOrder.Status.ON_SITE)


# --- the fields, saved as typed ---------------------------------------------------------------


def clean_field(name: str, value: Any) -> Any:
    """One work-order field from a form or JSON value, checked (the one rule for the page,
    the autosave and the API)."""
    if name not in WorkOrder.FIELD_WORK:
        raise ValidationError({name: _("This field cannot be changed here.")})
    if name in ("verification_passed",):
        if value in (None, "", "unknown"):
            return None
        if value in (True, "true", "yes", "1", "on"):
            return True
        if value in (False, "false", "no", "0"):
            return False
        raise ValidationError({name: _("Answer yes or no.")})
    if name == "training_given":
        return value in (True, "true", "yes", "1", "on")
    if not isinstance(value, str):
        raise ValidationError({name: _("Enter text.")})
    if "\x00" in value:
        raise ValidationError({name: _("The text contains a NUL character.")})
    if len(value) > 20000:
        raise ValidationError({name: _("At most 20,000 characters.")})
    if name == "result" and value and value not in WorkOrder.Result.values:
        raise ValidationError({name: _("Choose from the list.")})
    return value.strip() if name == "result" else value


def save_fields(wo: WorkOrder, *, by: Actor, version: Any, values: dict[str, Any]) -> WorkOrder:
    """Save what the engineer typed (any of FIELD_WORK) while on site; the version read is
    required (a stale one raises ConflictError, nothing changes)."""
    require(by, CHANGE_PERM)
    if not isinstance(values, dict) or not values:
        raise ValidationError(_("Nothing to save."))
    cleaned = {str(name): clean_field(str(name), value) for name, value in values.items()}
    with transaction.atomic(), audit_context(actor=by):
        obj = _lock(wo, version, by)
        if obj.status not in WorkOrder.OPEN_STATUSES:
            raise ValidationError(_("The work order is signed off; it cannot change any more."))
        changed = False
        for name, value in cleaned.items():
            if getattr(obj, name) != value:
                setattr(obj, name, value)
                changed = True
        if changed:
            obj.save()
    return obj


def _part_line(movement: Any) -> dict[str, Any]:
    """The work order's line of a part issued from stock (SVC-10): enough to show and archive
    it without reading the parts app again."""
    part = movement.part
    return {
        "part": part.pk,
        "code": part.code,
        "name": part.name,
        "quantity": str(movement.quantity),
        "location": movement.from_location_id,
        "location_name": str(movement.from_location),
        "movement": movement.number,
        "movement_id": movement.pk,
    }


def _resend(wo: WorkOrder, request_key: str | None) -> WorkOrder | None:
    """A phone that lost its connection sends the same request again: the first answer."""
    from medvigil.parts.models import StockMovement

    if not request_key:
        return None
    movement = StockMovement.objects.filter(request_key=request_key[:64]).first()
    if movement is None:
        return None
    if movement.reference_id != str(wo.pk) or movement.reference_label != wo.number:
        raise ValidationError({"request_key": _("This request key belongs to another record.")})
    return WorkOrder.objects.get(pk=wo.pk)


def _parts_refused(location: Any) -> ValidationError:
    return ValidationError(
        {
            "location": _("You may not take parts from %(location)s: ask the stock keeper.")
            % {"location": str(location)}
        }
    )


def use_part(
    wo: WorkOrder,
    *,
    by: Actor,
    version: Any,
    part: Any,
    quantity: Any,
    location: Any = None,
    request_key: str | None = None,
) -> WorkOrder:
    """A part used on site leaves stock (SVC-4, SVC-10): through the parts app's
    `issue_for_work_order`, from the engineer's van unless another location is chosen, as one
    transaction with the work order's line — short stock ("Only 0 of …") or a location the
    user may not take from is refused and nothing changes. `request_key` makes a resent
    request harmless (the same line, not a second issue)."""
    from medvigil.parts.models import Part, StockLocation
    from medvigil.parts.services import issue_for_work_order, van_of

    require(by, CHANGE_PERM)
    again = _resend(wo, request_key)
    if again is not None:
        return again
    if not isinstance(part, Part):
        try:
            part = Part.objects.get(pk=int(part))
        except (Part.DoesNotExist, TypeError, ValueError, OverflowError):
            raise ValidationError({"part": _("Choose a part of the catalogue.")}) from None
    if not part.active:
        raise ValidationError({"part": _("%(part)s is inactive.") % {"part": str(part)}})
    if location in (None, ""):
        location = van_of(wo.engineer)
        if location is None:
            raise ValidationError(
                {"location": _("The engineer has no van: choose where the part comes from.")}
            )
    elif not isinstance(location, StockLocation):
        try:
            location = StockLocation.objects.get(pk=int(location), active=True)
        except (StockLocation.DoesNotExist, TypeError, ValueError, OverflowError):
            raise ValidationError({"location": _("Choose an active stock location.")}) from None
    with transaction.atomic(), audit_context(actor=by):
        obj = _lock(wo, version, by)
        if obj.status != WorkOrder.Status.ON_SITE:
            raise ValidationError(_("Parts are recorded on site, before the customer signs."))
        if len(obj.parts_used) >= MAX_PARTS:
            raise ValidationError({"part": _("At most %(n)d part lines.") % {"n": MAX_PARTS}})
        try:
            movement = issue_for_work_order(
                part, location, quantity, obj, by, request_key=(request_key or "")[:64] or None
            )
        except PermissionDenied:
            raise _parts_refused(location) from None
        obj.parts_used = [*obj.parts_used, _part_line(movement)]
        obj.save()
    return obj


def return_part(wo: WorkOrder, *, by: Actor, version: Any, movement_id: Any) -> WorkOrder:
    """Undo a part line recorded by mistake or not fitted after all: the parts go back to the
    location they came from (`return_from_work_order`, once per line) and the line leaves the
    work order — both or neither."""
    from medvigil.parts.models import StockMovement
    from medvigil.parts.services import return_from_work_order

    require(by, CHANGE_PERM)
    key = f"wo-{wo.pk}-return-{movement_id}"[:64]
    if StockMovement.objects.filter(request_key=key).exists():
        return WorkOrder.objects.get(pk=wo.pk)  # a resent request: already returned
    with transaction.atomic(), audit_context(actor=by):
        obj = _lock(wo, version, by)
        if obj.status != WorkOrder.Status.ON_SITE:
            raise ValidationError(_("Parts are recorded on site, before the customer signs."))
        line = next(
            (p for p in obj.parts_used if str(p.get("movement_id", "")) == str(movement_id)),
            None,
        )
        if line is None:
            raise ValidationError({"movement": _("This work order has no such part line.")})
        issued = StockMovement.objects.select_related("part", "from_location").get(
            pk=line["movement_id"]
        )
        try:
            return_from_work_order(
                issued.part,
                issued.from_location,
                issued.quantity,
                obj,
                by,
                request_key=key,
            )
        except PermissionDenied:
            raise _parts_refused(issued.from_location) from None
        obj.parts_used = [p for p in obj.parts_used if p is not line]
        obj.save()
    return obj


def part_choices(wo: WorkOrder, user: Any) -> dict[str, Any]:
    """What the phone's part picker offers: the active parts (those that fit the unit's product
    first) and the locations the user may take from (the engineer's van first)."""
    from medvigil.parts.models import Part, StockLocation
    from medvigil.parts.services import van_of

    product_id = wo.request.product_id or (wo.request.unit.product_id if wo.request.unit else None)
    parts = list(Part.objects.filter(active=True).order_by("code")[:500])
    fitting: set[int] = set()
    if product_id:
        fitting = set(
            Part.objects.filter(
                fits__product_id=product_id, fits__active=True, active=True
            ).values_list("pk", flat=True)
        )
    parts.sort(key=lambda p: (p.pk not in fitting, p.code))
    van = van_of(wo.engineer)
    locations: list[Any] = [van] if van is not None else []
    if user.has_perm("parts.add_stockmovement"):
        others = StockLocation.objects.filter(active=True).order_by("kind", "code")
        locations += [loc for loc in others if van is None or loc.pk != van.pk]
    return {"parts": parts, "fitting": fitting, "locations": locations, "van": van}


# --- sign-off and closing -----------------------------------------------------------------------


def decode_signature(data_url: str) -> bytes:
    """The PNG of a drawn signature sent as a data: URL by the canvas (static/service/sign.js)."""
    prefix = "data:image/png;base64,"
    if not isinstance(data_url, str) or not data_url.startswith(prefix):
        raise ValidationError({"signature": _("Draw the signature in the box.")})
    raw = data_url[len(prefix) :]
    if len(raw) > MAX_SIGNATURE_BYTES * 4 // 3 + 4:
        raise ValidationError({"signature": _("The signature image is too large.")})
    try:
        png = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({"signature": _("The signature image is damaged.")}) from None
    if not png.startswith(PNG_MAGIC) or len(png) < 67:
        raise ValidationError({"signature": _("Draw the signature in the box.")})
    return png


def sign_off(
    wo: WorkOrder, *, by: Actor, version: Any, signer_name: str, signature: str
) -> WorkOrder:
    """The customer signs the finished work on the engineer's phone: printed name and a drawn
    signature (stored as an image attachment of the work order). A fixed result stops the
    request's fix clock (SVC-2)."""
    from medvigil.core.attachments.services import attach

    require(by, CHANGE_PERM)
    signer_name = _clean_signer(signer_name)
    png = decode_signature(signature)
    with transaction.atomic(), audit_context(actor=by):
        obj = _lock(wo, version, by)
        if not obj.can_sign_off():
            raise ValidationError(
                _("Before sign-off: be on site, record the diagnosis or actions and the result.")
            )
        now = timezone.now()
        att = attach(
            obj,
            uploaded_file=ContentFile(png, name=f"{obj.number}-signature.png"),
            by=by,  # type: ignore[arg-type]  # require() above: a signed-in user
            description=_("Customer signature: %(name)s") % {"name": signer_name},
            check_access=False,
        )
        obj.signature_attachment_id = att.pk
        _signed(obj, signer_name=signer_name, method="drawn", now=now)
    return obj


def _clean_signer(signer_name: Any) -> str:
    signer_name = (signer_name if isinstance(signer_name, str) else "").strip()
    if not signer_name or "\x00" in signer_name or len(signer_name) > 100:
        raise ValidationError({"signer_name": _("Write the customer's name (at most 100).")})
    return signer_name


def _signed(obj: WorkOrder, *, signer_name: str, method: str, now: dt.datetime) -> None:
    """The work order signed off (drawn or by code); a fixed result stops the fix clock."""
    obj.signer_name = signer_name
    obj.sign_method = method
    obj.signed_at = now
    obj.status = WorkOrder.Status.SIGNED
    obj.save()
    if obj.result == WorkOrder.Result.FIXED:
        sr = _lock_request(obj)
        sr.fixed_at = sr.fixed_at or now
        sr.status = ServiceRequest.Status.FIXED
        sr.save()


# --- sign-off by a one-time code e-mailed to the customer (SVC-4) -------------------------------

CODE_DIGITS = 6
CODE_RESEND_SECONDS = 60


def code_minutes() -> int:
    return int(getattr(settings, "SERVICE_SIGNOFF_CODE_MINUTES", 15))


def code_attempts() -> int:
    return int(getattr(settings, "SERVICE_SIGNOFF_CODE_ATTEMPTS", 5))


def _code_hash(wo_pk: int, code: str) -> str:
    """Keyed with the server's secret (HMAC-SHA256): the stored value (and the audit trail's
    digest of it) cannot be turned back into the six digits without the secret."""
    return salted_hmac(
        "medvigil.service.signoff-code", f"{wo_pk}:{code}", algorithm="sha256"
    ).hexdigest()


def signoff_address(wo: WorkOrder) -> str:
    """Where the code goes: the request's contact e-mail, else the customer's (trace)."""
    sr = wo.request
    if sr.contact_email:
        return sr.contact_email
    return sr.customer.email if sr.customer_id and sr.customer is not None else ""


def send_signoff_code(wo: WorkOrder, *, by: Actor, version: Any) -> WorkOrder:
    """E-mail a fresh six-digit code to the customer contact (the alternative to the drawn
    signature). Only its keyed hash is stored, with the address, the send time and the
    expiry (SERVICE_SIGNOFF_CODE_MINUTES, default 15); a new code replaces the old one and
    resets the wrong-entry count. An e-mail that cannot be sent changes nothing."""
    require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by, reason=_("Sign-off code sent")):
        obj = _lock(wo, version, by)
        if not obj.can_sign_off():
            raise ValidationError(
                _("Before sign-off: be on site, record the diagnosis or actions and the result.")
            )
        address = signoff_address(obj)
        if not address:
            raise ValidationError(
                _(
                    "No e-mail address of the customer is recorded on the request or the "
                    "customer: add the contact e-mail to the request, or let the customer "
                    "sign on the screen."
                )
            )
        now = timezone.now()
        if (
            obj.signoff_code_sent_at is not None
            and (now - obj.signoff_code_sent_at).total_seconds() < CODE_RESEND_SECONDS
        ):
            raise ValidationError(_("A code was just sent; wait a minute before sending another."))
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        obj.signoff_code_hash = _code_hash(obj.pk, code)
        obj.signoff_code_sent_to = address
        obj.signoff_code_sent_at = now
        obj.signoff_code_expires_at = now + dt.timedelta(minutes=code_minutes())
        obj.signoff_code_attempts = 0
        obj.save()
        sr = obj.request
        body = "\n".join(
            [
                _("Your service sign-off code: %(code)s") % {"code": code},
                "",
                _(
                    "Give this code to the service engineer %(engineer)s only if the work "
                    "described below was done to your satisfaction. It is valid until %(time)s."
                )
                % {
                    "engineer": obj.engineer.printed_name,
                    "time": timezone.localtime(obj.signoff_code_expires_at).strftime(
                        "%Y-%m-%d %H:%M"
                    ),
                },
                "",
                f"{obj.number} / {sr.number}: {sr.title}",
                _("Diagnosis: %(t)s") % {"t": obj.diagnosis} if obj.diagnosis else "",
                _("Actions: %(t)s") % {"t": obj.actions} if obj.actions else "",
                _("Result: %(t)s") % {"t": obj.get_result_display()},
            ]
        )
        message = EmailMessage(
            subject=_("Service sign-off code for %(n)s") % {"n": obj.number},
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
        )
        try:
            message.send(fail_silently=False)
        except Exception as exc:  # an SMTP error is a message, not a 500; nothing is saved
            raise ValidationError(_("The e-mail could not be sent: %(e)s") % {"e": exc}) from exc
    return obj


def confirm_signoff_code(
    wo: WorkOrder, *, by: Actor, version: Any, signer_name: Any, code: Any
) -> WorkOrder:
    """The engineer enters the code the customer received: right → signed off ("code"; the
    code is used up), wrong → counted (the count is saved and audited), and after
    SERVICE_SIGNOFF_CODE_ATTEMPTS (default 5) wrong entries or after the expiry the code is
    dead and a new one must be sent."""
    require(by, CHANGE_PERM)
    signer_name = _clean_signer(signer_name)
    code = (code if isinstance(code, str) else str(code or "")).strip().replace(" ", "")
    if len(code) != CODE_DIGITS or not code.isascii() or not code.isdigit():
        raise ValidationError({"code": _("Enter the six digits of the code.")})
    wrong = ""
    with transaction.atomic(), audit_context(actor=by, reason=_("Sign-off code entered")):
        obj = _lock(wo, version, by)
        if not obj.can_sign_off():
            raise ValidationError(
                _("Before sign-off: be on site, record the diagnosis or actions and the result.")
            )
        if not obj.signoff_code_hash:
            raise ValidationError({"code": _("Send a code to the customer first.")})
        now = timezone.now()
        if obj.signoff_code_expires_at is None or now > obj.signoff_code_expires_at:
            raise ValidationError({"code": _("The code has expired: send a new one.")})
        if obj.signoff_code_attempts >= code_attempts():
            raise ValidationError({"code": _("Too many wrong codes: send a new one.")})
        if not constant_time_compare(obj.signoff_code_hash, _code_hash(obj.pk, code)):
            obj.signoff_code_attempts += 1
            obj.save()  # kept (and audited) although the entry is refused
            left = code_attempts() - obj.signoff_code_attempts
            wrong = (
                _("Wrong code; %(n)d tries left.") % {"n": left}
                if left > 0
                else _("Wrong code; no tries left: send a new one.")
            )
        else:
            obj.signoff_code_hash = ""  # one time
            _signed(obj, signer_name=signer_name, method="code", now=now)
    if wrong:
        raise ValidationError({"code": wrong})
    return obj


# The service-archive entry's fields in order (seed 001 五 1 售后服务档案; 21 CFR 820.35(b)):
# its page, the frozen `WorkOrder.archive` and the history read the labels from here.
ARCHIVE_LABELS: dict[str, Any] = {
    "product": gettext_lazy("product name"),
    "model": gettext_lazy("model / specification"),
    "production_date": gettext_lazy("production date"),
    "serial": gettext_lazy("serial number"),
    "udi": gettext_lazy("UDI"),
    "sale_date": gettext_lazy("sale date"),
    "seller": gettext_lazy("seller"),
    "user": gettext_lazy("user (customer)"),
    "contact": gettext_lazy("user contact"),
    "engineer": gettext_lazy("service engineer"),
    "service_date": gettext_lazy("service date"),
    "content": gettext_lazy("service performed"),
    "parts": gettext_lazy("parts used"),
    "test_data": gettext_lazy("test data"),
    "result": gettext_lazy("result"),
    "training": gettext_lazy("operator training"),
    "feedback": gettext_lazy("user feedback"),
    "signed_by": gettext_lazy("signed by (customer)"),
}
# PLAT-11: the archive's customer contact is contact data
ARCHIVE_CONTACT_KEYS = ("contact",)


def archive_text(value: Any) -> str:
    """The frozen archive entry ({key: text}) as the history shows it: one "label: text" per
    field, in the archive's order."""
    if not isinstance(value, dict):
        return str(value)
    known = [(str(ARCHIVE_LABELS[k]), value[k]) for k in ARCHIVE_LABELS if value.get(k)]
    other = [(k, v) for k, v in value.items() if k not in ARCHIVE_LABELS and v]
    return "; ".join(f"{label}: {text}" for label, text in known + other)


def archive_entry(wo: WorkOrder) -> list[tuple[str, str, Any]]:
    """The service-archive entry (seed 001 五 1 售后服务档案; 21 CFR 820.35(b)): (key, label,
    value) rows read from the work order, its request and trace."""
    from medvigil.trace.models import SaleLine, SaleStatus

    sr = wo.request
    unit = sr.unit
    product = sr.product or (unit.product if unit else None)
    sale = None
    if unit is not None:
        line = (
            SaleLine.objects.filter(unit=unit)
            .exclude(sale__status=SaleStatus.VOIDED)
            .select_related("sale", "sale__seller")
            .order_by("sale__sale_date")
            .first()
        )
        sale = line.sale if line else None

    def d(value: Any) -> str:
        if isinstance(value, dt.datetime):
            return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
        if isinstance(value, dt.date):
            return value.isoformat()
        return "" if value is None else str(value)

    parts = "; ".join(
        f"{p.get('code', '')} {p.get('name', '')} × {p.get('quantity', '')}".strip()
        for p in wo.parts_used
    )
    values: dict[str, Any] = {
        "product": product.name if product else sr.device_text,
        "model": product.model_spec if product else "",
        "production_date": d(unit.production_date) if unit else "",
        "serial": unit.serial if unit else "",
        "udi": (unit.udi_hri if unit else "") or sr.udi_text,
        "sale_date": d(sale.sale_date) if sale else "",
        "seller": str(sale.seller) if sale and sale.seller_id else _("our company"),
        "user": str(sr.customer) if sr.customer_id else "",
        "contact": " ".join(x for x in (sr.contact_name, sr.contact_phone) if x),
        "engineer": wo.engineer.printed_name,
        "service_date": d(wo.arrived_at or wo.signed_at),
        "content": "\n".join(x for x in (wo.diagnosis, wo.actions) if x),
        "parts": parts,
        "test_data": "\n".join(x for x in (wo.verification, wo.test_data) if x),
        "result": wo.get_result_display(),
        "training": wo.training_notes if wo.training_given else "",
        "feedback": wo.customer_feedback,
        "signed_by": f"{wo.signer_name} {d(wo.signed_at)}".strip(),
    }
    rows = [(key, str(label), values[key]) for key, label in ARCHIVE_LABELS.items()]
    return rows


def close_work_order(
    wo: WorkOrder,
    *,
    by: Actor,
    version: Any,
    is_complaint: Any,
    note: str = "",
    category: str = "product_quality",
) -> WorkOrder:
    """Close a signed work order: it becomes the unit's service-archive entry (frozen in
    `archive`). The answer to "is this a complaint?" is required (ISO 13485 7.5.4/8.2.2); yes
    registers a complaint prefilled from the work order (SVC-11, complaints' intake service)
    and links it; no needs a short note why. A fixed request is closed with it; otherwise it
    goes back to the dispatch board."""
    require(by, CHANGE_PERM)
    if is_complaint not in (True, False):
        raise ValidationError({"is_complaint": _("Answer: is this a complaint?")})
    note = (note or "").strip()
    if "\x00" in note:
        raise ValidationError({"note": _("The text contains a NUL character.")})
    if is_complaint is False and not note:
        raise ValidationError({"note": _("Say briefly why this is not a complaint.")})
    with transaction.atomic(), audit_context(actor=by):
        obj = _lock(wo, version, by)
        obj.is_complaint = is_complaint
        obj.complaint_review_note = note
        if not obj.can_close():
            raise ValidationError(_("Only a work order signed off by the customer is closed."))
        now = timezone.now()
        obj.status = WorkOrder.Status.CLOSED
        obj.closed_at = now
        obj.archive = {key: str(value) for key, _label, value in archive_entry(obj)}
        if is_complaint:
            obj.complaint = _open_complaint(obj, by=by, note=note, category=category)
        obj.save()
        sr = _lock_request(obj)
        if obj.result == WorkOrder.Result.FIXED or obj.result == WorkOrder.Result.ADVICE:
            sr.fixed_at = sr.fixed_at or obj.signed_at or now
            sr.status = ServiceRequest.Status.CLOSED
            sr.closed_at = now
            sr.resolution = sr.resolution or obj.actions
        else:
            sr.status = ServiceRequest.Status.NEW  # back on the dispatch board
            sr.engineer = None
        sr.save()
    return obj


def _open_complaint(wo: WorkOrder, *, by: Actor, note: str, category: str) -> Any:
    """SVC-11: a complaint registered through complaints' intake (register_feedback) with what
    the work order already holds — nobody types it again."""
    from medvigil.complaints.models import Category
    from medvigil.complaints.services.intake import register_feedback

    sr = wo.request
    if category not in Category.values:
        category = Category.PRODUCT_QUALITY
    description = "\n\n".join(
        x
        for x in (
            sr.description,
            _("Diagnosis: %(t)s") % {"t": wo.diagnosis} if wo.diagnosis else "",
            _("Actions: %(t)s") % {"t": wo.actions} if wo.actions else "",
            _("Test data: %(t)s") % {"t": wo.test_data} if wo.test_data else "",
            note,
        )
        if x
    )
    return register_feedback(
        by=by,
        source=f"service:{wo.number}",
        kind="complaint",
        channel="service",
        received_at=wo.signed_at or timezone.now(),
        title=(sr.title or (wo.diagnosis.splitlines() or [wo.number])[0])[:200],
        description=description or sr.title,
        complainant_name=sr.contact_name,
        complainant_phone=sr.contact_phone,
        complainant_address=sr.site_address[:300],
        complainant_organisation=str(sr.customer)[:200] if sr.customer_id else "",
        end_user=sr.customer,
        dealer=sr.dealer,
        unit=sr.unit,
        product=sr.product,
        udi_text=sr.udi_text,
        device_text=sr.device_text,
        category=category,
        visit_needed=False,
        source_reference=f"{sr.number} / {wo.number}",
    )
