"""Intake pages (FBK-1, FBK-2): the one-screen form and the device look-up that prefills it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from medvigil.core.records.views import apply_errors

from ..forms.intake import IntakeForm
from ..models import CONTACT_PERM, PATIENT_PERM
from ..services import intake

ADD_PERM = "complaints.add_feedback"


def _require_add(request: Any) -> None:
    if not request.user.has_perm(ADD_PERM):
        raise PermissionDenied


@login_required
@require_GET
def device_lookup(request: Any) -> Any:
    """htmx: what the scanned or typed text designates, shown beside the form."""
    _require_add(request)
    facts = intake.find_device(request.GET.get("device", ""), user=request.user)
    return render(request, "complaints/_device_facts.html", {"facts": facts})


@login_required
@require_http_methods(["GET", "POST"])
def feedback_new(request: Any) -> Any:
    """The intake form: the device is looked up again on submit (the preview is only a
    preview), so what is stored follows trace's records."""
    _require_add(request)
    kw = {
        "contact": request.user.has_perm(CONTACT_PERM),
        "patient": request.user.has_perm(PATIENT_PERM),
    }
    facts: dict[str, Any] = {}
    if request.method == "POST":
        form = IntakeForm(request.POST, request.FILES, **kw)
        if form.is_valid():
            data = form.service_data()
            device = form.cleaned_data.get("device", "").strip()
            if device:
                facts = intake.find_device(device, user=request.user)
                if "error" in facts:
                    # Not in our records: keep what the customer said; the record is still taken.
                    data["device_text"] = data.get("device_text") or device
                else:
                    data.update(intake.device_values(facts))
            answer = data.pop("answer", "")
            severity = data.pop("severity", "") or None
            severity_reason = data.pop("severity_reason", "")
            try:
                with transaction.atomic():
                    fb = intake.register_feedback(
                        by=request.user,
                        files=form.cleaned_data.get("photos") or [],
                        answer=answer,
                        severity=severity,
                        severity_reason=severity_reason,
                        **data,
                    )
            except ValidationError as e:
                apply_errors(form, e)
            else:
                messages.success(request, _("%(number)s registered.") % {"number": fb.number})
                return redirect(fb.get_absolute_url())
    else:
        form = IntakeForm(initial={"device": request.GET.get("device", "")}, **kw)
        if request.GET.get("device"):
            facts = intake.find_device(request.GET["device"], user=request.user)
    return render(request, "complaints/feedback_form.html", {"form": form, "facts": facts})


@login_required
@require_http_methods(["GET", "POST"])
def feedback_edit(request: Any, pk: int) -> Any:
    """Correct the intake facts of an open record (intake.update_feedback)."""
    from medvigil.core.permissions import get_object_for_user
    from medvigil.core.records.views import edit_record

    from ..forms.edit import FeedbackEditForm
    from ..models import Feedback

    obj = get_object_for_user(request.user, Feedback, "change", pk=pk)
    form = FeedbackEditForm(request.POST or None, instance=obj, user=request.user)
    return edit_record(
        request,
        obj,
        form,
        intake.update_feedback,
        lambda o: _("%(number)s saved.") % {"number": o.number},
        _("Edit %(number)s") % {"number": obj.number},
    )
