"""Traceability API (mounted at /api/v1/trace/): unit lookup by UDI or serial, unit detail
with its timeline, backward trace of a unit, forward trace of a lot or of criteria (JSON, CSV
or XLSX), products and customers (list, create), sales (create, read).

Contacts (addresses, phones, e-mails, contact persons) are masked for users without
trace.view_contact_data (PLAT-11), as on the pages."""

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from medvigil.core.api import (
    Id,
    Page,
    PageParams,
    Pagination,
    api_get_object,
    api_user,
    auth_with_perm,
    error_responses,
    paginate,
    paginate_queryset,
)
from medvigil.core.api import require_perm as _require_perm
from medvigil.core.api_errors import error_body
from medvigil.core.permissions import scope_for_user
from medvigil.core.records.exports import export_response

from . import services
from .exports import EXPORT_PERM, forward_header, forward_rows
from .models import Customer, CustomerKind, Lot, Product, RiskClass, Sale, Unit
from .privacy import can_view_contacts, mask
from .queries import ForwardTrace, UnitTrace, backward_trace, forward_trace
from .timeline import unit_timeline
from .udi import UdiError, find_unit, looks_like_udi, parse_udi

router = Router(tags=["traceability"])

FORWARD_LIMIT = 100_000
# Bounds of the integers a client sends (the schema documents them; beyond: 422).
MAX_MONTHS = 1200
MAX_QUANTITY = 10_000_000


def require_perm(request: HttpRequest, perm: str) -> None:
    _require_perm(request, perm)


# --- schemas -------------------------------------------------------------------------------


class ProductOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    model_spec: str = Field(..., description="规格型号")
    manufacturer: str
    registration_number: str
    registration_expiry: dt.date | None
    risk_class: str
    gtin: str | None = Field(None, description="UDI-DI, 14 digits")
    tracking: str
    implantable: bool
    shelf_life_months: int | None
    service_life_years: int | None
    warranty_months: int
    maintenance_interval_months: int | None
    sale_to_individuals: bool
    active: bool
    version: int


class ProductIn(Schema):
    code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=200)
    name_en: str = ""
    model_spec: str = Field(..., max_length=200)
    manufacturer: str = Field(..., max_length=200)
    registration_number: str = ""
    registration_expiry: dt.date | None = None
    risk_class: Literal["I", "II", "III"]
    gtin: str | None = None
    tracking: Literal["serial", "lot"] = "serial"
    implantable: bool = False
    shelf_life_months: int | None = Field(None, ge=1, le=MAX_MONTHS)
    service_life_years: int | None = Field(None, ge=1, le=MAX_MONTHS // 12)
    warranty_months: int = Field(12, ge=0, le=MAX_MONTHS)
    maintenance_interval_months: int | None = Field(None, ge=1, le=MAX_MONTHS)
    sale_to_individuals: bool = False
    notes: str = ""


class CustomerOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    credit_code: str
    province: str
    city: str
    address: str = Field(..., description="masked without trace.view_contact_data")
    contact_person: str
    phone: str
    email: str
    owner_id: int | None
    active: bool
    version: int


class CustomerIn(Schema):
    code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=200)
    kind: Literal["hospital", "dealer", "other", "individual"]
    credit_code: str = ""
    province: str = ""
    city: str = ""
    address: str = ""
    contact_person: str = ""
    phone: str = ""
    email: str = ""
    owner_id: Id | None = None
    notes: str = ""


class LotOut(Schema):
    id: int
    lot_number: str
    product_id: int
    production_date: dt.date
    expiry_date: dt.date | None
    production_record: str


class HopOut(Schema):
    sale_id: int
    sale_number: str
    sale_date: dt.date
    seller: str
    seller_id: int | None
    buyer: str
    buyer_id: int
    quantity: int
    open: bool
    voided: bool


class InstallationOut(Schema):
    id: int
    customer_id: int
    customer: str
    department: str
    address: str
    contact_person: str
    contact_phone: str
    installed_on: dt.date
    accepted_on: dt.date | None
    warranty_end: dt.date | None
    current: bool


