"""Spare-parts API (SVC-10), mounted at /api/v1/: parts (/api/v1/parts), stock locations
(/api/v1/parts/locations), stock on hand (/api/v1/parts/stock), movements
(/api/v1/parts/movements; POST records one through services.move, as the page does) and the
reorder list (/api/v1/parts/reorder). Records through the user's scope; writes through the
same services as the pages, so the same input gets the same answer."""

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from medvigil.core.api import (
    Id,
    Pagination,
    Versioned,
    api_get_object,
    api_user,
    auth_with_perm,
    error_responses,
    require_perm,
)
from medvigil.core.permissions import scope_for_user
from medvigil.trace.models import Product

from . import services
from .models import (
    MAX_QUANTITY,
    LocationKind,
    MovementKind,
    Part,
    PartFit,
    ReorderLevel,
    StockLevel,
    StockLocation,
    StockMovement,
)

router = Router(tags=["spare parts"])

RateSourceIn = Literal["setting", "history", "higher"]
SafetyIn = Literal["service_level", "cover_days"]
KindIn = Literal["receipt", "transfer", "issue", "return", "adjustment", "scrap"]


# --- schemas -----------------------------------------------------------------------------------


class ReorderOut(Schema):
    installed_units: int
    used_12_months: int
    demand_per_day: Decimal
    safety_stock: int
    reorder_point: int
    order_up_to: int
    on_hand: int
    suggested_quantity: int
    below: bool
    computed_at: dt.datetime | None


class PartOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    unit_cost: Decimal
    lead_time_days: int
    failure_rate: Decimal
    rate_source: str
    safety_method: str
    service_level: Decimal
    cover_days: int
    min_stock: int
    order_cycle_days: int
    order_multiple: int
    active: bool
    notes: str
    products: list[int] = Field(..., description="ids of the products the part fits")
    reorder: ReorderOut | None
    version: int

    @staticmethod
    def resolve_products(obj: Part) -> list[int]:
        fits = getattr(obj, "active_fits", None)
        if fits is None:
            fits = list(obj.fits.filter(active=True))
        return [f.product_id for f in fits]

    @staticmethod
    def resolve_reorder(obj: Part) -> Any:
        return getattr(obj, "reorder", None)


class _PartFields(Schema):
    name_en: str = Field("", max_length=200)
    unit_cost: Decimal = Field(Decimal(0), ge=0, le=9_999_999_999, decimal_places=2)
    lead_time_days: int = Field(30, ge=0, le=730)
    failure_rate: Decimal = Field(Decimal(0), ge=0, le=100, decimal_places=4)
    rate_source: RateSourceIn = "setting"
    safety_method: SafetyIn = "service_level"
    service_level: Decimal = Field(Decimal(95), ge=50, le=Decimal("99.99"), decimal_places=2)
    cover_days: int = Field(14, ge=0, le=365)
    min_stock: int = Field(0, ge=0, le=MAX_QUANTITY)
    order_cycle_days: int = Field(90, ge=1, le=730)
    order_multiple: int = Field(1, ge=1, le=100_000)
    active: bool = True
    notes: str = Field("", max_length=10_000)
    products: list[Id] = Field(default_factory=list, max_length=1000)


class PartIn(_PartFields):
    code: str = Field(..., min_length=1, max_length=40)
    name: str = Field(..., min_length=1, max_length=200)


