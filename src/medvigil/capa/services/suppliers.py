"""CAPA-3: suppliers as master data (approved status; QMS-4 will add evaluations) and the
supplier corrective-action request (SCAR): seed 003 "属供方责任的:质量部会同物流部按相关协作配套
质保协议书的有关条款执行" — a supplier-caused problem becomes a request to the supplier, with its
response by a due date and our verification."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.permissions import require

from ..models import Nonconformity, Scar, Supplier
from ._common import clean_text, lock, only_fields

SUPPLIER_FIELDS = (
    "code",
    "name",
    "supplies",
    "contact_name",
    "contact_email",
    "contact_phone",
    "status",
    "approved_on",
    "notes",
)
SCAR_PERM_ADD = "capa.add_scar"
SCAR_PERM_CHANGE = "capa.change_scar"


def _apply_supplier(obj: Supplier, fields: dict[str, Any]) -> None:
    for name in ("code", "name"):
        if name in fields:
            fields[name] = clean_text(fields[name], name, required=True, max_length=200)
    for name, value in fields.items():
        setattr(obj, name, value)
    if obj.status == Supplier.Status.APPROVED and obj.approved_on is None:
        obj.approved_on = timezone.localdate()


def create_supplier(*, by: Any, code: str, name: str, **fields: Any) -> Supplier:
    require(by, "capa.add_supplier")
    only_fields(fields, SUPPLIER_FIELDS)
    with transaction.atomic(), audit_context(actor=by):
        obj = Supplier()
        _apply_supplier(obj, {"code": code, "name": name, **fields})
        obj.full_clean()
        obj.save()
    return obj


def update_supplier(supplier: Supplier, *, by: Any, version: Any, **fields: Any) -> Supplier:
    require(by, "capa.change_supplier")
    only_fields(fields, SUPPLIER_FIELDS)
    with transaction.atomic(), audit_context(actor=by):
        obj = lock(Supplier, supplier.pk)
        obj.check_version(version)
        _apply_supplier(obj, dict(fields))
        obj.full_clean()
        obj.save()
    return obj


def _check_due(due_date: Any) -> None:
    if not isinstance(due_date, dt.date):
        raise ValidationError({"due_date": _("Enter a valid date.")})
    if due_date < timezone.localdate():
        raise ValidationError({"due_date": _("The due date cannot be in the past.")})


def request_scar(
    *,
    by: Any,
    supplier: Supplier,
    title: str,
    problem: str,
    due_date: dt.date,
    nonconformity: Nonconformity | None = None,
    capa: Any = None,
    owner: Any = None,
) -> Scar:
    """CAPA-3: ask the supplier for corrective action by `due_date`. Perm: capa.add_scar."""
    require(by, SCAR_PERM_ADD)
    if supplier is None:
        raise ValidationError({"supplier": _("Name the supplier.")})
    _check_due(due_date)
    with transaction.atomic(), audit_context(actor=by, reason=_("Corrective action requested")):
        scar = Scar(
            supplier=supplier,
            due_date=due_date,
            nonconformity=nonconformity,
            capa=capa,
            owner=owner or by,
        )
        scar.title = clean_text(title, "title", required=True, max_length=200)
        scar.problem = clean_text(problem, "problem", required=True)
        scar.assign_number()
        scar.full_clean()
        scar.save()
    return scar


def scar_from_nonconformity(nc: Nonconformity, *, by: Any, due_date: dt.date) -> Scar:
    """A supplier-caused nonconformity becomes a request to its supplier (prefilled)."""
    if nc.supplier_id is None:
        raise ValidationError({"supplier": _("The nonconformity names no supplier.")})
    return request_scar(
        by=by,
        supplier=nc.supplier,  # type: ignore[arg-type]
        title=nc.title,
        problem=_("%(number)s: %(text)s") % {"number": nc.number, "text": nc.description},
        due_date=due_date,
        nonconformity=nc,
        capa=nc.capa,
    )


def record_response(
    scar: Scar,
    *,
    by: Any,
    version: Any,
    response: str,
    supplier_root_cause: str = "",
    responded_on: dt.date | None = None,
) -> Scar:
    """The supplier's response (its root cause and corrective action) as received."""
    require(by, SCAR_PERM_CHANGE)
    response = clean_text(response, "response", required=True)
    supplier_root_cause = clean_text(supplier_root_cause, "supplier_root_cause")
    responded_on = responded_on or timezone.localdate()
    if not isinstance(responded_on, dt.date) or responded_on > timezone.localdate():
        raise ValidationError({"responded_on": _("The date cannot be in the future.")})
    with transaction.atomic(), audit_context(actor=by, reason=_("Supplier response received")):
        obj = lock(Scar, scar.pk)
        obj.check_version(version)
        obj.check_transition(Scar.Status.RESPONDED, _("No response is expected now."))
        obj.response = response
        obj.supplier_root_cause = supplier_root_cause
        obj.responded_on = responded_on
        obj.status = Scar.Status.RESPONDED
        obj.save()
    return obj


def verify_scar(
    scar: Scar,
    *,
    by: Any,
    version: Any,
    effective: bool,
    verification: str,
    new_due_date: dt.date | None = None,
) -> Scar:
    """Our verification of the supplier's action: effective → closed; not effective → asked
    again with a new due date."""
    require(by, SCAR_PERM_CHANGE)
    verification = clean_text(verification, "verification", required=True)
    if not effective:
        if new_due_date is None:
            raise ValidationError(
                {"new_due_date": _("Give the supplier a new due date for a better response.")}
            )
        _check_due(new_due_date)
    with transaction.atomic(), audit_context(actor=by, reason=_("Supplier action verified")):
        obj = lock(Scar, scar.pk)
        obj.check_version(version)
        if obj.status != Scar.Status.RESPONDED:
            raise ValidationError(_("Verify once the supplier has responded."))
        obj.verification = verification
        obj.verified_on = timezone.localdate()
        obj.verified_by = by
        if effective:
            obj.status = Scar.Status.CLOSED
        else:
            obj.status = Scar.Status.REQUESTED
            obj.due_date = new_due_date  # type: ignore[assignment]
        obj.save()
    return obj


def void_scar(scar: Scar, *, by: Any, reason: str) -> Scar:
    require(by, SCAR_PERM_CHANGE)
    with transaction.atomic(), audit_context(actor=by, reason=reason):
        obj = lock(Scar, scar.pk)
        obj.mark_voided(reason)
        obj.save()
    return obj
