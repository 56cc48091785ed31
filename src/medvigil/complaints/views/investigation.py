"""Pages of the investigation (FBK-6): start, the root-cause form, completion."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medvigil.core.permissions import get_object_for_user, permission_required
from medvigil.core.records.views import edit_record

from ..forms_flow import InvestigationForm
from ..models import Feedback, Investigation
from ..services import investigation as svc
from .flow import post_step


@permission_required("complaints.add_investigation")
@require_POST
def investigation_start(request: HttpRequest, pk: int) -> HttpResponse:
    fb = get_object_for_user(request.user, Feedback, pk=pk)
    return post_step(
        request,
        fb,
        lambda: svc.start_investigation(fb, by=request.user, version=request.POST.get("version")),
        _("Investigation started."),
        "investigation",
    )


def _investigation(request: HttpRequest, pk: int, action: str = "view") -> Investigation:
    inv = get_object_for_user(request.user, Investigation, action, pk=pk)
    get_object_for_user(request.user, Feedback, pk=inv.feedback_id)
    return inv


@permission_required("complaints.change_investigation")
def investigation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    inv = _investigation(request, pk, "change")
    form = InvestigationForm(request.POST or None, instance=inv, user=request.user)
    return edit_record(
        request,
        inv,
        form,
        svc.update_investigation,
        lambda done: _("Investigation saved."),
        _("Investigation of %(n)s") % {"n": inv.feedback.number},
    )


@permission_required("complaints.change_investigation")
@require_POST
def investigation_complete(request: HttpRequest, pk: int) -> HttpResponse:
    inv = _investigation(request, pk, "change")
    return post_step(
        request,
        inv.feedback,
        lambda: svc.complete_investigation(
            inv, by=request.user, version=request.POST.get("version")
        ),
        _("Investigation completed; the complaint goes to resolution."),
        "investigation",
    )
