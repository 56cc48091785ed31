"""Pages of sales (TRC-4), installations (TRC-5) and returns (TRC-6)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medvigil.core.models import ConflictError
from medvigil.core.permissions import can, get_object_for_user, permission_required, scope_for_user
from medvigil.core.records.forms import ReasonForm
from medvigil.core.records.lists import Column, Filter, RecordList, parse_date
from medvigil.core.records.views import create_record, int_param, paginate, querystring

from . import services
from .forms import (
    AcceptForm,
    DispositionForm,
    InstallationForm,
    ReturnForm,
    SaleForm,
    parse_lot_line,
    scan_lines,
)
from .models import (
    Disposition,
    Installation,
    ReturnRecord,
    Sale,
    SaleStatus,
    Unit,
)
from .privacy import can_view_contacts, masked_contacts
from .udi import UdiError, find_unit

# --- sales (TRC-4) -------------------------------------------------------------------------


DATE_CSS = "col-12 col-sm-6 col-md-4"  # wide enough for the label and the whole date


class SaleList(RecordList):
    """Sales records (TRC-4): search by number, customer or reference; date range, seller level
    and status filters; sortable; CSV/XLSX export of the filtered list."""

    model = Sale
    template = "trace/sale_list.html"
    table_template = "trace/_sale_table.html"
    search_placeholder = gettext_lazy("Number, customer or reference")
    search_css = "col-12 col-md-4"
    filters = (
        Filter(
            "from",
            gettext_lazy("From"),
            parse=parse_date,
            field="sale_date__gte",
            widget="date",
            css=DATE_CSS,
        ),
        Filter(
            "to",
            gettext_lazy("To"),
            parse=parse_date,
            field="sale_date__lte",
            widget="date",
            css=DATE_CSS,
        ),
        Filter(
            "level",
            gettext_lazy("Seller"),
            [
                ("", gettext_lazy("All sellers")),
                ("ours", gettext_lazy("Our sales")),
                ("dealer", gettext_lazy("Dealers' sales")),
            ],
            css="col-6 col-md-3",
            apply=lambda qs, v, user: qs.filter(seller__isnull=v == "ours"),
        ),
        Filter(
            "status",
            gettext_lazy("Status"),
            [("", gettext_lazy("All")), *SaleStatus.choices],
        ),
    )
    columns = {
        "number": Column(gettext_lazy("Number"), lambda s: s.number, sort="number"),
        "date": Column(gettext_lazy("Date"), lambda s: s.sale_date.isoformat(), sort="sale_date"),
        "seller": Column(gettext_lazy("Seller"), lambda s: s.seller_name, sort="seller__name"),
        "buyer": Column(gettext_lazy("Buyer"), lambda s: s.buyer.name, sort="buyer__name"),
        "lines": Column(gettext_lazy("Lines"), lambda s: s.n_lines, sort="n_lines"),
        "reference": Column(gettext_lazy("Reference"), lambda s: s.reference),
        "handler": Column(gettext_lazy("Handler"), lambda s: s.handler_display),
        "status": Column(gettext_lazy("Status"), lambda s: s.get_status_display(), sort="status"),
    }
    default_sort = ("-sale_date", "-id")
    export_name = "sales"

    def queryset(self) -> Any:
        return (
            super()
            .queryset()
            .select_related("seller", "buyer", "handler")
            .annotate(n_lines=Count("lines"))
        )

    def search(self, qs: Any, q: str) -> Any:
        return qs.filter(
            Q(number__icontains=q)
            | Q(buyer__name__icontains=q)
            | Q(seller__name__icontains=q)
            | Q(reference__icontains=q)
        )

    def extra_context(self, page: Any) -> dict[str, Any]:
        return {"can_add": can(self.user, Sale, "add")}


sale_list = SaleList.as_view()


@permission_required("trace.view_sale")
@require_GET
def sale_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sale = get_object_for_user(
        request.user, Sale.objects.select_related("seller", "buyer", "handler"), "view", pk=pk
    )
    lines = paginate(
        request,
        sale.lines.select_related("product", "unit", "lot", "unit__lot").order_by("id"),
        100,
    )
    return render(
        request,
        "trace/sale_detail.html",
        {
            "sale": sale,
            "lines": lines,
            "buyer_contacts": masked_contacts(
                sale.buyer, ("address", "phone", "contact_person"), can_view_contacts(request.user)
            ),
            "void_form": ReasonForm(),
            "can_void": can(request.user, Sale, "change") and sale.status == SaleStatus.CONFIRMED,
            "qs": querystring(request),
        },
    )


@permission_required("trace.add_sale")
@require_http_methods(["GET", "POST"])
def sale_create(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {}
    if int_param(request.GET.get("unit")):
        unit = (
            scope_for_user(request.user, Unit)
            .select_related("holder")
            .filter(pk=int_param(request.GET.get("unit")))
            .first()
        )
        if unit is not None:
            initial["units"] = unit.serial
            if unit.holder_id and unit.holder and unit.holder.is_dealer:
                initial["seller"] = unit.holder.code
    form = SaleForm(request.POST or None, user=request.user, initial=initial)
    return create_record(
        request,
        form,
        services.create_sale,
        lambda sale: _("Sale %(n)s recorded.") % {"n": sale.number},
        _("New sale"),
        cancel=reverse("trace:sale_list"),
        template="trace/sale_form.html",
        values=_sale_values,
        rename={"lines": "units"},
    )


def _sale_values(form: SaleForm) -> dict[str, Any]:
    """The sale form's input as create_sale takes it: one line per unit, one per lot line."""
    data = form.cleaned_data
    return {
        "seller": data.get("seller"),
        "buyer": data["buyer"],
        "sale_date": data["sale_date"],
        "lines": [services.LineInput(unit=u) for u in data["units"]]
        + [services.LineInput(lot=lot, quantity=qty) for lot, qty in data["lot_lines"]],
        "handler_name": data.get("handler_name", ""),
        "reference": data.get("reference", ""),
        "notes": data.get("notes", ""),
    }