class PartPatch(Versioned):
    code: str | None = Field(None, min_length=1, max_length=40)
    name: str | None = Field(None, min_length=1, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    unit_cost: Decimal | None = Field(None, ge=0, le=9_999_999_999, decimal_places=2)
    lead_time_days: int | None = Field(None, ge=0, le=730)
    failure_rate: Decimal | None = Field(None, ge=0, le=100, decimal_places=4)
    rate_source: RateSourceIn | None = None
    safety_method: SafetyIn | None = None
    service_level: Decimal | None = Field(None, ge=50, le=Decimal("99.99"), decimal_places=2)
    cover_days: int | None = Field(None, ge=0, le=365)
    min_stock: int | None = Field(None, ge=0, le=MAX_QUANTITY)
    order_cycle_days: int | None = Field(None, ge=1, le=730)
    order_multiple: int | None = Field(None, ge=1, le=100_000)
    active: bool | None = None
    notes: str | None = Field(None, max_length=10_000)
    products: list[Id] | None = Field(None, max_length=1000)


class PartQuery(Schema):
    q: str = Field("", max_length=200)
    active: bool | None = None


class LocationOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    engineer_id: int | None
    address: str
    active: bool
    notes: str
    version: int


class LocationIn(Schema):
    code: str = Field(..., min_length=1, max_length=40)
    name: str = Field(..., min_length=1, max_length=200)
    kind: Literal["warehouse", "van"] = "warehouse"
    engineer_id: Id | None = None
    address: str = Field("", max_length=300)
    active: bool = True
    notes: str = Field("", max_length=10_000)


class LocationPatch(Versioned):
    code: str | None = Field(None, min_length=1, max_length=40)
    name: str | None = Field(None, min_length=1, max_length=200)
    kind: Literal["warehouse", "van"] | None = None
    engineer_id: Id | None = None
    address: str | None = Field(None, max_length=300)
    active: bool | None = None
    notes: str | None = Field(None, max_length=10_000)


class StockOut(Schema):
    part_id: int
    part_code: str
    location_id: int
    location_code: str
    quantity: int

    @staticmethod
    def resolve_part_code(obj: StockLevel) -> str:
        return obj.part.code

    @staticmethod
    def resolve_location_code(obj: StockLevel) -> str:
        return obj.location.code


class StockQuery(Schema):
    part: Id | None = None
    location: Id | None = None
    zero: bool = Field(False, description="include levels at zero")


class MovementOut(Schema):
    id: int
    number: str
    kind: str
    part_id: int
    quantity: int
    from_location_id: int | None
    to_location_id: int | None
    reason: str
    reference_type: str | None = Field(None, description="app_label.model of the record")
    reference_id: str
    reference_label: str
    reverses_id: int | None
    created_at: dt.datetime
    created_by_id: int | None

    @staticmethod
    def resolve_reference_type(obj: StockMovement) -> str | None:
        ct = obj.reference_type
        return f"{ct.app_label}.{ct.model}" if ct else None


class MovementIn(Schema):
    kind: KindIn
    part_id: Id
    quantity: int = Field(..., ge=1, le=MAX_QUANTITY)
    from_location_id: Id | None = None
    to_location_id: Id | None = None
    reason: str = Field("", max_length=2000)
    reference: str = Field("", max_length=200, description="work order number or other text")
    request_key: str | None = Field(
        None, max_length=64, description="resending the same key gives the first movement"
    )


class MovementQuery(Schema):
    kind: (
        Literal["receipt", "transfer", "issue", "return", "adjustment", "scrap", "reversal"] | None
    ) = None
    part: Id | None = None
    location: Id | None = None
    reference: str = Field("", max_length=200, description="reference text (exact)")


class ReverseIn(Schema):
    reason: str = Field(..., min_length=1, max_length=2000)


class ReorderRowOut(ReorderOut):
    part_id: int
    part_code: str
    part_name: str
    lead_time_days: int

    @staticmethod
    def resolve_part_code(obj: ReorderLevel) -> str:
        return obj.part.code

    @staticmethod
    def resolve_part_name(obj: ReorderLevel) -> str:
        return obj.part.name

    @staticmethod
    def resolve_lead_time_days(obj: ReorderLevel) -> int:
        return obj.part.lead_time_days


class ReorderQuery(Schema):
    all: bool = Field(False, description="every part, not only those to reorder")


# --- builders ----------------------------------------------------------------------------------


def _parts_qs(user: Any) -> Any:
    return (
        scope_for_user(user, Part)
        .select_related("reorder")
        .prefetch_related(
            Prefetch("fits", queryset=PartFit.objects.filter(active=True), to_attr="active_fits")
        )
    )


def _products(user: Any, ids: list[int] | None) -> list[Product] | None:
    if ids is None:
        return None
    wanted = list(dict.fromkeys(ids))
    found = {p.pk: p for p in scope_for_user(user, Product).filter(pk__in=wanted)}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise ValidationError(
            {"products": [_("Unknown product id(s): %(ids)s.") % {"ids": missing}]}
        )
    return [found[i] for i in wanted]


def _scoped(user: Any, model: Any, pk: int | None, field: str, what: str) -> Any:
    if pk is None:
        return None
    obj = scope_for_user(user, model).filter(pk=pk).first()
    if obj is None:
        raise ValidationError(
            {field: [_("Unknown %(what)s id %(id)s.") % {"what": what, "id": pk}]}
        )
    return obj


# --- parts -------------------------------------------------------------------------------------


@router.get("/parts", response={200: list[PartOut], **error_responses(403)})
@paginate(Pagination)
def list_parts(request: HttpRequest, filters: Query[PartQuery]) -> Any:
    require_perm(request, "parts.view_part")
    qs = _parts_qs(api_user(request))
    if filters.q:
        qs = qs.filter(
            Q(code__icontains=filters.q)
            | Q(name__icontains=filters.q)
            | Q(name_en__icontains=filters.q)
        )
    if filters.active is not None:
        qs = qs.filter(active=filters.active)
    return qs.order_by("code")


@router.post(
    "/parts",
    response={201: PartOut, **error_responses(403)},
    auth=auth_with_perm("parts.add_part"),
)
def create_part(request: HttpRequest, payload: PartIn) -> Any:
    user = api_user(request)
    data = payload.dict()
    products = _products(user, data.pop("products"))
    part = services.create_part(by=user, products=products, **data)
    return Status(201, _parts_qs(user).get(pk=part.pk))


# Routed before /parts/{pk} so that the words are not read as ids.


@router.get("/parts/locations", response={200: list[LocationOut], **error_responses(403)})
@paginate(Pagination)
def list_locations(request: HttpRequest) -> Any:
    require_perm(request, "parts.view_stocklocation")
    return scope_for_user(api_user(request), StockLocation).order_by("kind", "code")


@router.post(
    "/parts/locations",
    response={201: LocationOut, **error_responses(403)},
    auth=auth_with_perm("parts.add_stocklocation"),
)
def create_location(request: HttpRequest, payload: LocationIn) -> Any:
    user = api_user(request)
    data = payload.dict()
    data["engineer"] = _engineer(data.pop("engineer_id"))
    return Status(201, services.create_location(by=user, **data))


def _engineer(pk: int | None) -> Any:
    from django.contrib.auth import get_user_model

    if pk is None:
        return None
    user = get_user_model().objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise ValidationError({"engineer_id": [_("Unknown user id %(id)s.") % {"id": pk}]})
    return user


@router.get("/parts/locations/{pk}", response={200: LocationOut, **error_responses(403, 404)})
def get_location(request: HttpRequest, pk: Id) -> Any:
    return api_get_object(request, StockLocation, pk=pk)


@router.patch(
    "/parts/locations/{pk}",
    response={200: LocationOut, **error_responses(403, 404, 409)},
    auth=auth_with_perm("parts.change_stocklocation"),
)
def update_location(request: HttpRequest, pk: Id, payload: LocationPatch) -> Any:
    location = api_get_object(request, StockLocation, "change", pk=pk)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    engineer_given = "engineer_id" in data
    engineer_id = data.pop("engineer_id", None)
    data = {k: v for k, v in data.items() if v is not None}  # null: leave as it is
    if engineer_given:
        data["engineer"] = _engineer(engineer_id)  # null: no engineer (a warehouse)
    return services.update_location(location, by=api_user(request), version=version, **data)


@router.get("/parts/stock", response={200: list[StockOut], **error_responses(403)})
@paginate(Pagination)
def list_stock(request: HttpRequest, filters: Query[StockQuery]) -> Any:
    """Quantity on hand per part and location (the locations the user may see)."""
    require_perm(request, "parts.view_stocklevel")
    qs = scope_for_user(api_user(request), StockLevel).select_related("part", "location")
    if filters.part:
        qs = qs.filter(part_id=filters.part)
    if filters.location:
        qs = qs.filter(location_id=filters.location)
    if not filters.zero:
        qs = qs.filter(quantity__gt=0)
    return qs.order_by("part__code", "location__code")


@router.get("/parts/movements", response={200: list[MovementOut], **error_responses(403)})
@paginate(Pagination)
def list_movements(request: HttpRequest, filters: Query[MovementQuery]) -> Any:
    require_perm(request, "parts.view_stockmovement")
    qs = scope_for_user(api_user(request), StockMovement).select_related("reference_type")
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.part:
        qs = qs.filter(part_id=filters.part)
    if filters.location:
        qs = qs.filter(Q(from_location_id=filters.location) | Q(to_location_id=filters.location))
    if filters.reference:
        qs = qs.filter(reference_label=filters.reference)
    return qs.order_by("-id")


@router.post(
    "/parts/movements",
    response={201: MovementOut, **error_responses(403)},
    auth=auth_with_perm("parts.add_stockmovement", "parts.use_van_stock"),
)
def create_movement(request: HttpRequest, payload: MovementIn) -> Any:
    """Record a movement (services.move): a stock keeper any kind at any location, an
    engineer an issue from or a return to their own van."""
    user = api_user(request)
    part = _scoped(user, Part, payload.part_id, "part_id", _("part"))
    source = _scoped(
        user, StockLocation, payload.from_location_id, "from_location_id", _("location")
    )
    target = _scoped(user, StockLocation, payload.to_location_id, "to_location_id", _("location"))
    movement = services.move(
        kind=payload.kind,
        part=part,
        quantity=payload.quantity,
        by=user,
        from_location=source,
        to_location=target,
        reason=payload.reason,
        reference=payload.reference or None,
        request_key=payload.request_key,
    )
    return Status(201, movement)


@router.get("/parts/movements/{pk}", response={200: MovementOut, **error_responses(403, 404)})
def get_movement(request: HttpRequest, pk: Id) -> Any:
    return api_get_object(request, StockMovement.objects.select_related("reference_type"), pk=pk)


@router.post(
    "/parts/movements/{pk}/reverse",
    response={201: MovementOut, **error_responses(403, 404)},
    auth=auth_with_perm("parts.add_stockmovement"),
)
def reverse_movement(request: HttpRequest, pk: Id, payload: ReverseIn) -> Any:
    movement = api_get_object(request, StockMovement, pk=pk)
    reversal = services.reverse_movement(movement, by=api_user(request), reason=payload.reason)
    return Status(201, reversal)


@router.get("/parts/reorder", response={200: list[ReorderRowOut], **error_responses(403)})
@paginate(Pagination)
def list_reorder(request: HttpRequest, filters: Query[ReorderQuery]) -> Any:
    """The reorder list: parts at or below their reorder point (all=true: every part)."""
    require_perm(request, "parts.view_reorderlevel")
    qs = (
        scope_for_user(api_user(request), ReorderLevel)
        .select_related("part")
        .filter(part__active=True)
    )
    if not filters.all:
        qs = qs.filter(below=True)
    return qs.order_by("-suggested_quantity", "part__code")


@router.get("/parts/{pk}", response={200: PartOut, **error_responses(403, 404)})
def get_part(request: HttpRequest, pk: Id) -> Any:
    return api_get_object(request, _parts_qs(api_user(request)), pk=pk)


@router.patch(
    "/parts/{pk}",
    response={200: PartOut, **error_responses(403, 404, 409)},
    auth=auth_with_perm("parts.change_part"),
)
def update_part(request: HttpRequest, pk: Id, payload: PartPatch) -> Any:
    user = api_user(request)
    part = api_get_object(request, Part, "change", pk=pk)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    products = _products(user, data.pop("products", None))
    data = {k: v for k, v in data.items() if v is not None}  # null: leave as it is
    services.update_part(part, by=user, version=version, products=products, **data)
    return _parts_qs(user).get(pk=part.pk)


__all__ = ["LocationKind", "MovementKind", "router"]
