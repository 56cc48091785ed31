"""REST API of the evaluation, investigation and resolution stages (FBK-5/6/7), mounted with
the complaints app's API at /api/v1/complaints/. Every endpoint calls the stage's service: the
same rules and messages as the record page."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from medvigil.core.api import (
    Id,
    Versioned,
    api_get_object,
    api_user,
    auth_with_perm,
    error_responses,
)

from .models import Evaluation, Feedback, Investigation, Resolution, ResolutionApproval
from .services import evaluation as ev_svc
from .services import investigation as inv_svc
from .services import resolution as res_svc
from .views.flow import next_steps

router = Router(tags=["complaints"])

AnswerIn = Literal["", "yes", "no", "unknown"]
WRITE_ERRORS = error_responses(403, 404, 409)
SIGN_ERRORS = error_responses(403, 404)


# --- output ---------------------------------------------------------------------------------


def _values(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": obj.pk, "version": obj.version}
    for name in names:
        value = getattr(obj, name)
        if isinstance(value, decimal.Decimal):
            value = str(value)
        out[name] = value
    return out


EVALUATION_OUT = (
    *Evaluation.QUESTIONS,
    "question_notes",
    "summary",
    "adverse_event",
    "adverse_event_handoff",
    "adverse_event_reference",
    "capa_needed",
    "capa_handoff",
    "capa_reference",
    "no_capa_justification",
    "investigate",
    "not_investigated_justification",
    "same_as_id",
    "decided_at",
    "evaluated_by_id",
    "evaluated_at",
    "approved_by_id",
    "approved_at",
)
INVESTIGATION_OUT = (
    *inv_svc.EDITABLE[:6],
    "return_record_id",
    "returned_received_at",
    "test_results",
    "test_conclusion",
    "investigator_id",
    "started_at",
    "completed_at",
)
RESOLUTION_OUT = (
    *res_svc.EDITABLE,
    "agreed_at",
    "agreed_by_id",
    "reply_channel",
    "reply_sent_at",
    "reply_sent_by_id",
    "confirmation",
    "confirmed_at",
    "confirmation_note",
    "callback_due",
    "callback_done_at",
    "callback_by_id",
    "callback_note",
)


class FlowOut(Schema):
    id: int
    number: str
    status: str
    version: int
    next_steps: list[str] = Field(description="What the API user may do now.")
    waiting_for: str = ""
    evaluation: dict[str, Any] | None = None
    investigation: dict[str, Any] | None = None
    resolution: dict[str, Any] | None = None


def _flow(request: HttpRequest, fb: Feedback) -> dict[str, Any]:
    fb = Feedback.objects.get(pk=fb.pk)
    user = api_user(request)
    steps, waiting = next_steps(fb, user)
    ev, inv, res = fb.current_evaluation, fb.current_investigation, fb.current_resolution
    resolution = None
    if res is not None:
        resolution = _values(res, RESOLUTION_OUT)
        resolution["approvals"] = [
            {
                "id": a.pk,
                "version": a.version,
                "role": a.role,
                "decision": a.decision,
                "decided_by_id": a.decided_by_id,
                "decided_at": a.decided_at,
                "comment": a.comment,
            }
            for a in res.approvals.all()
        ]
    return {
        "id": fb.pk,
        "number": fb.number,
        "status": fb.status,
        "version": fb.version,
        "next_steps": [str(s.label) for s in steps],
        "waiting_for": str(waiting),
        "evaluation": _values(ev, EVALUATION_OUT) if ev else None,
        "investigation": _values(inv, INVESTIGATION_OUT) if inv else None,
        "resolution": resolution,
    }


def _feedback(request: HttpRequest, pk: int) -> Feedback:
    return api_get_object(request, Feedback, pk=pk)


def _child(request: HttpRequest, model: Any, pk: int, action: str = "view") -> Any:
    obj = api_get_object(request, model, action, pk=pk)
    fb_id = obj.resolution.feedback_id if isinstance(obj, ResolutionApproval) else obj.feedback_id
    return obj, _feedback(request, fb_id)


@router.get("/feedback/{pk}/flow", response={200: FlowOut, **error_responses(403, 404)})
def get_flow(request: HttpRequest, pk: Id) -> Any:
    """The complaint's evaluation, investigation and resolution, and the next steps."""
    return _flow(request, _feedback(request, pk))


# --- FBK-5 evaluation -----------------------------------------------------------------------


@router.post(
    "/feedback/{pk}/evaluation",
    response={200: FlowOut, **WRITE_ERRORS},
    auth=auth_with_perm(ev_svc.EVALUATE_PERM),
)
def start_evaluation(request: HttpRequest, pk: Id, payload: Versioned) -> Any:
    fb = _feedback(request, pk)
    ev_svc.start_evaluation(fb, by=api_user(request), version=payload.version)
    return _flow(request, fb)


