"""SVC-1: service requests from any channel — the page, the API (and, later, the public
form): the unit by UDI scan or serial through trace, its warranty at once (SVC-5), fault
level and customer zone, and the service-level clocks (SVC-2) set at intake."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medvigil.core.audit import audit_context
from medvigil.core.permissions import require, scope_for_user
from medvigil.core.types import Actor
from medvigil.trace.models import Customer, Product, Unit

from ..models import FaultLevel, ServiceRequest, WarrantyExclusion, Zone
from . import clocks
from .warranty import device_facts, find_device

ADD_PERM = "service.add_servicerequest"
CHANGE_PERM = "service.change_servicerequest"

INTAKE_FIELDS = frozenset(
    {
        "channel",
        "received_at",
        "title",
        "description",
        "fault_level",
        "zone",
        "unit",
        "product",
        "udi_text",
        "device_text",
        "customer",
        "dealer",
        "contact_name",
        "contact_phone",
        "contact_email",
        "site_address",
        "warranty_exclusion",
        "exclusion_reason",
        "feedback",
    }
)
# Changing these recomputes the clocks (they are counted from receipt).
CLOCK_INPUTS = frozenset({"received_at", "fault_level", "zone"})


def _resolve_fk(data: dict[str, Any], name: str, model: type[models.Model], by: Actor) -> None:
    """An id (or object) → the record, among those `by` may see (scope_for_user)."""
    value = data.get(name)
    if value in (None, ""):
        data[name] = None
        return
    qs = (
        scope_for_user(by, model)
        if by is not None and by.is_authenticated
        else model._default_manager.all()
    )
    pk = value.pk if isinstance(value, model) else value
    try:
        data[name] = qs.get(pk=int(pk))
    except (model.DoesNotExist, TypeError, ValueError, OverflowError):  # type: ignore[attr-defined]
        raise ValidationError({name: _("Choose an existing record.")}) from None


def _clean(data: dict[str, Any], by: Actor = None) -> dict[str, Any]:
    unknown = set(data) - INTAKE_FIELDS
    if unknown:
        raise ValidationError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    from medvigil.complaints.models import Feedback

    for name, model in (
        ("unit", Unit),
        ("product", Product),
        ("customer", Customer),
        ("dealer", Customer),
        ("feedback", Feedback),
    ):
        if name in data:
            _resolve_fk(data, name, model, by)
    for name in ("fault_level", "zone"):
        if name in data and data[name] not in (
            FaultLevel.values if name == "fault_level" else Zone.values
        ):
            raise ValidationError({name: _("Choose from the list.")})
    if "warranty_exclusion" in data:
        data["warranty_exclusion"] = data["warranty_exclusion"] or ""
        if data["warranty_exclusion"] not in WarrantyExclusion.values:
            raise ValidationError({"warranty_exclusion": _("Choose from the list.")})
    for name, value in list(data.items()):
        if isinstance(value, str):
            if "\x00" in value:
                raise ValidationError({name: _("The text contains a NUL character.")})
            data[name] = value.strip()
    if data.get("contact_email"):
        try:
            validate_email(data["contact_email"])
        except ValidationError:
            raise ValidationError({"contact_email": _("Enter a valid e-mail address.")}) from None
    return data


def _check_exclusion(sr: ServiceRequest) -> None:
    if sr.warranty_exclusion and not sr.exclusion_reason:
        raise ValidationError(
            {"exclusion_reason": _("Say why the warranty does not cover this (SVC-5).")}
        )
    if not sr.warranty_exclusion:
        sr.exclusion_reason = ""


def prefill_from_device(data: dict[str, Any], device: str, *, user: Any) -> dict[str, Any]:
    """Fill the unit, product, customer, dealer, site contact and warranty from a scanned UDI or
    typed serial (what is given explicitly wins). A device not in our records is kept as typed
    in `device_text`; returns the facts found (or {"error"})."""
    device = (device or "").strip()
    if not device:
        return {}
    facts = find_device(device, user=user)
    if "error" in facts:
        data["device_text"] = data.get("device_text") or device[:200]
        return facts
    for key in ("unit", "product", "customer", "dealer"):
        if facts.get(key) is not None and not data.get(key):
            data[key] = facts[key]
    for key in ("contact_name", "contact_phone", "site_address"):
        if facts.get(key) and not data.get(key):
            data[key] = facts[key]
    if facts.get("udi_text"):
        data["udi_text"] = facts["udi_text"][:200]
    return facts


def create_service_request(*, by: Actor, source: str = "", **data: Any) -> ServiceRequest:
    """Register a service request (SVC-1). `data`: INTAKE_FIELDS (foreign keys as objects or
    ids). The unit names its product, customer, dealer and warranty; the clocks start at
    receipt (SVC-2). ValidationError with field errors for bad input; nothing is stored then."""
    if by is not None:
        require(by, ADD_PERM)
    elif not source:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    data = _clean(dict(data), by)
    unit = data.get("unit")
    if unit is not None:
        facts = device_facts(unit)
        for key in ("product", "customer", "dealer"):
            if data.get(key) is None and facts.get(key) is not None:
                data[key] = facts[key]
        data["warranty_end"] = facts["warranty_end"]
        data["under_warranty"] = facts["under_warranty"]
    if not data.get("received_at"):
        data["received_at"] = timezone.now()
    if not data.get("title"):
        desc = data.get("description") or ""
        device = data.get("product") or data.get("device_text") or ""
        level = dict(FaultLevel.choices).get(data.get("fault_level", ""), "")
        data["title"] = desc.splitlines()[0][:80] if desc else f"{device} {level}".strip()[:200]
    with transaction.atomic(), audit_context(actor=by, source=source or None):
        sr = ServiceRequest(**data)
        sr.owner = by if by is not None and by.is_authenticated else None  # type: ignore[assignment]
        _check_exclusion(sr)
        clocks.apply_policy(sr)
        sr.assign_number()
        sr.full_clean()
        sr.save()
    return sr


PUBLIC_SOURCE = "public_form"
# SVC-1: the fault levels a customer chooses on the public form (a question is not a repair)
PUBLIC_FAULT_LEVELS = (FaultLevel.DOWN, FaultLevel.DEGRADED, FaultLevel.MINOR)


def request_from_feedback(feedback: Any, *, fault_level: Any) -> ServiceRequest:
    """SVC-1: the customer asked for a repair on the public feedback form — a service request
    from what the form holds (channel web, the contact, the device as typed: a serial or UDI of
    ours fills the unit, customer and warranty), linked to the feedback so that the customer's
    tracking page shows its state. Called by the complaints app inside the submission's
    transaction: an error here refuses the whole submission."""
    if fault_level not in PUBLIC_FAULT_LEVELS:
        raise ValidationError({"fault_level": _("Say whether the device can still be used.")})
    data: dict[str, Any] = {
        "channel": "web",
        "received_at": feedback.received_at,
        "title": feedback.title,
        "description": feedback.description,
        "fault_level": fault_level,
        "zone": Zone.CITY,  # customer service corrects it with the customer (clocks recomputed)
        "device_text": feedback.device_text,
        "contact_name": feedback.complainant_name,
        "contact_phone": feedback.complainant_phone,
        "contact_email": feedback.complainant_email,
        "site_address": feedback.complainant_address,
        "feedback": feedback,
    }
    if feedback.unit_id:
        data["unit"] = feedback.unit
    elif feedback.device_text:
        facts = prefill_from_device(data, feedback.device_text, user=None)
        if "error" in facts:
            data["device_text"] = feedback.device_text[:200]
    if feedback.end_user_id and not data.get("customer"):
        data["customer"] = feedback.end_user
    return create_service_request(by=None, source=PUBLIC_SOURCE, **data)


PUBLIC_STATES: dict[str, Any] = {
    ServiceRequest.Status.NEW: gettext_lazy("received, an engineer will be assigned"),
    ServiceRequest.Status.DISPATCHED: gettext_lazy("an engineer is assigned"),
    ServiceRequest.Status.ON_SITE: gettext_lazy("the engineer is on site"),
    ServiceRequest.Status.FIXED: gettext_lazy("repaired"),
    ServiceRequest.Status.CLOSED: gettext_lazy("closed"),
    ServiceRequest.Status.VOIDED: gettext_lazy("closed"),
}


def public_status(feedback: Any) -> list[dict[str, Any]]:
    """What the customer's tracking page shows of the service requests of their feedback: the
    number, a customer-facing state and the engineer's arrival (no names, no internal notes)."""
    return [
        {
            "number": sr.number,
            "state": PUBLIC_STATES.get(sr.status, PUBLIC_STATES[ServiceRequest.Status.NEW]),
            "status": sr.status,
            "arrived_at": sr.arrived_at,
            "fixed_at": sr.fixed_at,
        }
        for sr in ServiceRequest.objects.filter(feedback=feedback).order_by("id")
    ]