@permission_required("trace.add_sale")
@require_POST
def sale_preview(request: HttpRequest) -> HttpResponse:
    """htmx: one row per scanned line with the unit found or the error, while scanning."""
    rows: list[dict[str, Any]] = []
    seen: set[int] = set()
    for raw in scan_lines(request.POST.get("units", ""))[:500]:
        line = raw.strip()
        if not line:
            continue
        try:
            unit = find_unit(line, request.user)
        except UdiError as exc:
            rows.append({"text": line, "error": exc.message})
            continue
        dup = unit.pk in seen
        seen.add(unit.pk)
        rows.append({"text": line, "unit": unit, "error": _("listed twice") if dup else ""})
    lot_rows: list[dict[str, Any]] = []
    for raw in scan_lines(request.POST.get("lot_lines", ""))[:100]:
        line = raw.strip()
        if not line:
            continue
        try:
            lot, qty = parse_lot_line(line, request.user)
            lot_rows.append({"text": line, "lot": lot, "quantity": qty})
        except ValidationError as exc:
            lot_rows.append({"text": line, "error": " ".join(exc.messages)})
    return render(
        request,
        "trace/_sale_preview.html",
        {"rows": rows, "lot_rows": lot_rows, "count": sum(1 for r in rows if not r["error"])},
    )