class EvaluationIn(Versioned):
    nonconforming: AnswerIn | None = None
    misused: AnswerIn | None = None
    ifu_inadequate: AnswerIn | None = None
    failed_specification: AnswerIn | None = None
    death_or_serious_injury: AnswerIn | None = None
    device_related: AnswerIn | None = None
    question_notes: dict[str, str] | None = None
    summary: str | None = Field(None, max_length=20000)
    adverse_event: bool | None = None
    capa_needed: bool | None = None
    no_capa_justification: str | None = Field(None, max_length=20000)
    investigate: bool | None = None
    not_investigated_justification: str | None = Field(None, max_length=20000)
    same_as: Id | None = Field(None, description="Id of the complaint already investigated.")
    complete: bool = Field(False, description="Complete the evaluation (all questions).")


@router.patch(
    "/evaluations/{pk}",
    response={200: FlowOut, **WRITE_ERRORS},
    auth=auth_with_perm(ev_svc.EVALUATE_PERM),
)
def record_evaluation(request: HttpRequest, pk: Id, payload: EvaluationIn) -> Any:
    """Answer questions one by one (only the fields given change); `complete` finishes."""
    ev, fb = _child(request, Evaluation, pk)
    data = payload.dict(exclude_unset=True)
    data.pop("version", None)
    complete = data.pop("complete", False)
    data = {k: v for k, v in data.items() if v is not None or k == "same_as"}
    if "same_as" in data and data["same_as"] is not None:
        data["same_as"] = _feedback(request, data["same_as"])
    ev_svc.record_evaluation(
        ev, by=api_user(request), version=payload.version, complete=complete, **data
    )
    return _flow(request, fb)


class SignIn(Schema):
    password: str = Field(..., max_length=200)
    comment: str = Field("", max_length=2000)


@router.post(
    "/evaluations/{pk}/approve",
    response={200: FlowOut, **SIGN_ERRORS},
    auth=auth_with_perm(ev_svc.APPROVE_PERM),
)
def approve_evaluation(request: HttpRequest, pk: Id, payload: SignIn) -> Any:
    """The management representative's e-signature on "no CAPA" / "not investigated"."""
    ev, fb = _child(request, Evaluation, pk)
    ev_svc.approve_evaluation(
        ev,
        by=api_user(request),
        password=payload.password,
        comment=payload.comment,
        request=request,
    )
    return _flow(request, fb)


# --- FBK-6 investigation --------------------------------------------------------------------


@router.post(
    "/feedback/{pk}/investigation",
    response={200: FlowOut, **WRITE_ERRORS},
    auth=auth_with_perm("complaints.add_investigation"),
)
def start_investigation(request: HttpRequest, pk: Id, payload: Versioned) -> Any:
    fb = _feedback(request, pk)
    inv_svc.start_investigation(fb, by=api_user(request), version=payload.version)
    return _flow(request, fb)


class InvestigationIn(Versioned):
    method: Literal["", "5m1e", "fishbone", "fault_tree", "other"] | None = None
    factor: (
        Literal["", "man", "machine", "material", "method", "environment", "measurement"] | None
    ) = None
    analysis: str | None = Field(None, max_length=20000)
    root_cause: str | None = Field(None, max_length=20000)
    responsibility: (
        Literal["", "customer", "company", "supplier", "carrier", "undetermined"] | None
    ) = None
    correction: str | None = Field(None, max_length=20000)
    returned_received_at: dt.date | None = None
    test_results: str | None = Field(None, max_length=20000)
    test_conclusion: str | None = Field(None, max_length=20000)


@router.patch(
    "/investigations/{pk}",
    response={200: FlowOut, **WRITE_ERRORS},
    auth=auth_with_perm("complaints.change_investigation"),
)
def update_investigation(request: HttpRequest, pk: Id, payload: InvestigationIn) -> Any:
    inv, fb = _child(request, Investigation, pk, "change")
    data = payload.dict(exclude_unset=True)
    data.pop("version", None)
    data = {k: v for k, v in data.items() if v is not None or k == "returned_received_at"}
    inv_svc.update_investigation(inv, by=api_user(request), version=payload.version, **data)
    return _flow(request, fb)


@router.post(
    "/investigations/{pk}/complete",
    response={200: FlowOut, **WRITE_ERRORS},
    auth=auth_with_perm("complaints.change_investigation"),
)
def complete_investigation(request: HttpRequest, pk: Id, payload: Versioned) -> Any:
    inv, fb = _child(request, Investigation, pk, "change")
    inv_svc.complete_investigation(inv, by=api_user(request), version=payload.version)
    return _flow(request, fb)


# --- FBK-7 resolution -----------------------------------------------------------------------

RemedyIn = Literal[
    "repair", "replace", "return", "refund", "apology", "compensation", "service_improvement"
]


class ResolutionIn(Versioned):
    remedies: list[RemedyIn] | None = Field(None, max_length=10)
    remedy_detail: str | None = Field(None, max_length=20000)
    compensation_amount: decimal.Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    corrective_action: str | None = Field(None, max_length=20000)
    reply_text: str | None = Field(None, max_length=20000)


