"""Service API for quotes (SVC-5/6), loaners (SVC-7) and maintenance visits (SVC-8), mounted
with the service router at /api/v1/:

    GET   /api/v1/service-quotes                        list (status, request_id; paginated)
    GET   /api/v1/service-quotes/{id}                   read
    POST  /api/v1/service-requests/{id}/quotes          price a quote from the price list
    POST  /api/v1/service-quotes/{id}/approve           the general manager's signed approval
    POST  /api/v1/service-quotes/{id}/answer            the customer's acceptance or refusal
    GET   /api/v1/service-loans                         list (status, overdue; paginated)
    GET   /api/v1/service-loans/{id}                    read
    POST  /api/v1/service-loans                         issue a loaner unit
    POST  /api/v1/service-loans/{id}/return             the loaner is back
    GET   /api/v1/service-maintenance-visits            list (kind, status, missed, due dates)
    GET   /api/v1/service-maintenance-visits/{id}       read
    POST  /api/v1/service-maintenance-visits/{id}/done  the visit or call-back done

The same service functions as the pages (services.quotes, services.loans,
services.maintenance); the records a user may see are those of the pages (visible_to)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from medvigil.core.api import (
    Id,
    PageParams,
    Versioned,
    api_get_object,
    api_user,
    auth_with_perm,
    error_responses,
    paginate_queryset,
)
from medvigil.core.api import require_perm as _require_perm
from medvigil.core.permissions import scope_for_user
from medvigil.trace.models import Customer, Unit

from .models import Loan, MaintenanceVisit, Quote, ServiceRequest
from .services import loans, maintenance, quotes

router = Router(tags=["service"])

VISIT_CHANGE = "service.change_maintenancevisit"


# --- quotes (SVC-5, SVC-6) -------------------------------------------------------------------


class QuoteLineIn(Schema):
    item: str = Field(..., min_length=1, max_length=40, description="A price-list code.")
    quantity: Decimal = Field(Decimal(1), gt=0, le=100_000, max_digits=12, decimal_places=3)


class QuoteIn(Schema):
    lines: list[QuoteLineIn] = Field(..., min_length=1, max_length=100)
    discount_percent: Decimal = Field(Decimal(0), ge=0, le=100, max_digits=5, decimal_places=2)
    discount_reason: str = Field("", max_length=5000)


class QuoteApproveIn(Versioned):
    password: str = Field(..., max_length=256)
    comment: str = Field("", max_length=2000)


class QuoteAnswerIn(Versioned):
    accepted: bool
    customer_name: str = Field(..., min_length=1, max_length=100)


class QuoteOut(Schema):
    id: int
    number: str
    version: int
    request_id: int
    status: str
    lines: list[dict[str, Any]]
    list_total: Decimal
    discount_percent: Decimal
    total: Decimal
    discount_reason: str
    needs_approval: bool
    approved_by: str | None
    approved_at: dt.datetime | None
    customer_name: str
    answered_at: dt.datetime | None
    url: str


class QuotePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[QuoteOut]


class QuoteQuery(Schema):
    status: str = Field("", max_length=20)
    request_id: Id | None = None


def _quote_out(q: Quote) -> dict[str, Any]:
    return {
        **{
            name: getattr(q, name)
            for name in (
                "id",
                "number",
                "version",
                "request_id",
                "status",
                "lines",
                "list_total",
                "discount_percent",
                "total",
                "discount_reason",
                "approved_at",
                "customer_name",
                "answered_at",
            )
        },
        "needs_approval": quotes.needs_approval(q),
        "approved_by": q.approved_by.username if q.approved_by_id and q.approved_by else None,
        "url": q.get_absolute_url(),
    }


def _quotes(user: Any) -> Any:
    return scope_for_user(user, Quote).select_related("approved_by")


def _choice(value: str, choices: Any, field: str) -> None:
    if value and value not in choices.values:
        raise ValidationError({field: [_("Choose from the list.")]})


def _with_status(qs: Any, status: str, choices: Any) -> Any:
    """`qs` of the status asked for (none asked: all); one not in `choices` is a 422."""
    _choice(status, choices, "status")
    return qs.filter(status=status) if status else qs


def _page(qs: Any, order: tuple[str, ...], page: PageParams, out: Callable[[Any], Any]) -> Any:
    """One page of `qs` in `order`, each item as `out` gives it."""
    result = paginate_queryset(qs.order_by(*order), page.limit, page.offset)
    result["items"] = [out(o) for o in result["items"]]
    return result


def _one(request: HttpRequest, perm: str, scoped: Callable[[Any], Any], pk: Any) -> Any:
    """The record `pk` among those the user may see (`scoped(user)`); `perm` needed."""
    _require_perm(request, perm)
    return api_get_object(request, scoped(api_user(request)), pk=pk)


@router.get("/service-quotes", response={200: QuotePage, **error_responses(403)})
def list_quotes(request: HttpRequest, filters: Query[QuoteQuery], page: Query[PageParams]) -> Any:
    """Quotes of the requests the user may see, newest first."""
    _require_perm(request, "service.view_quote")
    qs = _with_status(_quotes(api_user(request)), filters.status, Quote.Status)
    if filters.request_id:
        qs = qs.filter(request_id=filters.request_id)
    return _page(qs, ("-id",), page, _quote_out)


@router.get("/service-quotes/{quote_id}", response={200: QuoteOut, **error_responses(403, 404)})
def get_quote(request: HttpRequest, quote_id: Id) -> Any:
    return _quote_out(_one(request, "service.view_quote", _quotes, quote_id))


@router.post(
    "/service-requests/{request_id}/quotes",
    response={201: QuoteOut, **error_responses(403, 404)},
    auth=auth_with_perm(quotes.ADD_PERM),
)
def create_quote(request: HttpRequest, request_id: Id, payload: QuoteIn) -> Any:
    """Price paid work from the price list (lines: item code and quantity); a discount above
    the limit (SERVICE_DISCOUNT_APPROVAL_PERCENT) waits for the general manager (status
    awaiting_approval), else the quote is ready for the customer (approved)."""
    user = api_user(request)
    sr = api_get_object(request, scope_for_user(user, ServiceRequest), pk=request_id)
    q = quotes.create_quote(
        sr,
        by=user,
        lines=[{"item": line.item, "quantity": str(line.quantity)} for line in payload.lines],
        discount_percent=payload.discount_percent,
        discount_reason=payload.discount_reason,
    )
    return Status(201, _quote_out(_quotes(user).get(pk=q.pk)))


@router.post(
    "/service-quotes/{quote_id}/approve",
    response={200: QuoteOut, **error_responses(403, 404, 409)},
    auth=auth_with_perm(quotes.APPROVE_PERM),
)
def approve_quote(request: HttpRequest, quote_id: Id, payload: QuoteApproveIn) -> Any:
    """The general manager approves the discount with an electronic signature (the password
    re-entered, meaning "approved"); a wrong password is a 422 and changes nothing."""
    user = api_user(request)
    q = api_get_object(request, _quotes(user), pk=quote_id)
    quotes.approve_discount(
        q,
        by=user,
        password=payload.password,
        comment=payload.comment,
        request=request,
        version=payload.version,
    )
    return _quote_out(_quotes(user).get(pk=q.pk))


@router.post(
    "/service-quotes/{quote_id}/answer",
    response={200: QuoteOut, **error_responses(403, 404, 409)},
    auth=auth_with_perm(quotes.CHANGE_PERM),
)
def answer_quote(request: HttpRequest, quote_id: Id, payload: QuoteAnswerIn) -> Any:
    """The customer accepted or declined the quote (who answered for the customer)."""
    user = api_user(request)
    q = api_get_object(request, _quotes(user), pk=quote_id)
    quotes.record_customer_answer(
        q,
        by=user,
        version=payload.version,
        accepted=payload.accepted,
        customer_name=payload.customer_name,
    )
    return _quote_out(_quotes(user).get(pk=q.pk))


# --- loaners (SVC-7) --------------------------------------------------------------------------


class LoanIn(Schema):
    unit: str = Field("", max_length=200, description="The loaner's serial or a scanned UDI.")
    unit_id: Id | None = Field(None, description="Or the unit's id.")
    customer_id: Id
    due_back_on: dt.date
    request_id: Id | None = Field(None, description="The service request it is lent for.")
    free: bool = True
    notes: str = Field("", max_length=2000)


class LoanReturnIn(Versioned):
    notes: str = Field("", max_length=2000)


class LoanOut(Schema):
    id: int
    number: str
    version: int
    status: str
    unit_id: int
    unit: str
    customer_id: int
    customer: str
    request_id: int | None
    issued_at: dt.datetime
    due_back_on: dt.date
    returned_at: dt.datetime | None
    free: bool
    overdue: bool
    notes: str
    url: str


class LoanPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[LoanOut]


class LoanQuery(Schema):
    status: str = Field("", max_length=10)
    overdue: bool = False


def _loan_out(loan: Loan) -> dict[str, Any]:
    return {
        **{
            name: getattr(loan, name)
            for name in (
                "id",
                "number",
                "version",
                "status",
                "unit_id",
                "customer_id",
                "request_id",
                "issued_at",
                "due_back_on",
                "returned_at",
                "free",
                "overdue",
                "notes",
            )
        },
        "unit": str(loan.unit),
        "customer": str(loan.customer),
        "url": loan.get_absolute_url(),
    }


def _loans(user: Any) -> Any:
    return scope_for_user(user, Loan).select_related("unit__product", "customer")


@router.get("/service-loans", response={200: LoanPage, **error_responses(403)})
def list_loans(request: HttpRequest, filters: Query[LoanQuery], page: Query[PageParams]) -> Any:
    """Loaners, the earliest due back first; overdue=true: out and past their return day."""
    _require_perm(request, "service.view_loan")
    qs = _with_status(_loans(api_user(request)), filters.status, Loan.Status)
    if filters.overdue:
        qs = qs.filter(status=Loan.Status.OUT, due_back_on__lt=timezone.localdate())
    return _page(qs, ("due_back_on", "id"), page, _loan_out)


@router.get("/service-loans/{loan_id}", response={200: LoanOut, **error_responses(403, 404)})
def get_loan(request: HttpRequest, loan_id: Id) -> Any:
    return _loan_out(_one(request, "service.view_loan", _loans, loan_id))


@router.post(
    "/service-loans",
    response={201: LoanOut, **error_responses(403, 404)},
    auth=auth_with_perm(loans.ISSUE_PERM),
)
def issue_loan(request: HttpRequest, payload: LoanIn) -> Any:
    """Issue a loaner unit of our stock to a customer until `due_back_on`; for a service
    request it is recorded there too (the SVC-2 loaner clock). A unit not in stock or already
    out is a 422 with the reason."""
    from medvigil.trace.udi import UdiError, find_unit

    user = api_user(request)
    if payload.unit_id:
        unit = scope_for_user(user, Unit).filter(pk=payload.unit_id).first()
        if unit is None:
            raise ValidationError({"unit_id": [_("Choose an existing record.")]})
    elif payload.unit.strip():
        try:
            unit = find_unit(payload.unit.strip(), user)
        except (UdiError, PermissionDenied) as exc:
            raise ValidationError({"unit": [str(exc)]}) from None
    else:
        raise ValidationError({"unit": [_("Give the loaner's serial, UDI or id.")]})
    customer = scope_for_user(user, Customer).filter(pk=payload.customer_id).first()
    if customer is None:
        raise ValidationError({"customer_id": [_("Choose an existing record.")]})
    sr = None
    if payload.request_id:
        sr = scope_for_user(user, ServiceRequest).filter(pk=payload.request_id).first()
        if sr is None:
            raise ValidationError({"request_id": [_("Choose an existing record.")]})
    loan = loans.issue_loan(
        by=user,
        unit=unit,
        customer=customer,
        due_back_on=payload.due_back_on,
        request=sr,
        free=payload.free,
        notes=payload.notes,
    )
    return Status(201, _loan_out(_loans(user).get(pk=loan.pk)))


@router.post(
    "/service-loans/{loan_id}/return",
    response={200: LoanOut, **error_responses(403, 404, 409)},
    auth=auth_with_perm(loans.RETURN_PERM),
)
def return_loan(request: HttpRequest, loan_id: Id, payload: LoanReturnIn) -> Any:
    """The loaner is back (once: a second return is a 409)."""
    user = api_user(request)
    loan = api_get_object(request, _loans(user), pk=loan_id)
    loans.return_loan(loan, by=user, version=payload.version, notes=payload.notes)
    return _loan_out(_loans(user).get(pk=loan.pk))


# --- maintenance visits and call-backs (SVC-8) ----------------------------------------------


class VisitDoneIn(Versioned):
    notes: str = Field("", max_length=5000)


class VisitOut(Schema):
    id: int
    version: int
    unit_id: int
    unit: str
    kind: str
    due_on: dt.date
    status: str
    in_warranty: bool
    missed: bool
    assigned_to: str | None
    done_at: dt.datetime | None
    notes: str
    url: str


class VisitPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[VisitOut]


class VisitQuery(Schema):
    kind: Literal["", "visit", "call"] = ""
    status: Literal["", "planned", "done", "missed"] = ""
    missed: bool = False
    due_from: dt.date | None = None
    due_to: dt.date | None = None


def _visit_out(v: MaintenanceVisit, today: dt.date) -> dict[str, Any]:
    return {
        **{
            name: getattr(v, name)
            for name in (
                "id",
                "version",
                "unit_id",
                "kind",
                "due_on",
                "status",
                "in_warranty",
                "done_at",
                "notes",
            )
        },
        "unit": str(v.unit),
        "missed": v.status == MaintenanceVisit.Status.PLANNED and v.due_on < today,
        "assigned_to": v.assigned_to.username if v.assigned_to_id and v.assigned_to else None,
        "url": v.get_absolute_url(),
    }


def _visits(user: Any) -> Any:
    return scope_for_user(user, MaintenanceVisit).select_related("unit__product", "assigned_to")


@router.get("/service-maintenance-visits", response={200: VisitPage, **error_responses(403)})
def list_visits(request: HttpRequest, filters: Query[VisitQuery], page: Query[PageParams]) -> Any:
    """Planned and done visits and call-backs, the earliest due first; missed=true: planned and
    past their day."""
    _require_perm(request, "service.view_maintenancevisit")
    today = timezone.localdate()
    qs = _visits(api_user(request))
    if filters.due_from and filters.due_to and filters.due_from > filters.due_to:
        raise ValidationError({"due_to": [_("The end is before the start.")]})
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.missed:
        qs = qs.filter(status=MaintenanceVisit.Status.PLANNED, due_on__lt=today)
    if filters.due_from:
        qs = qs.filter(due_on__gte=filters.due_from)
    if filters.due_to:
        qs = qs.filter(due_on__lte=filters.due_to)
    return _page(qs, ("due_on", "id"), page, lambda v: _visit_out(v, today))


@router.get(
    "/service-maintenance-visits/{visit_id}",
    response={200: VisitOut, **error_responses(403, 404)},
)
def get_visit(request: HttpRequest, visit_id: Id) -> Any:
    visit = _one(request, "service.view_maintenancevisit", _visits, visit_id)
    return _visit_out(visit, timezone.localdate())


@router.post(
    "/service-maintenance-visits/{visit_id}/done",
    response={200: VisitOut, **error_responses(403, 404, 409)},
    auth=auth_with_perm(VISIT_CHANGE),
)
def visit_done(request: HttpRequest, visit_id: Id, payload: VisitDoneIn) -> Any:
    """The visit made or the call-back done, with what was found (a done visit again: 422)."""
    user = api_user(request)
    visit = api_get_object(request, _visits(user), pk=visit_id)
    maintenance.complete_visit(visit, by=user, version=payload.version, notes=payload.notes)
    return _visit_out(_visits(user).get(pk=visit.pk), timezone.localdate())
