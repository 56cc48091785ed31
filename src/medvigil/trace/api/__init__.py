"""Traceability API (mounted at /api/v1/trace/): unit lookup by UDI or serial, unit detail
with its timeline, backward trace of a unit, forward trace of a lot or of criteria (JSON, CSV
or XLSX), products and customers (list, create), sales (create, read).

Contacts (addresses, phones, e-mails, contact persons) are masked for users without
trace.view_contact_data (PLAT-11), as on the pages.

The endpoints are here, in the order they are routed; the request and response schemas are
in ``schemas``, the dicts that fill them (with the contact masking) in ``builders``. The
endpoints stay in this module so that the OpenAPI operation IDs (module path + function name)
are the ones clients already know."""

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status

from medvigil.core.api import (
    Id,
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

from .. import services
from ..exports import EXPORT_PERM, forward_header, forward_rows
from ..models import Customer, CustomerKind, Lot, Product, RiskClass, Sale, Unit
from ..privacy import can_view_contacts
from ..queries import ForwardTrace, backward_queryset, backward_trace, forward_trace
from ..timeline import unit_timeline
from ..udi import UdiError, find_unit, looks_like_udi, parse_udi
from .builders import _customer, _forward, _hop, _installation, _sale, _unit
from .schemas import (
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerQuery,
    ForwardOut,
    ForwardQuery,
    ListQuery,
    ProductIn,
    ProductOut,
    SaleIn,
    SaleOut,
    UnitDetailOut,
    UnitOut,
)

router = Router(tags=["traceability"])

FORWARD_LIMIT = 100_000


def require_perm(request: HttpRequest, perm: str) -> None:
    _require_perm(request, perm)


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
    # the unit with its lot and product and whether it has rows of each kind read below (one
    # query; the empty kinds are not queried, #13)
    unit = api_get_object(request, backward_queryset(timeline=True), "view", pk=unit_id)
    trace = backward_trace(unit, loaded=True)
    unit.backward_trace = trace  # the timeline reads the same rows (trace.timeline)
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


def _forward_response(request: HttpRequest, trace: ForwardTrace, fmt: str, name: str) -> Any:
    user = api_user(request)
    if fmt in ("csv", "xlsx"):
        require_perm(request, EXPORT_PERM)
        return export_response(fmt, name, forward_header(), forward_rows(trace, user))
    if fmt == "pdf":
        require_perm(request, EXPORT_PERM)
        from medvigil.core.documents import pdf_response

        from ..documents import forward_trace_pdf

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
