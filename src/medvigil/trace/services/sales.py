"""Sales (TRC-4): the sale-line checks against lot stock and unit state (with a ledger for
a whole file), recording sales in bulk, creating and voiding one sale."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from medvigil.core.i18n import gettext_msg as _
from medvigil.core.types import Actor

from ..models import (
    Customer,
    CustomerKind,
    Disposition,
    Lot,
    Product,
    ReturnRecord,
    Sale,
    SaleLine,
    Unit,
    UnitStatus,
)
from ..rules import CITATION_EXPIRED_PRODUCT
from .common import _acting, _d
from .master import licence_problems

if TYPE_CHECKING:
    pass


# --- sales (TRC-4) ---------------------------------------------------------------------------


@dataclass
class LineInput:
    """One line of a sale: a unit (serialised devices) or a lot and a quantity."""

    unit: Unit | None = None
    lot: Lot | None = None
    quantity: int = 1
    product: Product | None = None


def lot_available(
    lot: Lot, seller: Customer | None, exclude_sale: Sale | None = None
) -> int | None:
    """Quantity of `lot` the seller still has (None: not tracked, lot quantity unknown)."""
    lines = SaleLine.objects.filter(lot=lot, unit__isnull=True, open=True)
    if exclude_sale is not None:
        lines = lines.exclude(sale=exclude_sale)
    if seller is None:
        if not lot.quantity:
            return None
        sold = lines.filter(seller__isnull=True).aggregate(q=Sum("quantity"))["q"] or 0
        back = (
            ReturnRecord.objects.filter(
                lot=lot,
                unit__isnull=True,
                returned_to__isnull=True,
                disposition=Disposition.RESTOCK,
            ).aggregate(q=Sum("quantity"))["q"]
            or 0
        )
        return lot.quantity - sold + back
    bought = lines.filter(buyer=seller).aggregate(q=Sum("quantity"))["q"] or 0
    sold = lines.filter(seller=seller).aggregate(q=Sum("quantity"))["q"] or 0
    returns = ReturnRecord.objects.filter(lot=lot, unit__isnull=True)
    gave_back = returns.filter(returned_by=seller).aggregate(q=Sum("quantity"))["q"] or 0
    got_back = returns.filter(returned_to=seller).aggregate(q=Sum("quantity"))["q"] or 0
    return bought - sold - gave_back + got_back


class SaleLedger:
    """The stock that the sale checks read: lot balances per holder, who sold which unit,
    the buyers' licence problems. Read from the database and kept; `apply` adds a checked
    sale, so that a file of sales (the import) is checked in date order with each sale
    seeing the earlier ones — a dealer's onward sale of units it bought in the same file."""

    def __init__(self) -> None:
        self._lot_base: dict[tuple[int, int | None], int | None] = {}
        self._lot_delta: dict[tuple[int, int | None], int] = defaultdict(int)
        self._licences: dict[tuple[int, int, dt.date], list[str]] = {}
        self._sold_by: set[tuple[int, int]] = set()

    def lot_available(self, lot: Lot, seller: Customer | None) -> int | None:
        key = (lot.pk, seller.pk if seller else None)
        if key not in self._lot_base:
            self._lot_base[key] = lot_available(lot, seller)
        base = self._lot_base[key]
        return None if base is None else base + self._lot_delta[key]

    def licence_problems(self, buyer: Customer, product: Product, on: dt.date) -> list[str]:
        key = (buyer.pk, product.pk, on)
        if key not in self._licences:
            self._licences[key] = licence_problems(buyer, product, on)
        return self._licences[key]

    def sold_by(self, unit: Unit, seller: Customer) -> bool:
        """Whether `seller` sold `unit` and it did not come back (an open sale line)."""
        return (unit.pk, seller.pk) in self._sold_by or SaleLine.objects.filter(
            unit=unit, seller=seller, open=True
        ).exists()

    def apply(self, seller: Customer | None, buyer: Customer, lines: Sequence[LineInput]) -> None:
        """Move the units and lot quantities of a checked sale (in memory)."""
        for line in lines:
            if line.unit is not None:
                line.unit.status = UnitStatus.SOLD if seller is None else UnitStatus.SOLD_ON
                line.unit.holder = buyer
                if seller is not None:
                    self._sold_by.add((line.unit.pk, seller.pk))
            elif line.lot is not None:
                self._lot_delta[(line.lot.pk, seller.pk if seller else None)] -= line.quantity
                self._lot_delta[(line.lot.pk, buyer.pk)] += line.quantity