class UnitOut(Schema):
    id: int
    serial: str
    product_id: int
    product_code: str
    product_name: str
    model_spec: str
    manufacturer: str
    lot_id: int | None
    lot_number: str
    udi_di: str
    udi_pi: str
    production_date: dt.date | None
    expiry_date: dt.date | None
    production_record: str
    status: str
    holder_id: int | None
    holder: str


class TimelineOut(Schema):
    date: dt.date | None
    kind: str
    title: str
    url: str
    detail: str


class UnitDetailOut(UnitOut):
    sales: list[HopOut]
    installations: list[InstallationOut]
    returns: list[dict[str, Any]]
    timeline: list[TimelineOut]


class TraceUnitOut(Schema):
    unit: UnitOut
    consignee_id: int | None
    consignee: str
    end_user_id: int | None
    end_user: str
    location: str
    located: bool
    address: str
    contact_person: str
    contact_phone: str
    chain: list[HopOut]


class PartyOut(Schema):
    id: int
    name: str
    kind: str
    count: int
    address: str
    phone: str


class LotLineOut(HopOut):
    lot_id: int | None
    lot_number: str
    product_id: int


class ForwardOut(Schema):
    criteria: dict[str, Any]
    unit_count: int
    located: int
    truncated: bool
    consignees: list[PartyOut]
    end_users: list[PartyOut]
    units: list[TraceUnitOut]
    lot_lines: list[LotLineOut]


class SaleLineIn(Schema):
    lot_id: Id | None = None
    lot_number: str | None = None
    product_code: str | None = None
    quantity: int = Field(1, ge=1, le=MAX_QUANTITY)


class SaleIn(Schema):
    seller_code: str | None = Field(None, description="A dealer's code; empty: sold by us.")
    buyer_code: str
    sale_date: dt.date
    units: list[str] = Field(default_factory=list, description="UDIs or serial numbers.")
    lots: list[SaleLineIn] = Field(default_factory=list, description="Lot-tracked goods.")
    handler_name: str = ""
    reference: str = ""
    notes: str = ""


class SaleLineOut(Schema):
    id: int
    product_id: int
    product_name: str
    manufacturer: str
    model_spec: str
    production_date: dt.date | None
    unit_id: int | None
    serial: str
    lot_id: int | None
    lot_number: str
    quantity: int
    open: bool


class SaleOut(Schema):
    id: int
    number: str
    sale_date: dt.date
    seller_id: int | None
    seller: str
    buyer_id: int
    buyer: str
    handler: str
    reference: str
    status: str
    lines: list[SaleLineOut]


# --- builders (contacts masked here) -------------------------------------------------------


def _customer(c: Customer, allowed: bool) -> dict[str, Any]:
    return {
        "id": c.pk,
        "code": c.code,
        "name": c.name,
        "kind": c.kind,
        "credit_code": c.credit_code,
        "province": c.province,
        "city": c.city,
        "address": mask(c.address, allowed),
        "contact_person": mask(c.contact_person, allowed),
        "phone": mask(c.phone, allowed),
        "email": mask(c.email, allowed),
        "owner_id": c.owner_id,
        "active": c.active,
        "version": c.version,
    }


def _unit(u: Unit) -> dict[str, Any]:
    return {
        "id": u.pk,
        "serial": u.serial,
        "product_id": u.product_id,
        "product_code": u.product.code,
        "product_name": u.product.name,
        "model_spec": u.product.model_spec,
        "manufacturer": u.product.manufacturer,
        "lot_id": u.lot_id,
        "lot_number": u.lot.lot_number if u.lot else "",
        "udi_di": u.udi_di,
        "udi_pi": u.udi_pi,
        "production_date": u.production_date,
        "expiry_date": u.expiry_date,
        "production_record": u.production_record or (u.lot.production_record if u.lot else ""),
        "status": u.status,
        "holder_id": u.holder_id,
        "holder": u.holder.name if u.holder else "",
    }


