"""The vigilance API (mounted at /api/v1/vigilance/): events (VIG-1), reportability decisions
(VIG-2), reports (VIG-4) and the countdown board (VIG-7). Every write goes through the same
services as the pages; patient data is masked without vigilance.view_patient_data (PLAT-11)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
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

from .models import (
    NARRATIVE_MAX,
    PATIENT_PERM,
    AdverseEvent,
    Market,
    ReportabilityDecision,
    TrendReport,
    TrendSignal,
    VigilanceReport,
)
from .services import board as board_svc
from .services import decisions as dec_svc
from .services import events as ev_svc
from .services import reports as rep_svc
from .services import trends as trend_svc

router = Router(tags=["vigilance"])
VIEW = "vigilance.view_adverseevent"
MASK = "***"


class DecisionOut(Schema):
    id: int
    market: str
    status: str
    proposed_reportable: bool
    fired_rule: str
    fired_citation: str
    proposal_reason: str
    deadline_rules: list[str]
    decided_reportable: bool | None
    basis: str
    decided_by: str | None
    decided_at: dt.datetime | None
    supersedes_id: int | None
    revision_reason: str
    version: int


class ReportOut(Schema):
    id: int
    number: str
    event_id: int
    market: str
    kind: str
    status: str
    deadline_rule: str
    clock_started_at: dt.datetime | None
    due_at: dt.datetime | None
    narrative: str
    new_information: str
    submitted_at: dt.datetime | None
    regulator_reference: str
    content: dict[str, Any] | None
    version: int
    url: str


class EventOut(Schema):
    id: int
    number: str
    version: int
    status: str
    title: str
    source: str
    source_reference: str
    feedback_id: int | None
    aware_at: dt.datetime
    eu_reportability_at: dt.datetime | None
    occurred_at: dt.datetime | None
    occurred_where: str
    occurred_place: str
    outcome: str
    narrative: str
    public_health_threat: bool
    unanticipated: bool
    remedial_action: bool
    fda_written_request: bool
    cluster: bool
    expected_side_effect: bool = False
    cluster_lead_id: int | None
    product_id: int | None
    lot_id: int | None
    unit_id: int | None
    udi_text: str
    udi_di: str
    udi_pi: str
    markets: list[str]
    market_sources: list[dict[str, Any]]
    imdrf_codes: list[str]
    imdrf_terms: list[dict[str, Any]] = Field(
        default_factory=list,
        description="VIG-5: each code with its term (English, Chinese); on one event only.",
    )
    patient_name: str
    patient_birth_date: str
    patient_age: str
    patient_sex: str
    patient_record_number: str
    patient_history: str
    decisions: list[DecisionOut] = []
    reports: list[ReportOut] = []
    url: str


class EventPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[EventOut]


class EventIn(Schema):
    title: str = Field(..., min_length=1, max_length=200)
    aware_at: dt.datetime
    outcome: Literal["death", "serious_injury", "malfunction", "other"]
    source: Literal["direct", "service", "complaint"] = "direct"
    evaluation_id: Id | None = Field(None, description="A complaint evaluation to take over.")
    source_reference: str = Field("", max_length=100)
    device: str = Field("", max_length=300, description="A scanned UDI, a serial or a lot.")
    unit_id: Id | None = None
    lot_id: Id | None = None
    product_id: Id | None = None
    eu_reportability_at: dt.datetime | None = None
    occurred_at: dt.datetime | None = None
    occurred_where: str = Field("", max_length=200)
    occurred_place: Literal["CN", "US", "EU", "OTHER"] = "CN"
    narrative: str = Field("", max_length=NARRATIVE_MAX * 5)
    public_health_threat: bool = False
    unanticipated: bool = False
    remedial_action: bool = False
    fda_written_request: bool = False
    cluster: bool = False
    expected_side_effect: bool = False
    markets: list[Literal["CN", "US", "EU"]] = Field(default_factory=list, max_length=3)
    imdrf_codes: list[str] = Field(default_factory=list, max_length=50)
    patient_name: str = Field("", max_length=100)
    patient_birth_date: dt.date | None = None
    patient_age: str = Field("", max_length=20)
    patient_sex: Literal["", "F", "M", "U"] = ""
    patient_record_number: str = Field("", max_length=60)
    patient_history: str = Field("", max_length=20000)


class EventPatch(Versioned):
    title: str | None = Field(None, min_length=1, max_length=200)
    aware_at: dt.datetime | None = None
    outcome: Literal["death", "serious_injury", "malfunction", "other"] | None = None
    eu_reportability_at: dt.datetime | None = None
    occurred_at: dt.datetime | None = None
    occurred_where: str | None = Field(None, max_length=200)
    occurred_place: Literal["CN", "US", "EU", "OTHER"] | None = None
    narrative: str | None = Field(None, max_length=NARRATIVE_MAX * 5)
    public_health_threat: bool | None = None
    unanticipated: bool | None = None
    remedial_action: bool | None = None
    fda_written_request: bool | None = None
    cluster: bool | None = None
    expected_side_effect: bool | None = None
    device: str | None = Field(None, max_length=300)
    markets: list[Literal["CN", "US", "EU"]] | None = Field(None, max_length=3)
    imdrf_codes: list[str] | None = Field(None, max_length=50)
    patient_name: str | None = Field(None, max_length=100)
    patient_history: str | None = Field(None, max_length=20000)


class SignIn(Schema):
    password: str = Field(..., max_length=200)
    comment: str = Field("", max_length=5000)


class NotReportableIn(Schema):
    password: str = Field(..., max_length=200)
    basis: str = Field(..., max_length=10000)


class ReviseIn(Schema):
    reason: str = Field(..., max_length=5000)


class ReportPatch(Versioned):
    narrative: str | None = Field(None, max_length=NARRATIVE_MAX * 5)
    new_information: str | None = Field(None, max_length=20000)
    regulator_reference: str | None = Field(None, max_length=100)


class SubmitIn(Schema):
    password: str = Field(..., max_length=200)
    regulator_reference: str = Field("", max_length=100)
    submitted_at: dt.datetime | None = None
    comment: str = Field("", max_length=5000)


class FollowUpIn(Schema):
    market: Literal["CN", "US", "EU"]
    kind: Literal["follow_up", "final"] = "follow_up"
    new_information: str = Field(..., max_length=20000)
    received_at: dt.datetime | None = None


class BoardRowOut(Schema):
    event_id: int
    event_number: str
    market: str
    kind: str
    rule: str
    title: str
    due_at: dt.datetime | None
    remaining_seconds: int | None
    state: str
    url: str


class RateOut(Schema):
    market: str
    on_time: int
    late: int
    overdue: int
    pending: int
    rate: float | None


class BoardOut(Schema):
    rows: list[BoardRowOut]
    rates: list[RateOut]


class ListQuery(Schema):
    q: str = Field("", max_length=100)
    status: Literal["", "open", "closed", "voided"] = ""
    outcome: Literal["", "death", "serious_injury", "malfunction", "other"] = ""


# --- out -------------------------------------------------------------------------------------


def _decision_out(d: ReportabilityDecision) -> dict[str, Any]:
    return {
        **{
            k: getattr(d, k)
            for k in (
                "id",
                "market",
                "status",
                "proposed_reportable",
                "fired_rule",
                "fired_citation",
                "proposal_reason",
                "deadline_rules",
                "decided_reportable",
                "basis",
                "decided_at",
                "supersedes_id",
                "revision_reason",
                "version",
            )
        },
        "decided_by": d.decided_by.username if d.decided_by_id and d.decided_by else None,
    }


def _report_out(r: VigilanceReport, user: Any) -> dict[str, Any]:
    return {
        **{
            k: getattr(r, k)
            for k in (
                "id",
                "number",
                "event_id",
                "market",
                "kind",
                "status",
                "deadline_rule",
                "clock_started_at",
                "due_at",
                "narrative",
                "new_information",
                "submitted_at",
                "regulator_reference",
                "version",
            )
        },
        "content": rep_svc.masked_snapshot(r.content, user) if r.content else None,
        "url": r.get_absolute_url(),
    }


def _event_out(e: AdverseEvent, user: Any, *, detail: bool = False) -> dict[str, Any]:
    see = user.has_perm(PATIENT_PERM)
    out = {
        k: getattr(e, k)
        for k in (
            "id",
            "number",
            "version",
            "status",
            "title",
            "source",
            "source_reference",
            "feedback_id",
            "aware_at",
            "eu_reportability_at",
            "occurred_at",
            "occurred_where",
            "occurred_place",
            "outcome",
            "narrative",
            "public_health_threat",
            "unanticipated",
            "remedial_action",
            "fda_written_request",
            "cluster",
            "expected_side_effect",
            "cluster_lead_id",
            "product_id",
            "lot_id",
            "unit_id",
            "udi_text",
            "udi_di",
            "udi_pi",
            "markets",
            "market_sources",
            "imdrf_codes",
        )
    }
    for name in AdverseEvent.PATIENT_FIELDS:
        value = getattr(e, name)
        text = value.isoformat() if isinstance(value, dt.date) else (value or "")
        out[name] = text if (see or not text) else MASK
    out["url"] = e.get_absolute_url()
    if detail:
        out["imdrf_terms"] = ev_svc.imdrf_terms(e.imdrf_codes)
        out["decisions"] = [
            _decision_out(d) for d in e.decisions.select_related("decided_by").order_by("id")
        ]
        out["reports"] = [_report_out(r, user) for r in e.reports.order_by("id")]
    return out


# --- events ----------------------------------------------------------------------------------


@router.get("/events", response={200: EventPage, **error_responses(403)})
def list_events(request: HttpRequest, filters: Query[ListQuery], page: Query[PageParams]) -> Any:
    """The adverse events the user may see, newest awareness first (paginated)."""
    _require_perm(request, VIEW)
    user = api_user(request)
    qs = scope_for_user(user, AdverseEvent)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.outcome:
        qs = qs.filter(outcome=filters.outcome)
    if filters.q.strip():
        qs = qs.filter(title__icontains=filters.q.strip()) | qs.filter(
            number__icontains=filters.q.strip()
        )
    result = paginate_queryset(qs.order_by("-aware_at", "-id"), page.limit, page.offset)
    result["items"] = [_event_out(e, user) for e in result["items"]]
    return result


@router.post(
    "/events",
    response={201: EventOut, **error_responses(403, 404)},
    auth=auth_with_perm(ev_svc.ADD_PERM),
)
def create_event(request: HttpRequest, payload: EventIn) -> Any:
    """Raise an event (VIG-1): directly, from a service visit, or from a complaint evaluation
    whose adverse-event hand-off is pending (`evaluation_id`; the complaint's facts are taken
    over and the hand-off completed). Markets come from traceability; decisions are proposed."""
    user = api_user(request)
    data = payload.dict()
    evaluation = None
    if data.pop("evaluation_id") is not None:
        from medvigil.complaints.models import Evaluation, Feedback

        evaluation = api_get_object(request, Evaluation, pk=payload.evaluation_id)
        api_get_object(request, Feedback, pk=evaluation.feedback_id)
    for key in ("unit", "lot", "product"):
        value = data.pop(f"{key}_id")
        if value is not None:
            data[key] = value
    if not data["device"]:
        data.pop("device")
    if evaluation is not None:
        # only what the caller gave overrides the complaint's facts
        data = {k: v for k, v in data.items() if k in payload.model_fields_set or k == "aware_at"}
    event = ev_svc.create_event(by=user, evaluation=evaluation, **data)
    return Status(201, _event_out(event, user, detail=True))


@router.get("/events/{event_id}", response={200: EventOut, **error_responses(403, 404)})
def get_event(request: HttpRequest, event_id: Id) -> Any:
    """One event with its decisions and reports."""
    _require_perm(request, VIEW)
    user = api_user(request)
    return _event_out(api_get_object(request, AdverseEvent, pk=event_id), user, detail=True)


@router.patch(
    "/events/{event_id}",
    response={200: EventOut, **error_responses(403, 404, 409)},
    auth=auth_with_perm(ev_svc.CHANGE_PERM),
)
def update_event(request: HttpRequest, event_id: Id, payload: EventPatch) -> Any:
    """Change an open event; `version` is the one read (else 409)."""
    user = api_user(request)
    event = api_get_object(request, AdverseEvent, "change", pk=event_id)
    data = {
        k: v
        for k, v in payload.dict(exclude_unset=True).items()
        if k != "version" and v is not None
    }
    if {"patient_name", "patient_history"} & set(data) and not user.has_perm(PATIENT_PERM):
        raise ValidationError(_("You may not change patient data."))
    event = ev_svc.update_event(event, by=user, version=payload.version, **data)
    return _event_out(event, user, detail=True)


@router.post(
    "/events/{event_id}/follow-ups",
    response={201: ReportOut, **error_responses(403, 404)},
    auth=auth_with_perm(rep_svc.ADD_PERM),
)
def follow_up(request: HttpRequest, event_id: Id, payload: FollowUpIn) -> Any:
    """New information: a follow-up (or final) report in a market, with its own deadline (US:
    us.supplemental, 30 days from receipt)."""
    user = api_user(request)
    event = api_get_object(request, AdverseEvent, pk=event_id)
    report = rep_svc.open_follow_up(
        event,
        by=user,
        market=payload.market,
        kind=payload.kind,
        new_information=payload.new_information,
        received_at=payload.received_at,
    )
    return Status(201, _report_out(report, user))


# --- decisions (VIG-2) -----------------------------------------------------------------------


def _decision(request: HttpRequest, pk: int) -> ReportabilityDecision:
    d = api_get_object(request, ReportabilityDecision, pk=pk)
    api_get_object(request, AdverseEvent, pk=d.event_id)
    return d


@router.post(
    "/decisions/{decision_id}/confirm",
    response={200: DecisionOut, **error_responses(403, 404)},
    auth=auth_with_perm(dec_svc.DECIDE_PERM),
)
def confirm(request: HttpRequest, decision_id: Id, payload: SignIn) -> Any:
    """The qualified person confirms "reportable" (e-signature); the initial reports open."""
    d = dec_svc.confirm_decision(
        _decision(request, decision_id),
        by=api_user(request),
        password=payload.password,
        comment=payload.comment,
        request=request,
    )
    return _decision_out(d)


@router.post(
    "/decisions/{decision_id}/not-reportable",
    response={200: DecisionOut, **error_responses(403, 404)},
    auth=auth_with_perm(dec_svc.DECIDE_PERM),
)
def not_reportable(request: HttpRequest, decision_id: Id, payload: NotReportableIn) -> Any:
    """The qualified person decides "not reportable" with a written basis (e-signature)."""
    d = dec_svc.decide_not_reportable(
        _decision(request, decision_id),
        by=api_user(request),
        password=payload.password,
        basis=payload.basis,
        request=request,
    )
    return _decision_out(d)


@router.post(
    "/decisions/{decision_id}/revise",
    response={201: DecisionOut, **error_responses(403, 404)},
    auth=auth_with_perm(dec_svc.DECIDE_PERM),
)
def revise(request: HttpRequest, decision_id: Id, payload: ReviseIn) -> Any:
    """New information: the decision is superseded (kept) and a new proposal made."""
    d = dec_svc.revise_decision(
        _decision(request, decision_id), by=api_user(request), reason=payload.reason
    )
    return Status(201, _decision_out(d))


# --- reports (VIG-4) ---------------------------------------------------------------------------


def _report(request: HttpRequest, pk: int, action: str = "view") -> VigilanceReport:
    r = api_get_object(request, VigilanceReport, action, pk=pk)
    api_get_object(request, AdverseEvent, pk=r.event_id)
    return r


@router.get("/reports", response={200: list[ReportOut], **error_responses(403)})
def list_reports(
    request: HttpRequest, status: Literal["", "draft", "submitted", "voided"] = ""
) -> Any:
    """The reports of the events the user may see, by due date (at most 500)."""
    _require_perm(request, "vigilance.view_vigilancereport")
    user = api_user(request)
    qs = scope_for_user(user, VigilanceReport).filter(event__in=scope_for_user(user, AdverseEvent))
    if status:
        qs = qs.filter(status=status)
    return [_report_out(r, user) for r in qs.order_by("due_at", "id")[:500]]


@router.get("/reports/{report_id}", response={200: ReportOut, **error_responses(403, 404)})
def get_report(request: HttpRequest, report_id: Id) -> Any:
    _require_perm(request, "vigilance.view_vigilancereport")
    return _report_out(_report(request, report_id), api_user(request))


@router.patch(
    "/reports/{report_id}",
    response={200: ReportOut, **error_responses(403, 404, 409)},
    auth=auth_with_perm(rep_svc.CHANGE_PERM),
)
def update_report(request: HttpRequest, report_id: Id, payload: ReportPatch) -> Any:
    """Edit a draft report (narrative at most 4,000 characters)."""
    user = api_user(request)
    data = {
        k: v
        for k, v in payload.dict(exclude_unset=True).items()
        if k != "version" and v is not None
    }
    r = rep_svc.update_report(
        _report(request, report_id, "change"), by=user, version=payload.version, **data
    )
    return _report_out(r, user)


@router.post(
    "/reports/{report_id}/submit",
    response={200: ReportOut, **error_responses(403, 404)},
    auth=auth_with_perm(rep_svc.SUBMIT_PERM),
)
def submit(request: HttpRequest, report_id: Id, payload: SubmitIn) -> Any:
    """Mark submitted: content frozen, submission moment and regulator's reference, signed."""
    user = api_user(request)
    r = rep_svc.submit_report(
        _report(request, report_id),
        by=user,
        password=payload.password,
        regulator_reference=payload.regulator_reference,
        submitted_at=payload.submitted_at,
        comment=payload.comment,
        request=request,
    )
    return _report_out(r, user)


