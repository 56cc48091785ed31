"""Lots and serialised units (TRC-3): building and recording them, the lot quantity and
the serial-already-recorded checks, the UDI production identifier of a unit."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy

from medvigil.core.audit.bulk import instance_maker
from medvigil.core.i18n import gettext_msg as _
from medvigil.core.types import Actor

from ..models import (
    Lot,
    Product,
    Unit,
)
from ..udi import lazy_message
from .common import _acting, _build, _update

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


# Lots and units (TRC-3)


def build_lot(**fields: Any) -> Lot:
    lot = _build(Lot, fields)
    if lot.expiry_date is None and lot.product_id and lot.product.shelf_life_months:
        lot.expiry_date = lot.product.expiry_for(lot.production_date)
    return lot


def create_lot(*, by: Actor = None, **fields: Any) -> Lot:
    with transaction.atomic(), _acting(by):
        lot = build_lot(**fields)
        lot.save()
        return lot


def update_lot(
    lot: Lot, *, by: Actor = None, version: Any = None, reason: str | None = None, **fields: Any
) -> Lot:
    if fields.get("quantity"):
        recorded = Unit.objects.filter(lot=lot).count()
        if over_quantity(Lot(quantity=fields["quantity"]), recorded=recorded, adding=0):
            raise ValidationError(
                {
                    "quantity": _(
                        "%(recorded)s units of this lot are recorded; the quantity produced "
                        "cannot be less."
                    )
                    % {"recorded": recorded}
                }
            )
    return _update(lot, fields, by=by, version=version, reason=reason)


# A lot's quantity produced bounds its serialised units (0: quantity not recorded, no bound).
# Recording more units than were produced is refused (not merely warned about): either a
# serial is wrong or the quantity is, and the quantity is corrected on the lot first (an
# audited change) — the same rule for the "Add units" form, the unit import and any caller
# of create_units.


def over_quantity(lot: Lot, *, recorded: int, adding: int) -> _StrPromise | None:
    """Why `adding` more units cannot be recorded in `lot`, which has `recorded` (None: they
    can). Lazy text, rendered in the reader's language (import error reports keep it)."""
    if not lot.quantity or recorded + adding <= lot.quantity:
        return None
    return lazy_message(
        gettext_lazy(
            "Lot %(lot)s was produced in a quantity of %(quantity)s and %(recorded)s of its "
            "units are recorded: %(adding)s more would make %(total)s. Check the serial "
            "numbers, or first correct the lot's quantity produced."
        ),
        {
            "lot": lot.lot_number,
            "quantity": lot.quantity,
            "recorded": recorded,
            "adding": adding,
            "total": recorded + adding,
        },
    )


def recorded_units(lot_ids: Iterable[int], *, lock: bool = False) -> dict[int, tuple[Lot, int]]:
    """(lot, units recorded) of the given lots that have a quantity produced; `lock` locks
    the lots first (inside a transaction) so that two additions cannot both pass the check."""
    qs = Lot.objects.filter(pk__in=set(lot_ids), quantity__gt=0)
    if lock:
        qs = qs.select_for_update()
    lots = {lot.pk: lot for lot in qs}
    counts = dict(
        Unit.objects.filter(lot_id__in=lots)
        .order_by()
        .values("lot_id")
        .annotate(n=models.Count("id"))
        .values_list("lot_id", "n")
    )
    return {pk: (lot, counts.get(pk, 0)) for pk, lot in lots.items()}


def lot_quantity_problems(adding: dict[int, int], *, lock: bool = False) -> dict[int, _StrPromise]:
    """{lot id: message} for the lots that `adding` ({lot id: new units}) would overfill."""
    out = {}
    for pk, (lot, recorded) in recorded_units(adding, lock=lock).items():
        problem = over_quantity(lot, recorded=recorded, adding=adding[pk])
        if problem:
            out[pk] = problem
    return out