def _hop(line: Any) -> dict[str, Any]:
    return {
        "sale_id": line.sale_id,
        "sale_number": line.sale.number,
        "sale_date": line.sale.sale_date,
        "seller": line.sale.seller_name,
        "seller_id": line.seller_id,
        "buyer": line.buyer.name,
        "buyer_id": line.buyer_id,
        "quantity": line.quantity,
        "open": line.open,
        "voided": line.sale.status == "voided",
    }


def _installation(inst: Any, allowed: bool) -> dict[str, Any]:
    return {
        "id": inst.pk,
        "customer_id": inst.customer_id,
        "customer": inst.customer.name,
        "department": inst.department,
        "address": mask(inst.address, allowed),
        "contact_person": mask(inst.contact_person, allowed),
        "contact_phone": mask(inst.contact_phone, allowed),
        "installed_on": inst.installed_on,
        "accepted_on": inst.accepted_on,
        "warranty_end": inst.warranty_end,
        "current": inst.current,
    }


def _trace_unit(ut: UnitTrace, allowed: bool) -> dict[str, Any]:
    consignee, end = ut.consignee, ut.end_user
    return {
        "unit": _unit(ut.unit),
        "consignee_id": consignee.pk if consignee else None,
        "consignee": consignee.name if consignee else "",
        "end_user_id": end.pk if end else None,
        "end_user": end.name if end else "",
        "location": ut.location,
        "located": ut.located,
        "address": mask(ut.address, allowed),
        "contact_person": mask(ut.contact_person, allowed),
        "contact_phone": mask(ut.contact_phone, allowed),
        "chain": [_hop(line) for line in ut.lines],
    }


def _party(c: Customer, n: int, allowed: bool) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "kind": c.kind,
        "count": n,
        "address": mask(c.address, allowed),
        "phone": mask(c.phone, allowed),
    }


def _forward(trace: ForwardTrace, allowed: bool) -> dict[str, Any]:
    return {
        "criteria": trace.criteria,
        "unit_count": trace.unit_count,
        "located": sum(1 for ut in trace.units if ut.located),
        "truncated": trace.truncated,
        "consignees": [_party(c, n, allowed) for c, n in trace.consignees()],
        "end_users": [_party(c, n, allowed) for c, n in trace.end_users()],
        "units": [_trace_unit(ut, allowed) for ut in trace.units],
        "lot_lines": [
            {
                **_hop(line),
                "lot_id": line.lot_id,
                "lot_number": line.lot.lot_number if line.lot else "",
                "product_id": line.product_id,
            }
            for line in trace.lot_lines
        ],
    }


def _sale(sale: Sale) -> dict[str, Any]:
    lines = sale.lines.select_related("product", "unit", "lot", "unit__lot").order_by("id")
    return {
        "id": sale.pk,
        "number": sale.number,
        "sale_date": sale.sale_date,
        "seller_id": sale.seller_id,
        "seller": sale.seller_name,
        "buyer_id": sale.buyer_id,
        "buyer": sale.buyer.name,
        "handler": sale.handler_display,
        "reference": sale.reference,
        "status": sale.status,
        "lines": [
            {
                "id": ln.pk,
                "product_id": ln.product_id,
                "product_name": ln.product.name,
                "manufacturer": ln.product.manufacturer,
                "model_spec": ln.product.model_spec,
                "production_date": ln.production_date,
                "unit_id": ln.unit_id,
                "serial": ln.unit.serial if ln.unit else "",
                "lot_id": ln.lot_id,
                "lot_number": ln.lot.lot_number if ln.lot else "",
                "quantity": ln.quantity,
                "open": ln.open,
            }
            for ln in lines
        ],
    }


# --- units ---------------------------------------------------------------------------------


