"""Returns (TRC-6): recording a returned unit and setting its disposition."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from medvigil.core.i18n import gettext_msg as _
from medvigil.core.types import Actor

from ..models import (
    Customer,
    Disposition,
    Installation,
    Lot,
    Product,
    ReturnRecord,
    SaleLine,
    Unit,
    UnitStatus,
)
from .common import _acting
from .sales import lot_available

if TYPE_CHECKING:
    pass


# --- returns (TRC-6) -------------------------------------------------------------------------


def _unit_status_after_return(disposition: str) -> str:
    if disposition == Disposition.RESTOCK:
        return UnitStatus.IN_STOCK
    if disposition == Disposition.SCRAP:
        return UnitStatus.SCRAPPED
    return UnitStatus.RETURNED


def record_return(
    *,
    returned_by: Customer,
    return_date: dt.date,
    reason: str,
    unit: Unit | None = None,
    lot: Lot | None = None,
    quantity: int = 1,
    returned_to: Customer | None = None,
    disposition: str = Disposition.PENDING,
    disposition_note: str = "",
    supplier: str = "",
    by: Actor = None,
) -> ReturnRecord:
    """Record a return (退货) of a unit or a lot quantity. A unit goes back to the party it
    was sold by (returned_to, or us): the open sale lines are closed, so it can be sold again,
    and its status follows the disposition."""
    with transaction.atomic(), _acting(by):
        errors: dict[str, list[str]] = defaultdict(list)
        if not (reason or "").strip():
            errors["reason"].append(_("Give the reason for the return."))
        if return_date is None:
            errors["return_date"].append(_("The return date is required."))
        elif return_date > timezone.localdate() + dt.timedelta(days=1):
            errors["return_date"].append(_("The return date is in the future."))
        if disposition not in Disposition.values:
            errors["disposition"].append(_("Choose a disposition."))
        if returned_to is not None and returned_to.pk == returned_by.pk:
            errors["returned_to"].append(_("A customer cannot return to itself."))
        closing: list[SaleLine] = []
        product: Product | None = None
        if unit is not None:
            unit = (
                Unit.objects.select_for_update(of=("self",))
                .select_related("product", "lot")
                .get(pk=unit.pk)
            )
            product = unit.product
            lot = unit.lot
            quantity = 1
            open_lines = list(SaleLine.objects.filter(unit=unit, open=True))
            if unit.holder_id != returned_by.pk:
                errors["unit"].append(
                    _("Unit %(serial)s is not held by %(customer)s.")
                    % {"serial": unit.serial, "customer": returned_by.name}
                )
            elif returned_to is None:
                closing = open_lines
            else:
                closing = [
                    ln
                    for ln in open_lines
                    if ln.seller_id == returned_to.pk and ln.buyer_id == returned_by.pk
                ]
                if not closing:
                    errors["returned_to"].append(
                        _("%(to)s did not sell unit %(serial)s to %(by)s.")
                        % {"to": returned_to.name, "serial": unit.serial, "by": returned_by.name}
                    )
        elif lot is not None:
            product = lot.product
            if not isinstance(quantity, int) or quantity < 1:
                errors["quantity"].append(_("The quantity must be at least 1."))
            else:
                held = lot_available(lot, returned_by)
                if held is not None and quantity > held:
                    errors["quantity"].append(
                        _("%(customer)s holds only %(held)s of lot %(lot)s.")
                        % {
                            "customer": returned_by.name,
                            "held": max(held, 0),
                            "lot": lot.lot_number,
                        }
                    )
        else:
            errors["unit"].append(_("Give the returned unit, or a lot and a quantity."))
        if errors:
            raise ValidationError(dict(errors))
        assert product is not None
        ret = ReturnRecord(
            number=ReturnRecord.next_number(),
            product=product,
            unit=unit,
            lot=lot,
            quantity=quantity,
            returned_by=returned_by,
            returned_to=returned_to,
            supplier=supplier or product.manufacturer,
            return_date=return_date,
            reason=reason,
            disposition=disposition,
            disposition_note=disposition_note,
            handler=by,
        )
        ret.full_clean(exclude=["number"])
        ret.save()
        if unit is not None:
            if closing:
                SaleLine.objects.filter(pk__in=[ln.pk for ln in closing]).update(open=False)
            Installation.objects.filter(unit=unit, current=True).update(current=False)
            if returned_to is None:
                unit.status = _unit_status_after_return(disposition)
                unit.holder = None
            else:
                unit.status = UnitStatus.SOLD
                unit.holder = returned_to
            unit.save(update_fields=["status", "holder"])
        return ret


def set_return_disposition(
    ret: ReturnRecord,
    *,
    disposition: str,
    note: str = "",
    by: Actor = None,
    version: Any = None,
) -> ReturnRecord:
    """Decide what happens to returned goods; a unit returned to us follows the decision
    (back to stock, scrapped, or kept as returned while repaired/evaluated)."""
    if disposition not in Disposition.values:
        raise ValidationError({"disposition": _("Choose a disposition.")})
    with transaction.atomic(), _acting(by):
        ret = ReturnRecord.objects.select_for_update(of=("self",)).get(pk=ret.pk)
        ret.check_version(version)
        ret.disposition = disposition
        if note:
            ret.disposition_note = note
        ret.save()
        if ret.unit_id and ret.returned_to_id is None:
            unit = Unit.objects.select_for_update(of=("self",)).get(pk=ret.unit_id)
            later = SaleLine.objects.filter(
                unit=unit, sale__sale_date__gte=ret.return_date, open=True
            ).exists()
            if (
                unit.holder_id is None
                and not later
                and unit.status
                in (
                    UnitStatus.RETURNED,
                    UnitStatus.IN_STOCK,
                    UnitStatus.SCRAPPED,
                )
            ):
                unit.status = _unit_status_after_return(disposition)
                unit.save(update_fields=["status"])
        return ret