class UnitBuilder:
    """Builds validated, unsaved units — the one place of the unit rules (TRC-3): serial
    required, the lot of the same product, dates and production record inherited from the
    lot, expiry from the product's shelf life, expiry not before production, UDI-DI copied
    from the product, UDI-PI composed (compose_udi_pi). No database query: one builder serves
    a whole batch (the import, the "Add units" page), so it is fast — instances made by
    core.audit.bulk.instance_maker (what Unit(*values) makes), the rules that do not depend
    on the serial applied once per (product, lot, dates, production record) and the UDI-PI
    prefix composed once per (production date, expiry, lot), checked against compose_udi_pi
    on the first unit of each.
    Raises ValidationError (fields: serial, lot, expiry_date)."""

    def __init__(self) -> None:
        fields = Unit._meta.concrete_fields
        self.index = {f.attname: i for i, f in enumerate(fields)}
        self.template = [f.get_default() for f in fields]
        self.prefix: dict[Any, str | None] = {}
        self.make = instance_maker(Unit)
        self.serial_at = self.index["serial"]
        # What the units of one product, lot, dates and production record share: whether the
        # lot is the product's, the dates and record inherited, whether the expiry precedes
        # the production, and the values of a unit but its serial — worked out once (#13
        # item 7: 20,000 units of one lot in an import).
        self.shared: dict[tuple, tuple[bool, bool, list[Any], tuple]] = {}

    def _shared(
        self,
        product: Product,
        lot: Lot | None,
        production_date: dt.date | None,
        expiry_date: dt.date | None,
        production_record: str,
    ) -> tuple[bool, bool, list[Any], tuple]:
        """(lot of another product, expiry before production, the unit's values but its
        serial, the key of its UDI-PI prefix)."""
        if lot is not None and lot.product_id != product.pk:
            return True, False, [], ()
        if lot is not None:
            production_date = production_date or lot.production_date
            expiry_date = expiry_date or lot.expiry_date
            production_record = production_record or lot.production_record
        if expiry_date is None and product.shelf_life_months:
            expiry_date = product.expiry_for(production_date)
        if production_date and expiry_date and expiry_date < production_date:
            return False, True, [], ()
        values = list(self.template)
        ix = self.index
        values[ix["product_id"]] = product.pk
        values[ix["lot_id"]] = lot.pk if lot is not None else None
        values[ix["udi_di"]] = product.gtin or ""
        values[ix["production_date"]] = production_date
        values[ix["expiry_date"]] = expiry_date
        values[ix["production_record"]] = production_record or ""
        return False, False, values, (production_date, expiry_date, values[ix["lot_id"]])

    def __call__(
        self,
        *,
        product: Product,
        serial: str,
        lot: Lot | None = None,
        production_date: dt.date | None = None,
        expiry_date: dt.date | None = None,
        production_record: str = "",
        udi_pi: str = "",
    ) -> Unit:
        serial = (serial or "").strip()
        key = (
            product.pk,
            lot.pk if lot is not None else None,
            production_date,
            expiry_date,
            production_record,
        )
        shared = self.shared.get(key)
        if shared is None:
            shared = self.shared[key] = self._shared(
                product, lot, production_date, expiry_date, production_record
            )
        other_product, expiry_first, template, prefix_key = shared
        errors: dict[str, list[str]] = {}
        if not serial:
            errors["serial"] = [_("The serial number is required.")]
        if other_product:
            assert lot is not None
            errors["lot"] = [_("Lot %(lot)s belongs to another product.") % {"lot": lot.lot_number}]
        if errors:
            raise ValidationError(errors)
        if expiry_first:
            raise ValidationError(
                {"expiry_date": [_("The expiry date is before the production date.")]}
            )
        values = list(template)
        values[self.serial_at] = serial
        unit = self.make(values)
        unit._state.fields_cache["product"] = product
        unit._state.fields_cache["lot"] = lot
        if udi_pi:
            unit.udi_pi = udi_pi
            return unit
        prefix = self.prefix.get(prefix_key, "")
        if prefix == "":
            full = compose_udi_pi(unit)
            tail = f"(21){serial}"
            self.prefix[prefix_key] = full[: -len(tail)] if full.endswith(tail) else None
            unit.udi_pi = full
        elif prefix is None:  # compose_udi_pi does not end with the serial: no shortcut
            unit.udi_pi = compose_udi_pi(unit)
        else:
            unit.udi_pi = f"{prefix}(21){serial}"
        return unit


