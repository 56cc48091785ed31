"""CAPA-3 pages: suppliers (master data) and supplier corrective-action requests."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medvigil.core.permissions import can, get_object_for_user, permission_required
from medvigil.core.records.lists import Column, Filter, RecordList
from medvigil.core.records.views import create_record, edit_record

from ..forms import ResponseForm, ScarForm, ScarVerifyForm, SupplierForm
from ..models import Scar, Supplier
from ..services import suppliers as svc
from ._common import run_post


class SupplierList(RecordList):
    model = Supplier
    template = "capa/supplier_list.html"
    table_template = "capa/_supplier_table.html"
    search_fields = ("code", "name", "supplies")
    filters = (
        Filter(
            "status", gettext_lazy("Status"), [("", gettext_lazy("All")), *Supplier.Status.choices]
        ),
    )
    columns = {
        "code": Column(gettext_lazy("Code"), lambda o: o.code, sort="code"),
        "name": Column(gettext_lazy("Name"), lambda o: o.name, sort="name"),
        "supplies": Column(gettext_lazy("What it supplies"), lambda o: o.supplies),
        "status": Column(gettext_lazy("Status"), lambda o: o.get_status_display(), sort="status"),
        "approved": Column(
            gettext_lazy("Approved on"),
            lambda o: o.approved_on.isoformat() if o.approved_on else "",
            sort="approved_on",
        ),
    }
    default_sort = "code"
    export_name = "suppliers"

    def extra_context(self, page: Any) -> dict[str, Any]:
        return {"can_add": can(self.user, Supplier, "add")}


supplier_list = SupplierList.as_view()


@permission_required("capa.view_supplier")
@require_GET
def supplier_detail(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = get_object_for_user(request.user, Supplier, pk=pk)
    return render(
        request,
        "capa/supplier_detail.html",
        {
            "obj": supplier,
            "scars": list(supplier.scars.order_by("-id")[:50]),
            "nonconformities": list(supplier.nonconformities.order_by("-id")[:50]),
            "may_change": can(request.user, Supplier, "change"),
            "may_request": can(request.user, Scar, "add"),
        },
    )


@permission_required("capa.add_supplier")
@require_http_methods(["GET", "POST"])
def supplier_create(request: HttpRequest) -> HttpResponse:
    return create_record(
        request,
        SupplierForm(request.POST or None),
        svc.create_supplier,
        lambda s: _("Supplier %(c)s saved.") % {"c": s.code},
        _("New supplier"),
        cancel=reverse("capa:supplier_list"),
    )


@permission_required("capa.change_supplier")
@require_http_methods(["GET", "POST"])
def supplier_edit(request: HttpRequest, pk: int) -> HttpResponse:
    supplier = get_object_for_user(request.user, Supplier, "change", pk=pk)
    return edit_record(
        request,
        supplier,
        SupplierForm(request.POST or None, instance=supplier),
        svc.update_supplier,
        lambda s: _("Supplier %(c)s saved.") % {"c": s.code},
        _("Edit supplier %(c)s") % {"c": supplier.code},
    )


class ScarList(RecordList):
    model = Scar
    template = "capa/scar_list.html"
    table_template = "capa/_scar_table.html"
    search_fields = ("number", "title", "supplier__name")
    filters = (
        Filter("status", gettext_lazy("Status"), [("", gettext_lazy("All")), *Scar.Status.choices]),
    )
    columns = {
        "number": Column(gettext_lazy("Number"), lambda o: o.number, sort="number"),
        "supplier": Column(gettext_lazy("Supplier"), lambda o: o.supplier.name),
        "title": Column(gettext_lazy("Title"), lambda o: o.title, sort="title"),
        "due": Column(
            gettext_lazy("Response due"), lambda o: o.due_date.isoformat(), sort="due_date"
        ),
        "status": Column(gettext_lazy("Status"), lambda o: o.get_status_display(), sort="status"),
    }
    default_sort = "-number"
    export_name = "supplier-requests"

    def queryset(self) -> QuerySet:
        return super().queryset().select_related("supplier")

    def extra_context(self, page: Any) -> dict[str, Any]:
        return {"can_add": can(self.user, Scar, "add")}


scar_list = ScarList.as_view()


def _scar_for(request: HttpRequest, pk: int, action: str = "view") -> Scar:
    return get_object_for_user(
        request.user,
        Scar.objects.select_related("supplier", "nonconformity", "capa", "verified_by"),
        action,
        pk=pk,
    )


@permission_required("capa.view_scar")
@require_GET
def scar_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scar = _scar_for(request, pk)
    may_change = can(request.user, Scar, "change")
    return render(
        request,
        "capa/scar_detail.html",
        {
            "obj": scar,
            "response_form": ResponseForm(initial={"version": scar.version})
            if may_change and scar.status == Scar.Status.REQUESTED
            else None,
            "verify_form": ScarVerifyForm(initial={"version": scar.version})
            if may_change and scar.status == Scar.Status.RESPONDED
            else None,
        },
    )


@permission_required("capa.add_scar")
@require_http_methods(["GET", "POST"])
def scar_create(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {}
    if request.GET.get("supplier"):
        initial["supplier"] = request.GET.get("supplier")
    return create_record(
        request,
        ScarForm(request.POST or None, user=request.user, initial=initial),
        svc.request_scar,
        lambda s: _("Request %(n)s sent to the supplier.") % {"n": s.number},
        _("New supplier corrective-action request"),
        cancel=reverse("capa:scar_list"),
        values=lambda f: {k: v for k, v in f.cleaned_data.items() if k != "version"},
    )


@permission_required("capa.change_scar")
@require_POST
def scar_response(request: HttpRequest, pk: int) -> HttpResponse:
    scar = _scar_for(request, pk, "change")
    return run_post(
        request,
        scar,
        ResponseForm(request.POST),
        lambda d: svc.record_response(
            scar,
            by=request.user,
            version=d["version"],
            response=d["response"],
            supplier_root_cause=d["supplier_root_cause"],
            responded_on=d["responded_on"],
        ),
        _("Supplier response recorded."),
    )


@permission_required("capa.change_scar")
@require_POST
def scar_verify(request: HttpRequest, pk: int) -> HttpResponse:
    scar = _scar_for(request, pk, "change")
    return run_post(
        request,
        scar,
        ScarVerifyForm(request.POST),
        lambda d: svc.verify_scar(
            scar,
            by=request.user,
            version=d["version"],
            effective=d["effective"],
            verification=d["verification"],
            new_due_date=d["new_due_date"],
        ),
        _("Verification recorded."),
    )
