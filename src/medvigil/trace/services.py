"""Every state change of the traceability records (ARCHITECTURE rule 1).

Each change is one function: it validates, locks the rows it changes (select_for_update),
changes them, and relies on AuditedModel for the audit trail. Validation is exposed apart from
saving (`build_*`, `check_*`, `validate_sale`) so that the bulk import can validate every row
first and then save the whole file in one transaction with the same functions.

Errors are django ValidationError with user-facing messages (field errors where there is a
field), never a crash.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medvigil.core.audit import audit_context
from medvigil.core.models import ANY_VERSION

from .models import (
    Customer,
    CustomerKind,
    Disposition,
    DrillStatus,
    Installation,
    Licence,
    Lot,
    Product,
    ReturnRecord,
    Sale,
    SaleLine,
    TraceDrill,
    Unit,
    UnitStatus,
    add_months,
)
from .rules import CITATION_EXPIRED_PRODUCT, licence_rule
from .udi import lazy_message

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

M = TypeVar("M", bound=models.Model)


@contextmanager
def _acting(by: Any, reason: str | None = None) -> Iterator[None]:
    """Audit context for `by` (a user) if given; otherwise the caller's context stands."""
    if by is None and reason is None:
        yield
        return
    with audit_context(actor=by, reason=reason):
        yield


def _d(day: dt.date | None) -> str:
    return date_format(day, "Y-m-d") if day else ""


# --- generic master data ---------------------------------------------------------------------


def _build(model: type[M], fields: dict[str, Any], exclude: Sequence[str] = ()) -> M:
    obj = model(**fields)
    obj.full_clean(exclude=list(exclude))
    return obj


def _update(obj: M, fields: dict[str, Any], *, by: Any, version: Any, reason: str | None) -> M:
    with transaction.atomic(), _acting(by, reason):
        locked = type(obj)._default_manager.select_for_update(of=("self",)).get(pk=obj.pk)
        locked.check_version(version)  # type: ignore[attr-defined]
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean()
        locked.save()
        return locked


# Products (TRC-1)


def build_product(**fields: Any) -> Product:
    """A validated, unsaved product (GTIN normalised to 14 digits, check digit verified)."""
    return _build(Product, fields)


def create_product(*, by: Any = None, **fields: Any) -> Product:
    with transaction.atomic(), _acting(by):
        product = build_product(**fields)
        product.save()
        return product


def update_product(
    product: Product, *, by: Any = None, version: Any = None, reason: str | None = None, **fields
) -> Product:
    return _update(product, fields, by=by, version=version, reason=reason)


# Customers and licences (TRC-2)


def build_customer(**fields: Any) -> Customer:
    return _build(Customer, fields)


def create_customer(*, by: Any = None, **fields: Any) -> Customer:
    with transaction.atomic(), _acting(by):
        customer = build_customer(**fields)
        customer.save()
        return customer


def update_customer(
    customer: Customer,
    *,
    by: Any = None,
    version: Any = None,
    reason: str | None = None,
    **fields: Any,
) -> Customer:
    return _update(customer, fields, by=by, version=version, reason=reason)


def build_licence(**fields: Any) -> Licence:
    licence = _build(Licence, fields)
    if licence.issued_on and licence.expires_on and licence.expires_on < licence.issued_on:
        raise ValidationError({"expires_on": _("The licence expires before it was issued.")})
    return licence


def add_licence(*, by: Any = None, **fields: Any) -> Licence:
    with transaction.atomic(), _acting(by):
        licence = build_licence(**fields)
        licence.save()
        return licence


def update_licence(
    licence: Licence, *, by: Any = None, version: Any = None, reason: str | None = None, **fields
) -> Licence:
    return _update(licence, fields, by=by, version=version, reason=reason)


def withdraw_licence(licence: Licence, *, by: Any = None, reason: str) -> Licence:
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for withdrawing the licence.")})
    return _update(
        licence,
        {"withdrawn": True, "withdrawn_reason": reason},
        by=by,
        version=ANY_VERSION,  # a withdrawal changes no field the user edited
        reason=reason,
    )


# Lots and units (TRC-3)


def build_lot(**fields: Any) -> Lot:
    lot = _build(Lot, fields)
    if lot.expiry_date is None and lot.product_id and lot.product.shelf_life_months:
        lot.expiry_date = lot.product.expiry_for(lot.production_date)
    return lot