@router.get(
    "/units/lookup",
    response={200: UnitOut, **error_responses(403, 404)},
    summary="Find a unit by UDI or serial",
)
def unit_lookup(request: HttpRequest, code: str) -> Any:
    """`code`: a scanned GS1 element string (with or without symbology identifier, group
    separators as ASCII 29 or "<GS>"), the "(01)…(21)…" text, or a serial number. An
    invalid UDI is a 422 with the reason; an unknown unit a 404 with the reason."""
    require_perm(request, "trace.view_unit")
    try:
        unit = find_unit(code, api_user(request))
    except UdiError as exc:
        if looks_like_udi(code):
            try:
                parse_udi(code)
            except UdiError:
                raise ValidationError({"code": [exc.message]})
        return Status(404, error_body("not_found", exc.message))
    return _unit(unit)


@router.get(
    "/units/{unit_id}",
    response={200: UnitDetailOut, **error_responses(403, 404)},
    summary="A unit with its whole life",
)
def unit_detail(request: HttpRequest, unit_id: Id) -> Any:
    user = api_user(request)
    unit = api_get_object(request, Unit, "view", pk=unit_id)
    trace = backward_trace(unit)
    allowed = can_view_contacts(user)
    return {
        **_unit(trace.unit),
        "sales": [_hop(line) for line in trace.lines],
        "installations": [_installation(i, allowed) for i in trace.installations],
        "returns": [
            {
                "id": r.pk,
                "number": r.number,
                "return_date": r.return_date.isoformat(),
                "returned_by": r.returned_by.name,
                "returned_to": r.returned_to.name if r.returned_to else "",
                "reason": r.reason,
                "disposition": r.disposition,
            }
            for r in trace.returns
        ],
        "timeline": [
            {
                "date": ev.date.date() if isinstance(ev.date, dt.datetime) else ev.date,
                "kind": str(ev.kind),
                "title": str(ev.title),
                "url": ev.url,
                "detail": str(ev.detail or ""),
            }
            for ev in unit_timeline(trace.unit, user)
        ],
    }


@router.get(
    "/units/{unit_id}/backward",
    response={200: UnitDetailOut, **error_responses(403, 404)},
    summary="Backward trace of a unit",
)
def unit_backward(request: HttpRequest, unit_id: Id) -> Any:
    """From the unit to its lot, production record and sales chain (same body as the unit
    detail)."""
    return unit_detail(request, unit_id)


# --- forward trace -------------------------------------------------------------------------


class ForwardQuery(Schema):
    lot: list[str] = Field(default_factory=list, description="Lot numbers.")
    lot_id: list[Id] = Field(default_factory=list)
    serial: list[str] = Field(default_factory=list, description="Serial numbers or UDIs.")
    gtin: str = Field("", description="UDI-DI")
    product_id: Id | None = None
    produced_from: dt.date | None = None
    produced_to: dt.date | None = None
    format: Literal["json", "csv", "xlsx", "pdf"] = "json"


def _forward_response(request: HttpRequest, trace: ForwardTrace, fmt: str, name: str) -> Any:
    user = api_user(request)
    if fmt in ("csv", "xlsx"):
        require_perm(request, EXPORT_PERM)
        return export_response(fmt, name, forward_header(), forward_rows(trace, user))
    if fmt == "pdf":
        require_perm(request, EXPORT_PERM)
        from medvigil.core.documents import pdf_response

        from .documents import forward_trace_pdf

        return pdf_response(forward_trace_pdf(trace, user), name)
    # Serialised here rather than validated item by item against ForwardOut (which is what
    # the body follows): a 100-unit trace is ~10,000 fields and validation would cost more
    # than the trace itself.
    return JsonResponse(
        _forward(trace, can_view_contacts(user)),
        encoder=DjangoJSONEncoder,
        json_dumps_params={"ensure_ascii": False},
    )