def build_unit(**fields: Any) -> Unit:
    """One validated, unsaved unit (UnitBuilder's rules, then the model's field checks)."""
    unit = UnitBuilder()(**fields)
    unit.full_clean(exclude=["holder"])
    return unit


def compose_udi_pi(unit: Unit) -> str:
    parts = []
    if unit.production_date:
        parts.append(f"(11){unit.production_date:%y%m%d}")
    if unit.expiry_date:
        parts.append(f"(17){unit.expiry_date:%y%m%d}")
    if unit.lot is not None:
        parts.append(f"(10){unit.lot.lot_number}")
    parts.append(f"(21){unit.serial}")
    return "".join(parts)


def recorded_serials(pairs: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
    """The serial-already-recorded check, set-based: which (product id, serial) pairs exist
    (one query per chunk of serials, whatever the number of units)."""
    from medvigil.core.imports import filter_in

    pairs = set(pairs)
    found: set[tuple[int, str]] = set()
    products = {p for p, _s in pairs}
    for qs in filter_in(
        Unit.objects.filter(product_id__in=products), "serial", {s for _p, s in pairs}
    ):
        found.update(qs.values_list("product_id", "serial"))
    return found & pairs


def serial_recorded_message(serial: str, product: Product) -> str:
    return _("Unit %(serial)s of product %(product)s exists already.") % {
        "serial": serial,
        "product": product.code,
    }


def check_serials_not_recorded(product: Product, serials: Sequence[str]) -> None:
    """Raise ValidationError (field serial) naming the serials of `product` already recorded
    (at most 20 named)."""
    existing = sorted(s for _p, s in recorded_serials((product.pk, s) for s in serials))
    if existing:
        messages = [serial_recorded_message(s, product) for s in existing[:20]]
        if len(existing) > 20:
            messages.append(_("… and %(n)s more.") % {"n": len(existing) - 20})
        raise ValidationError({"serial": messages})


def create_unit(*, by: Actor = None, **fields: Any) -> Unit:
    with transaction.atomic(), _acting(by):
        unit = build_unit(**fields)
        if unit.lot_id is not None:
            problems = lot_quantity_problems({unit.lot_id: 1}, lock=True)
            if problems:
                raise ValidationError(list(problems.values()))
        unit.save()
        return unit


def create_units(units: Iterable[Unit], *, by: Actor = None) -> list[Unit]:
    """Save many units built with UnitBuilder / build_unit (audited bulk create; COPY on
    PostgreSQL). Refused when a lot would then hold more units than its quantity produced."""
    units = list(units)
    adding: dict[int, int] = defaultdict(int)
    for unit in units:
        if unit.lot_id is not None:
            adding[unit.lot_id] += 1
    with transaction.atomic(), _acting(by):
        problems = lot_quantity_problems(adding, lock=True)
        if problems:
            raise ValidationError(list(problems.values()))
        return Unit.objects.bulk_create(units, batch_size=1000)


def add_units(lot: Lot, serials: Sequence[str], *, by: Actor = None) -> list[Unit]:
    """Add serialised units to a lot (the "Add units" page): refused if a serial is already
    recorded for the product; dates and production record from the lot."""
    with transaction.atomic(), _acting(by):
        check_serials_not_recorded(lot.product, serials)
        build = UnitBuilder()
        return create_units([build(product=lot.product, lot=lot, serial=s) for s in serials])