@router.put(
    "/feedback/{pk}/resolution",
    response={200: FlowOut, **WRITE_ERRORS},
    auth=auth_with_perm("complaints.change_resolution"),
)
def propose_resolution(request: HttpRequest, pk: Id, payload: ResolutionIn) -> Any:
    """Propose or edit the resolution (the version is the complaint's)."""
    fb = _feedback(request, pk)
    data = payload.dict(exclude_unset=True)
    data.pop("version", None)
    data = {k: v for k, v in data.items() if v is not None or k == "compensation_amount"}
    res_svc.propose_resolution(fb, by=api_user(request), version=payload.version, **data)
    return _flow(request, fb)


class DecisionIn(SignIn):
    decision: Literal["approved", "rejected"]


@router.post(
    "/approvals/{pk}/decide",
    response={200: FlowOut, **SIGN_ERRORS},
    auth=auth_with_perm("complaints.change_resolutionapproval"),
)
def decide_approval(request: HttpRequest, pk: Id, payload: DecisionIn) -> Any:
    a, fb = _child(request, ResolutionApproval, pk, "change")
    res_svc.decide_approval(
        a,
        by=api_user(request),
        decision=payload.decision,
        password=payload.password,
        comment=payload.comment,
        request=request,
    )
    return _flow(request, fb)


@router.post(
    "/resolutions/{pk}/agree",
    response={200: FlowOut, **WRITE_ERRORS},
    auth=auth_with_perm("complaints.change_resolution"),
)
def agree_resolution(request: HttpRequest, pk: Id, payload: Versioned) -> Any:
    res, fb = _child(request, Resolution, pk, "change")
    res_svc.agree_resolution(res, by=api_user(request), version=payload.version)
    return _flow(request, fb)


class ReplyIn(Versioned):
    channel: Literal[
        "phone",
        "fax",
        "letter",
        "email",
        "web",
        "visit",
        "sales",
        "service",
        "dealer",
        "regulator",
        "media",
        "internal",
        "api",
    ]


@router.post(
    "/resolutions/{pk}/reply",
    response={200: FlowOut, **WRITE_ERRORS},
    auth=auth_with_perm("complaints.change_resolution"),
)
def send_reply(request: HttpRequest, pk: Id, payload: ReplyIn) -> Any:
    """Send the agreed reply (by e-mail when the channel is e-mail)."""
    res, fb = _child(request, Resolution, pk, "change")
    res_svc.send_reply(res, by=api_user(request), version=payload.version, channel=payload.channel)
    return _flow(request, fb)


class ConfirmationIn(Versioned):
    confirmation: Literal["accepted", "rejected", "no_answer"]
    note: str = Field("", max_length=5000)


@router.post(
    "/resolutions/{pk}/confirmation",
    response={200: FlowOut, **WRITE_ERRORS},
    auth=auth_with_perm("complaints.change_resolution"),
)
def record_confirmation(request: HttpRequest, pk: Id, payload: ConfirmationIn) -> Any:
    res, fb = _child(request, Resolution, pk, "change")
    res_svc.record_confirmation(
        res,
        by=api_user(request),
        version=payload.version,
        confirmation=payload.confirmation,
        note=payload.note,
    )
    return _flow(request, fb)


class CallbackIn(Versioned):
    due: dt.date


@router.post(
    "/resolutions/{pk}/callback",
    response={200: FlowOut, **WRITE_ERRORS},
    auth=auth_with_perm("complaints.change_resolution"),
)
def schedule_callback(request: HttpRequest, pk: Id, payload: CallbackIn) -> Any:
    res, fb = _child(request, Resolution, pk, "change")
    res_svc.schedule_callback(res, by=api_user(request), version=payload.version, due=payload.due)
    return _flow(request, fb)


class CallbackDoneIn(Versioned):
    note: str = Field(..., max_length=5000)


@router.post(
    "/resolutions/{pk}/callback/done",
    response={200: FlowOut, **WRITE_ERRORS},
    auth=auth_with_perm("complaints.change_resolution"),
)
def record_callback(request: HttpRequest, pk: Id, payload: CallbackDoneIn) -> Any:
    res, fb = _child(request, Resolution, pk, "change")
    res_svc.record_callback(res, by=api_user(request), version=payload.version, note=payload.note)
    return _flow(request, fb)


@router.post(
    "/feedback/{pk}/close",
    response={200: FlowOut, **SIGN_ERRORS},
    auth=auth_with_perm(res_svc.CLOSE_PERM),
)
def close_feedback(request: HttpRequest, pk: Id, payload: SignIn) -> Any:
    """Close the complaint with quality's e-signature."""
    fb = _feedback(request, pk)
    res_svc.close_feedback(
        fb,
        by=api_user(request),
        password=payload.password,
        comment=payload.comment,
        request=request,
    )
    return _flow(request, fb)


class ReopenIn(Versioned):
    reason: str = Field(..., max_length=2000)


@router.post(
    "/feedback/{pk}/reopen",
    response={200: FlowOut, **WRITE_ERRORS},
    auth=auth_with_perm(res_svc.CLOSE_PERM),
)
def reopen_feedback(request: HttpRequest, pk: Id, payload: ReopenIn) -> Any:
    fb = _feedback(request, pk)
    res_svc.reopen_feedback(
        fb, by=api_user(request), version=payload.version, reason=payload.reason
    )
    return _flow(request, fb)