# --- board (VIG-7) -----------------------------------------------------------------------------


@router.get("/board", response={200: BoardOut, **error_responses(403)})
def board(request: HttpRequest, market: Literal["", "CN", "US", "EU"] = "") -> Any:
    """Every running clock, most urgent first, and this year's on-time rate per market."""
    _require_perm(request, VIEW)
    user = api_user(request)
    now = timezone.now()
    rows = board_svc.board_rows(user, now=now, market=market)
    today = timezone.localdate()
    return {
        "rows": [
            {
                "event_id": r.event.pk,
                "event_number": r.event.number,
                "market": r.market,
                "kind": r.kind,
                "rule": r.rule,
                "title": r.title,
                "due_at": r.due_at,
                "remaining_seconds": None
                if r.due_at is None
                else int((r.due_at - now).total_seconds()),
                "state": r.state(now),
                "url": r.url,
            }
            for r in rows
        ],
        "rates": board_svc.on_time_rates(today.replace(month=1, day=1), today, user=user, now=now),
    }


# --- trend reporting (MDR Art. 88) ------------------------------------------------------------


class TrendQuery(Schema):
    periods: int = Field(6, ge=1, le=24)
    product_id: Id | None = None


class TrendRowOut(Schema):
    product_id: int
    product_code: str
    period: str
    period_start: dt.date
    period_end: dt.date
    complete: bool
    observed: int
    expected: float
    p_value: float
    alpha: float
    signal: bool
    signal_id: int | None
    trend_report_id: int | None


