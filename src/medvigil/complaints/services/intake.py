"""FBK-1/FBK-2: intake. `register_feedback` is the one way in: the intake form, the API, the
public form and the mailbox all call it. A complaint is given its proposed severity (FBK-3)
and, when its category is known, routed to the owning department with its problem notices
(FBK-3/8) in the same transaction; inquiries, suggestions and praise given with an answer are
answered and closed in one step (FBK-2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medvigil.core.attachments.services import attach
from medvigil.core.audit import audit_context
from medvigil.core.notifications.services import notify_each
from medvigil.core.permissions import require
from medvigil.trace.models import Customer, CustomerKind, Lot, Product, SaleStatus, Unit
from medvigil.trace.services import warranty_end_for
from medvigil.trace.udi import UdiError, find_unit_or_lot, looks_like_udi

from ..models import Feedback, Kind
from ..rules import propose_severity

ADD_PERM = "complaints.add_feedback"
CHANGE_PERM = "complaints.change_feedback"

# What intake may set (the form, the API, the public form and the mailbox).
INTAKE_FIELDS = frozenset(
    {
        "kind",
        "channel",
        "received_at",
        "language",
        "title",
        "complainant_name",
        "complainant_organisation",
        "complainant_phone",
        "complainant_email",
        "complainant_address",
        "customer",
        "end_user",
        "dealer",
        "product",
        "lot",
        "unit",
        "udi_text",
        "device_text",
        "under_warranty",
        "warranty_end",
        "description",
        "occurred_at",
        "occurred_where",
        "impact",
        "quantity_affected",
        "patient_involvement",
        "patient_details",
        "customer_wants",
        "customer_wants_detail",
        "category",
        "compensation_claimed",
        "safety_issue",
        "repeated_repairs",
        "outside_parties",
        "bad_faith_suspected",
        "bad_faith_reason",
        "visit_needed",
        "public_code",
        "source_reference",
    }
)
# Fields that change the proposed severity (FBK-3) when edited.
SEVERITY_INPUTS = frozenset(
    {
        "kind",
        "channel",
        "patient_involvement",
        "compensation_claimed",
        "safety_issue",
        "repeated_repairs",
        "outside_parties",
        "customer_wants",
    }
)


# --- the device (FBK-1): scan or type → unit/lot/product and what trace knows -----------------


def _today() -> dt.date:
    return timezone.localdate()


def device_facts(unit: Unit | None = None, lot: Lot | None = None) -> dict[str, Any]:
    """What trace's records say about a unit (or a lot): product, lot, the customer who bought
    it from us, the dealer on the way, the end user where it is installed, the warranty."""
    from medvigil.trace.models import Installation, SaleLine

    facts: dict[str, Any] = {"unit": unit, "lot": lot, "product": None}
    if unit is not None:
        facts.update(product=unit.product, lot=unit.lot)
        lines = list(
            SaleLine.objects.filter(unit=unit)
            .exclude(sale__status=SaleStatus.VOIDED)
            .select_related("buyer", "sale")
            .order_by("sale__sale_date", "id")
        )
        buyers = [ln.buyer for ln in lines]
        dealers = [b for b in buyers if b.kind == CustomerKind.DEALER]
        inst = (
            Installation.objects.filter(unit=unit)
            .select_related("customer")
            .order_by("-current", "-installed_on", "-id")
            .first()
        )
        end_user = inst.customer if inst else (buyers[-1] if buyers else unit.holder)
        facts.update(
            customer=buyers[0] if buyers else None,
            dealer=dealers[0] if dealers else None,
            end_user=end_user if isinstance(end_user, Customer) else None,
        )
        # The warranty runs from acceptance (trace); before it, from installation, else from
        # our sale: what the customer service agent tells the caller.
        warranty_end = inst.warranty_end if inst else None
        if warranty_end is None:
            since = (inst.accepted_on or inst.installed_on) if inst else None
            since = since or (lines[0].sale.sale_date if lines else None)
            if since is not None and unit.product.warranty_months:
                warranty_end = warranty_end_for(unit.product, since)
        if warranty_end is not None:
            facts.update(warranty_end=warranty_end, under_warranty=warranty_end >= _today())
    elif lot is not None:
        facts.update(product=lot.product, lot=lot)
    return facts


def find_device(text: str, *, user: Any) -> dict[str, Any]:
    """A scanned UDI, a serial or a lot number → {"unit", "lot", "product", "customer", "dealer",
    "end_user", "warranty_end", "under_warranty", "udi_text"} through trace's rules (among the
    units and lots the user may see), or {"error": reason} when nothing matches."""
    text = (text or "").strip()
    if not text:
        return {"error": _("Scan a UDI or type a serial or lot number.")}
    try:
        found = find_unit_or_lot(text, user)
    except PermissionDenied:
        return {"error": _("You may not look units up.")}
    except UdiError as e:
        # A typed lot number (no UDI) of a lot-tracked product.
        lots = list(Lot.objects.filter(lot_number=text).select_related("product")[:2])
        if len(lots) == 1 and not looks_like_udi(text):
            return {**device_facts(lot=lots[0]), "udi_text": ""}
        return {"error": str(e)}
    facts = device_facts(unit=found) if isinstance(found, Unit) else device_facts(lot=found)
    facts["udi_text"] = text if looks_like_udi(text) else ""
    return facts


DEVICE_KEYS = ("unit", "lot", "product", "customer", "dealer", "end_user")


def device_values(facts: dict[str, Any]) -> dict[str, Any]:
    """The intake fields that `find_device`'s facts give (what trace knows is taken as is;
    what it does not know is left out, so nothing already recorded is blanked)."""
    values = {key: facts[key] for key in DEVICE_KEYS if facts.get(key) is not None}
    for key in ("udi_text", "warranty_end", "under_warranty"):
        if facts.get(key) not in (None, ""):
            values[key] = facts[key]
    return values


# --- registering ---------------------------------------------------------------------------


def _resolve_fk(data: dict[str, Any], name: str, model: type[models.Model]) -> None:
    value = data.get(name)
    if value in (None, ""):
        data[name] = None
    elif not isinstance(value, model):
        try:
            data[name] = model._default_manager.get(pk=int(value))
        except (model.DoesNotExist, TypeError, ValueError):  # type: ignore[attr-defined]
            raise ValidationError({name: _("Choose an existing record.")}) from None


def _clean_data(data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - INTAKE_FIELDS
    if unknown:
        raise ValidationError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    for name, model in (
        ("customer", Customer),
        ("end_user", Customer),
        ("dealer", Customer),
        ("product", Product),
        ("lot", Lot),
        ("unit", Unit),
    ):
        if name in data:
            _resolve_fk(data, name, model)
    # The unit names its lot and product; a lot its product.
    unit, lot = data.get("unit"), data.get("lot")
    if unit is not None:
        data.setdefault("product", unit.product)
        data["product"] = data["product"] or unit.product
        if lot is None and unit.lot_id:
            data["lot"] = unit.lot
    if lot is not None and not data.get("product"):
        data["product"] = lot.product
    for name in ("title", "description", "complainant_name", "complainant_organisation"):
        if isinstance(data.get(name), str):
            data[name] = data[name].strip()
    return data


def _apply_severity(obj: Feedback, *, severity: str | None, reason: str) -> None:
    proposed, fired = propose_severity(obj)
    obj.severity_proposed, obj.severity_reasons = proposed, fired
    if not obj.is_complaint:
        obj.severity, obj.severity_override_reason = "", ""
        return
    if severity:
        obj.severity = severity
        obj.severity_override_reason = reason.strip() if severity != proposed else ""
    elif not obj.severity or not obj.severity_override_reason:
        obj.severity, obj.severity_override_reason = proposed, ""


def register_feedback(
    *,
    by: Any,
    source: str = "",
    files: Iterable[Any] = (),
    answer: str = "",
    severity: str | None = None,
    severity_reason: str = "",
    route: bool = True,
    **data: Any,
) -> Feedback:
    """Register feedback from any channel (FBK-1) and return it.

    `by` is the user recording it (perm complaints.add_feedback) — None only for the system's
    own ways in (the public form, the mailbox), which name themselves in `source` for the
    audit trail. `data` holds INTAKE_FIELDS (foreign keys as objects or ids). `files` are
    photos and documents stored through the attachments platform. A complaint gets its
    proposed severity (`severity` with `severity_reason` overrides it) and is routed when its
    category is known and `route` is true; another kind given an `answer` is answered and
    closed at once (FBK-2). Raises ValidationError with field errors for bad input."""
    if by is not None:
        require(by, ADD_PERM)
    elif not source:
        raise PermissionDenied
    data = _clean_data(dict(data))
    if data.get("unit") is not None:
        # The unit's sale and installation name the customer, dealer, end user and warranty
        # (what is given explicitly wins).
        facts = device_facts(unit=data["unit"])
        for key in ("customer", "dealer", "end_user", "warranty_end", "under_warranty"):
            if data.get(key) is None and facts.get(key) is not None:
                data[key] = facts[key]
    data.setdefault("received_at", timezone.now())
    data["received_at"] = data["received_at"] or timezone.now()
    if not data.get("title"):
        desc = (data.get("description") or "").strip()
        data["title"] = desc.splitlines()[0][:80] if desc else ""
    files = list(files)
    obj = Feedback(**data)
    obj.received_by = by
    obj.owner = by
    _apply_severity(obj, severity=severity, reason=severity_reason)
    # Everything that only reads is done before the transaction: the numbering row lock is
    # held from the number to the commit, and concurrent intakes queue on it.
    plan = None
    if obj.is_complaint and route and obj.category:
        from .routing import plan_route

        plan = plan_route(obj)  # routed by the category rule (the add permission covers it)
    managers: list[Any] = []
    if obj.is_complaint and obj.is_serious:
        from .clocks import on_call_managers

        managers = on_call_managers()
    now = timezone.now()
    if plan is not None:
        from .routing import apply_route

        apply_route(obj, plan, now)
    if obj.is_complaint and obj.is_serious:
        obj.on_call_alerted_at = now  # FBK-4: the managers on call are alerted below
    # the foreign keys are objects read above; the number comes last, from its counter
    obj.full_clean(exclude=[*_loaded_keys(obj), "number"])
    from .clocks import store_due_times

    store_due_times(obj, save=False)  # here, so that Feedback.save need not (in the lock)
    obj._due_times_current = True  # type: ignore[attr-defined]
    with transaction.atomic(), audit_context(actor=by, source=source or None):
        obj.assign_number()
        obj.save(savepoint=False)  # a failure ends this transaction: no savepoint needed
        for f in files:
            attach(obj, uploaded_file=f, by=by, check_access=by is not None)
        if obj.is_complaint:
            from .clocks import alert_message
            from .routing import send_problem_notices

            # A serious complaint's on-call alert is written with the record that says it was
            # sent (and the notices' messages with it); otherwise the notices' messages are
            # written after the commit, outside the numbering locks.
            alert = [alert_message(obj, managers)] if obj.on_call_alerted_at else []
            if plan is not None:
                obj._new_notices = send_problem_notices(  # type: ignore[attr-defined]
                    obj,
                    by=by,
                    plan=plan,
                    system=True,
                    new=True,
                    extra_messages=alert,
                    notify_after_commit=True,
                )
            elif alert:
                notify_each(alert)
        elif answer.strip():
            obj = answer_and_close(obj, by=by, version=obj.version, answer=answer)
    return obj


def _loaded_keys(obj: models.Model) -> list[str]:
    """Foreign keys whose object is in hand (read by this request): full_clean need not read
    them again."""
    return [
        f.name
        for f in obj._meta.concrete_fields
        if f.is_relation and f.is_cached(obj) and getattr(obj, f.attname) is not None
    ]


def update_feedback(
    feedback: Feedback,
    *,
    by: Any,
    version: Any,
    severity: str | None = None,
    severity_reason: str = "",
    **data: Any,
) -> Feedback:
    """Edit the intake fields of an open record (the version the user read: a stale one raises
    ConflictError). The proposed severity follows the edited facts; a final severity that
    differs from it needs a reason (FBK-3)."""
    require(by, CHANGE_PERM)
    data = _clean_data(dict(data))
    with transaction.atomic(), audit_context(actor=by, reason=severity_reason or None):
        obj = Feedback.objects.select_for_update().get(pk=feedback.pk)
        obj.check_version(version)
        if not obj.is_open:
            raise ValidationError(_("A closed or voided record cannot be edited; reopen it first."))
        if obj.status != Feedback.Status.RECEIVED and data.get("kind", obj.kind) != obj.kind:
            raise ValidationError({"kind": _("The kind can change only before routing.")})
        for name, value in data.items():
            setattr(obj, name, value)
        _apply_severity(obj, severity=severity, reason=severity_reason)
        obj.full_clean()
        obj.save()
    return obj


def answer_and_close(feedback: Feedback, *, by: Any, version: Any, answer: str) -> Feedback:
    """FBK-2: an inquiry, suggestion or praise answered and closed in one step; the answer is
    the first response (FBK-4)."""
    if by is not None:
        require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by, reason=None):
        obj = Feedback.objects.select_for_update().get(pk=feedback.pk)
        obj.check_version(version)
        obj.answer = (answer or "").strip()
        if obj.kind == Kind.COMPLAINT:
            raise ValidationError(_("A complaint is not closed in one step: route it."))
        if not obj.can_answer_and_close():
            raise ValidationError({"answer": _("Write the answer given to the customer.")})
        now = timezone.now()
        obj.status = Feedback.Status.CLOSED
        obj.first_response_at = obj.first_response_at or now
        obj.closed_at = now
        obj.save()
    return obj


def void_feedback(feedback: Feedback, *, by: Any, version: Any, reason: str) -> Feedback:
    """Void a record registered by mistake (a duplicate, spam), with a reason."""
    require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by, reason=reason):
        obj = Feedback.objects.select_for_update().get(pk=feedback.pk)
        obj.check_version(version)
        obj.mark_voided(reason)
        obj.save()
    return obj
