"""Every state change of the traceability records (ARCHITECTURE rule 1).

Each change is one function: it validates, locks the rows it changes (select_for_update),
changes them, and relies on AuditedModel for the audit trail. Validation is exposed apart from
saving (`build_*`, `check_*`, `validate_*`) so that the bulk import can validate every row
first and then save the whole file in one transaction with the same functions.

This module is the one place of every traceability rule. Forms, API endpoints and importers
call these public functions (bulk variants where an importer needs set-based checks:
`resolve_units`, `resolve_lots`, `recorded_serials`, `UnitBuilder`, `check_sale` with a
`SaleLedger`, `build_installation`, `record_sales`, `save_installations`); none of them
repeats a check or writes records on its own.

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

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy

from medvigil.core.audit import audit_context
from medvigil.core.i18n import gettext_msg as _
from medvigil.core.models import ANY_VERSION
from medvigil.core.permissions import can, scope_for_user

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
from .privacy import can_view_contacts
from .rules import CITATION_EXPIRED_PRODUCT, licence_rule
from .udi import UdiError, UdiResult, lazy_message, looks_like_udi, normalize, parse_udi

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


# --- contact data (PLAT-11) ------------------------------------------------------------------


class ContactDataRefused(PermissionDenied):
    """A write of contact fields by a user without trace.view_contact_data (an API 403)."""

    def __init__(self, fields: Sequence[str]) -> None:
        self.fields = tuple(fields)
        self.message = str(CONTACT_REFUSED)
        super().__init__(self.message)


CONTACT_REFUSED = gettext_lazy("Your role may not record customer contact data.")


def may_write_contacts(user: Any) -> bool:
    """Whether `user` may record addresses, phones, e-mails and contact persons (the same
    permission that shows them, PLAT-11). No user (shell, system task): yes."""
    return user is None or can_view_contacts(user)


def contact_fields_written(
    model: type[models.Model], values: dict[str, Any], instance: Any = None
) -> list[str]:
    """The contact fields of `model` that `values` would set: filled in on a new record,
    changed on an existing one."""
    fields = getattr(model, "CONTACT_FIELDS", ())
    if instance is None:
        return [f for f in fields if values.get(f)]
    return [f for f in fields if f in values and (values[f] or "") != (getattr(instance, f) or "")]


def check_contact_write(
    user: Any, model: type[models.Model], values: dict[str, Any], instance: Any = None
) -> None:
    """The contact-data write guard (PLAT-11), for forms, the API and imports alike: raise
    ContactDataRefused if `user` may not write contact data and `values` would."""
    if may_write_contacts(user):
        return
    written = contact_fields_written(model, values, instance)
    if written:
        raise ContactDataRefused(written)


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
    """Record a customer; contact fields only by a user allowed to (check_contact_write)."""
    check_contact_write(by, Customer, fields)
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
    check_contact_write(by, Customer, fields, instance=customer)
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


class UnitBuilder:
    """Builds validated, unsaved units — the one place of the unit rules (TRC-3): serial
    required, the lot of the same product, dates and production record inherited from the
    lot, expiry from the product's shelf life, expiry not before production, UDI-DI copied
    from the product, UDI-PI composed (compose_udi_pi). No database query: one builder serves
    a whole batch (the import, the "Add units" page), so it is fast — Django's positional
    constructor (the one Model.from_db uses) and the UDI-PI prefix composed once per
    (production date, expiry, lot), checked against compose_udi_pi on the first unit of each.
    Raises ValidationError (fields: serial, lot, expiry_date)."""

    def __init__(self) -> None:
        fields = Unit._meta.concrete_fields
        self.index = {f.attname: i for i, f in enumerate(fields)}
        self.template = [f.get_default() for f in fields]
        self.prefix: dict[Any, str | None] = {}

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
        errors: dict[str, list[str]] = {}
        if not serial:
            errors["serial"] = [_("The serial number is required.")]
        if lot is not None and lot.product_id != product.pk:
            errors["lot"] = [_("Lot %(lot)s belongs to another product.") % {"lot": lot.lot_number}]
        if errors:
            raise ValidationError(errors)
        if lot is not None:
            production_date = production_date or lot.production_date
            expiry_date = expiry_date or lot.expiry_date
            production_record = production_record or lot.production_record
        if expiry_date is None and product.shelf_life_months:
            expiry_date = product.expiry_for(production_date)
        if production_date and expiry_date and expiry_date < production_date:
            raise ValidationError(
                {"expiry_date": [_("The expiry date is before the production date.")]}
            )
        values = list(self.template)
        ix = self.index
        values[ix["product_id"]] = product.pk
        values[ix["lot_id"]] = lot.pk if lot is not None else None
        values[ix["serial"]] = serial
        values[ix["udi_di"]] = product.gtin or ""
        values[ix["production_date"]] = production_date
        values[ix["expiry_date"]] = expiry_date
        values[ix["production_record"]] = production_record or ""
        unit = Unit(*values)
        unit._state.fields_cache["product"] = product
        unit._state.fields_cache["lot"] = lot
        if udi_pi:
            unit.udi_pi = udi_pi
            return unit
        key = (production_date, expiry_date, lot.pk if lot is not None else None)
        prefix = self.prefix.get(key, "")
        if prefix == "":
            full = compose_udi_pi(unit)
            tail = f"(21){serial}"
            self.prefix[key] = full[: -len(tail)] if full.endswith(tail) else None
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


def add_units(lot: Lot, serials: Sequence[str], *, by: Any = None) -> list[Unit]:
    """Add serialised units to a lot (the "Add units" page): refused if a serial is already
    recorded for the product; dates and production record from the lot."""
    with transaction.atomic(), _acting(by):
        check_serials_not_recorded(lot.product, serials)
        build = UnitBuilder()
        return create_units([build(product=lot.product, lot=lot, serial=s) for s in serials])


# --- resolving units and lots from scans and typed numbers (TRC-3, TRC-4) ---------------------


def units_for(user: Any) -> models.QuerySet:
    """The units `user` may see (through scope_for_user); all for no user (system)."""
    if user is None:
        return Unit.objects.all()
    if not can(user, Unit, "view"):
        raise PermissionDenied
    return scope_for_user(user, Unit)


def lots_for(user: Any) -> models.QuerySet:
    """The lots `user` may see (through scope_for_user); all for no user (system)."""
    if user is None:
        return Lot.objects.all()
    if not can(user, Lot, "view"):
        raise PermissionDenied
    return scope_for_user(user, Lot)


def resolve_units(
    texts: Sequence[str], *, user: Any, products: Sequence[Product | None] | None = None
) -> list[Unit | UdiError]:
    """The unit each text designates — a typed serial number, a scanned GS1 element string or
    the "(01)…(21)…" text — among the units `user` may see, narrowed by the product given for
    that text (if any): a Unit, or the UdiError saying why there is none (its message lazy,
    for an import's error report). Set-based: one query per chunk of serial numbers, whatever
    the number of texts. A serial typed as printed is tried first; a UDI's lot (10) must
    agree with the unit's lot."""
    from medvigil.core.imports import filter_in

    scope = units_for(user)
    values = [normalize(t) for t in texts]
    wanted_products = list(products) if products is not None else [None] * len(values)
    parsed: list[UdiResult | UdiError | None] = []
    serials: set[str] = set()
    for value in values:
        if not value:
            parsed.append(None)
            continue
        serials.add(value)
        if not looks_like_udi(value):
            parsed.append(None)
            continue
        try:
            result = parse_udi(value)
        except UdiError as exc:
            parsed.append(exc)
            continue
        parsed.append(result)
        if result.serial:
            serials.add(result.serial)
    index: dict[str, list[Unit]] = defaultdict(list)
    for qs in filter_in(scope.select_related("product", "lot", "holder"), "serial", serials):
        for unit in qs:
            index[unit.serial].append(unit)
    out: list[Unit | UdiError] = []
    unknown_gtin: dict[int, str] = {}
    for i, (value, udi, product) in enumerate(zip(values, parsed, wanted_products, strict=True)):
        if not value:
            out.append(
                UdiError(
                    gettext_lazy("Scan or paste a UDI, or type a serial number."),
                    code="required",
                )
            )
            continue
        found = [u for u in index.get(value, []) if product is None or u.product_id == product.pk]
        if len(found) == 1:
            out.append(found[0])
            continue
        if len(found) > 1:
            out.append(
                UdiError(
                    gettext_lazy(
                        "Serial number %(serial)s exists for several products; give the "
                        "product or scan the full UDI to choose the unit."
                    ),
                    {"serial": value},
                    code="ambiguous",
                )
            )
            continue
        if udi is None:
            out.append(
                UdiError(
                    gettext_lazy("No unit with serial number %(serial)s."),
                    {"serial": value},
                    code="not_found",
                )
            )
            continue
        if isinstance(udi, UdiError):
            out.append(udi)
            continue
        if not udi.serial:
            if udi.lot:
                out.append(
                    UdiError(
                        gettext_lazy(
                            "The UDI has no serial number (21), so it does not name a single "
                            "unit (lot %(lot)s: use a lot line for lot-tracked products)."
                        ),
                        {"lot": udi.lot},
                        code="no_serial",
                    )
                )
            else:
                out.append(
                    UdiError(
                        gettext_lazy(
                            "The UDI has no serial number (21), so it does not name a single unit."
                        ),
                        code="no_serial",
                    )
                )
            continue
        candidates = [
            u for u in index.get(udi.serial, []) if product is None or u.product_id == product.pk
        ]
        # by the unit's UDI-DI; units made before the product had its GTIN: the product's
        unit = next((u for u in candidates if u.udi_di == udi.gtin), None) or next(
            (u for u in candidates if u.product.gtin == udi.gtin), None
        )
        if unit is None:
            unknown_gtin[i] = udi.gtin
            out.append(
                UdiError(
                    gettext_lazy("No unit with serial number %(serial)s of UDI-DI %(gtin)s."),
                    {"serial": udi.serial, "gtin": udi.gtin},
                    code="not_found",
                )
            )
        elif udi.lot and unit.lot is not None and unit.lot.lot_number != udi.lot:
            out.append(
                UdiError(
                    gettext_lazy(
                        "The label says lot %(label)s but unit %(serial)s is recorded in lot "
                        "%(lot)s; check the label."
                    ),
                    {"label": udi.lot, "serial": unit.serial, "lot": unit.lot.lot_number},
                    code="lot_mismatch",
                )
            )
        else:
            out.append(unit)
    if unknown_gtin:
        known = set(
            Product.objects.filter(gtin__in=set(unknown_gtin.values())).values_list(
                "gtin", flat=True
            )
        )
        for i, gtin in unknown_gtin.items():
            if gtin not in known:
                out[i] = UdiError(
                    gettext_lazy("No product with UDI-DI %(gtin)s in the catalogue."),
                    {"gtin": gtin},
                    code="not_found",
                )
    return out


def resolve_unit(text: str, *, user: Any, product: Product | None = None) -> Unit:
    """resolve_units for one text; raises UdiError with the reason when there is no unit."""
    [found] = resolve_units([text], user=user, products=[product])
    if isinstance(found, UdiError):
        raise found
    return found


def resolve_lots(
    idents: Sequence[str], *, user: Any, products: Sequence[Product | None] | None = None
) -> list[Lot | UdiError]:
    """The lot each text designates — a lot number (of the product given for it, if any), or
    a scanned UDI with (01) and (10) — among the lots `user` may see: a Lot, or the UdiError
    saying why there is none. One query per chunk of lot numbers."""
    from medvigil.core.imports import filter_in

    scope = lots_for(user)
    wanted_products = list(products) if products is not None else [None] * len(idents)
    keys: list[tuple[str, str | None] | UdiError] = []  # (lot number, GTIN or None) or why not
    for ident in idents:
        text = (ident or "").strip()
        if not text:
            keys.append(UdiError(gettext_lazy("Give a lot number (or UDI)."), code="required"))
        elif looks_like_udi(text):
            try:
                udi = parse_udi(text)
            except UdiError as exc:
                keys.append(exc)
                continue
            keys.append(
                (udi.lot, udi.gtin)
                if udi.lot
                else UdiError(gettext_lazy("The UDI has no lot number (10)."), code="no_lot")
            )
        else:
            keys.append((text, None))
    numbers = {k[0] for k in keys if isinstance(k, tuple)}
    index: dict[str, list[Lot]] = defaultdict(list)
    for qs in filter_in(scope.select_related("product"), "lot_number", numbers):
        for lot in qs:
            index[lot.lot_number].append(lot)
    out: list[Lot | UdiError] = []
    for key, product in zip(keys, wanted_products, strict=True):
        if isinstance(key, UdiError):
            out.append(key)
            continue
        number, gtin = key
        found = [
            lot
            for lot in index.get(number, [])
            if (product is None or lot.product_id == product.pk)
            and (gtin is None or lot.product.gtin == gtin)
        ]
        if len(found) == 1:
            out.append(found[0])
        elif gtin is not None:
            out.append(
                UdiError(
                    gettext_lazy("No lot %(lot)s of UDI-DI %(gtin)s."),
                    {"lot": number, "gtin": gtin},
                    code="not_found",
                )
            )
        elif found:
            out.append(
                UdiError(
                    gettext_lazy(
                        "Lot number %(lot)s exists for several products; give the product or "
                        "scan the UDI."
                    ),
                    {"lot": number},
                    code="ambiguous",
                )
            )
        elif product is not None:
            out.append(
                UdiError(
                    gettext_lazy("No lot %(lot)s of product %(product)s."),
                    {"lot": number, "product": product.code},
                    code="not_found",
                )
            )
        else:
            out.append(UdiError(gettext_lazy("No lot %(lot)s."), {"lot": number}, code="not_found"))
    return out


def resolve_lot(ident: str, *, user: Any, product: Product | None = None) -> Lot:
    """resolve_lots for one text; raises ValidationError with the reason."""
    [found] = resolve_lots([ident], user=user, products=[product])
    if isinstance(found, UdiError):
        raise found.validation_error()
    return found


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


def record_sales(drafts: Sequence[SaleDraft], *, by: Any = None) -> list[Sale]:
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
    by: Any = None,
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


def check_installation(
    unit: Unit,
    customer: Customer,
    installed_on: dt.date | None,
    accepted_on: dt.date | None = None,
) -> dict[str, list[str]]:
    """The installation checks (TRC-5): a sold unit, held by the end user it is installed
    at, an installation date not in the future, acceptance not before installation.
    Errors by field (unit, customer, installed_on, accepted_on); empty: allowed."""
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
    return dict(errors)


def build_installation(
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
    """A validated, unsaved installation (no query): the contact-data guard for `by`,
    check_installation, the address defaulting to the customer's, the warranty from the
    acceptance date. Raises ContactDataRefused or ValidationError."""
    check_contact_write(
        by,
        Installation,
        {"address": address, "contact_person": contact_person, "contact_phone": contact_phone},
    )
    errors = check_installation(unit, customer, installed_on, accepted_on)
    if errors:
        raise ValidationError(errors)
    inst = Installation(
        unit=unit,
        customer=customer,
        department=department or "",
        address=address or customer.address,
        contact_person=contact_person or "",
        contact_phone=contact_phone or "",
        installed_on=installed_on,
        installed_by=installed_by if installed_by is not None else by,
        accepted_on=accepted_on,
        warranty_end=warranty_end_for(unit.product, accepted_on) if accepted_on else None,
        notes=notes or "",
    )
    # foreign keys are records already loaded
    inst.full_clean(
        exclude=["unit", "customer", "installed_by"],
        validate_unique=False,
        validate_constraints=False,
    )
    return inst


def save_installations(insts: Sequence[Installation], *, by: Any = None) -> list[Installation]:
    """Save installations built with build_installation, any number at once (install_unit,
    the import): each unit leaves its previous location and becomes installed."""
    from medvigil.core.imports import chunked

    with transaction.atomic(), _acting(by):
        unit_ids = sorted({i.unit_id for i in insts})
        for chunk in chunked(unit_ids, 2000):
            Installation.objects.filter(unit_id__in=chunk, current=True).update(current=False)
        created: list[Installation] = []
        for part in chunked(list(insts), 2000):
            created += Installation.objects.bulk_create(part)
        moving = {i.unit_id: i.unit for i in insts if i.unit.status != UnitStatus.INSTALLED}
        for i in insts:
            i.unit.status = UnitStatus.INSTALLED
        units = [moving[pk] for pk in sorted(moving)]
        for chunk in chunked(units, 2000):
            Unit.objects.bulk_update(chunk, ["status"])
        return created


def install_unit(unit: Unit, *, by: Any = None, **fields: Any) -> Installation:
    """Record where a sold unit is installed (moving it if it was installed elsewhere);
    with accepted_on, acceptance starts the warranty. `fields`: those of
    build_installation (customer, installed_on, department, address, contact_person,
    contact_phone, accepted_on, installed_by, notes)."""
    with transaction.atomic(), _acting(by):
        unit = (
            Unit.objects.select_for_update(of=("self",))
            .select_related("product", "holder")
            .get(pk=unit.pk)
        )
        [inst] = save_installations([build_installation(unit, by=by, **fields)], by=by)
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


# --- forward-trace input (TRC-7) -------------------------------------------------------------

TRACE_RANGE_WITHOUT_PRODUCT = dt.timedelta(days=366)


def validate_trace_criteria(
    *,
    user: Any,
    lot_numbers: Sequence[str] = (),
    lot_ids: Sequence[int] = (),
    serials: Sequence[str] = (),
    gtin: str = "",
    product: Product | int | None = None,
    produced_from: dt.date | None = None,
    produced_to: dt.date | None = None,
) -> dict[str, Any]:
    """The one validator of forward-trace input, for the trace page and the API: lots among
    those `user` may see, serial numbers or UDIs (a UDI needs its serial), a UDI-DI (or a UDI
    giving it), a product, a production date range (at most a year without a product, lot or
    UDI-DI). Returns the keyword arguments of queries.forward_trace; raises ValidationError
    with the fields lots, serials, gtin, product, produced_to and __all__."""
    from .models import normalize_gtin

    errors: dict[str, list[str]] = defaultdict(list)
    numbers = [n.strip() for n in lot_numbers if n and n.strip()]
    lots: list[Lot] = []
    if numbers or lot_ids:
        lots = list(
            lots_for(user)
            .filter(models.Q(lot_number__in=numbers) | models.Q(pk__in=list(lot_ids)))
            .select_related("product")
        )
        missing = sorted(set(numbers) - {lot.lot_number for lot in lots})
        missing += sorted(str(i) for i in set(lot_ids) - {lot.pk for lot in lots})
        if missing:
            errors["lots"].append(_("Unknown lot(s): %(l)s") % {"l": ", ".join(missing[:20])})
    plain: list[str] = []
    udis: list[tuple[str, str]] = []
    for line in serials:
        text = (line or "").strip()
        if not text:
            continue
        if not looks_like_udi(text):
            plain.append(text)
            continue
        try:
            udi = parse_udi(text)
        except UdiError as exc:
            errors["serials"].append(f"{text[:60]}: {exc.message}")
            continue
        if not udi.serial:
            errors["serials"].append(_("%(l)s: the UDI has no serial (21).") % {"l": text[:60]})
            continue
        udis.append((udi.gtin, udi.serial))
    di = (gtin or "").strip()
    if di:
        try:
            di = parse_udi(di).gtin if looks_like_udi(di) else normalize_gtin(di)
        except UdiError as exc:
            errors["gtin"].append(exc.message)
        except ValidationError as exc:
            errors["gtin"].extend(exc.messages)
    if isinstance(product, int):
        found = scope_for_user(user, Product).filter(pk=product).first() if user else None
        if found is None and user is None:
            found = Product.objects.filter(pk=product).first()
        if found is None:
            errors["product"].append(_("Unknown product."))
        product = found
    if errors:
        raise ValidationError(dict(errors))
    if not (lots or plain or udis or di or produced_from or produced_to):
        raise ValidationError(_("Give lots, serial numbers, a UDI-DI or a production date range."))
    if produced_from and produced_to and produced_to < produced_from:
        errors["produced_to"].append(_("The end is before the start."))
    elif (
        (produced_from or produced_to)
        and not (product or di or lots)
        and (
            not (produced_from and produced_to)
            or produced_to - produced_from > TRACE_RANGE_WITHOUT_PRODUCT
        )
    ):
        errors["produced_to"].append(
            _("A date range without a product may cover at most one year.")
        )
    if errors:
        raise ValidationError(dict(errors))
    return {
        "lots": lots or None,
        "serials": plain or None,
        "udis": udis or None,
        "gtin": di or None,
        "product": product,
        "produced_from": produced_from,
        "produced_to": produced_to,
    }


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
    "CONTACT_REFUSED",
    "ContactDataRefused",
    "INSTALLABLE",
    "LineInput",
    "SaleCheck",
    "SaleDraft",
    "SaleLedger",
    "UnitBuilder",
    "accept_installation",
    "add_licence",
    "add_units",
    "build_customer",
    "build_installation",
    "build_licence",
    "build_lot",
    "build_product",
    "build_unit",
    "check_contact_write",
    "check_customer_may_buy",
    "check_installation",
    "check_sale",
    "check_serials_not_recorded",
    "complete_drill",
    "compose_udi_pi",
    "contact_fields_written",
    "create_customer",
    "create_lot",
    "create_product",
    "create_sale",
    "create_unit",
    "create_units",
    "install_unit",
    "licence_problems",
    "lot_available",
    "lot_quantity_problems",
    "lots_for",
    "may_write_contacts",
    "over_quantity",
    "recorded_units",
    "record_return",
    "record_sales",
    "recorded_serials",
    "resolve_lot",
    "resolve_lots",
    "resolve_unit",
    "resolve_units",
    "run_drill",
    "sale_header_problems",
    "save_installations",
    "serial_recorded_message",
    "set_return_disposition",
    "start_drill",
    "unit_sale_problem",
    "units_for",
    "update_customer",
    "update_licence",
    "update_lot",
    "update_product",
    "validate_sale",
    "validate_trace_criteria",
    "void_sale",
    "warranty_end_for",
    "withdraw_licence",
]