@permission_required("trace.change_sale")
@require_POST
def sale_void(request: HttpRequest, pk: int) -> HttpResponse:
    sale = get_object_for_user(request.user, Sale, "change", pk=pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.void_sale(sale, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Sale %(n)s voided.") % {"n": sale.number})
    else:
        messages.error(request, _("Give the reason for voiding the sale."))
    return redirect(sale)


# --- installations (TRC-5) -----------------------------------------------------------------


@permission_required("trace.add_installation")
@require_http_methods(["GET", "POST"])
def installation_create(request: HttpRequest, unit_pk: int) -> HttpResponse:
    unit = get_object_for_user(
        request.user, Unit.objects.select_related("product", "holder"), "view", pk=unit_pk
    )
    initial: dict[str, Any] = {}
    if unit.holder_id and unit.holder:
        initial["customer"] = unit.holder.code
        if can_view_contacts(request.user):
            initial.update(
                address=unit.holder.address,
                contact_person=unit.holder.contact_person,
                contact_phone=unit.holder.phone,
            )
    form = InstallationForm(request.POST or None, initial=initial, user=request.user)
    return create_record(
        request,
        form,
        lambda by, **values: services.install_unit(unit, by=by, **values),
        lambda inst: _("Installation of %(u)s recorded.") % {"u": unit.serial},
        _("Install unit %(u)s") % {"u": unit},
        cancel=unit.get_absolute_url(),
        template="trace/form.html",
        values=lambda f: {
            "customer": f.cleaned_data["customer"],
            "installed_on": f.cleaned_data["installed_on"],
            **{
                name: f.cleaned_data.get(name, "")
                for name in ("department", "address", "contact_person", "contact_phone", "notes")
            },
            "accepted_on": f.cleaned_data.get("accepted_on"),
        },
        next_url=lambda inst: unit,
        rename={"unit": "__all__"},
        context={"customer_lookup": True},
    )


@permission_required("trace.change_installation")
@require_POST
def installation_accept(request: HttpRequest, pk: int) -> HttpResponse:
    inst = get_object_for_user(request.user, Installation, "change", pk=pk)
    form = AcceptForm(request.POST)
    if form.is_valid():
        try:
            inst = services.accept_installation(
                inst,
                accepted_on=form.cleaned_data["accepted_on"],
                version=form.cleaned_data.get("version"),
                by=request.user,
            )
        except (ValidationError, ConflictError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(
                request,
                _("Acceptance recorded; warranty until %(d)s.")
                % {"d": inst.warranty_end.isoformat() if inst.warranty_end else "—"},
            )
    else:
        messages.error(request, _("Give the acceptance date."))
    return redirect(reverse("trace:unit_detail", args=[inst.unit_id]))


# --- returns (TRC-6) -----------------------------------------------------------------------


class ReturnList(RecordList):
    """Returns (TRC-6): search by number, serial, lot or returning party; disposition filter;
    sortable; CSV/XLSX export of the filtered list."""

    model = ReturnRecord
    template = "trace/return_list.html"
    table_template = "trace/_return_table.html"
    search_placeholder = gettext_lazy("Number, serial, lot or returning party")
    search_css = "col-12 col-md-5"
    filters = (
        Filter(
            "disposition",
            gettext_lazy("Disposition"),
            [("", gettext_lazy("All dispositions")), *Disposition.choices],
            css="col-8 col-md-3",
        ),
    )
    columns = {
        "number": Column(gettext_lazy("Number"), lambda r: r.number, sort="number"),
        "date": Column(
            gettext_lazy("Date"), lambda r: r.return_date.isoformat(), sort="return_date"
        ),
        "product_code": Column(
            gettext_lazy("Product code"), lambda r: r.product.code, sort="product__code"
        ),
        "product": Column(gettext_lazy("Product"), lambda r: r.product.name),
        "item": Column(
            gettext_lazy("Serial / lot"),
            lambda r: r.unit.serial if r.unit else r.lot.lot_number if r.lot else "",
        ),
        "quantity": Column(gettext_lazy("Quantity"), lambda r: r.quantity, sort="quantity"),
        "returned_by": Column(
            gettext_lazy("Returning party"), lambda r: r.returned_by.name, sort="returned_by__name"
        ),
        "disposition": Column(
            gettext_lazy("Disposition"), lambda r: r.get_disposition_display(), sort="disposition"
        ),
    }
    default_sort = ("-return_date", "-id")
    export_name = "returns"

    def queryset(self) -> Any:
        return (
            super()
            .queryset()
            .select_related("product", "unit", "lot", "returned_by", "returned_to")
        )

    def search(self, qs: Any, q: str) -> Any:
        return qs.filter(
            Q(number__icontains=q)
            | Q(unit__serial__startswith=q)
            | Q(lot__lot_number__startswith=q)
            | Q(returned_by__name__icontains=q)
        )

    def extra_context(self, page: Any) -> dict[str, Any]:
        return {"can_add": can(self.user, ReturnRecord, "add")}


return_list = ReturnList.as_view()


@permission_required("trace.view_returnrecord")
@require_GET
def return_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ret = get_object_for_user(
        request.user,
        ReturnRecord.objects.select_related(
            "product", "unit", "lot", "unit__lot", "returned_by", "returned_to", "handler"
        ),
        "view",
        pk=pk,
    )
    form = DispositionForm(
        initial={
            "disposition": ret.disposition,
            "note": ret.disposition_note,
            "version": ret.version,
        }
    )
    return render(
        request,
        "trace/return_detail.html",
        {
            "ret": ret,
            "form": form,
            "can_change": can(request.user, ReturnRecord, "change"),
        },
    )


@permission_required("trace.add_returnrecord")
@require_http_methods(["GET", "POST"])
def return_create(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {}
    unit_pk = int_param(request.GET.get("unit"))
    if unit_pk:
        units = scope_for_user(request.user, Unit).select_related("holder")
        unit = units.filter(pk=unit_pk).first()
        if unit is not None:
            initial["unit"] = unit.serial
            if unit.holder:
                initial["returned_by"] = unit.holder.code
    form = ReturnForm(request.POST or None, user=request.user, initial=initial)
    return create_record(
        request,
        form,
        services.record_return,
        lambda ret: _("Return %(n)s recorded.") % {"n": ret.number},
        _("Record a return"),
        cancel=reverse("trace:return_list"),
        template="trace/form.html",
        values=_return_values,
        rename={"quantity": "lot_line"},
        context={"customer_lookup": True},
    )


def _return_values(form: ReturnForm) -> dict[str, Any]:
    """The return form's input as record_return takes it: a unit, or a lot and quantity."""
    data = form.cleaned_data
    lot_line = data.get("lot_line") if not data.get("unit") else None
    return {
        "unit": data.get("unit"),
        "lot": lot_line[0] if lot_line else None,
        "quantity": lot_line[1] if lot_line else 1,
        "returned_by": data["returned_by"],
        "returned_to": data.get("returned_to"),
        "return_date": data["return_date"],
        "reason": data["reason"],
        "disposition": data["disposition"],
        "disposition_note": data.get("disposition_note", ""),
    }


@permission_required("trace.change_returnrecord")
@require_POST
def return_disposition(request: HttpRequest, pk: int) -> HttpResponse:
    ret = get_object_for_user(request.user, ReturnRecord, "change", pk=pk)
    form = DispositionForm(request.POST)
    if form.is_valid():
        try:
            services.set_return_disposition(
                ret,
                disposition=form.cleaned_data["disposition"],
                note=form.cleaned_data.get("note", ""),
                version=form.cleaned_data.get("version"),
                by=request.user,
            )
        except (ValidationError, ConflictError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("Disposition saved."))
    else:
        messages.error(request, _("Choose a disposition."))
    return redirect(ret)