@router.get(
    "/lots/{lot_id}/forward",
    response={200: ForwardOut, **error_responses(403, 404)},
    summary="Forward trace of a lot",
)
def lot_forward(
    request: HttpRequest, lot_id: Id, format: Literal["json", "csv", "xlsx", "pdf"] = "json"
) -> Any:
    """Every unit of the lot with its consignees, end user, location and contacts; lot-tracked
    sales of the lot. `format=csv|xlsx|pdf` downloads the same rows (perm trace.export_trace)."""
    require_perm(request, "trace.view_unit")
    lot = api_get_object(request, Lot, "view", pk=lot_id)
    trace = forward_trace(
        lots=[lot], units_qs=scope_for_user(api_user(request), Unit), limit=FORWARD_LIMIT
    )
    return _forward_response(request, trace, format, f"forward-trace-{lot.lot_number}")


FORWARD_FIELDS = {"lots": "lot", "serials": "serial", "product": "product_id"}


@router.get(
    "/forward",
    response={200: ForwardOut, **error_responses(403)},
    summary="Forward trace by lots, serials, UDI-DI or production dates",
)
def forward(request: HttpRequest, filters: Query[ForwardQuery]) -> Any:
    """Validated as on the trace page (services.validate_trace_criteria): the same messages
    and limits, e.g. a production date range without a product, lot or UDI-DI covers at most
    a year."""
    require_perm(request, "trace.view_unit")
    user = api_user(request)
    given: dict[str, Any] = {
        "lot_numbers": filters.lot,
        "lot_ids": filters.lot_id,
        "serials": filters.serial,
        "gtin": filters.gtin,
        "product": filters.product_id,
        "produced_from": filters.produced_from,
        "produced_to": filters.produced_to,
    }
    try:
        criteria = services.validate_trace_criteria(user=user, **given)
    except ValidationError as exc:
        raise _renamed(exc, FORWARD_FIELDS)
    trace = forward_trace(units_qs=scope_for_user(user, Unit), limit=FORWARD_LIMIT, **criteria)
    return _forward_response(request, trace, filters.format, "forward-trace")


def _renamed(exc: ValidationError, names: dict[str, str]) -> ValidationError:
    """A service's ValidationError with its fields named as this API's input fields."""
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({names.get(k, k): v for k, v in exc.error_dict.items()})


# --- products and customers ----------------------------------------------------------------


class ListQuery(Schema):
    q: str = ""


@router.get("/products", response={200: list[ProductOut], **error_responses(403)})
@paginate(Pagination)
def list_products(request: HttpRequest, filters: Query[ListQuery]) -> Any:
    require_perm(request, "trace.view_product")
    qs = scope_for_user(api_user(request), Product)
    if filters.q:
        qs = qs.filter(
            Q(code__icontains=filters.q) | Q(name__icontains=filters.q) | Q(gtin=filters.q)
        )
    return qs.order_by("code")


@router.post(
    "/products",
    response={201: ProductOut, **error_responses(403)},
    auth=auth_with_perm("trace.add_product"),
)
def create_product(request: HttpRequest, payload: ProductIn) -> Any:
    require_perm(request, "trace.add_product")
    data = payload.dict()
    if data["risk_class"] not in RiskClass.values:  # pragma: no cover - Literal checks it
        raise ValidationError({"risk_class": [_("Unknown risk class.")]})
    product = services.create_product(by=api_user(request), **data)
    return Status(201, product)


class CustomerQuery(Schema):
    q: str = ""
    kind: Literal["hospital", "dealer", "other", "individual"] | None = None


class CustomerPage(Page):
    items: list[CustomerOut]


@router.get("/customers", response={200: CustomerPage, **error_responses(403)})
def list_customers(
    request: HttpRequest, filters: Query[CustomerQuery], page: Query[PageParams]
) -> Any:
    """Customers (paginated: limit, offset); contacts masked without
    trace.view_contact_data."""
    require_perm(request, "trace.view_customer")
    user = api_user(request)
    qs = scope_for_user(user, Customer)
    if filters.q:
        qs = qs.filter(Q(code__icontains=filters.q) | Q(name__icontains=filters.q))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    allowed = can_view_contacts(user)
    result = paginate_queryset(qs.order_by("name", "pk"), page.limit, page.offset)
    result["items"] = [_customer(c, allowed) for c in result["items"]]
    return result


