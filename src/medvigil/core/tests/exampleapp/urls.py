"""Place 4 of 5: pages (included at /exampleapp/ automatically). The list page is a
declaration of the record view kit (search, filters, sort, pages, CSV/XLSX, the htmx table);
the create and edit pages are the kit's ``create_record`` and ``edit_record`` (service errors
and the version conflict on the form); the record page shows the platform's panels (history,
attachments, signatures, destruction) with one tag, ``{% record_panels obj %}``."""

from __future__ import annotations

from typing import Any

from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from medvigil.core.permissions import can, get_object_for_user, permission_required
from medvigil.core.records.forms import VersionedModelForm
from medvigil.core.records.issued_views import IssuedDocumentPages
from medvigil.core.records.lists import Column, Filter, RecordList
from medvigil.core.records.views import create_record, edit_record

from . import services
from .models import Inspection, InspectionReport

app_name = "exampleapp"


class InspectionList(RecordList):
    model = Inspection
    template = "exampleapp/inspection_list.html"
    table_template = "exampleapp/_inspection_table.html"
    search_fields = ("number", "title")
    filters = (
        Filter(
            "status",
            gettext_lazy("Status"),
            [("", gettext_lazy("All")), *Inspection.Status.choices],
        ),
    )
    columns = {
        "number": Column(gettext_lazy("Number"), lambda o: o.number, sort="number"),
        "title": Column(gettext_lazy("Title"), lambda o: o.title, sort="title"),
        "status": Column(gettext_lazy("Status"), lambda o: o.get_status_display(), sort="status"),
        "due": Column(
            gettext_lazy("Due"), lambda o: o.due_at.isoformat() if o.due_at else "", sort="due_at"
        ),
    }
    default_sort = "-number"
    export_name = "inspections"

    def extra_context(self, page: Any) -> dict[str, Any]:
        return {"can_add": can(self.user, Inspection, "add")}


inspection_list = InspectionList.as_view()


@require_GET
def inspection_detail(request: Any, pk: int) -> Any:
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    obj = get_object_for_user(request.user, Inspection, pk=pk)
    return render(request, "exampleapp/inspection.html", {"obj": obj})


class InspectionForm(VersionedModelForm):
    class Meta:
        model = Inspection
        fields = ["title"]


@permission_required("exampleapp.add_inspection")
@require_http_methods(["GET", "POST"])
def inspection_create(request: Any) -> Any:
    return create_record(
        request,
        InspectionForm(request.POST or None),
        services.create_inspection,
        lambda obj: _("Inspection %(number)s created.") % {"number": obj.number},
        _("New inspection"),
        cancel=reverse("exampleapp:inspection_list"),
    )


@permission_required("exampleapp.change_inspection")
@require_http_methods(["GET", "POST"])
def inspection_edit(request: Any, pk: int) -> Any:
    obj = get_object_for_user(request.user, Inspection, "change", pk=pk)
    return edit_record(
        request,
        obj,
        InspectionForm(request.POST or None, instance=obj),
        services.update_inspection,
        lambda o: _("Inspection %(number)s saved.") % {"number": o.number},
        _("Edit inspection %(number)s") % {"number": obj.number},
    )


REPORT_PAGES = IssuedDocumentPages(
    model=InspectionReport,
    template="exampleapp/report.html",
    element_id="report",
    issue_url="exampleapp:inspectionreport_issue",
    pdf_url="exampleapp:inspectionreport_pdf",
    render=services.report_pdf,
    issue=services.issue_report,
    success=lambda r: f"{r.number} issued.",
    dialog_title="Issue the report",
    dialog_button="Issue",
    dialog_text="Signed and frozen.",
)

# the report page (GET), its signed issue (POST) and the PDF (GET): the kit's views
inspectionreport_detail, inspectionreport_issue, inspectionreport_pdf = REPORT_PAGES.views()

urlpatterns = [
    path("reports/<int:pk>/", inspectionreport_detail, name="inspectionreport_detail"),
    path("reports/<int:pk>/issue/", inspectionreport_issue, name="inspectionreport_issue"),
    path("reports/<int:pk>/pdf/", inspectionreport_pdf, name="inspectionreport_pdf"),
    path("inspections/", inspection_list, name="inspection_list"),
    path("inspections/new/", inspection_create, name="inspection_create"),
    path("inspections/<int:pk>/edit/", inspection_edit, name="inspection_edit"),
    path("inspections/<int:pk>/", inspection_detail, name="inspection_detail"),
]
