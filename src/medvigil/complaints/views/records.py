"""The feedback list (a RecordList declaration) and the record page ({% record_panels %})."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from medvigil.core.permissions import get_object_for_user
from medvigil.core.records.lists import Column, Filter, RecordList

from ..models import Category, Feedback, Kind, Severity


class FeedbackList(RecordList):
    model = Feedback
    template = "complaints/feedback_list.html"
    table_template = "complaints/_feedback_table.html"
    search_fields = ("number", "title", "complainant_organisation", "device_text", "udi_text")
    filters = (
        Filter("status", _("Status"), [("", _("All")), *Feedback.Status.choices]),
        Filter("kind", _("Kind"), [("", _("All")), *Kind.choices]),
        Filter("category", _("Category"), [("", _("All")), *Category.choices]),
        Filter("severity", _("Severity"), [("", _("All")), *Severity.choices]),
    )
    columns = {
        "number": Column(_("Number"), lambda o: o.number, sort="number"),
        "received": Column(_("Received"), lambda o: o.received_at.isoformat(), sort="received_at"),
        "kind": Column(_("Kind"), lambda o: o.get_kind_display(), sort="kind"),
        "title": Column(_("Subject"), lambda o: o.title, sort="title"),
        "category": Column(_("Category"), lambda o: o.get_category_display()),
        "severity": Column(_("Severity"), lambda o: o.get_severity_display(), sort="severity"),
        "status": Column(_("Status"), lambda o: o.get_status_display(), sort="status"),
    }
    default_sort = "-received_at"
    export_name = "feedback"


feedback_list = FeedbackList.as_view()


@login_required
@require_GET
def feedback_detail(request: Any, pk: int) -> Any:
    obj = get_object_for_user(request.user, Feedback, pk=pk)
    return render(request, "complaints/feedback_detail.html", {"obj": obj})
