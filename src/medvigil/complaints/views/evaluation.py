"""Pages of quality's evaluation (FBK-5): start, the questions and outcome form, the
management representative's signed approval."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medvigil.core.models import Signature
from medvigil.core.permissions import get_object_for_user, permission_required
from medvigil.core.records.views import edit_record, signed_action

from ..forms_flow import EvaluationForm
from ..models import Evaluation, Feedback
from ..services import evaluation as svc
from .flow import approve_evaluation_dialog, post_step, record_page


@permission_required(svc.EVALUATE_PERM)
@require_POST
def evaluation_start(request: HttpRequest, pk: int) -> HttpResponse:
    fb = get_object_for_user(request.user, Feedback, pk=pk)
    return post_step(
        request,
        fb,
        lambda: svc.start_evaluation(fb, by=request.user, version=request.POST.get("version")),
        _("Evaluation started."),
        "evaluation",
    )


def _evaluation(request: HttpRequest, pk: int) -> Evaluation:
    ev = get_object_for_user(request.user, Evaluation, pk=pk)
    # the complaint's object rule applies to its evaluation too
    get_object_for_user(request.user, Feedback, pk=ev.feedback_id)
    return ev


@permission_required(svc.EVALUATE_PERM)
def evaluation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    ev = _evaluation(request, pk)
    form = EvaluationForm(request.POST or None, instance=ev, user=request.user)

    def saved(done: Evaluation) -> str:
        if done.evaluated_at:
            return _("Evaluation completed.")
        return _("Evaluation saved.")

    return edit_record(
        request,
        ev,
        form,
        svc.record_evaluation,
        saved,
        _("Evaluation of %(n)s") % {"n": ev.feedback.number},
    )


@permission_required(svc.APPROVE_PERM)
@require_POST
def evaluation_approve(request: HttpRequest, pk: int) -> HttpResponse:
    ev = _evaluation(request, pk)

    def perform(password: str, comment: str) -> Any:
        return svc.approve_evaluation(
            ev, by=request.user, password=password, comment=comment, request=request
        )

    return signed_action(
        request,
        ev,
        meaning=Signature.Meaning.APPROVED,
        perform=perform,
        dialog=lambda form: approve_evaluation_dialog(request, ev, form),
        page=lambda dialog: record_page(request, ev.feedback, {"evaluation": dialog}),
        success=lambda done: _("Evaluation approved and signed."),
    )
