"""SVC-4/SVC-9/SVC-11: the work order on the engineer's phone — accept, travel, arrive
(time-stamped), diagnose, act, parts used (free lines until the parts app takes stock),
performance verification with test data, operator training, the customer's sign-off (name and
a drawn signature stored as an image attachment), and closing with the ISO 13485 7.5.4 question
"is this a complaint?" — yes opens a complaint prefilled from the work order.

Everything typed is saved as it goes (`save_field`, one field per call with the version read:
a stale version is a ConflictError the page shows), so a lost connection loses nothing."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

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


def clean_parts(lines: Any) -> list[dict[str, Any]]:
    """Parts used as free lines {code, name, quantity} (SVC-10 wires them to stock later)."""
    if not isinstance(lines, list) or len(lines) > MAX_PARTS:
        raise ValidationError({"parts_used": _("At most %(n)d part lines.") % {"n": MAX_PARTS}})
    out = []
    for i, line in enumerate(lines, 1):
        if not isinstance(line, dict):
            raise ValidationError({"parts_used": _("Line %(n)d is not a part.") % {"n": i}})
        code = str(line.get("code") or "").strip()[:40]
        name = str(line.get("name") or "").strip()[:200]
        if not code and not name:
            continue
        if "\x00" in code + name:
            raise ValidationError({"parts_used": _("The text contains a NUL character.")})
        try:
            qty = Decimal(str(line.get("quantity", "1")).strip() or "1")
        except InvalidOperation:
            raise ValidationError(
                {"parts_used": _("Line %(n)d: the quantity is not a number.") % {"n": i}}
            ) from None
        if not qty.is_finite() or qty <= 0 or qty > 10_000:
            raise ValidationError(
                {"parts_used": _("Line %(n)d: a quantity between 0 and 10,000.") % {"n": i}}
            )
        out.append({"code": code, "name": name, "quantity": str(qty.normalize())})
    return out


def save_parts(wo: WorkOrder, *, by: Actor, version: Any, lines: Any) -> WorkOrder:
    require(by, CHANGE_PERM)
    parts = clean_parts(lines)
    with transaction.atomic(), audit_context(actor=by):
        obj = _lock(wo, version, by)
        if obj.status not in WorkOrder.OPEN_STATUSES:
            raise ValidationError(_("The work order is signed off; it cannot change any more."))
        if obj.parts_used != parts:
            obj.parts_used = parts
            obj.save()
    return obj


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
    signer_name = (signer_name or "").strip()
    if not signer_name or "\x00" in signer_name or len(signer_name) > 100:
        raise ValidationError({"signer_name": _("Write the customer's name (at most 100).")})
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
        obj.signer_name = signer_name
        obj.sign_method = "drawn"
        obj.signed_at = now
        obj.signature_attachment_id = att.pk
        obj.status = WorkOrder.Status.SIGNED
        obj.save()
        if obj.result == WorkOrder.Result.FIXED:
            sr = _lock_request(obj)
            sr.fixed_at = sr.fixed_at or now
            sr.status = ServiceRequest.Status.FIXED
            sr.save()
    return obj


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
    rows: list[tuple[str, str, Any]] = [
        ("product", _("product name"), product.name if product else sr.device_text),
        ("model", _("model / specification"), product.model_spec if product else ""),
        ("production_date", _("production date"), d(unit.production_date) if unit else ""),
        ("serial", _("serial number"), unit.serial if unit else ""),
        ("udi", _("UDI"), (unit.udi_hri if unit else "") or sr.udi_text),
        ("sale_date", _("sale date"), d(sale.sale_date) if sale else ""),
        ("seller", _("seller"), str(sale.seller) if sale and sale.seller_id else _("our company")),
        ("user", _("user (customer)"), str(sr.customer) if sr.customer_id else ""),
        (
            "contact",
            _("user contact"),
            " ".join(x for x in (sr.contact_name, sr.contact_phone) if x),
        ),
        ("engineer", _("service engineer"), wo.engineer.printed_name),
        ("service_date", _("service date"), d(wo.arrived_at or wo.signed_at)),
        ("content", _("service performed"), "\n".join(x for x in (wo.diagnosis, wo.actions) if x)),
        ("parts", _("parts used"), parts),
        ("test_data", _("test data"), "\n".join(x for x in (wo.verification, wo.test_data) if x)),
        ("result", _("result"), wo.get_result_display()),
        ("training", _("operator training"), wo.training_notes if wo.training_given else ""),
        ("feedback", _("user feedback"), wo.customer_feedback),
        ("signed_by", _("signed by (customer)"), f"{wo.signer_name} {d(wo.signed_at)}".strip()),
    ]
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
