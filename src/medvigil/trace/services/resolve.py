"""Resolving units and lots from scans and typed numbers (TRC-3, TRC-4): serials, UDIs and
lot numbers to records the user may see, one at a time or in bulk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy

from medvigil.core.permissions import can, scope_for_user
from medvigil.core.types import UserLike

from ..models import (
    Lot,
    Product,
    Unit,
)
from ..udi import UdiError, UdiResult, looks_like_udi, normalize, parse_udi

if TYPE_CHECKING:
    pass


# --- resolving units and lots from scans and typed numbers (TRC-3, TRC-4) ---------------------


def units_for(user: UserLike) -> models.QuerySet:
    """The units `user` may see (through scope_for_user); all for no user (system)."""
    if user is None:
        return Unit.objects.all()
    if not can(user, Unit, "view"):
        raise PermissionDenied
    return scope_for_user(user, Unit)


def lots_for(user: UserLike) -> models.QuerySet:
    """The lots `user` may see (through scope_for_user); all for no user (system)."""
    if user is None:
        return Lot.objects.all()
    if not can(user, Lot, "view"):
        raise PermissionDenied
    return scope_for_user(user, Lot)


def resolve_units(
    texts: Sequence[str], *, user: UserLike, products: Sequence[Product | None] | None = None
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


def resolve_unit(text: str, *, user: UserLike, product: Product | None = None) -> Unit:
    """resolve_units for one text; raises UdiError with the reason when there is no unit."""
    [found] = resolve_units([text], user=user, products=[product])
    if isinstance(found, UdiError):
        raise found
    return found


def resolve_lots(
    idents: Sequence[str], *, user: UserLike, products: Sequence[Product | None] | None = None
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


def resolve_lot(ident: str, *, user: UserLike, product: Product | None = None) -> Lot:
    """resolve_lots for one text; raises ValidationError with the reason."""
    [found] = resolve_lots([ident], user=user, products=[product])
    if isinstance(found, UdiError):
        raise found.validation_error()
    return found