class BaselineIn(Schema):
    product_id: Id
    expected_count: float = Field(..., description="Expected events per period (> 0).")
    period: Literal["month", "quarter"] = "month"
    alpha: float = Field(0.05, description="Significance level (0 < alpha <= 0.2).")
    basis: str = Field("", max_length=5000)


class BaselineOut(Schema):
    id: int
    product_id: int
    period: str
    expected_count: float
    alpha: float
    basis: str


class TrendReportOut(Schema):
    id: int
    number: str
    status: str
    product_id: int
    signal_id: int
    narrative: str
    measures: str
    regulator_reference: str
    submitted_at: dt.datetime | None
    content: dict[str, Any] | None
    version: int
    url: str


class TrendReportPatch(Versioned):
    narrative: str | None = Field(None, max_length=NARRATIVE_MAX * 5)
    measures: str | None = Field(None, max_length=NARRATIVE_MAX * 5)
    regulator_reference: str | None = Field(None, max_length=100)


class TrendSubmitIn(Schema):
    password: str = Field(..., max_length=200)
    regulator_reference: str = Field("", max_length=200)
    comment: str = Field("", max_length=5000)


def _trend_report_out(r: TrendReport) -> dict[str, Any]:
    return {
        "id": r.pk,
        "number": r.number,
        "status": r.status,
        "product_id": r.product_id,
        "signal_id": r.signal_id,
        "narrative": r.narrative,
        "measures": r.measures,
        "regulator_reference": r.regulator_reference,
        "submitted_at": r.submitted_at,
        "content": r.content,
        "version": r.version,
        "url": r.get_absolute_url(),
    }