def create_lot(*, by: Any = None, **fields: Any) -> Lot:
    with transaction.atomic(), _acting(by):
        lot = build_lot(**fields)
        lot.save()
        return lot


def update_lot(
    lot: Lot, *, by: Any = None, version: Any = None, reason: str | None = None, **fields: Any
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


def build_unit(
    *,
    product: Product,
    serial: str,
    lot: Lot | None = None,
    production_date: dt.date | None = None,
    expiry_date: dt.date | None = None,
    production_record: str = "",
    udi_pi: str = "",
) -> Unit:
    """A validated, unsaved unit: UDI-DI copied from the product, dates and production record
    inherited from the lot when not given, UDI-PI composed when not given."""
    serial = (serial or "").strip()
    errors: dict[str, list[str]] = {}
    if not serial:
        errors.setdefault("serial", []).append(_("The serial number is required."))
    if lot is not None and lot.product_id != product.pk:
        errors.setdefault("lot", []).append(
            _("Lot %(lot)s belongs to another product.") % {"lot": lot.lot_number}
        )
    if errors:
        raise ValidationError(errors)
    if lot is not None:
        production_date = production_date or lot.production_date
        expiry_date = expiry_date or lot.expiry_date
        production_record = production_record or lot.production_record
    if expiry_date is None and product.shelf_life_months:
        expiry_date = product.expiry_for(production_date)
    unit = Unit(
        product=product,
        lot=lot,
        serial=serial,
        udi_di=product.gtin or "",
        production_date=production_date,
        expiry_date=expiry_date,
        production_record=production_record,
    )
    unit.udi_pi = udi_pi or compose_udi_pi(unit)
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


def create_unit(*, by: Any = None, **fields: Any) -> Unit:
    with transaction.atomic(), _acting(by):
        unit = build_unit(**fields)
        if unit.lot_id is not None:
            problems = lot_quantity_problems({unit.lot_id: 1}, lock=True)
            if problems:
                raise ValidationError(list(problems.values()))
        unit.save()
        return unit


def create_units(units: Iterable[Unit], *, by: Any = None) -> list[Unit]:
    """Save many units built with build_unit (audited bulk create). Refused when a lot would
    then hold more units than its quantity produced."""
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


# --- licence check (TRC-2) -------------------------------------------------------------------


def licence_problems(customer: Customer, product: Product, on: dt.date) -> list[str]:
    """Why `customer` may not buy `product` on `on` (empty list: allowed). Each message names
    the licence that is missing, expired or withdrawn."""
    if not customer.active:
        return [_("%(customer)s is inactive.") % {"customer": customer.name}]
    if customer.kind == CustomerKind.INDIVIDUAL:
        if product.sale_to_individuals:
            return []
        return [
            _(
                "%(product)s may not be sold to an individual (%(customer)s): the product does "
                "not allow sales to private persons."
            )
            % {"product": product, "customer": customer.name}
        ]
    rule = licence_rule(customer.kind, product.risk_class)
    if rule is None:
        return [_("No licence rule for customer type %(kind)s.") % {"kind": customer.kind}]
    licences = list(customer.licences.all())  # uses prefetch_related("licences") if done
    problems = []
    for alternatives in rule.requirements:
        of_kind = [lic for lic in licences if lic.kind in alternatives]
        if any(lic.valid_on(on) for lic in of_kind):
            continue
        names = _(" or ").join(str(Licence(kind=k).get_kind_display()) for k in alternatives)
        params = {
            "customer": customer.name,
            "licence": names,
            "class": product.get_risk_class_display(),
            "date": _d(on),
        }
        if not of_kind:
            problems.append(
                _(
                    "%(customer)s has no %(licence)s on file; it is required to buy "
                    "%(class)s devices."
                )
                % params
            )
            continue
        latest = max(of_kind, key=lambda lic: lic.expires_on or dt.date.max)
        if latest.withdrawn:
            params["number"] = latest.number
            problems.append(
                _("The %(licence)s No. %(number)s of %(customer)s was withdrawn.") % params
            )
        elif latest.issued_on and latest.issued_on > on:
            params.update(number=latest.number, issued=_d(latest.issued_on))
            problems.append(
                _(
                    "The %(licence)s No. %(number)s of %(customer)s is valid only from "
                    "%(issued)s; the sale date is %(date)s."
                )
                % params
            )
        else:
            params.update(number=latest.number, expired=_d(latest.expires_on))
            problems.append(
                _(
                    "The %(licence)s No. %(number)s of %(customer)s expired on %(expired)s "
                    "(sale date %(date)s)."
                )
                % params
            )
    return problems


def check_customer_may_buy(customer: Customer, product: Product, on: dt.date) -> None:
    problems = licence_problems(customer, product, on)
    if problems:
        raise ValidationError(
            {"buyer": [_("Sale refused: %(why)s") % {"why": p} for p in problems]}
        )


# --- sales (TRC-4) ---------------------------------------------------------------------------


@dataclass
class LineInput:
    """One line of a sale: a unit (serialised devices) or a lot and a quantity."""

    unit: Unit | None = None
    lot: Lot | None = None
    quantity: int = 1
    product: Product | None = None


def _lot_available(
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


def _unit_sale_problem(unit: Unit, seller: Customer | None, on: dt.date) -> str | None:
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
    if SaleLine.objects.filter(unit=unit, seller=seller, open=True).exists():
        return (
            _(
                "Unit %(serial)s was already sold by %(seller)s; it cannot be sold again "
                "without a return in between."
            )
            % params
        )
    params["holder"] = unit.holder.name if unit.holder else _("us")
    return _("Unit %(serial)s is not held by %(seller)s (held by %(holder)s).") % params


def validate_sale(
    *,
    seller: Customer | None,
    buyer: Customer,
    sale_date: dt.date,
    lines: Sequence[LineInput],
) -> list[LineInput]:
    """Check a sale without saving it; returns the lines with their product filled in.
    Raises ValidationError (fields: seller, buyer, sale_date, lines)."""
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
    if not lines:
        errors["lines"].append(_("Add at least one unit or lot."))
    prepared: list[LineInput] = []
    seen_units: set[int] = set()
    lot_qty: dict[int, int] = defaultdict(int)
    products: dict[int, Product] = {}
    for line in lines:
        if line.unit is not None:
            unit = line.unit
            if unit.pk in seen_units:
                errors["lines"].append(
                    _("Unit %(serial)s is listed twice.") % {"serial": unit.serial}
                )
                continue
            seen_units.add(unit.pk)
            if sale_date is not None:
                problem = _unit_sale_problem(unit, seller, sale_date)
                if problem:
                    errors["lines"].append(problem)
            products[unit.product_id] = unit.product
            prepared.append(LineInput(unit=unit, lot=unit.lot, quantity=1, product=unit.product))
        elif line.lot is not None:
            lot = line.lot
            qty = line.quantity
            if not isinstance(qty, int) or qty < 1:
                errors["lines"].append(
                    _("The quantity of lot %(lot)s must be at least 1.") % {"lot": lot.lot_number}
                )
                continue
            if lot.expiry_date and sale_date is not None and lot.expiry_date < sale_date:
                errors["lines"].append(
                    _("Lot %(lot)s expired on %(expiry)s and may not be sold.")
                    % {"lot": lot.lot_number, "expiry": _d(lot.expiry_date)}
                    + f" ({CITATION_EXPIRED_PRODUCT})"
                )
            lot_qty[lot.pk] += qty
            products[lot.product_id] = lot.product
            prepared.append(LineInput(lot=lot, quantity=qty, product=lot.product))
        else:
            errors["lines"].append(_("A line needs a unit or a lot."))
    for lot_id, qty in lot_qty.items():
        lot = next(p.lot for p in prepared if p.lot is not None and p.lot.pk == lot_id)
        assert lot is not None
        available = _lot_available(lot, seller)
        if available is not None and qty > available:
            errors["lines"].append(
                _("Only %(available)s of lot %(lot)s are available to this seller; %(qty)s asked.")
                % {"available": max(available, 0), "lot": lot.lot_number, "qty": qty}
            )
    if sale_date is not None and not errors.get("buyer"):
        for product in products.values():
            for problem in licence_problems(buyer, product, sale_date):
                errors["buyer"].append(_("Sale refused: %(why)s") % {"why": problem})
    if errors:
        raise ValidationError(dict(errors))
    return prepared


def create_sale(
    *,
    seller: Customer | None,
    buyer: Customer,
    sale_date: dt.date,
    lines: Sequence[LineInput],
    by: Any = None,
    handler: Any = None,
    handler_name: str = "",
    reference: str = "",
    notes: str = "",
) -> Sale:
    """Record a sale: validate, lock the units, save the sale and its lines, move the units
    (in stock → sold; sold → sold on) to the buyer. A unit already sold by the same seller
    without a return is refused here and by the database constraints."""
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
        sale = Sale(
            number=Sale.next_number(),
            seller=seller,
            buyer=buyer,
            sale_date=sale_date,
            handler=handler if handler is not None else by,
            handler_name=handler_name,
            reference=reference,
            notes=notes,
        )
        sale.full_clean(exclude=["number"])
        sale.save()
        new_lines = [
            SaleLine(
                sale=sale,
                product=line.product,
                unit=line.unit,
                lot=line.lot,
                quantity=line.quantity,
                seller=seller,
                buyer=buyer,
            )
            for line in prepared
        ]
        try:
            with transaction.atomic():
                SaleLine.objects.bulk_create(new_lines)
        except IntegrityError:
            raise ValidationError(
                {"lines": [_("A unit of this sale was sold by the same seller meanwhile.")]}
            )
        if unit_ids:
            status = UnitStatus.SOLD if seller is None else UnitStatus.SOLD_ON
            Unit.objects.filter(pk__in=unit_ids).update(status=status, holder=buyer)
        return sale


def void_sale(sale: Sale, *, by: Any = None, reason: str) -> Sale:
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


# --- installed base (TRC-5) ------------------------------------------------------------------


def warranty_end_for(product: Product, accepted_on: dt.date) -> dt.date:
    return add_months(accepted_on, product.warranty_months)


INSTALLABLE = (UnitStatus.SOLD, UnitStatus.SOLD_ON, UnitStatus.INSTALLED)


def install_unit(
    unit: Unit,
    *,
    customer: Customer,
    installed_on: dt.date,
    by: Any = None,
    installed_by: Any = None,
    department: str = "",
    address: str = "",
    contact_person: str = "",
    contact_phone: str = "",
    accepted_on: dt.date | None = None,
    notes: str = "",
) -> Installation:
    """Record where a sold unit is installed (moving it if it was installed elsewhere);
    with accepted_on, acceptance starts the warranty."""
    with transaction.atomic(), _acting(by):
        unit = (
            Unit.objects.select_for_update(of=("self",))
            .select_related("product", "holder")
            .get(pk=unit.pk)
        )
        errors: dict[str, list[str]] = defaultdict(list)
        if unit.status not in INSTALLABLE:
            errors["unit"].append(
                _("Unit %(serial)s is %(status)s; only a sold unit can be installed.")
                % {"serial": unit.serial, "status": unit.get_status_display()}
            )
        elif unit.holder_id != customer.pk:
            errors["customer"].append(
                _(
                    "Unit %(serial)s is held by %(holder)s, not by %(customer)s; record the "
                    "sale to %(customer)s first."
                )
                % {
                    "serial": unit.serial,
                    "holder": unit.holder.name if unit.holder else _("us"),
                    "customer": customer.name,
                }
            )
        if installed_on is None:
            errors["installed_on"].append(_("The installation date is required."))
        elif installed_on > timezone.localdate() + dt.timedelta(days=1):
            errors["installed_on"].append(_("The installation date is in the future."))
        if accepted_on is not None and installed_on is not None and accepted_on < installed_on:
            errors["accepted_on"].append(_("Acceptance cannot be before installation."))
        if errors:
            raise ValidationError(dict(errors))
        Installation.objects.filter(unit=unit, current=True).update(current=False)
        inst = Installation(
            unit=unit,
            customer=customer,
            department=department,
            address=address or customer.address,
            contact_person=contact_person,
            contact_phone=contact_phone,
            installed_on=installed_on,
            installed_by=installed_by if installed_by is not None else by,
            accepted_on=accepted_on,
            warranty_end=warranty_end_for(unit.product, accepted_on) if accepted_on else None,
            notes=notes,
        )
        inst.full_clean()
        inst.save()
        if unit.status != UnitStatus.INSTALLED:
            unit.status = UnitStatus.INSTALLED
            unit.save(update_fields=["status"])
        return inst


def accept_installation(
    inst: Installation, *, accepted_on: dt.date, by: Any = None, version: Any = None
) -> Installation:
    """Acceptance (验收) starts the warranty: warranty_end = accepted + product warranty."""
    with transaction.atomic(), _acting(by):
        inst = (
            Installation.objects.select_for_update(of=("self",))
            .select_related("unit__product")
            .get(pk=inst.pk)
        )
        inst.check_version(version)
        if accepted_on is None:
            raise ValidationError({"accepted_on": _("The acceptance date is required.")})
        if accepted_on < inst.installed_on:
            raise ValidationError({"accepted_on": _("Acceptance cannot be before installation.")})
        if accepted_on > timezone.localdate() + dt.timedelta(days=1):
            raise ValidationError({"accepted_on": _("The acceptance date is in the future.")})
        if not inst.current:
            raise ValidationError(_("The unit has left this installation."))
        inst.accepted_on = accepted_on
        inst.warranty_end = warranty_end_for(inst.unit.product, accepted_on)
        inst.save()
        return inst


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
    by: Any = None,
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
                held = _lot_available(lot, returned_by)
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
    by: Any = None,
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


# --- traceability drill (TRC-8) --------------------------------------------------------------


def start_drill(lot: Lot, *, by: Any, target_percent: Decimal | int = 100) -> TraceDrill:
    """Create a drill for `lot` and run its forward trace at once."""
    with transaction.atomic(), _acting(by):
        drill = TraceDrill(
            number=TraceDrill.next_number(),
            lot=lot,
            target_percent=Decimal(target_percent),
            performed_by=by,
        )
        drill.save()
        return run_drill(drill, by=by)


def run_drill(drill: TraceDrill, *, by: Any = None) -> TraceDrill:
    """(Re-)run the forward trace of the drill's lot and keep the result."""
    import time

    from .queries import drill_summary, forward_trace

    with transaction.atomic(), _acting(by):
        drill = (
            TraceDrill.objects.select_for_update(of=("self",))
            .select_related("lot")
            .get(pk=drill.pk)
        )
        if drill.status != DrillStatus.OPEN:
            raise ValidationError(_("The drill is completed; start a new one."))
        started = time.perf_counter()
        trace = forward_trace(lots=[drill.lot])
        summary = drill_summary(trace)
        drill.duration_ms = int((time.perf_counter() - started) * 1000)
        drill.run_at = timezone.now()
        drill.total_units = summary["total"]
        drill.located_units = summary["located"]
        drill.percent_located = summary["percent"]
        drill.result = summary["result"]
        drill.save()
        return drill


def complete_drill(
    drill: TraceDrill,
    *,
    by: Any,
    conclusion: str,
    password: str | None = None,
    request: Any = None,
) -> TraceDrill:
    """Close the drill with a conclusion, signed (meaning "closed") by the user."""
    from medvigil.core.models import Signature
    from medvigil.core.signatures import apply_signature, check_signer

    if not (conclusion or "").strip():
        raise ValidationError({"conclusion": _("Write the conclusion of the drill.")})
    if drill.status != DrillStatus.OPEN:
        raise ValidationError(_("The drill is already completed."))
    if drill.run_at is None:
        raise ValidationError(_("Run the trace before completing the drill."))
    # Phase 1 of the signature (password check) runs outside our transaction, so that a
    # refused attempt stays in the audit trail (see core.signatures).
    check = check_signer(
        drill, user=by, password=password or "", request=request, meaning=Signature.Meaning.CLOSED
    )
    with transaction.atomic(), _acting(by):
        drill = TraceDrill.objects.select_for_update(of=("self",)).get(pk=drill.pk)
        if drill.status != DrillStatus.OPEN:
            raise ValidationError(_("The drill is already completed."))
        drill.status = DrillStatus.COMPLETED
        drill.conclusion = conclusion
        drill.completed_at = timezone.now()
        drill.save()
        apply_signature(drill, check, reason=conclusion)
        return drill


__all__ = [
    "LineInput",
    "accept_installation",
    "add_licence",
    "build_customer",
    "build_licence",
    "build_lot",
    "build_product",
    "build_unit",
    "check_customer_may_buy",
    "complete_drill",
    "create_customer",
    "create_lot",
    "create_product",
    "create_sale",
    "create_unit",
    "create_units",
    "install_unit",
    "licence_problems",
    "lot_quantity_problems",
    "over_quantity",
    "recorded_units",
    "record_return",
    "run_drill",
    "set_return_disposition",
    "start_drill",
    "update_customer",
    "update_licence",
    "update_lot",
    "update_product",
    "validate_sale",
    "void_sale",
    "withdraw_licence",
]