def update_service_request(
    sr: ServiceRequest, *, by: Actor, version: Any, **data: Any
) -> ServiceRequest:
    """Correct the intake facts of an open request (the version read; stale → ConflictError).
    A changed receipt time, fault level or zone recomputes the clocks."""
    require(by, CHANGE_PERM)
    data = _clean(dict(data), by)
    with transaction.atomic(), audit_context(actor=by):
        obj = ServiceRequest.objects.select_for_update().get(pk=sr.pk)
        obj.check_version(version)
        if not obj.is_open:
            raise ValidationError(_("A closed or voided request cannot be edited."))
        for name, value in data.items():
            setattr(obj, name, value)
        if "unit" in data and obj.unit is not None:
            facts = device_facts(obj.unit)
            obj.product = obj.product or facts["product"]
            obj.warranty_end, obj.under_warranty = facts["warranty_end"], facts["under_warranty"]
        _check_exclusion(obj)
        if CLOCK_INPUTS & set(data):
            clocks.apply_policy(obj)
        obj.full_clean()
        obj.save()
    return obj


def record_response(
    sr: ServiceRequest, *, by: Actor, version: Any, at: dt.datetime | None = None
) -> ServiceRequest:
    """The substantive response to the customer (SVC-2 response clock), e.g. a call-back."""
    require(by, CHANGE_PERM)
    at = at or timezone.now()
    with transaction.atomic(), audit_context(actor=by):
        obj = ServiceRequest.objects.select_for_update().get(pk=sr.pk)
        obj.check_version(version)
        if at < obj.received_at or at > timezone.now() + dt.timedelta(minutes=5):
            raise ValidationError({"at": _("The time must lie between receipt and now.")})
        if obj.responded_at is None:
            obj.responded_at = at
            obj.save()
    return obj