@router.get("/trends", response={200: list[TrendRowOut], **error_responses(403, 404)})
def trends(request: HttpRequest, filters: Query[TrendQuery]) -> Any:
    """The trend figures (MDR Art. 88): every product with a baseline × its last `periods`
    periods — observed vs expected, the one-sided Poisson p-value, the signal flag."""
    from medvigil.trace.models import Product

    _require_perm(request, trend_svc.VIEW_PERM)
    user = api_user(request)
    product = (
        api_get_object(request, Product, pk=filters.product_id) if filters.product_id else None
    )
    rows = trend_svc.trend_rows(user=user, count=filters.periods, product=product)
    return [
        {
            "product_id": r.product.pk,
            "product_code": r.product.code,
            "period": r.baseline.period,
            "period_start": r.start,
            "period_end": r.end,
            "complete": r.complete,
            "observed": r.observed,
            "expected": float(r.expected),
            "p_value": r.p_value,
            "alpha": float(r.baseline.alpha),
            "signal": r.signal,
            "signal_id": r.signal_record.pk if r.signal_record else None,
            "trend_report_id": r.report.pk if r.report else None,
        }
        for r in rows
    ]


@router.post(
    "/trends/baselines",
    response={200: BaselineOut, **error_responses(403, 404)},
    auth=auth_with_perm(trend_svc.BASELINE_PERM),
)
def set_baseline(request: HttpRequest, payload: BaselineIn) -> Any:
    """Set (or change) a product's trend baseline; audited."""
    from medvigil.trace.models import Product

    user = api_user(request)
    product = api_get_object(request, Product, pk=payload.product_id)
    b = trend_svc.set_baseline(
        by=user,
        product=product,
        expected_count=payload.expected_count,
        period=payload.period,
        alpha=payload.alpha,
        basis=payload.basis,
    )
    return {
        "id": b.pk,
        "product_id": b.product_id,
        "period": b.period,
        "expected_count": float(b.expected_count),
        "alpha": float(b.alpha),
        "basis": b.basis,
    }


