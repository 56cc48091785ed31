"""Complaints API (FBK-1 … FBK-4), mounted at /api/v1/ (ComplaintsConfig.api_prefix = "v1"), so
that the resource is exactly /api/v1/complaints:

    POST  /api/v1/complaints                     register feedback (intake.register_feedback)
    GET   /api/v1/complaints                     list (filters, search, paginated)
    GET   /api/v1/complaints/{id}                read, with its clocks and notices
    PATCH /api/v1/complaints/{id}                edit intake fields (version required)
    POST  /api/v1/complaints/{id}/transitions    route, answer and close, set severity,
                                                 pause/resume the clock, record a milestone, void
    POST  /api/v1/complaints/notices/{id}/acknowledge

Contact and patient data are masked for users without complaints.view_contact_data /
complaints.view_patient_data (PLAT-11), as on the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
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

from .models import (
    CONTACT_PERM,
    PATIENT_PERM,
    Category,
    Channel,
    ClockPause,
    Feedback,
    Kind,
    PatientInvolvement,
    ProblemNotice,
    Severity,
)
from .services import clocks, intake, routing

router = Router(tags=["complaints"])

MASK = "***"
ADD = "complaints.add_feedback"
VIEW = "complaints.view_feedback"
CHANGE = "complaints.change_feedback"


# --- schemas -------------------------------------------------------------------------------


class FeedbackIn(Schema):
    kind: Literal["inquiry", "suggestion", "praise", "complaint"] = "complaint"
    channel: str = Field(Channel.API, max_length=12, description="FBK-1 channel code.")
    received_at: dt.datetime | None = Field(None, description="Default: now.")
    language: Literal["zh-hans", "en"] = "zh-hans"
    title: str = Field("", max_length=200)
    description: str = Field(..., max_length=20000)
    complainant_name: str = Field("", max_length=100)
    complainant_organisation: str = Field("", max_length=200)
    complainant_phone: str = Field("", max_length=60)
    complainant_email: str = Field("", max_length=254)
    complainant_address: str = Field("", max_length=300)
    device: str = Field(
        "",
        max_length=200,
        description="A scanned UDI, a serial or a lot number: prefills the "
        "unit, lot, product, customer, dealer, end user and warranty.",
    )
    unit_id: Id | None = None
    lot_id: Id | None = None
    product_id: Id | None = None
    customer_id: Id | None = None
    device_text: str = Field("", max_length=200)
    occurred_at: dt.datetime | None = None
    occurred_where: str = Field("", max_length=200)
    impact: str = Field("", max_length=20000)
    quantity_affected: int = Field(1, ge=0, le=10_000_000)
    patient_involvement: str = Field(PatientInvolvement.NONE, max_length=16)
    patient_details: str = Field("", max_length=20000)
    customer_wants: list[str] = Field(default_factory=list, max_length=10)
    customer_wants_detail: str = Field("", max_length=20000)
    category: str = Field("", max_length=20, description="FBK-2 category (complaints).")
    compensation_claimed: bool = False
    safety_issue: bool = False
    repeated_repairs: bool = False
    outside_parties: list[str] = Field(default_factory=list, max_length=10)
    bad_faith_suspected: bool = False
    bad_faith_reason: str = Field("", max_length=5000)
    visit_needed: bool = False
    severity: str = Field("", max_length=10, description="Override of the proposed severity.")
    severity_reason: str = Field("", max_length=5000)
    answer: str = Field(
        "", max_length=20000, description="Inquiry, suggestion, praise: answered and closed."
    )
    source_reference: str = Field("", max_length=300)


class FeedbackPatch(Versioned):
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=20000)
    channel: str | None = Field(None, max_length=12)
    category: str | None = Field(None, max_length=20)
    complainant_name: str | None = Field(None, max_length=100)
    complainant_organisation: str | None = Field(None, max_length=200)
    complainant_phone: str | None = Field(None, max_length=60)
    complainant_email: str | None = Field(None, max_length=254)
    complainant_address: str | None = Field(None, max_length=300)
    occurred_where: str | None = Field(None, max_length=200)
    impact: str | None = Field(None, max_length=20000)
    quantity_affected: int | None = Field(None, ge=0, le=10_000_000)
    patient_involvement: str | None = Field(None, max_length=16)
    patient_details: str | None = Field(None, max_length=20000)
    customer_wants: list[str] | None = Field(None, max_length=10)
    compensation_claimed: bool | None = None
    safety_issue: bool | None = None
    repeated_repairs: bool | None = None
    outside_parties: list[str] | None = Field(None, max_length=10)
    bad_faith_suspected: bool | None = None
    bad_faith_reason: str | None = Field(None, max_length=5000)
    visit_needed: bool | None = None


class TransitionIn(Versioned):
    action: Literal[
        "route", "answer_and_close", "set_severity", "pause", "resume", "milestone", "void"
    ]
    answer: str = Field("", max_length=20000)
    severity: str = Field("", max_length=10)
    reason: str = Field("", max_length=5000)
    department: str = Field("", max_length=40, description="Department code (route).")
    milestone: Literal["", "response", "visit"] = ""
    at: dt.datetime | None = None


class ClockOut(Schema):
    code: str
    title: str
    rule: str
    clock: str
    due_at: dt.datetime | None
    done_at: dt.datetime | None
    state: str
    paused_seconds: int


class NoticeOut(Schema):
    id: int
    number: str
    department: str
    status: str
    acknowledged_at: dt.datetime | None
    version: int


class FeedbackOut(Schema):
    id: int
    number: str
    version: int
    kind: str
    channel: str
    status: str
    received_at: dt.datetime
    title: str
    description: str
    category: str
    severity: str
    severity_proposed: str
    severity_reasons: list[str]
    severity_override_reason: str
    bad_faith_suspected: bool
    department: str | None
    owner: str | None
    complainant_name: str
    complainant_organisation: str
    complainant_phone: str
    complainant_email: str
    complainant_address: str
    customer_id: int | None
    end_user_id: int | None
    dealer_id: int | None
    product_id: int | None
    lot_id: int | None
    unit_id: int | None
    udi_text: str
    device_text: str
    under_warranty: bool | None
    occurred_at: dt.datetime | None
    occurred_where: str
    impact: str
    quantity_affected: int
    patient_involvement: str
    patient_details: str
    customer_wants: list[str]
    visit_needed: bool
    answer: str
    routed_at: dt.datetime | None
    quality_received_at: dt.datetime | None
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    paused: bool
    clocks: list[ClockOut] = []
    notices: list[NoticeOut] = []
    url: str


class FeedbackPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[FeedbackOut]


class ListQuery(Schema):
    q: str = Field("", max_length=100)
    status: str = Field("", max_length=16)
    kind: str = Field("", max_length=12)
    category: str = Field("", max_length=20)
    severity: str = Field("", max_length=10)
    product_id: Id | None = None
    department: str = Field("", max_length=40)


# --- helpers -------------------------------------------------------------------------------


def require_perm(request: HttpRequest, perm: str) -> None:
    _require_perm(request, perm)


def _mask(value: str, allowed: bool) -> str:
    return value if (allowed or not value) else MASK


def _out(
    f: Feedback, user: Any, *, detail: bool = False, notices: list[ProblemNotice] | None = None
) -> dict[str, Any]:
    """The record as FeedbackOut. `notices`: its notices in hand (a record registered by this
    request), else read with `detail`."""
    contact = user.has_perm(CONTACT_PERM)
    patient = user.has_perm(PATIENT_PERM)
    out = {
        **{
            name: getattr(f, name)
            for name in (
                "id",
                "number",
                "version",
                "kind",
                "channel",
                "status",
                "received_at",
                "title",
                "description",
                "category",
                "severity",
                "severity_proposed",
                "severity_reasons",
                "severity_override_reason",
                "bad_faith_suspected",
                "complainant_organisation",
                "customer_id",
                "end_user_id",
                "dealer_id",
                "product_id",
                "lot_id",
                "unit_id",
                "udi_text",
                "device_text",
                "under_warranty",
                "occurred_at",
                "occurred_where",
                "impact",
                "quantity_affected",
                "patient_involvement",
                "customer_wants",
                "visit_needed",
                "answer",
                "routed_at",
                "quality_received_at",
                "first_response_at",
                "resolved_at",
                "closed_at",
            )
        },
        **{name: _mask(getattr(f, name), contact) for name in Feedback.CONTACT_FIELDS},
        "patient_details": _mask(f.patient_details, patient),
        "department": f.department.code if f.department_id and f.department else None,
        "owner": f.owner.username if f.owner_id and f.owner else None,
        "paused": f.is_paused,
        "url": f.get_absolute_url(),
    }
    if detail:
        now = dt.datetime.now(dt.UTC)
        out["clocks"] = [
            {
                "code": c.code,
                "title": str(c.title),
                "rule": c.rule.code,
                "clock": str(c.clock),
                "due_at": c.due_at,
                "done_at": c.done_at,
                "state": c.state(now),
                "paused_seconds": int(c.paused.total_seconds()),
            }
            for c in clocks.clocks_for(f, now=now)
        ]
        out["notices"] = [
            {
                "id": n.pk,
                "number": n.number,
                "department": n.department.code,
                "status": n.status,
                "acknowledged_at": n.acknowledged_at,
                "version": n.version,
            }
            for n in (
                notices
                if notices is not None
                else f.notices.select_related("department").order_by("id")
            )
        ]
    return out


def _feedback_qs(user: Any) -> Any:
    return (
        scope_for_user(user, Feedback)
        .select_related("department", "owner")
        .prefetch_related(Prefetch("pauses", queryset=ClockPause.objects.order_by("started_at")))
    )


def _choice(value: str, choices: Any, field: str) -> None:
    if value and value not in choices.values:
        raise ValidationError({field: [_("Choose from the list.")]})


# --- endpoints -----------------------------------------------------------------------------


@router.post(
    "/complaints",
    response={201: FeedbackOut, **error_responses(403)},
    auth=auth_with_perm(ADD),
)
def create_feedback(request: HttpRequest, payload: FeedbackIn) -> Any:
    """Register customer feedback (FBK-1): a complaint is given its proposed severity and
    routed to the owning department with its problem notices; an inquiry, suggestion or praise
    sent with an `answer` is answered and closed at once (FBK-2). `device` (a UDI, serial or
    lot number) prefills the device, customer, dealer, end user and warranty from trace."""
    require_perm(request, ADD)
    user = api_user(request)
    data = payload.dict()
    device = data.pop("device").strip()
    answer = data.pop("answer")
    severity = data.pop("severity") or None
    severity_reason = data.pop("severity_reason")
    for key in ("unit", "lot", "product", "customer"):
        data[key] = data.pop(f"{key}_id")
    if data["received_at"] is None:
        data.pop("received_at")
    if device:
        facts = intake.find_device(device, user=user)
        if "error" in facts:
            raise ValidationError({"device": [str(facts["error"])]})
        for key in ("unit", "lot", "product", "customer", "dealer", "end_user"):
            if facts.get(key) is not None and not data.get(key):
                data[key] = facts[key]
        for key in ("udi_text", "warranty_end", "under_warranty"):
            if facts.get(key) not in (None, ""):
                data[key] = facts[key]
    fb = intake.register_feedback(
        by=user, answer=answer, severity=severity, severity_reason=severity_reason, **data
    )
    # the record in hand (its department and owner are objects already); a record created
    # just now has no pauses: its clocks are read without a query for them, and its notices
    # are those registering it created (with their departments)
    no_pauses = ClockPause.objects.none()
    no_pauses._result_cache = []  # as a prefetch leaves it: read without compiling a query
    no_pauses._prefetch_done = True  # type: ignore[attr-defined]
    fb._prefetched_objects_cache = {"pauses": no_pauses}
    notices = getattr(fb, "_new_notices", None)
    return Status(201, _out(fb, user, detail=True, notices=notices if notices else []))


@router.get("/complaints", response={200: FeedbackPage, **error_responses(403)})
def list_feedback(request: HttpRequest, filters: Query[ListQuery], page: Query[PageParams]) -> Any:
    """Feedback the user may see, newest first (paginated: limit, offset). Filters: status,
    kind, category, severity, product_id, department (code); q searches number, subject,
    organisation and device text."""
    require_perm(request, VIEW)
    user = api_user(request)
    qs = _feedback_qs(user)
    _choice(filters.status, Feedback.Status, "status")
    _choice(filters.kind, Kind, "kind")
    _choice(filters.category, Category, "category")
    _choice(filters.severity, Severity, "severity")
    for name in ("status", "kind", "category", "severity"):
        if value := getattr(filters, name):
            qs = qs.filter(**{name: value})
    if filters.product_id:
        qs = qs.filter(product_id=filters.product_id)
    if filters.department:
        qs = qs.filter(department__code=filters.department)
    if filters.q:
        q = filters.q.strip()
        qs = qs.filter(
            Q(number__icontains=q)
            | Q(title__icontains=q)
            | Q(complainant_organisation__icontains=q)
            | Q(device_text__icontains=q)
        )
    result = paginate_queryset(qs.order_by("-received_at", "-id"), page.limit, page.offset)
    result["items"] = [_out(f, user) for f in result["items"]]
    return result


@router.get("/complaints/{feedback_id}", response={200: FeedbackOut, **error_responses(403, 404)})
def get_feedback(request: HttpRequest, feedback_id: Id) -> Any:
    """One record with its FBK-4 clocks and problem notices."""
    require_perm(request, VIEW)
    user = api_user(request)
    fb = api_get_object(request, _feedback_qs(user), pk=feedback_id)
    return _out(fb, user, detail=True)


@router.patch(
    "/complaints/{feedback_id}",
    response={200: FeedbackOut, **error_responses(403, 404, 409)},
    auth=auth_with_perm(CHANGE),
)
def update_feedback(request: HttpRequest, feedback_id: Id, payload: FeedbackPatch) -> Any:
    """Edit intake fields of an open record; `version` is the one read (else 409)."""
    require_perm(request, CHANGE)
    user = api_user(request)
    fb = api_get_object(request, Feedback, "change", pk=feedback_id)
    data = {k: v for k, v in payload.dict(exclude_unset=True).items() if k != "version"}
    data = {k: v for k, v in data.items() if v is not None}
    intake.update_feedback(fb, by=user, version=payload.version, **data)
    return _out(_feedback_qs(user).get(pk=fb.pk), user, detail=True)


@router.post(
    "/complaints/{feedback_id}/transitions",
    response={200: FeedbackOut, **error_responses(403, 404, 409)},
    auth=auth_with_perm(VIEW),
)
def transition(request: HttpRequest, feedback_id: Id, payload: TransitionIn) -> Any:
    """A state change through its service: `route` (optional department code),
    `answer_and_close` (answer), `set_severity` (severity, reason), `pause` (reason),
    `resume`, `milestone` (response or visit, optional at), `void` (reason). Each checks its
    own permission and guard."""
    user = api_user(request)
    fb = api_get_object(request, _feedback_qs(user), pk=feedback_id)
    v = payload.version
    if payload.action == "route":
        dept = None
        if payload.department:
            from medvigil.accounts.models import Department

            dept = Department.objects.filter(code=payload.department).first()
            if dept is None:
                raise ValidationError({"department": [_("Unknown department.")]})
        routing.route_feedback(fb, by=user, version=v, department=dept)
    elif payload.action == "answer_and_close":
        intake.answer_and_close(fb, by=user, version=v, answer=payload.answer)
    elif payload.action == "set_severity":
        routing.set_severity(
            fb, by=user, version=v, severity=payload.severity, reason=payload.reason
        )
    elif payload.action in ("pause", "resume"):
        fb.check_version(v)
        if payload.action == "pause":
            clocks.pause_clock(fb, by=user, reason=payload.reason)
        else:
            clocks.resume_clock(fb, by=user)
    elif payload.action == "milestone":
        clocks.record_milestone(fb, by=user, version=v, milestone=payload.milestone, at=payload.at)
    else:
        intake.void_feedback(fb, by=user, version=v, reason=payload.reason)
    return _out(_feedback_qs(user).get(pk=fb.pk), user, detail=True)


class AckIn(Versioned):
    pass


@router.post(
    "/complaints/notices/{notice_id}/acknowledge",
    response={200: NoticeOut, **error_responses(403, 404, 409)},
    auth=auth_with_perm("complaints.change_problemnotice"),
)
def acknowledge(request: HttpRequest, notice_id: Id, payload: AckIn) -> Any:
    """The department acknowledges a customer problem notice (FBK-8)."""
    user = api_user(request)
    notice = api_get_object(
        request, ProblemNotice.objects.select_related("department"), pk=notice_id
    )
    n = routing.acknowledge_notice(notice, by=user, version=payload.version)
    return {
        "id": n.pk,
        "number": n.number,
        "department": n.department.code,
        "status": n.status,
        "acknowledged_at": n.acknowledged_at,
        "version": n.version,
    }


# FBK-5/6/7: evaluation, investigation and resolution endpoints (complaints/api_flow.py), at
# /api/v1/complaints/feedback/…, /evaluations/…, /investigations/…, /resolutions/…, /approvals/…
from .api_flow import router as _flow_router  # noqa: E402

router.add_router("/complaints", _flow_router)