def answer_question(
    sr: ServiceRequest, *, by: Actor, version: Any, resolution: str
) -> ServiceRequest:
    """A question (or anything solved on the phone) answered and closed without a visit."""
    require(by, CHANGE_PERM)
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": _("Write the answer given to the customer.")})
    with transaction.atomic(), audit_context(actor=by):
        obj = ServiceRequest.objects.select_for_update().get(pk=sr.pk)
        obj.check_version(version)
        if obj.status != ServiceRequest.Status.NEW:
            raise ValidationError(_("Only a request not yet dispatched is answered this way."))
        now = timezone.now()
        obj.resolution = resolution
        obj.responded_at = obj.responded_at or now
        obj.fixed_at = obj.fixed_at or now
        obj.status = ServiceRequest.Status.CLOSED
        obj.closed_at = now
        obj.save()
    return obj


def record_loaner(
    sr: ServiceRequest, *, by: Actor, version: Any, note: str, at: dt.datetime | None = None
) -> ServiceRequest:
    """SVC-2: the free loaner provided (which device, in `note`)."""
    require(by, CHANGE_PERM)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Name the loaner device (serial).")})
    at = at or timezone.now()
    with transaction.atomic(), audit_context(actor=by):
        obj = ServiceRequest.objects.select_for_update().get(pk=sr.pk)
        obj.check_version(version)
        if not obj.is_open:
            raise ValidationError(_("The request is closed."))
        obj.loaner_provided_at = at
        obj.loaner_note = note[:200]
        obj.save()
    return obj


def void_service_request(
    sr: ServiceRequest, *, by: Actor, version: Any, reason: str
) -> ServiceRequest:
    require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by, reason=reason):
        obj = ServiceRequest.objects.select_for_update().get(pk=sr.pk)
        obj.check_version(version)
        if obj.work_orders.exclude(status__in=("voided",)).exists() and obj.status not in (
            ServiceRequest.Status.NEW,
            ServiceRequest.Status.DISPATCHED,
        ):
            raise ValidationError(_("Work has started on this request; it cannot be voided."))
        obj.mark_voided(reason)
        obj.save()
    return obj