@router.post(
    "/trends/signals/{signal_id}/report",
    response={201: TrendReportOut, **error_responses(403, 404)},
    auth=auth_with_perm(trend_svc.REPORT_PERM),
)
def open_trend_report(request: HttpRequest, signal_id: Id) -> Any:
    """A signal becomes a draft trend report."""
    from medvigil.trace.models import Product

    user = api_user(request)
    signal = api_get_object(
        request,
        TrendSignal.objects.filter(product__in=scope_for_user(user, Product)),
        pk=signal_id,
    )
    return Status(201, _trend_report_out(trend_svc.open_trend_report(signal, by=user)))


@router.get(
    "/trend-reports/{report_id}", response={200: TrendReportOut, **error_responses(403, 404)}
)
def get_trend_report(request: HttpRequest, report_id: Id) -> Any:
    _require_perm(request, trend_svc.VIEW_PERM)
    return _trend_report_out(api_get_object(request, TrendReport, pk=report_id))


@router.patch(
    "/trend-reports/{report_id}",
    response={200: TrendReportOut, **error_responses(403, 404, 409)},
    auth=auth_with_perm(trend_svc.CHANGE_REPORT_PERM),
)
def update_trend_report(request: HttpRequest, report_id: Id, payload: TrendReportPatch) -> Any:
    user = api_user(request)
    r = api_get_object(request, TrendReport, "change", pk=report_id)
    data = {
        k: v
        for k, v in payload.dict(exclude_unset=True).items()
        if k != "version" and v is not None
    }
    return _trend_report_out(
        trend_svc.update_trend_report(r, by=user, version=payload.version, **data)
    )


@router.post(
    "/trend-reports/{report_id}/submit",
    response={200: TrendReportOut, **error_responses(403, 404)},
    auth=auth_with_perm(trend_svc.SUBMIT_PERM),
)
def submit_trend_report(request: HttpRequest, report_id: Id, payload: TrendSubmitIn) -> Any:
    """Mark the trend report submitted: frozen and signed (the password re-entered)."""
    user = api_user(request)
    r = api_get_object(request, TrendReport, pk=report_id)
    done = trend_svc.submit_trend_report(
        r,
        by=user,
        password=payload.password,
        regulator_reference=payload.regulator_reference,
        comment=payload.comment,
        request=request,
    )
    return _trend_report_out(done)


__all__ = ["Market"]