def unit_sale_problem(
    unit: Unit, seller: Customer | None, on: dt.date, ledger: SaleLedger | None = None
) -> str | None:
    """Why `seller` (None: we) may not sell `unit` on `on`: scrapped, expired, awaiting a
    return disposition, already sold without a return in between, held by someone else."""
    params = {"serial": unit.serial, "product": unit.product.code}
    if unit.status == UnitStatus.SCRAPPED:
        return _("Unit %(serial)s (%(product)s) was scrapped.") % params
    if unit.expiry_date and unit.expiry_date < on:
        params["expiry"] = _d(unit.expiry_date)
        return (
            _("Unit %(serial)s expired on %(expiry)s and may not be sold.") % params
            + f" ({CITATION_EXPIRED_PRODUCT})"
        )
    if seller is None:
        if unit.holder_id is None and unit.status == UnitStatus.IN_STOCK:
            return None
        if unit.holder_id is None and unit.status == UnitStatus.RETURNED:
            return (
                _(
                    "Unit %(serial)s was returned and awaits a disposition; set it back to stock "
                    "before selling it again."
                )
                % params
            )
        params["holder"] = unit.holder.name if unit.holder else _("us")
        return (
            _(
                "Unit %(serial)s was already sold by us (now held by %(holder)s); it cannot be "
                "sold again without a return in between."
            )
            % params
        )
    params["seller"] = seller.name
    if unit.holder_id == seller.pk and unit.status == UnitStatus.SOLD:
        return None
    if (ledger or SaleLedger()).sold_by(unit, seller):
        return (
            _(
                "Unit %(serial)s was already sold by %(seller)s; it cannot be sold again "
                "without a return in between."
            )
            % params
        )
    params["holder"] = unit.holder.name if unit.holder else _("us")
    return _("Unit %(serial)s is not held by %(seller)s (held by %(holder)s).") % params


def sale_header_problems(
    seller: Customer | None, buyer: Customer, sale_date: dt.date | None
) -> dict[str, list[str]]:
    """Problems of a sale as a whole (fields sale_date, seller, buyer)."""
    errors: dict[str, list[str]] = defaultdict(list)
    if sale_date is None:
        errors["sale_date"].append(_("The sale date is required."))
    elif sale_date > timezone.localdate() + dt.timedelta(days=1):
        errors["sale_date"].append(_("The sale date is in the future."))
    if seller is not None:
        if seller.kind != CustomerKind.DEALER:
            errors["seller"].append(
                _("Only a dealer can sell on; %(name)s is not a dealer.") % {"name": seller.name}
            )
        if seller.pk == buyer.pk:
            errors["buyer"].append(_("The buyer and the seller are the same customer."))
    return dict(errors)


@dataclass
class SaleCheck:
    """What check_sale found: errors of the sale as a whole, errors of each input line as
    (field, message) with field unit, lot, quantity or buyer, and the lines to save."""

    errors: dict[str, list[str]]
    line_errors: list[list[tuple[str, str]]]
    prepared: list[LineInput]

    @property
    def ok(self) -> bool:
        return not self.errors and not any(self.line_errors)


