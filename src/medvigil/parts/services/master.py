"""Master data of spare parts (SVC-10): parts with the products they fit, and stock
locations (warehouses, engineers' vans). Every write audited, permission-checked and
version-checked; the page, the API and the importer call these functions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from medvigil.core.i18n import gettext_msg as _
from medvigil.core.types import Actor
from medvigil.trace.models import Product

from ..models import LocationKind, Part, PartFit, StockLevel, StockLocation
from .common import acting, check_perm

PART_FIELDS = (
    "code",
    "name",
    "name_en",
    "unit_cost",
    "lead_time_days",
    "failure_rate",
    "rate_source",
    "safety_method",
    "service_level",
    "cover_days",
    "min_stock",
    "order_cycle_days",
    "order_multiple",
    "active",
    "notes",
)
LOCATION_FIELDS = ("code", "name", "kind", "engineer", "address", "active", "notes")


def _only(fields: dict[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError(
            _("Unknown field(s): %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    return fields


# --- parts -------------------------------------------------------------------------------------


def build_part(**fields: Any) -> Part:
    """A validated, unsaved part (the importer checks rows with it)."""
    part = Part(**_only(fields, PART_FIELDS))
    if isinstance(part.code, str):
        part.code = part.code.strip()
    part.full_clean()
    return part


def _products(products: Iterable[Any] | None) -> list[Product]:
    out: list[Product] = []
    for p in products or ():
        if not isinstance(p, Product) or p.pk is None:
            raise ValidationError({"products": _("Choose products of the catalogue.")})
        if p not in out:
            out.append(p)
    return out


def _set_fits(part: Part, products: list[Product]) -> None:
    """Make the part's active fits exactly `products` (fits switched on or off, audited)."""
    existing = {f.product_id: f for f in PartFit.objects.select_for_update().filter(part=part)}
    wanted = {p.pk for p in products}
    for p in products:
        fit = existing.get(p.pk)
        if fit is None:
            PartFit.objects.create(part=part, product=p)
        elif not fit.active:
            fit.active = True
            fit.save()
    for product_id, fit in existing.items():
        if fit.active and product_id not in wanted:
            fit.active = False
            fit.save()


def fitted_products(part: Part) -> list[Product]:
    return list(
        Product.objects.filter(part_fits__part=part, part_fits__active=True).order_by("code")
    )


def create_part(*, by: Actor = None, products: Iterable[Any] | None = None, **fields: Any) -> Part:
    """Record a spare part and the products it fits; its reorder figures are computed."""
    from .reorder import recompute_part

    check_perm(by, "parts.add_part")
    chosen = _products(products)
    with transaction.atomic(), acting(by):
        part = build_part(**fields)
        part.save()
        _set_fits(part, chosen)
        recompute_part(part)
    return part


def update_part(
    part: Part,
    *,
    by: Actor = None,
    version: Any = None,
    reason: str | None = None,
    products: Iterable[Any] | None = None,
    **fields: Any,
) -> Part:
    """Change the part the user read (a stale version: ConflictError); `products` (when
    given) becomes the list of products it fits. The reorder figures follow."""
    from .reorder import recompute_part

    check_perm(by, "parts.change_part")
    _only(fields, PART_FIELDS)
    chosen = None if products is None else _products(products)
    with transaction.atomic(), acting(by, reason):
        locked = Part.objects.select_for_update().get(pk=part.pk)
        locked.check_version(version)
        changed = False
        for name, value in fields.items():
            if getattr(locked, name) != value:
                setattr(locked, name, value)
                changed = True
        if changed:
            if isinstance(locked.code, str):
                locked.code = locked.code.strip()
            locked.full_clean()
            locked.save()
        if chosen is not None:
            _set_fits(locked, chosen)
        recompute_part(locked)
    return locked


# --- locations ---------------------------------------------------------------------------------


def _check_location(location: StockLocation, by: Actor) -> None:
    engineer = location.engineer
    if location.kind == LocationKind.VAN and engineer is not None:
        if not engineer.is_active:
            raise ValidationError(
                {"engineer": _("%(user)s is not an active user.") % {"user": str(engineer)}}
            )
        if not engineer.has_perm("parts.use_van_stock"):
            raise ValidationError(
                {
                    "engineer": _(
                        "%(user)s may not use van stock: give the user the service engineer "
                        "role first."
                    )
                    % {"user": str(engineer)}
                }
            )


def build_location(**fields: Any) -> StockLocation:
    location = StockLocation(**_only(fields, LOCATION_FIELDS))
    if isinstance(location.code, str):
        location.code = location.code.strip()
    location.full_clean()
    _check_location(location, None)
    return location


def create_location(*, by: Actor = None, **fields: Any) -> StockLocation:
    """Record a warehouse, or an engineer's van (a van names its engineer)."""
    check_perm(by, "parts.add_stocklocation")
    with transaction.atomic(), acting(by):
        location = build_location(**fields)
        location.save()
    return location


def update_location(
    location: StockLocation,
    *,
    by: Actor = None,
    version: Any = None,
    reason: str | None = None,
    **fields: Any,
) -> StockLocation:
    """Change a location the user read. A location that still holds parts cannot be made
    inactive (move its stock out first)."""
    check_perm(by, "parts.change_stocklocation")
    _only(fields, LOCATION_FIELDS)
    with transaction.atomic(), acting(by, reason):
        locked = StockLocation.objects.select_for_update().get(pk=location.pk)
        locked.check_version(version)
        for name, value in fields.items():
            setattr(locked, name, value)
        if isinstance(locked.code, str):
            locked.code = locked.code.strip()
        locked.full_clean()
        _check_location(locked, by)
        if (
            not locked.active
            and StockLevel.objects.filter(location=locked, quantity__gt=0).exists()
        ):
            raise ValidationError(
                {"active": _("The location still holds parts: move its stock out first.")}
            )
        locked.save()
    return locked
