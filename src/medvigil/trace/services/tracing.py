"""Forward-trace input (TRC-7): the one validation of the criteria that the page and the
API both call."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models

from medvigil.core.i18n import gettext_msg as _
from medvigil.core.permissions import scope_for_user
from medvigil.core.types import UserLike

from ..models import (
    Lot,
    Product,
)
from ..udi import UdiError, looks_like_udi, parse_udi
from .resolve import lots_for

if TYPE_CHECKING:
    pass


# --- forward-trace input (TRC-7) -------------------------------------------------------------

TRACE_RANGE_WITHOUT_PRODUCT = dt.timedelta(days=366)


def validate_trace_criteria(
    *,
    user: UserLike,
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
    from ..models import normalize_gtin

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