def check_sale(
    *,
    seller: Customer | None,
    buyer: Customer,
    sale_date: dt.date | None,
    lines: Sequence[LineInput],
    ledger: SaleLedger | None = None,
) -> SaleCheck:
    """Every rule of a sale (TRC-4, TRC-2), line by line, without saving: the sale date, a
    dealer as the seller, each unit sellable by the seller (unit_sale_problem) and listed
    once, lot quantities within what the seller holds, no expired lot, and the buyer's
    licence for every product on the sale date (licence_problems)."""
    ledger = ledger or SaleLedger()
    errors = sale_header_problems(seller, buyer, sale_date)
    if not lines:
        errors.setdefault("lines", []).append(_("Add at least one unit or lot."))
    line_errors: list[list[tuple[str, str]]] = [[] for _line in lines]
    prepared: list[LineInput] = []
    products: list[Product | None] = []
    seen_units: set[int] = set()
    asked: dict[int, int] = defaultdict(int)
    short: set[int] = set()
    for line, errs in zip(lines, line_errors, strict=True):
        product: Product | None = None
        if line.unit is not None:
            unit = line.unit
            if unit.pk in seen_units:
                errs.append(
                    ("unit", _("Unit %(serial)s is listed twice.") % {"serial": unit.serial})
                )
                products.append(None)
                continue
            seen_units.add(unit.pk)
            if sale_date is not None:
                problem = unit_sale_problem(unit, seller, sale_date, ledger)
                if problem:
                    errs.append(("unit", problem))
            product = unit.product
            prepared.append(LineInput(unit=unit, lot=unit.lot, quantity=1, product=product))
        elif line.lot is not None:
            lot, qty = line.lot, line.quantity
            if not isinstance(qty, int) or qty < 1:
                errs.append(
                    (
                        "quantity",
                        _("The quantity of lot %(lot)s must be at least 1.")
                        % {"lot": lot.lot_number},
                    )
                )
                products.append(None)
                continue
            if lot.expiry_date and sale_date is not None and lot.expiry_date < sale_date:
                errs.append(
                    (
                        "lot",
                        _("Lot %(lot)s expired on %(expiry)s and may not be sold.")
                        % {"lot": lot.lot_number, "expiry": _d(lot.expiry_date)}
                        + f" ({CITATION_EXPIRED_PRODUCT})",
                    )
                )
            asked[lot.pk] += qty
            available = ledger.lot_available(lot, seller)
            if available is not None and asked[lot.pk] > available and lot.pk not in short:
                short.add(lot.pk)
                errs.append(
                    (
                        "quantity",
                        _(
                            "Only %(available)s of lot %(lot)s are available to this seller; "
                            "%(qty)s asked."
                        )
                        % {
                            "available": max(available, 0),
                            "lot": lot.lot_number,
                            "qty": asked[lot.pk],
                        },
                    )
                )
            product = lot.product
            prepared.append(LineInput(lot=lot, quantity=qty, product=product))
        else:
            errs.append(("unit", _("A line needs a unit or a lot.")))
        products.append(product)
    if sale_date is not None and not errors.get("buyer"):
        for product, errs in zip(products, line_errors, strict=True):
            if product is not None:
                for problem in ledger.licence_problems(buyer, product, sale_date):
                    errs.append(("buyer", _("Sale refused: %(why)s") % {"why": problem}))
    return SaleCheck(errors, line_errors, prepared)


def validate_sale(
    *,
    seller: Customer | None,
    buyer: Customer,
    sale_date: dt.date,
    lines: Sequence[LineInput],
    ledger: SaleLedger | None = None,
) -> list[LineInput]:
    """check_sale as one ValidationError (fields: seller, buyer, sale_date, lines); returns
    the lines with their product filled in."""
    check = check_sale(seller=seller, buyer=buyer, sale_date=sale_date, lines=lines, ledger=ledger)
    if check.ok:
        return check.prepared
    errors: dict[str, list[str]] = defaultdict(list)
    for name, messages in check.errors.items():
        errors[name].extend(messages)
    for errs in check.line_errors:
        for name, message in errs:
            key = "buyer" if name == "buyer" else "lines"
            if message not in errors[key]:
                errors[key].append(message)
    raise ValidationError(dict(errors))


@dataclass
class SaleDraft:
    """A checked sale to save with record_sales."""

    seller: Customer | None
    buyer: Customer
    sale_date: dt.date
    lines: list[LineInput]
    handler: Any = None
    handler_name: str = ""
    reference: str = ""
    notes: str = ""