@router.post(
    "/customers",
    response={201: CustomerOut, **error_responses(403)},
    auth=auth_with_perm("trace.add_customer"),
)
def create_customer(request: HttpRequest, payload: CustomerIn) -> Any:
    """Create a customer. Contact fields may be given only by holders of
    trace.view_contact_data."""
    require_perm(request, "trace.add_customer")
    user = api_user(request)
    data = payload.dict()
    if data["kind"] not in CustomerKind.values:  # pragma: no cover
        raise ValidationError({"kind": [_("Unknown customer type.")]})
    customer = services.create_customer(by=user, **data)  # contact-data guard: a 403
    return Status(201, _customer(customer, can_view_contacts(user)))


# --- sales ---------------------------------------------------------------------------------


def _customer_by_code(user: Any, code: str, field: str) -> Customer:
    customer = scope_for_user(user, Customer).filter(code=code.strip()).first()
    if customer is None:
        raise ValidationError({field: [_("No customer with code %(c)s.") % {"c": code}]})
    return customer


@router.post(
    "/sales",
    response={201: SaleOut, **error_responses(403)},
    auth=auth_with_perm("trace.add_sale"),
)
def create_sale(request: HttpRequest, payload: SaleIn) -> Any:
    """Record a sale (TRC-4). Units by UDI or serial; lot-tracked goods by lot id, or lot
    number (+ product code when the number is not unique), and quantity. Refused with field
    errors when a licence is missing or expired, a unit was already sold by the seller, …"""
    require_perm(request, "trace.add_sale")
    user = api_user(request)
    errors: dict[str, list[str]] = {}
    seller = (
        _customer_by_code(user, payload.seller_code, "seller_code") if payload.seller_code else None
    )
    buyer = _customer_by_code(user, payload.buyer_code, "buyer_code")
    lines: list[services.LineInput] = []
    for text, unit in zip(
        payload.units, services.resolve_units(payload.units, user=user), strict=True
    ):
        if isinstance(unit, UdiError):
            errors.setdefault("units", []).append(f"{text}: {unit}")
        else:
            lines.append(services.LineInput(unit=unit))
    for item in payload.lots:
        found: Lot | UdiError | str
        if item.lot_id:
            found = services.lots_for(user).select_related("product").filter(
                pk=item.lot_id
            ).first() or _("No lot %(lot)s.") % {"lot": item.lot_id}
        elif item.lot_number:
            product = None
            if item.product_code:
                product = scope_for_user(user, Product).filter(code=item.product_code).first()
                if product is None:
                    errors.setdefault("lots", []).append(
                        _("No product with code %(c)s.") % {"c": item.product_code}
                    )
                    continue
            [found] = services.resolve_lots([item.lot_number], user=user, products=[product])
        else:
            errors.setdefault("lots", []).append(_("Give lot_id or lot_number."))
            continue
        if isinstance(found, UdiError | str):
            errors.setdefault("lots", []).append(f"{item.lot_id or item.lot_number}: {found}")
        else:
            lines.append(services.LineInput(lot=found, quantity=item.quantity))
    if errors:
        raise ValidationError(errors)
    try:
        sale = services.create_sale(
            seller=seller,
            buyer=buyer,
            sale_date=payload.sale_date,
            lines=lines,
            by=user,
            handler_name=payload.handler_name,
            reference=payload.reference,
            notes=payload.notes,
        )
    except ValidationError as exc:
        raise _renamed(exc, {"buyer": "buyer_code", "seller": "seller_code", "lines": "units"})
    return Status(201, _sale(sale))


@router.get("/sales/{sale_id}", response={200: SaleOut, **error_responses(403, 404)})
def get_sale(request: HttpRequest, sale_id: Id) -> Any:
    sale = api_get_object(
        request, Sale.objects.select_related("seller", "buyer"), "view", pk=sale_id
    )
    return _sale(sale)
