"""CAPA-2: nonconforming product — recorded where it was found (incoming, in process, after
delivery) with the product, lots, units and quantity affected; segregated; dispositioned
(seed 000 6.3.3: 退货 return to supplier, 返工 rework, 让步接收 concession, 报废 scrap). A
concession is accepted only "在保证产品质量安全的前提下" (product quality and safety assured),
so it waits for an approver's e-signature (capa.approve_concession: the management
representative or the division head by default), who is not the person who proposed it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.models import Signature
from medvigil.core.permissions import require

from ..models import Nonconformity
from ._common import clean_text, lock, only_fields

ADD_PERM = "capa.add_nonconformity"
CHANGE_PERM = "capa.change_nonconformity"
APPROVE_PERM = "capa.approve_concession"

EDITABLE = (
    "title",
    "stage",
    "description",
    "product",
    "quantity",
    "supplier",
    "complaint",
    "capa",
    "owner",
)
MAX_QUANTITY = 10_000_000


def check_affected(product: Any, lots: Iterable[Any], units: Iterable[Any], quantity: Any) -> None:
    """The lots and units affected belong to the product (when one is named), and the quantity
    is a sensible whole number, at least the number of units named."""
    lots, units = list(lots), list(units)
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise ValidationError({"quantity": _("Enter a whole number.")})
    if quantity < 1 or quantity > MAX_QUANTITY:
        raise ValidationError(
            {"quantity": _("The quantity must be between 1 and %(max)d.") % {"max": MAX_QUANTITY}}
        )
    if len(units) > quantity:
        raise ValidationError(
            {"quantity": _("The quantity is less than the number of units named.")}
        )
    if product is not None:
        if any(lot.product_id != product.pk for lot in lots):
            raise ValidationError({"lots": _("A lot named is not of this product.")})
        if any(u.product_id != product.pk for u in units):
            raise ValidationError({"units": _("A unit named is not of this product.")})


def affected_snapshot(lots: Iterable[Any], units: Iterable[Any]) -> dict[str, list[str]]:
    """What the audit trail keeps of the lots and units affected."""
    return {
        "lots": sorted(lot.lot_number for lot in lots),
        "units": sorted(u.serial for u in units),
    }


def create_nonconformity(
    *,
    by: Any,
    title: str,
    stage: str,
    description: str,
    quantity: int = 1,
    lots: Iterable[Any] = (),
    units: Iterable[Any] = (),
    owner: Any = None,
    **fields: Any,
) -> Nonconformity:
    """CAPA-2: record a nonconforming product. Lots and units come through the access helper
    (the form's and the API's look-ups). Perm: capa.add_nonconformity."""
    require(by, ADD_PERM)
    only_fields(fields, set(EDITABLE) - {"title", "stage", "description", "quantity", "owner"})
    lots, units = list(lots), list(units)
    check_affected(fields.get("product"), lots, units, quantity)
    with transaction.atomic(), audit_context(actor=by, reason=_("Nonconformity recorded")):
        nc = Nonconformity(stage=stage, quantity=quantity, owner=owner or by, **fields)
        nc.affected = affected_snapshot(lots, units)
        nc.title = clean_text(title, "title", required=True, max_length=200)
        nc.description = clean_text(description, "description", required=True)
        nc.assign_number()
        nc.full_clean()
        nc.save()
        if lots:
            nc.lots.set(lots)
        if units:
            nc.units.set(units)
    return nc


def update_nonconformity(
    nc: Nonconformity,
    *,
    by: Any,
    version: Any,
    lots: Iterable[Any] | None = None,
    units: Iterable[Any] | None = None,
    **fields: Any,
) -> Nonconformity:
    """Edit an open nonconformity as read (stale version: ConflictError).
    Perm: capa.change_nonconformity."""
    require(by, CHANGE_PERM)
    only_fields(fields, EDITABLE)
    with transaction.atomic(), audit_context(actor=by):
        obj = lock(Nonconformity, nc.pk)
        obj.check_version(version)
        if obj.status != Nonconformity.Status.OPEN:
            raise ValidationError(_("Only an open nonconformity can be changed."))
        for name in ("title", "description"):
            if name in fields:
                fields[name] = clean_text(fields[name], name, required=True)
        for name, value in fields.items():
            setattr(obj, name, value)
        new_lots = list(lots) if lots is not None else list(obj.lots.all())
        new_units = list(units) if units is not None else list(obj.units.all())
        check_affected(obj.product, new_lots, new_units, obj.quantity)
        obj.affected = affected_snapshot(new_lots, new_units)
        obj.full_clean()
        obj.save()
        if lots is not None:
            obj.lots.set(new_lots)
        if units is not None:
            obj.units.set(new_units)
    return obj


def record_segregation(nc: Nonconformity, *, by: Any, version: Any, location: str) -> Nonconformity:
    """The nonconforming product is segregated (隔离), and where."""
    require(by, CHANGE_PERM)
    location = clean_text(location, "segregation_location", required=True, max_length=200)
    with transaction.atomic(), audit_context(actor=by, reason=_("Product segregated")):
        obj = lock(Nonconformity, nc.pk)
        obj.check_version(version)
        if obj.status not in (Nonconformity.Status.OPEN, Nonconformity.Status.AWAITING_APPROVAL):
            raise ValidationError(_("The disposition is already decided."))
        obj.segregated = True
        obj.segregation_location = location
        obj.save()
    return obj


def decide_disposition(
    nc: Nonconformity, *, by: Any, version: Any, disposition: str, reason: str
) -> Nonconformity:
    """CAPA-2: decide return to supplier, rework, concession or scrap, with the reason.
    Product still in the company's hands (incoming, in process) must be segregated first;
    return to supplier needs the supplier. A concession waits for approval
    (approve_concession); the others are decided at once. Perm: capa.change_nonconformity."""
    require(by, CHANGE_PERM)
    if disposition not in Nonconformity.Disposition.values:
        raise ValidationError({"disposition": _("Choose from the list.")})
    reason = clean_text(reason, "disposition_reason", required=True)
    with transaction.atomic(), audit_context(actor=by, reason=_("Disposition decided")):
        obj = lock(Nonconformity, nc.pk)
        obj.check_version(version)
        if obj.status != Nonconformity.Status.OPEN:
            raise ValidationError(_("The disposition is already decided."))
        if obj.stage != Nonconformity.Stage.AFTER_DELIVERY and not obj.segregated:
            raise ValidationError(_("Segregate the nonconforming product first."))
        if disposition == Nonconformity.Disposition.RETURN_TO_SUPPLIER and not obj.supplier_id:
            raise ValidationError({"disposition": _("Name the supplier to return the product to.")})
        obj.disposition = disposition
        obj.disposition_reason = reason
        obj.disposition_by = by
        obj.disposition_at = timezone.now()
        obj.status = (
            Nonconformity.Status.AWAITING_APPROVAL
            if disposition == Nonconformity.Disposition.CONCESSION
            else Nonconformity.Status.DISPOSITIONED
        )
        obj.save()
    return obj


def _check_approvable(nc: Nonconformity, by: Any) -> None:
    if nc.status != Nonconformity.Status.AWAITING_APPROVAL:
        raise ValidationError(_("No concession is waiting for approval."))
    if nc.disposition_by_id == by.pk:
        raise ValidationError(_("The concession is approved by someone other than its proposer."))


def approve_concession(
    nc: Nonconformity,
    *,
    by: Any,
    password: str = "",
    comment: str,
    request: Any = None,
    check: Any = None,
) -> Nonconformity:
    """CAPA-2: the approver signs the concession (meaning "approved"; the comment states the
    conditions or the basis that quality and safety are assured). Perm: capa.approve_concession.
    `check`: a signer check the caller made (signatures.loader_check: the demo, which runs
    inside one transaction where the password check cannot); else the password is checked."""
    from medvigil.core.signatures.services import apply_signature, check_signer

    require(by, APPROVE_PERM)
    comment = clean_text(comment, "comment", required=True)
    _check_approvable(nc, by)
    if check is None:
        check = check_signer(
            nc,
            user=by,
            password=password or "",
            request=request,
            meaning=Signature.Meaning.APPROVED,
        )
    with transaction.atomic(), audit_context(actor=by, reason=comment):
        obj = lock(Nonconformity, nc.pk)
        _check_approvable(obj, by)
        obj.concession_approved_by = by
        obj.concession_approved_at = timezone.now()
        obj.status = Nonconformity.Status.DISPOSITIONED
        obj.save()
        apply_signature(obj, check, reason=comment)
    return obj


def reject_concession(nc: Nonconformity, *, by: Any, version: Any, reason: str) -> Nonconformity:
    """The approver refuses the concession: the nonconformity is open again for another
    disposition. Perm: capa.approve_concession."""
    require(by, APPROVE_PERM)
    reason = clean_text(reason, "reason", required=True)
    with transaction.atomic(), audit_context(actor=by, reason=reason):
        obj = lock(Nonconformity, nc.pk)
        obj.check_version(version)
        if obj.status != Nonconformity.Status.AWAITING_APPROVAL:
            raise ValidationError(_("No concession is waiting for approval."))
        obj.status = Nonconformity.Status.OPEN
        obj.disposition = ""
        obj.save()
    return obj


def close_nonconformity(nc: Nonconformity, *, by: Any, version: Any) -> Nonconformity:
    """Close once the disposition is decided (and a concession approved)."""
    require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by, reason=_("Nonconformity closed")):
        obj = lock(Nonconformity, nc.pk)
        obj.check_version(version)
        errors = obj.close_errors()
        if errors:
            raise ValidationError(errors)
        obj.status = Nonconformity.Status.CLOSED
        obj.closed_at = timezone.now()
        obj.save()
    return obj


def link_related(nc: Nonconformity, record: Any, *, by: Any) -> Nonconformity:
    """Link the recall or advisory notice (any record) an after-delivery nonconformity caused;
    the recalls app calls this. Perm: capa.change_nonconformity."""
    require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by, reason=_("Related record linked")):
        obj = lock(Nonconformity, nc.pk)
        if obj.stage != Nonconformity.Stage.AFTER_DELIVERY:
            raise ValidationError(
                _("Only an after-delivery nonconformity links to a field action.")
            )
        if obj.is_voided:
            raise ValidationError(_("This record cannot be changed now."))
        if getattr(record, "is_voided", False):
            raise ValidationError(_("A voided record cannot be linked."))
        obj.link_related(record)
        obj.save()
    return obj


def open_capa(nc: Nonconformity, *, by: Any) -> Any:
    """CAPA-1/CAPA-2: open a CAPA for this nonconformity (source "nonconforming product",
    linked both ways), prefilled with its title and description. Perms: capa.add_capa and
    capa.change_nonconformity."""
    from ..models import SourceKind
    from .capa import create_capa

    require(by, CHANGE_PERM)
    with transaction.atomic():
        obj = lock(Nonconformity, nc.pk)
        if obj.capa_id is not None:
            raise ValidationError(_("This nonconformity already has a CAPA."))
        if obj.is_voided:
            raise ValidationError(_("This record cannot be changed now."))
        capa = create_capa(
            by=by,
            title=obj.title,
            problem=obj.description,
            source_kind=SourceKind.NONCONFORMITY,
            source=obj,
        )
        with audit_context(actor=by, reason=_("CAPA opened")):
            obj.capa = capa
            obj.save()
    return capa


def void_nonconformity(nc: Nonconformity, *, by: Any, reason: str) -> Nonconformity:
    require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by, reason=reason):
        obj = lock(Nonconformity, nc.pk)
        obj.mark_voided(reason)
        obj.save()
    return obj


__all__ = [
    "approve_concession",
    "check_affected",
    "close_nonconformity",
    "create_nonconformity",
    "decide_disposition",
    "link_related",
    "open_capa",
    "record_segregation",
    "reject_concession",
    "update_nonconformity",
    "void_nonconformity",
]
