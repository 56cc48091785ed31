"""Place 4 of 5: pages (included at /exampleapp/ automatically). The list page is a
declaration of the record view kit (search, filters, sort, pages, CSV/XLSX, the htmx table);
the record page shows the platform's panels (history, attachments, signatures, destruction)
with one tag, ``{% record_panels obj %}``."""

from __future__ import annotations

from typing import Any

from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from medvigil.core.permissions import get_object_for_user
from medvigil.core.records.lists import Column, Filter, RecordList

from .models import Inspection

app_name = "exampleapp"


class InspectionList(RecordList):
    model = Inspection
    template = "exampleapp/inspection_list.html"
    table_template = "exampleapp/_inspection_table.html"
    search_fields = ("number", "title")
    filters = (Filter("status", "Status", [("", "All"), *Inspection.Status.choices]),)
    columns = {
        "number": Column("Number", lambda o: o.number, sort="number"),
        "title": Column("Title", lambda o: o.title, sort="title"),
        "status": Column("Status", lambda o: o.get_status_display(), sort="status"),
        "due": Column("Due", lambda o: o.due_at.isoformat() if o.due_at else "", sort="due_at"),
    }
    default_sort = "-number"
    export_name = "inspections"


inspection_list = InspectionList.as_view()


@require_GET
def inspection_detail(request: Any, pk: int) -> Any:
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    obj = get_object_for_user(request.user, Inspection, pk=pk)
    return render(request, "exampleapp/inspection.html", {"obj": obj})


urlpatterns = [
    path("inspections/", inspection_list, name="inspection_list"),
    path("inspections/<int:pk>/", inspection_detail, name="inspection_detail"),
]
