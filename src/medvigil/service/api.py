"""Service API (SVC-1 … SVC-4), mounted at /api/v1/ (ServiceConfig.api_prefix = "v1"):

    POST  /api/v1/service-requests                    register a request
    GET   /api/v1/service-requests                    list (filters, search, paginated)
    GET   /api/v1/service-requests/{id}               read, with its clocks and work orders
    PATCH /api/v1/service-requests/{id}               edit intake fields (version required)
    POST  /api/v1/service-requests/{id}/transitions   respond, answer, dispatch, loaner, void
    GET   /api/v1/service-work-orders/{id}            read a work order
    POST  /api/v1/service-work-orders/{id}/transitions  accept, travel, arrive, save, parts,
                                                       sign_off, close
    GET   /api/v1/service-arrival-compliance          SVC-2 arrival compliance
    GET   /api/v1/service-ledger/figures              KPI-2 ledger figures (api_ledger.py)

Contact data are masked for users without service.view_contact_data (PLAT-11)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest
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

from .models import CONTACT_PERM, FaultLevel, ServiceRequest, WorkOrder, Zone
from .services import clocks, dispatching, requests, workorders

router = Router(tags=["service"])

MASK = "***"
ADD = "service.add_servicerequest"
VIEW = "service.view_servicerequest"
CHANGE = "service.change_servicerequest"
WO_VIEW = "service.view_workorder"
WO_CHANGE = "service.change_workorder"


class RequestIn(Schema):
    channel: Literal["phone", "email", "web", "api", "visit", "dealer", "engineer"] = "api"
    received_at: dt.datetime | None = Field(None, description="Default: now.")
    title: str = Field("", max_length=200)
    description: str = Field("", max_length=20000)
    fault_level: Literal["down", "degraded", "minor", "question"]
    zone: Literal["city", "suburb", "remote"] = "city"
    device: str = Field(
        "",
        max_length=200,
        description="A scanned UDI or a serial: prefills unit, product, customer, dealer, "
        "site contact and warranty from trace.",
    )
    unit_id: Id | None = None
    product_id: Id | None = None
    customer_id: Id | None = None
    device_text: str = Field("", max_length=200)
    contact_name: str = Field("", max_length=100)
    contact_phone: str = Field("", max_length=60)
    contact_email: str = Field("", max_length=254)
    site_address: str = Field("", max_length=300)
    warranty_exclusion: Literal["", "misuse", "force_majeure", "other"] = ""
    exclusion_reason: str = Field("", max_length=5000)


class RequestPatch(Versioned):
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=20000)
    fault_level: Literal["down", "degraded", "minor", "question"] | None = None
    zone: Literal["city", "suburb", "remote"] | None = None
    contact_name: str | None = Field(None, max_length=100)
    contact_phone: str | None = Field(None, max_length=60)
    contact_email: str | None = Field(None, max_length=254)
    site_address: str | None = Field(None, max_length=300)
    warranty_exclusion: Literal["", "misuse", "force_majeure", "other"] | None = None
    exclusion_reason: str | None = Field(None, max_length=5000)


class RequestTransition(Versioned):
    action: Literal["respond", "answer", "dispatch", "loaner", "void"]
    engineer_id: Id | None = None
    resolution: str = Field("", max_length=20000)
    note: str = Field("", max_length=200)
    reason: str = Field("", max_length=5000)


class ClockOut(Schema):
    code: str
    title: str
    rule: str
    due_at: dt.datetime | None
    done_at: dt.datetime | None
    state: str


class WorkOrderOut(Schema):
    id: int
    number: str
    version: int
    request_id: int
    engineer: str
    status: str
    accepted_at: dt.datetime | None
    travel_started_at: dt.datetime | None
    arrived_at: dt.datetime | None
    diagnosis: str
    actions: str
    parts_used: list[dict[str, Any]]
    verification: str
    test_data: str
    verification_passed: bool | None
    training_given: bool
    training_notes: str
    result: str
    customer_feedback: str
    signer_name: str
    sign_method: str
    signed_at: dt.datetime | None
    is_complaint: bool | None
    complaint_id: int | None
    closed_at: dt.datetime | None
    url: str


class RequestOut(Schema):
    id: int
    number: str
    version: int
    status: str
    channel: str
    received_at: dt.datetime
    title: str
    description: str
    fault_level: str
    zone: str
    unit_id: int | None
    product_id: int | None
    customer_id: int | None
    dealer_id: int | None
    udi_text: str
    device_text: str
    contact_name: str
    contact_phone: str
    contact_email: str
    site_address: str
    warranty_end: dt.date | None
    under_warranty: bool | None
    warranty_exclusion: str
    exclusion_reason: str
    engineer: str | None
    responded_at: dt.datetime | None
    dispatched_at: dt.datetime | None
    arrived_at: dt.datetime | None
    fixed_at: dt.datetime | None
    loaner_provided_at: dt.datetime | None
    closed_at: dt.datetime | None
    sla_clock: str
    response_due_at: dt.datetime | None
    arrival_due_at: dt.datetime | None
    fix_due_at: dt.datetime | None
    loaner_due_at: dt.datetime | None
    clocks: list[ClockOut] = []
    work_orders: list[WorkOrderOut] = []
    url: str


class RequestPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[RequestOut]


class ListQuery(Schema):
    q: str = Field("", max_length=100)
    status: str = Field("", max_length=16)
    fault_level: str = Field("", max_length=10)
    zone: str = Field("", max_length=8)


class WorkTransition(Versioned):
    action: Literal[
        "accept",
        "travel",
        "arrive",
        "save",
        "use_part",
        "return_part",
        "sign_off",
        "send_code",
        "confirm_code",
        "close",
    ]
    fields: dict[str, Any] = Field(default_factory=dict, description="save: field → value")
    part_id: Id | None = Field(None, description="use_part: a part of the catalogue")
    quantity: int = Field(1, ge=1, le=100_000, description="use_part: whole parts")
    location_id: Id | None = Field(None, description="use_part: default the engineer's van")
    request_key: str = Field("", max_length=64, description="use_part: resending is harmless")
    movement_id: Id | None = Field(None, description="return_part: the line's stock movement")
    code: str = Field("", max_length=20, description="confirm_code: the customer's code")
    signer_name: str = Field("", max_length=100)
    signature: str = Field(
        "", max_length=500_000, description="The drawn signature as a PNG data URL (base64)."
    )
    is_complaint: bool | None = None
    note: str = Field("", max_length=5000)


class ComplianceOut(Schema):
    arrived: int
    met: int
    late: int
    waiting_late: int
    percent: float | None


_REQ_FIELDS = (
    "id",
    "number",
    "version",
    "status",
    "channel",
    "received_at",
    "title",
    "description",
    "fault_level",
    "zone",
    "unit_id",
    "product_id",
    "customer_id",
    "dealer_id",
    "udi_text",
    "device_text",
    "warranty_end",
    "under_warranty",
    "warranty_exclusion",
    "exclusion_reason",
    "responded_at",
    "dispatched_at",
    "arrived_at",
    "fixed_at",
    "loaner_provided_at",
    "closed_at",
    "sla_clock",
    "response_due_at",
    "arrival_due_at",
    "fix_due_at",
    "loaner_due_at",
)
_WO_FIELDS = (
    "id",
    "number",
    "version",
    "request_id",
    "status",
    "accepted_at",
    "travel_started_at",
    "arrived_at",
    "diagnosis",
    "actions",
    "parts_used",
    "verification",
    "test_data",
    "verification_passed",
    "training_given",
    "training_notes",
    "result",
    "customer_feedback",
    "signer_name",
    "sign_method",
    "signed_at",
    "is_complaint",
    "complaint_id",
    "closed_at",
)


def _wo_out(wo: WorkOrder) -> dict[str, Any]:
    return {
        **{name: getattr(wo, name) for name in _WO_FIELDS},
        "engineer": wo.engineer.username,
        "url": wo.get_absolute_url(),
    }


def _out(sr: ServiceRequest, user: Any, *, detail: bool = False) -> dict[str, Any]:
    contact = user.has_perm(CONTACT_PERM)
    out = {
        **{name: getattr(sr, name) for name in _REQ_FIELDS},
        **{
            name: (getattr(sr, name) if contact or not getattr(sr, name) else MASK)
            for name in ServiceRequest.CONTACT_FIELDS
        },
        "engineer": sr.engineer.username if sr.engineer_id and sr.engineer else None,
        "url": sr.get_absolute_url(),
    }
    if detail:
        now = dt.datetime.now(dt.UTC)
        out["clocks"] = [
            {
                "code": c.code,
                "title": str(c.title),
                "rule": c.rule,
                "due_at": c.due_at,
                "done_at": c.done_at,
                "state": c.state(now),
            }
            for c in clocks.clocks_for(sr, now=now)
        ]
        out["work_orders"] = [
            _wo_out(wo)
            for wo in scope_for_user(user, WorkOrder)
            .filter(request=sr)
            .select_related("engineer")
            .order_by("id")
        ]
    return out


def _qs(user: Any) -> Any:
    return scope_for_user(user, ServiceRequest).select_related("engineer")


def _choice(value: str, choices: Any, field: str) -> None:
    if value and value not in choices.values:
        raise ValidationError({field: [_("Choose from the list.")]})


@router.post(
    "/service-requests",
    response={201: RequestOut, **error_responses(403)},
    auth=auth_with_perm(ADD),
)
def create_request(request: HttpRequest, payload: RequestIn) -> Any:
    """Register a service request (SVC-1): `device` (a scanned UDI or a serial) fills the unit,
    customer, dealer, site contact and warranty from trace (SVC-5); the service-level clocks
    of the zone and fault level start at `received_at` (SVC-2)."""
    _require_perm(request, ADD)
    user = api_user(request)
    data = payload.dict()
    device = data.pop("device")
    for key in ("unit", "product", "customer"):
        data[key] = data.pop(f"{key}_id")
    if device.strip():
        facts = requests.prefill_from_device(data, device, user=user)
        if "error" in facts:
            raise ValidationError({"device": [str(facts["error"])]})
    sr = requests.create_service_request(by=user, **data)
    return Status(201, _out(_qs(user).get(pk=sr.pk), user, detail=True))


@router.get("/service-requests", response={200: RequestPage, **error_responses(403)})
def list_requests(request: HttpRequest, filters: Query[ListQuery], page: Query[PageParams]) -> Any:
    """Requests the user may see, newest first (paginated: limit, offset). Filters: status,
    fault_level, zone; q searches number, subject and device."""
    _require_perm(request, VIEW)
    user = api_user(request)
    qs = _qs(user)
    _choice(filters.status, ServiceRequest.Status, "status")
    _choice(filters.fault_level, FaultLevel, "fault_level")
    _choice(filters.zone, Zone, "zone")
    for name in ("status", "fault_level", "zone"):
        if value := getattr(filters, name):
            qs = qs.filter(**{name: value})
    if filters.q.strip():
        q = filters.q.strip()
        qs = qs.filter(
            Q(number__icontains=q)
            | Q(title__icontains=q)
            | Q(device_text__icontains=q)
            | Q(udi_text__icontains=q)
        )
    result = paginate_queryset(qs.order_by("-received_at", "-id"), page.limit, page.offset)
    result["items"] = [_out(sr, user) for sr in result["items"]]
    return result


@router.get(
    "/service-requests/{request_id}", response={200: RequestOut, **error_responses(403, 404)}
)
def get_request(request: HttpRequest, request_id: Id) -> Any:
    """One request with its clocks (SVC-2) and work orders."""
    _require_perm(request, VIEW)
    user = api_user(request)
    return _out(api_get_object(request, _qs(user), pk=request_id), user, detail=True)


@router.patch(
    "/service-requests/{request_id}",
    response={200: RequestOut, **error_responses(403, 404, 409)},
    auth=auth_with_perm(CHANGE),
)
def update_request(request: HttpRequest, request_id: Id, payload: RequestPatch) -> Any:
    """Edit intake fields of an open request; `version` is the one read (else 409)."""
    _require_perm(request, CHANGE)
    user = api_user(request)
    sr = api_get_object(request, ServiceRequest, "change", pk=request_id)
    data = {
        k: v
        for k, v in payload.dict(exclude_unset=True).items()
        if k != "version" and v is not None
    }
    requests.update_service_request(sr, by=user, version=payload.version, **data)
    return _out(_qs(user).get(pk=sr.pk), user, detail=True)


@router.post(
    "/service-requests/{request_id}/transitions",
    response={200: RequestOut, **error_responses(403, 404, 409)},
    auth=auth_with_perm(VIEW),
)
def request_transition(request: HttpRequest, request_id: Id, payload: RequestTransition) -> Any:
    """`respond` (the substantive response), `answer` (resolution: a question answered and
    closed), `dispatch` (engineer_id: refused for an engineer without a valid qualification
    for the product, SVC-3), `loaner` (note: the loaner's serial), `void` (reason)."""
    from medvigil.accounts.models import User

    user = api_user(request)
    sr = api_get_object(request, _qs(user), pk=request_id)
    v = payload.version
    if payload.action == "respond":
        requests.record_response(sr, by=user, version=v)
    elif payload.action == "answer":
        requests.answer_question(sr, by=user, version=v, resolution=payload.resolution)
    elif payload.action == "dispatch":
        engineer = (
            User.objects.filter(pk=payload.engineer_id).first() if payload.engineer_id else None
        )
        dispatching.dispatch(sr, by=user, version=v, engineer=engineer)
    elif payload.action == "loaner":
        requests.record_loaner(sr, by=user, version=v, note=payload.note)
    else:
        requests.void_service_request(sr, by=user, version=v, reason=payload.reason)
    return _out(_qs(user).get(pk=sr.pk), user, detail=True)


def _wo_qs(user: Any) -> Any:
    return scope_for_user(user, WorkOrder).select_related("engineer", "request")


@router.get(
    "/service-work-orders/{work_order_id}",
    response={200: WorkOrderOut, **error_responses(403, 404)},
)
def get_work_order(request: HttpRequest, work_order_id: Id) -> Any:
    _require_perm(request, WO_VIEW)
    user = api_user(request)
    return _wo_out(api_get_object(request, _wo_qs(user), pk=work_order_id))


@router.post(
    "/service-work-orders/{work_order_id}/transitions",
    response={200: WorkOrderOut, **error_responses(403, 404, 409)},
    auth=auth_with_perm(WO_CHANGE),
)
def work_transition(request: HttpRequest, work_order_id: Id, payload: WorkTransition) -> Any:
    """The engineer's steps (SVC-4): `accept`, `travel`, `arrive` (time-stamped), `save`
    (fields: diagnosis, actions, verification, test_data, verification_passed, training_given,
    training_notes, result, customer_feedback), `use_part` (part_id, quantity, location_id:
    the part leaves stock, SVC-10; request_key makes a resend harmless), `return_part`
    (movement_id), `sign_off` (signer_name, signature as a PNG data URL), `send_code` (a
    one-time code e-mailed to the customer contact), `confirm_code` (signer_name, code),
    `close` (is_complaint, note: yes
    opens a complaint prefilled from the work order, SVC-11)."""
    user = api_user(request)
    wo = api_get_object(request, _wo_qs(user), pk=work_order_id)
    v = payload.version
    if payload.action == "accept":
        wo = workorders.accept(wo, by=user, version=v)
    elif payload.action == "travel":
        wo = workorders.start_travel(wo, by=user, version=v)
    elif payload.action == "arrive":
        wo = workorders.arrive(wo, by=user, version=v)
    elif payload.action == "save":
        wo = workorders.save_fields(wo, by=user, version=v, values=payload.fields)
    elif payload.action == "use_part":
        wo = workorders.use_part(
            wo,
            by=user,
            version=v,
            part=payload.part_id,
            quantity=payload.quantity,
            location=payload.location_id,
            request_key=payload.request_key or None,
        )
    elif payload.action == "return_part":
        wo = workorders.return_part(wo, by=user, version=v, movement_id=payload.movement_id)
    elif payload.action == "send_code":
        wo = workorders.send_signoff_code(wo, by=user, version=v)
    elif payload.action == "confirm_code":
        wo = workorders.confirm_signoff_code(
            wo, by=user, version=v, signer_name=payload.signer_name, code=payload.code
        )
    elif payload.action == "sign_off":
        wo = workorders.sign_off(
            wo, by=user, version=v, signer_name=payload.signer_name, signature=payload.signature
        )
    else:
        wo = workorders.close_work_order(
            wo, by=user, version=v, is_complaint=payload.is_complaint, note=payload.note
        )
    return _wo_out(_wo_qs(user).get(pk=wo.pk))


@router.get("/service-arrival-compliance", response={200: ComplianceOut, **error_responses(403)})
def arrival_compliance(request: HttpRequest) -> Any:
    """SVC-2: arrival compliance over the requests the user may see."""
    _require_perm(request, VIEW)
    return clocks.arrival_compliance(scope_for_user(api_user(request), ServiceRequest))


# quotes, loaners and maintenance visits (SVC-5 … SVC-8): their own module, the same prefix
from .api_aftercare import router as _aftercare_router  # noqa: E402

router.add_router("", _aftercare_router)

from . import api_ledger  # noqa: E402, F401  (the ledger's figures, on this router)
