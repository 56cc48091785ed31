"""Pages of the resolution stage (FBK-7): the remedy and reply form, the signed approvals, the
internal agreement, the reply, the customer's confirmation, the call-back, the signed closure
and reopening."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medvigil.core.models import ConflictError, Signature
from medvigil.core.permissions import get_object_for_user, permission_required
from medvigil.core.records.forms import ReasonForm
from medvigil.core.records.views import apply_errors, signed_action

from ..forms_flow import CallbackDoneForm, CallbackForm, ConfirmationForm, ReplyForm, ResolutionForm
from ..models import Feedback, Resolution, ResolutionApproval
from ..services import resolution as svc
from .flow import approval_dialog, close_dialog, post_step, record_page, resolution_for

CHANGE = "complaints.change_resolution"


def _resolution(request: HttpRequest, pk: int) -> Resolution:
    res = get_object_for_user(request.user, Resolution, "change", pk=pk)
    get_object_for_user(request.user, Feedback, pk=res.feedback_id)
    return res


@permission_required(CHANGE)
def resolution_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Propose or edit the resolution (its version is the complaint's)."""
    fb = get_object_for_user(request.user, Feedback, pk=pk)
    form = ResolutionForm(request.POST or None, feedback=fb, resolution=resolution_for(fb))
    if request.method == "POST" and form.is_valid():
        try:
            svc.propose_resolution(
                fb,
                by=request.user,
                version=form.cleaned_data.get("version"),
                **form.changed_values(),
            )
        except (ValidationError, ConflictError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Resolution saved."))
            return redirect(fb.get_absolute_url() + "#resolution")
    return render(
        request,
        "records/form.html",
        {
            "form": form,
            "title": _("Resolution of %(n)s") % {"n": fb.number},
            "cancel": fb.get_absolute_url() + "#resolution",
            "record": fb,
        },
    )


def _decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    a = get_object_for_user(request.user, ResolutionApproval, "change", pk=pk)
    fb = get_object_for_user(request.user, Feedback, pk=a.resolution.feedback_id)
    key = f"{'approve' if decision == 'approved' else 'reject'}-{a.pk}"

    def perform(password: str, comment: str) -> Any:
        return svc.decide_approval(
            a,
            by=request.user,
            decision=decision,
            password=password,
            comment=comment,
            request=request,
        )

    return signed_action(
        request,
        a,
        meaning=Signature.Meaning.APPROVED
        if decision == "approved"
        else Signature.Meaning.REVIEWED,
        perform=perform,
        dialog=lambda form: approval_dialog(request, a, decision, form),
        page=lambda dialog: record_page(request, fb, {key: dialog}),
        success=lambda done: (
            _("Resolution approved.") if decision == "approved" else _("Resolution rejected.")
        ),
        next_url=lambda done: fb.get_absolute_url() + "#resolution",
        comment_required=decision != "approved",
    )


@permission_required("complaints.change_resolutionapproval")
@require_POST
def approval_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, ResolutionApproval.Decision.APPROVED)


@permission_required("complaints.change_resolutionapproval")
@require_POST
def approval_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, ResolutionApproval.Decision.REJECTED)


@permission_required(CHANGE)
@require_POST
def resolution_agree(request: HttpRequest, pk: int) -> HttpResponse:
    res = _resolution(request, pk)
    return post_step(
        request,
        res.feedback,
        lambda: svc.agree_resolution(res, by=request.user, version=request.POST.get("version")),
        _("Internal agreement recorded."),
        "resolution",
    )


def _form_step(
    request: HttpRequest,
    res: Resolution,
    form: forms.Form,
    perform: Any,
    success: str,
) -> HttpResponse:
    if not form.is_valid():
        parts = []
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            text = " ".join(str(e) for e in errors)
            parts.append(f"{label}: {text}" if label else text)
        messages.error(request, " ".join(parts))
        return redirect(res.feedback.get_absolute_url() + "#resolution")
    data = dict(form.cleaned_data)
    version = data.pop("version", None)
    return post_step(
        request,
        res.feedback,
        lambda: perform(res, by=request.user, version=version, **data),
        success,
        "resolution",
    )


@permission_required(CHANGE)
@require_POST
def resolution_reply(request: HttpRequest, pk: int) -> HttpResponse:
    res = _resolution(request, pk)
    return _form_step(request, res, ReplyForm(request.POST), svc.send_reply, _("Reply sent."))


@permission_required(CHANGE)
@require_POST
def resolution_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    res = _resolution(request, pk)
    return _form_step(
        request,
        res,
        ConfirmationForm(request.POST),
        svc.record_confirmation,
        _("Customer's confirmation recorded."),
    )


@permission_required(CHANGE)
@require_POST
def callback_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    res = _resolution(request, pk)
    return _form_step(
        request, res, CallbackForm(request.POST), svc.schedule_callback, _("Call-back scheduled.")
    )


@permission_required(CHANGE)
@require_POST
def callback_done(request: HttpRequest, pk: int) -> HttpResponse:
    res = _resolution(request, pk)
    return _form_step(
        request, res, CallbackDoneForm(request.POST), svc.record_callback, _("Call-back recorded.")
    )


@permission_required(svc.CLOSE_PERM)
@require_POST
def feedback_close(request: HttpRequest, pk: int) -> HttpResponse:
    fb = get_object_for_user(request.user, Feedback, pk=pk)

    def perform(password: str, comment: str) -> Any:
        return svc.close_feedback(
            fb, by=request.user, password=password, comment=comment, request=request
        )

    return signed_action(
        request,
        fb,
        meaning=Signature.Meaning.CLOSED,
        perform=perform,
        dialog=lambda form: close_dialog(request, fb, form),
        page=lambda dialog: record_page(request, fb, {"close": dialog}),
        success=lambda done: _("Complaint closed and signed."),
    )


class ReopenForm(ReasonForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


@permission_required(svc.CLOSE_PERM)
def feedback_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    fb = get_object_for_user(request.user, Feedback, pk=pk)
    form = ReopenForm(request.POST or None, initial={"version": fb.version})
    if request.method == "POST" and form.is_valid():
        try:
            svc.reopen_feedback(
                fb,
                by=request.user,
                version=form.cleaned_data.get("version"),
                reason=form.cleaned_data["reason"],
            )
        except (ValidationError, ConflictError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Complaint reopened."))
            return redirect(fb)
    return render(
        request,
        "records/form.html",
        {
            "form": form,
            "title": _("Reopen %(n)s") % {"n": fb.number},
            "cancel": fb.get_absolute_url(),
            "record": fb,
        },
    )
