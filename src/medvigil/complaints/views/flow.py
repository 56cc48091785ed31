"""What the record page shows of the evaluation, investigation and resolution stages
(FBK-5/6/7): each stage's record, the forms and signature dialogs the user may use, and the
next step for the user's role, read from the status machine and the guards on the model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from medvigil.core.models import ConflictError, Signature
from medvigil.core.templatetags.records import signature_dialog_context

from ..models import Evaluation, Feedback, Remedy, Resolution, ResolutionApproval
from ..services import investigation as inv_svc
from ..services import resolution as res_svc

EVALUATE = "complaints.evaluate_feedback"
APPROVE = "complaints.approve_feedback"


@dataclass
class Step:
    label: str
    anchor: str  # where on the page the step is done
    code: str = ""


def next_steps(fb: Feedback, user: Any) -> tuple[list[Step], str]:
    """The steps the user may take now, and, when none, who the complaint waits for."""
    steps: list[Step] = []
    has = user.has_perm
    ev = fb.current_evaluation
    res = fb.current_resolution
    S = Feedback.Status
    waiting = ""
    if fb.status == S.RECEIVED:
        # not routed on registration (no category yet: the public form, the mailbox)
        if has("complaints.change_feedback"):
            steps.append(Step(_("Give the category and route the complaint"), "severity-card"))
        waiting = _("Waiting for customer service to route the complaint.")
    elif fb.status == S.ROUTED:
        if fb.can_start_evaluation() and fb.is_quality_relevant:
            if has(EVALUATE):
                steps.append(Step(_("Start quality's evaluation"), "evaluation"))
            waiting = _("Waiting for quality's evaluation.")
        elif fb.can_start_resolution():
            if has("complaints.change_resolution"):
                steps.append(Step(_("Propose the resolution"), "resolution", "propose"))
            waiting = _("Waiting for the resolution.")
    elif fb.status == S.EVALUATION and ev is not None:
        if not ev.is_complete:
            if has(EVALUATE):
                steps.append(Step(_("Answer the evaluation questions"), "evaluation"))
            waiting = _("Waiting for quality's evaluation.")
        elif not ev.is_approved:
            if has(APPROVE):
                steps.append(Step(_("Approve the evaluation (e-signature)"), "evaluation"))
            waiting = _("Waiting for the management representative's approval.")
        elif fb.can_start_investigation():
            if has("complaints.add_investigation"):
                steps.append(Step(_("Start the investigation"), "investigation"))
            waiting = _("Waiting for the investigation.")
        elif fb.can_start_resolution():
            if has("complaints.change_resolution"):
                steps.append(Step(_("Propose the resolution"), "resolution", "propose"))
            waiting = _("Waiting for the resolution.")
    elif fb.status == S.INVESTIGATION:
        if has("complaints.change_investigation"):
            steps.append(
                Step(_("Record the root cause and complete the investigation"), "investigation")
            )
        waiting = _("Waiting for the investigation.")
    elif fb.status == S.RESOLUTION:
        open_res = res if res is not None and not res.is_replied else None
        if open_res is None or not open_res.remedies:
            if has("complaints.change_resolution"):
                steps.append(Step(_("Propose the resolution"), "resolution", "propose"))
            waiting = _("Waiting for the resolution.")
        elif not open_res.approvals_complete:
            roles = user.role_codes() if hasattr(user, "role_codes") else set()
            pending = [
                a
                for a in open_res.approvals.all()
                if not a.decision and a.role in open_res.required_roles()
            ]
            if any(a.role in roles for a in pending) and has(
                "complaints.change_resolutionapproval"
            ):
                steps.append(Step(_("Approve the resolution (e-signature)"), "resolution"))
            waiting = _("Waiting for the approval of: %(r)s") % {
                "r": ", ".join(res_svc.role_label(a.role) for a in pending)
            }
        elif not open_res.is_agreed:
            if has("complaints.change_resolution"):
                steps.append(Step(_("Record the internal agreement"), "resolution"))
            waiting = _("Waiting for the internal agreement.")
        else:
            if has("complaints.change_resolution"):
                steps.append(Step(_("Send the reply"), "resolution"))
            waiting = _("Waiting for the reply to the customer.")
    elif fb.status == S.REPLIED and res is not None:
        if not res.confirmation:
            if has("complaints.change_resolution"):
                steps.append(Step(_("Record the customer's confirmation"), "resolution"))
            waiting = _("Waiting for the customer's confirmation.")
        elif res.callback_due is not None and res.callback_done_at is None:
            if has("complaints.change_resolution"):
                steps.append(Step(_("Record the call-back"), "resolution"))
            waiting = _("Waiting for the call-back.")
        elif fb.can_close():
            if has(EVALUATE):
                steps.append(Step(_("Close the complaint (e-signature)"), "resolution"))
            waiting = _("Waiting for quality to close the complaint.")
    elif fb.status == S.CLOSED and has(EVALUATE):
        steps.append(Step(_("Reopen (with a reason)"), "resolution"))
    return steps, ("" if steps else waiting)


# --- signature dialogs ----------------------------------------------------------------------


def approve_evaluation_dialog(request: HttpRequest, ev: Evaluation, form: Any = None) -> dict:
    return signature_dialog_context(
        form_action=reverse("complaints:evaluation_approve", args=[ev.pk]),
        meaning=Signature.Meaning.APPROVED,
        csrf_token=get_token(request),
        dialog_id="evaluation-approve",
        title=_("Approve the evaluation"),
        button=_("Approve (e-signature)"),
        form=form,
        submit_label=_("Sign and approve"),
        version=ev.version,
        text=_("You approve the decision of no CAPA / no investigation and its justification."),
    )


def approval_dialog(
    request: HttpRequest, a: ResolutionApproval, decision: str, form: Any = None
) -> dict:
    approve = decision == ResolutionApproval.Decision.APPROVED
    return signature_dialog_context(
        form_action=reverse(
            "complaints:approval_approve" if approve else "complaints:approval_reject",
            args=[a.pk],
        ),
        meaning=Signature.Meaning.APPROVED if approve else Signature.Meaning.REVIEWED,
        csrf_token=get_token(request),
        dialog_id=f"approval-{a.pk}-{'approve' if approve else 'reject'}",
        title=_("Approve the resolution") if approve else _("Reject the resolution"),
        button=_("Approve") if approve else _("Reject"),
        button_class="btn-primary btn-sm" if approve else "btn-outline-danger btn-sm",
        form=form,
        comment_required=not approve,
        comment_label=None if approve else _("Why it is rejected"),
        submit_label=_("Sign and approve") if approve else _("Sign and reject"),
        version=a.version,
    )


def close_dialog(request: HttpRequest, fb: Feedback, form: Any = None) -> dict:
    return signature_dialog_context(
        form_action=reverse("complaints:feedback_close", args=[fb.pk]),
        meaning=Signature.Meaning.CLOSED,
        csrf_token=get_token(request),
        dialog_id="feedback-close",
        title=_("Close the complaint"),
        button=_("Close (e-signature)"),
        form=form,
        submit_label=_("Sign and close"),
        version=fb.version,
    )


# --- the page's context ---------------------------------------------------------------------


def flow_context(request: HttpRequest, fb: Feedback, dialogs: dict | None = None) -> dict:
    user = request.user
    dialogs = dialogs or {}
    ev = fb.current_evaluation
    inv = fb.current_investigation
    res = fb.current_resolution
    steps, waiting = next_steps(fb, user)
    roles = user.role_codes() if hasattr(user, "role_codes") else set()
    can_propose = any(s.code == "propose" for s in steps)
    ctx: dict[str, Any] = {
        "can_propose": can_propose,
        "fb": fb,
        "steps": steps,
        "waiting": waiting,
        "ev": ev,
        "inv": inv,
        "res": res,
        "evaluations": list(fb.evaluations.all()),
        "resolutions": _with_labels(fb.resolutions.all()),
        "is_complaint": fb.is_complaint,
        "can_evaluate": user.has_perm(EVALUATE),
        "can_investigate": user.has_perm("complaints.change_investigation"),
        "can_start_investigation": fb.can_start_investigation()
        and user.has_perm("complaints.add_investigation"),
        "can_resolve": user.has_perm("complaints.change_resolution"),
        "S": Feedback.Status,
    }
    if ev is not None:
        ctx["ev_answers"] = [
            (
                Evaluation._meta.get_field(q).verbose_name,
                getattr(ev, f"get_{q}_display")(),
                (ev.question_notes or {}).get(q, ""),
            )
            for q in Evaluation.QUESTIONS
        ]
        if ev.is_complete and ev.needs_approval and not ev.is_approved and user.has_perm(APPROVE):
            ctx["approve_dialog"] = dialogs.get("evaluation") or approve_evaluation_dialog(
                request, ev
            )
    if fb.status in (Feedback.Status.INVESTIGATION, Feedback.Status.RESOLUTION) or inv:
        ctx["related"] = {
            k: list(qs[: inv_svc.RELATED_LIMIT])
            for k, qs in inv_svc.related_feedback(fb, user=user).items()
        }
        ctx["history_links"] = inv_svc.unit_history_links(fb, user=user)
    if res is not None:
        approvals = []
        required = res.required_roles()
        for a in res.approvals.all():
            row: dict[str, Any] = {
                "a": a,
                "needed": a.role in required,
                "label": res_svc.role_label(a.role),
            }
            if (
                not a.decision
                and a.role in required
                and a.role in roles
                and fb.status == Feedback.Status.RESOLUTION
                and user.has_perm("complaints.change_resolutionapproval")
            ):
                row["approve"] = dialogs.get(f"approve-{a.pk}") or approval_dialog(
                    request, a, ResolutionApproval.Decision.APPROVED
                )
                row["reject"] = dialogs.get(f"reject-{a.pk}") or approval_dialog(
                    request, a, ResolutionApproval.Decision.REJECTED
                )
            approvals.append(row)
        ctx["approvals"] = approvals
    if fb.status == Feedback.Status.REPLIED and fb.can_close() and user.has_perm(EVALUATE):
        ctx["close_dialog"] = dialogs.get("close") or close_dialog(request, fb)
    if fb.status == Feedback.Status.REPLIED and res is not None:
        from ..forms_flow import CallbackDoneForm, CallbackForm, ConfirmationForm

        ctx["confirmation_form"] = ConfirmationForm(initial={"version": res.version})
        ctx["callback_form"] = CallbackForm(initial={"version": res.version})
        ctx["callback_done_form"] = CallbackDoneForm(initial={"version": res.version})
    if fb.status == Feedback.Status.RESOLUTION and res is not None and res.is_agreed:
        from ..forms_flow import ReplyForm

        ctx["reply_form"] = ReplyForm(
            initial={
                "version": res.version,
                "channel": "email" if fb.complainant_email else fb.channel,
            }
        )
    return ctx


def _with_labels(resolutions: Any) -> list[Resolution]:
    labels = dict(Remedy.choices)
    out = list(resolutions)
    for r in out:
        r.remedy_labels = [labels.get(c, c) for c in r.remedies]  # type: ignore[attr-defined]
    return out


# --- shared view helpers --------------------------------------------------------------------


def record_page(request: HttpRequest, fb: Feedback, dialogs: dict | None = None) -> HttpResponse:
    """The record page with a signature dialog open (a refused signature)."""
    return render(
        request,
        "complaints/feedback_detail.html",
        {"obj": fb, "flow_dialogs": dialogs or {}},
    )


def post_step(
    request: HttpRequest,
    fb: Feedback,
    perform: Callable[[], Any],
    success: str,
    anchor: str,
) -> HttpResponse:
    """A one-button step: the service's refusal is shown as a message, nothing changed."""
    try:
        perform()
    except (ValidationError, ConflictError) as exc:
        text = str(exc) if isinstance(exc, ConflictError) else " ".join(exc.messages)
        messages.error(request, text)
    except PermissionDenied:
        raise
    else:
        messages.success(request, success)
    return redirect(fb.get_absolute_url() + "#" + anchor)


def resolution_for(fb: Feedback) -> Resolution | None:
    res = fb.current_resolution
    return res if res is not None and not res.is_replied else None