def record_sales(drafts: Sequence[SaleDraft], *, by: Actor = None) -> list[Sale]:
    """Save sales checked by check_sale/validate_sale, any number at once, in date order
    (create_sale, the import): a number each, the sales and their lines, and the units moved
    to their buyers (in stock → sold; sold → sold on). A unit already sold by the same seller
    without a return is refused by the database constraints too (ValidationError)."""
    from medvigil.core.imports import chunked

    with transaction.atomic(), _acting(by):
        sales = []
        for d in drafts:
            sale = Sale(
                number=Sale.next_number(),
                seller=d.seller,
                buyer=d.buyer,
                sale_date=d.sale_date,
                handler=d.handler if d.handler is not None else by,
                handler_name=d.handler_name,
                reference=d.reference,
                notes=d.notes,
            )
            # foreign keys are records already loaded; the number is unique by numbering
            sale.full_clean(
                exclude=["number", "seller", "buyer", "handler"],
                validate_unique=False,
                validate_constraints=False,
            )
            sales.append(sale)
        Sale.objects.bulk_create(sales, batch_size=1000)
        new_lines: list[SaleLine] = []
        moved: dict[int, Unit] = {}
        for d, sale in zip(drafts, sales, strict=True):
            status = UnitStatus.SOLD if d.seller is None else UnitStatus.SOLD_ON
            for line in d.lines:
                new_lines.append(
                    SaleLine(
                        sale=sale,
                        product=line.product,
                        unit=line.unit,
                        lot=line.lot,
                        quantity=line.quantity,
                        seller=d.seller,
                        buyer=d.buyer,
                    )
                )
                if line.unit is not None:  # in date order: the last sale places the unit
                    line.unit.status, line.unit.holder = status, d.buyer
                    moved[line.unit.pk] = line.unit
        try:
            with transaction.atomic():
                for chunk in chunked(new_lines, 2000):
                    SaleLine.objects.bulk_create(chunk)
        except IntegrityError:
            raise ValidationError(
                {"lines": [_("A unit of this sale was sold by the same seller meanwhile.")]}
            )
        units = [moved[pk] for pk in sorted(moved)]
        for chunk in chunked(units, 2000):
            Unit.objects.bulk_update(chunk, ["status", "holder"])
        return sales


def create_sale(
    *,
    seller: Customer | None,
    buyer: Customer,
    sale_date: dt.date,
    lines: Sequence[LineInput],
    by: Actor = None,
    handler: Any = None,
    handler_name: str = "",
    reference: str = "",
    notes: str = "",
) -> Sale:
    """Record a sale: lock the units (and lots), validate (validate_sale), save
    (record_sales)."""
    with transaction.atomic(), _acting(by):
        unit_ids = sorted(line.unit.pk for line in lines if line.unit is not None)
        locked = {
            u.pk: u
            for u in Unit.objects.select_for_update(of=("self",))
            .select_related("product", "lot", "holder")
            .filter(pk__in=unit_ids)
            .order_by("pk")
        }
        fresh = [
            LineInput(unit=locked.get(line.unit.pk, line.unit), quantity=1)
            if line.unit is not None
            else line
            for line in lines
        ]
        if any(line.lot is not None and line.unit is None for line in fresh):
            # serialise concurrent lot sales of the same lots
            list(
                Lot.objects.select_for_update(of=("self",))
                .filter(pk__in=sorted({ln.lot.pk for ln in fresh if ln.lot and not ln.unit}))
                .order_by("pk")
            )
        prepared = validate_sale(seller=seller, buyer=buyer, sale_date=sale_date, lines=fresh)
        [sale] = record_sales(
            [
                SaleDraft(
                    seller=seller,
                    buyer=buyer,
                    sale_date=sale_date,
                    lines=prepared,
                    handler=handler,
                    handler_name=handler_name,
                    reference=reference,
                    notes=notes,
                )
            ],
            by=by,
        )
        return sale


def void_sale(sale: Sale, *, by: Actor = None, reason: str) -> Sale:
    """Void a sale entered in error: its lines close and the units go back to the seller.
    Refused when a unit has moved on since (sold on, installed, returned)."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for voiding the sale.")})
    with transaction.atomic(), _acting(by, reason):
        sale = Sale.objects.select_for_update(of=("self",)).get(pk=sale.pk)
        if not sale.can_void():
            raise ValidationError(_("The sale is already voided."))
        lines = list(sale.lines.select_related("unit").filter(open=True))
        unit_ids = sorted(line.unit_id for line in lines if line.unit_id)
        units = list(
            Unit.objects.select_for_update(of=("self",)).filter(pk__in=unit_ids).order_by("pk")
        )
        expected = UnitStatus.SOLD if sale.seller_id is None else UnitStatus.SOLD_ON
        moved = [u.serial for u in units if u.holder_id != sale.buyer_id or u.status != expected]
        if moved:
            raise ValidationError(
                _(
                    "The sale cannot be voided: units %(serials)s have moved on since (sold on, "
                    "installed or returned)."
                )
                % {"serials": ", ".join(moved)}
            )
        sale.mark_voided(reason)
        sale.save()
        SaleLine.objects.filter(pk__in=[line.pk for line in lines]).update(open=False)
        if unit_ids:
            back = UnitStatus.IN_STOCK if sale.seller_id is None else UnitStatus.SOLD
            Unit.objects.filter(pk__in=unit_ids).update(status=back, holder=sale.seller)
        return sale
