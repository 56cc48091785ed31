"""Pages of the catalogue, customers and licences, lots and units (TRC-1 … TRC-3).

Views are thin: objects come through core.permissions (ARCHITECTURE rule 6), changes through
trace.services (rule 1); a refused change shows the service's message on the form."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medvigil.core.models import ConflictError
from medvigil.core.permissions import (
    can,
    get_object_for_user,
    permission_required,
    scope_for_user,
)
from medvigil.core.records.exports import FORMATS
from medvigil.core.records.forms import ReasonForm
from medvigil.core.records.lists import Column, Filter, RecordList, parse_id
from medvigil.core.records.render import Cell, esc, link, pk_url, pk_url_maker, table_rows
from medvigil.core.records.views import (
    apply_errors,
    create_record,
    edit_record,
    htmx_redirect,
    paginate,
    querystring,
)

from . import services
from .forms import CustomerForm, LicenceForm, LotForm, ProductForm, UnitsForm
from .models import (
    Customer,
    CustomerKind,
    Licence,
    Lot,
    Product,
    RiskClass,
    Sale,
    SaleLine,
    Unit,
    UnitStatus,
)
from .privacy import can_view_contacts, mask, masked_contacts
from .rules import licence_warning_days, registration_warning_days
from .udi import UdiError, find_unit, find_unit_or_lot, looks_like_udi

# --- helpers -------------------------------------------------------------------------------


def licence_state(lic: Licence, today: Any) -> str:
    if lic.withdrawn:
        return "withdrawn"
    if lic.expires_on is None:
        return "valid"
    if lic.expires_on < today:
        return "expired"
    if (lic.expires_on - today).days <= licence_warning_days():
        return "expiring"
    return "valid"


# --- products (TRC-1) ----------------------------------------------------------------------


ACTIVE_FILTER = Filter(
    "active",
    gettext_lazy("Active"),
    [("1", gettext_lazy("Active")), ("0", gettext_lazy("Inactive")), ("all", gettext_lazy("All"))],
    default="1",
    apply=lambda qs, v, user: qs.filter(active=v == "1"),
)


class ProductList(RecordList):
    """The catalogue (TRC-1): search, class and active filters, sortable, CSV/XLSX export."""

    model = Product
    template = "trace/product_list.html"
    table_template = "trace/_product_table.html"
    search_fields = ("code", "name", "name_en", "model_spec", "registration_number", "gtin")
    filters = (
        Filter(
            "risk_class",
            gettext_lazy("Risk class"),
            [("", gettext_lazy("All classes")), *RiskClass.choices],
        ),
        ACTIVE_FILTER,
    )
    columns = {
        "code": Column(gettext_lazy("Code"), lambda p: p.code, sort="code"),
        "name": Column(gettext_lazy("Name"), lambda p: p.name, sort="name"),
        "name_en": Column(gettext_lazy("English name"), lambda p: p.name_en),
        "model_spec": Column(gettext_lazy("Model / specification"), lambda p: p.model_spec),
        "manufacturer": Column(
            gettext_lazy("Manufacturer"), lambda p: p.manufacturer, sort="manufacturer"
        ),
        "risk_class": Column(gettext_lazy("Class"), lambda p: p.risk_class, sort="risk_class"),
        "gtin": Column(gettext_lazy("UDI-DI (GTIN)"), lambda p: p.gtin or ""),
        "registration_number": Column(
            gettext_lazy("Registration number"), lambda p: p.registration_number
        ),
        "registration_expiry": Column(
            gettext_lazy("Registration expires"),
            lambda p: p.registration_expiry.isoformat() if p.registration_expiry else "",
            sort="registration_expiry",
        ),
        "active": Column(gettext_lazy("Active"), lambda p: _("yes") if p.active else _("no")),
    }
    default_sort = "code"
    export_name = "products"

    def extra_context(self, page: Any) -> dict[str, Any]:
        today = timezone.localdate()
        return {
            "today": today,
            "warn_before": today + dt.timedelta(days=registration_warning_days()),
            "can_add": can(self.user, Product, "add"),
        }


product_list = ProductList.as_view()


@permission_required("trace.view_product")
@require_GET
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_for_user(request.user, Product, "view", pk=pk)
    lots = paginate(
        request,
        scope_for_user(request.user, Lot)
        .filter(product=product)
        .annotate(unit_count=Count("units"))
        .order_by("-production_date", "lot_number"),
    )
    status_counts = dict(
        scope_for_user(request.user, Unit)
        .filter(product=product)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    today = timezone.localdate()
    return render(
        request,
        "trace/product_detail.html",
        {
            "product": product,
            "lots": lots,
            "status_counts": [
                (label, status_counts.get(value, 0)) for value, label in UnitStatus.choices
            ],
            "reg_expired": product.registration_expiry and product.registration_expiry < today,
            "reg_expiring": product.registration_expiry
            and today
            <= product.registration_expiry
            <= today + dt.timedelta(days=registration_warning_days()),
            "can_change": can(request.user, Product, "change"),
            "can_add_lot": can(request.user, Lot, "add"),
            "qs": querystring(request),
        },
    )


@permission_required("trace.add_product")
@require_http_methods(["GET", "POST"])
def product_create(request: HttpRequest) -> HttpResponse:
    return create_record(
        request,
        ProductForm(request.POST or None),
        services.create_product,
        lambda p: _("Product %(p)s created.") % {"p": p},
        _("New product"),
        cancel=reverse("trace:product_list"),
        template="trace/form.html",
    )


@permission_required("trace.change_product")
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_for_user(request.user, Product, "change", pk=pk)
    form = ProductForm(request.POST or None, instance=product)
    return edit_record(
        request,
        product,
        form,
        services.update_product,
        lambda p: _("Product %(p)s saved.") % {"p": p},
        _("Edit product %(p)s") % {"p": product},
        template="trace/form.html",
    )


# --- customers and licences (TRC-2) --------------------------------------------------------


class CustomerList(RecordList):
    """Customers and their licences (TRC-2): search, type/active/my accounts filters,
    sortable, CSV/XLSX export; contact data masked without trace.view_contact_data (PLAT-11),
    on the page and in the export alike."""

    model = Customer
    template = "trace/customer_list.html"
    table_template = "trace/_customer_table.html"
    filters = (
        Filter(
            "kind", gettext_lazy("Type"), [("", gettext_lazy("All types")), *CustomerKind.choices]
        ),
        ACTIVE_FILTER,
        Filter(
            "mine",
            gettext_lazy("My accounts"),
            [("", gettext_lazy("All")), ("1", gettext_lazy("My accounts"))],
            apply=lambda qs, v, user: qs.filter(owner=user),
        ),
    )
    columns = {
        "code": Column(gettext_lazy("Code"), lambda c: c.code, sort="code"),
        "name": Column(gettext_lazy("Name"), lambda c: c.name, sort="name"),
        "kind": Column(gettext_lazy("Type"), lambda c: c.get_kind_display(), sort="kind"),
        "credit_code": Column(gettext_lazy("Unified social credit code"), lambda c: c.credit_code),
        "province": Column(gettext_lazy("Province"), lambda c: c.province),
        "city": Column(gettext_lazy("City"), lambda c: c.city, sort="city"),
        "address": Column(gettext_lazy("Address"), lambda c: c.address),
        "contact_person": Column(gettext_lazy("Contact person"), lambda c: c.contact_person),
        "phone": Column(gettext_lazy("Phone"), lambda c: c.phone),
        "email": Column(gettext_lazy("E-mail"), lambda c: c.email),
        "owner": Column(gettext_lazy("Account owner"), lambda c: str(c.owner or "")),
        "active": Column(gettext_lazy("Active"), lambda c: _("yes") if c.active else _("no")),
    }
    default_sort = "name"
    export_name = "customers"

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request)
        self.allowed = can_view_contacts(self.user)

    def queryset(self) -> Any:
        return (
            super()
            .queryset()
            .select_related("owner")
            .prefetch_related(
                Prefetch(
                    "licences",
                    queryset=scope_for_user(self.user, Licence).order_by("kind", "-expires_on"),
                )
            )
        )

    def search(self, qs: Any, q: str) -> Any:
        cond = Q(code__icontains=q) | Q(name__icontains=q) | Q(credit_code__icontains=q)
        cond |= Q(city__icontains=q) | Q(province__icontains=q)
        if self.allowed:
            cond |= Q(contact_person__icontains=q) | Q(phone__contains=q)
        return qs.filter(cond)

    def cell(self, key: str, column: Column, obj: Any) -> Any:
        value = super().cell(key, column, obj)
        return mask(value, self.allowed) if key in Customer.CONTACT_FIELDS else value

    def extra_context(self, page: Any) -> dict[str, Any]:
        today = timezone.localdate()
        rows = [
            {
                "customer": c,
                "licences": [(lic, licence_state(lic, today)) for lic in c.licences.all()],
                "contacts": masked_contacts(c, Customer.CONTACT_FIELDS, self.allowed),
            }
            for c in page
        ]
        return {
            "rows": rows,
            "kinds": CustomerKind.choices,
            "can_add": can(self.user, Customer, "add"),
        }


customer_list = CustomerList.as_view()


@permission_required("trace.view_customer")
@require_GET
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_for_user(
        request.user, Customer.objects.select_related("owner"), "view", pk=pk
    )
    allowed = can_view_contacts(request.user)
    today = timezone.localdate()
    licences = [
        (lic, licence_state(lic, today))
        for lic in scope_for_user(request.user, Licence).filter(customer=customer)
    ]
    purchases = paginate(
        request,
        scope_for_user(request.user, Sale)
        .filter(buyer=customer)
        .select_related("seller")
        .annotate(n=Count("lines"))
        .order_by("-sale_date", "-id"),
        10,
    )
    held = scope_for_user(request.user, Unit).filter(holder=customer).count()
    return render(
        request,
        "trace/customer_detail.html",
        {
            "customer": customer,
            "contacts": masked_contacts(customer, Customer.CONTACT_FIELDS, allowed),
            "can_view_contacts": allowed,
            "licences": licences,
            "purchases": purchases,
            "held": held,
            "sales_made": scope_for_user(request.user, Sale).filter(seller=customer).count()
            if customer.is_dealer
            else None,
            "can_change": can(request.user, Customer, "change"),
            "can_add_licence": can(request.user, Licence, "add"),
            "can_change_licence": can(request.user, Licence, "change"),
            "qs": querystring(request),
        },
    )


@permission_required("trace.add_customer")
@require_http_methods(["GET", "POST"])
def customer_create(request: HttpRequest) -> HttpResponse:
    return create_record(
        request,
        CustomerForm(request.POST or None, user=request.user),
        services.create_customer,
        lambda c: _("Customer %(c)s created.") % {"c": c},
        _("New customer"),
        cancel=reverse("trace:customer_list"),
        template="trace/form.html",
    )


@permission_required("trace.change_customer")
@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_for_user(request.user, Customer, "change", pk=pk)
    form = CustomerForm(request.POST or None, instance=customer, user=request.user)
    return edit_record(
        request,
        customer,
        form,
        services.update_customer,
        lambda c: _("Customer %(c)s saved.") % {"c": c},
        _("Edit customer %(c)s") % {"c": customer},
        template="trace/form.html",
    )


@permission_required("trace.add_licence")
@require_http_methods(["GET", "POST"])
def licence_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_for_user(request.user, Customer, "view", pk=pk)
    return create_record(
        request,
        LicenceForm(request.POST or None),
        lambda by, **values: services.add_licence(by=by, customer=customer, **values),
        lambda lic: _("Licence added. Attach the scanned copy below."),
        _("New licence of %(c)s") % {"c": customer},
        cancel=customer.get_absolute_url(),
        template="trace/form.html",
        next_url=lambda lic: reverse("trace:licence_detail", args=[lic.pk]),
    )


@permission_required("trace.view_licence")
@require_http_methods(["GET", "POST"])
def licence_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lic = get_object_for_user(
        request.user, Licence.objects.select_related("customer"), "view", pk=pk
    )
    can_change = can(request.user, Licence, "change")
    form = LicenceForm(instance=lic)
    withdraw = ReasonForm()
    if request.method == "POST":
        if not can_change:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        action = request.POST.get("action", "save")
        try:
            if action == "withdraw":
                withdraw = ReasonForm(request.POST)
                if withdraw.is_valid():
                    services.withdraw_licence(
                        lic, by=request.user, reason=withdraw.cleaned_data["reason"]
                    )
                    messages.success(request, _("Licence withdrawn."))
                    return redirect("trace:licence_detail", pk=lic.pk)
            else:
                form = LicenceForm(request.POST, instance=lic)
                if form.is_valid():
                    services.update_licence(
                        lic,
                        by=request.user,
                        version=form.cleaned_data.get("version"),
                        **form.changed_values(),
                    )
                    messages.success(request, _("Licence saved."))
                    return redirect("trace:licence_detail", pk=lic.pk)
        except (ValidationError, ConflictError) as exc:
            apply_errors(withdraw if action == "withdraw" else form, exc)
    return render(
        request,
        "trace/licence_detail.html",
        {
            "licence": lic,
            "state": licence_state(lic, timezone.localdate()),
            "form": form,
            "withdraw": withdraw,
            "can_change": can_change,
        },
    )


@login_required
@require_GET
def customer_options(request: HttpRequest) -> HttpResponse:
    """<option>s for the customer datalist (htmx), by code or name."""
    q = str(request.GET.get("q") or "").strip()
    qs = scope_for_user(request.user, Customer).filter(active=True)
    kind = request.GET.get("kind", "")
    if kind in CustomerKind.values:
        qs = qs.filter(kind=kind)
    items = (
        list(
            qs.filter(Q(code__istartswith=q) | Q(name__icontains=q))
            .order_by("name")
            .values_list("code", "name")[:20]
        )
        if len(q) >= 1
        else []
    )
    return render(request, "trace/_customer_options.html", {"items": items})


# --- lots and units (TRC-3) ----------------------------------------------------------------


def product_choices(user: Any) -> list[tuple[str, Any]]:
    """The product filter of the lot and unit lists: the products the user may see."""
    products = scope_for_user(user, Product).order_by("code").values_list("pk", "code", "name")
    return [("", gettext_lazy("All products")), *((str(pk), f"{c} {n}") for pk, c, n in products)]


class LotList(RecordList):
    """Lots (TRC-3): search by lot number or production record, a product filter offering the
    products the user may see, sortable, CSV/XLSX export of the filtered list."""

    model = Lot
    template = "trace/lot_list.html"
    table_template = "trace/_lot_table.html"
    search_fields = ("lot_number", "production_record")
    search_placeholder = gettext_lazy("Lot number or production record")
    search_css = "col-12 col-md-5"
    filters = (
        Filter(
            "product",
            gettext_lazy("Product"),
            product_choices,
            field="product_id",
            css="col-8 col-md-4",
        ),
    )
    columns = {
        "lot": Column(gettext_lazy("Lot"), lambda lo: lo.lot_number, sort="lot_number"),
        "product_code": Column(
            gettext_lazy("Product code"), lambda lo: lo.product.code, sort="product__code"
        ),
        "product": Column(gettext_lazy("Product"), lambda lo: lo.product.name),
        "produced": Column(
            gettext_lazy("Produced"),
            lambda lo: lo.production_date.isoformat() if lo.production_date else "",
            sort="production_date",
        ),
        "expiry": Column(
            gettext_lazy("Expiry"),
            lambda lo: lo.expiry_date.isoformat() if lo.expiry_date else "",
            sort="expiry_date",
        ),
        "quantity": Column(gettext_lazy("Quantity"), lambda lo: lo.quantity, sort="quantity"),
        "production_record": Column(
            gettext_lazy("Production record"), lambda lo: lo.production_record
        ),
    }
    default_sort = ("-production_date", "lot_number")
    export_name = "lots"

    def queryset(self) -> Any:
        return super().queryset().select_related("product")


lot_list = LotList.as_view()


@permission_required("trace.view_lot")
@require_GET
def lot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lot = get_object_for_user(request.user, Lot.objects.select_related("product"), "view", pk=pk)
    units = paginate(
        request,
        scope_for_user(request.user, Unit)
        .filter(lot=lot)
        .select_related("holder")
        .order_by("serial"),
        50,
    )
    lot_lines = (
        SaleLine.objects.filter(
            lot=lot, unit__isnull=True, sale__in=scope_for_user(request.user, Sale)
        )
        .select_related("sale", "buyer", "seller")
        .order_by("sale__sale_date", "id")[:200]
    )
    return render(
        request,
        "trace/lot_detail.html",
        {
            "lot": lot,
            "units": units,
            "unit_total": units.paginator.count,
            "lot_lines": lot_lines,
            "can_change": can(request.user, Lot, "change"),
            "can_add_units": can(request.user, Unit, "add"),
            "can_drill": request.user.has_perm("trace.add_tracedrill"),
            "qs": querystring(request),
        },
    )


@permission_required("trace.add_lot")
@require_http_methods(["GET", "POST"])
def lot_create(request: HttpRequest, product_pk: int) -> HttpResponse:
    product = get_object_for_user(request.user, Product, "view", pk=product_pk)
    return create_record(
        request,
        LotForm(request.POST or None),
        lambda by, **values: services.create_lot(by=by, product=product, **values),
        lambda lot: _("Lot %(l)s created.") % {"l": lot.lot_number},
        _("New lot of %(p)s") % {"p": product},
        cancel=product.get_absolute_url(),
        template="trace/form.html",
    )


@permission_required("trace.change_lot")
@require_http_methods(["GET", "POST"])
def lot_edit(request: HttpRequest, pk: int) -> HttpResponse:
    lot = get_object_for_user(request.user, Lot.objects.select_related("product"), "change", pk=pk)
    form = LotForm(request.POST or None, instance=lot)
    return edit_record(
        request,
        lot,
        form,
        services.update_lot,
        lambda lo: _("Lot %(l)s saved.") % {"l": lo.lot_number},
        _("Edit lot %(l)s") % {"l": lot.lot_number},
        template="trace/form.html",
    )


@permission_required("trace.add_unit")
@require_http_methods(["GET", "POST"])
def units_add(request: HttpRequest, pk: int) -> HttpResponse:
    lot = get_object_for_user(request.user, Lot.objects.select_related("product"), "view", pk=pk)
    form = UnitsForm(request.POST or None, lot=lot)
    recorded = Unit.objects.filter(lot=lot).count()
    if lot.quantity:
        # Said before anything is typed: how many more units the lot can take.
        notice = _(
            "Lot %(lot)s: quantity produced %(quantity)s, %(recorded)s units recorded, "
            "%(room)s more can be added."
        ) % {
            "lot": lot.lot_number,
            "quantity": lot.quantity,
            "recorded": recorded,
            "room": max(lot.quantity - recorded, 0),
        }
    else:
        notice = _(
            "Lot %(lot)s has no quantity produced on record (%(recorded)s units recorded)."
        ) % {"lot": lot.lot_number, "recorded": recorded}
    return create_record(
        request,
        form,
        lambda by, serials: services.add_units(lot, serials, by=by),
        lambda built: _("%(n)s units added to lot %(l)s.") % {"n": len(built), "l": lot},
        _("Add units to lot %(l)s") % {"l": lot.lot_number},
        cancel=lot.get_absolute_url(),
        template="trace/form.html",
        values=lambda f: {"serials": f.cleaned_data["serials"]},
        next_url=lambda built: lot,
        rename={"serial": "serials"},
        context={
            "notice": notice,
            "notice_warning": bool(lot.quantity) and recorded >= lot.quantity,
        },
    )


class UnitList(RecordList):
    """Units (TRC-3): a scanned UDI goes straight to its unit (or to the lot of a lot-tracked
    label), a bad one says why and lists nothing; a serial prefix that finds one unit opens
    it. Product (the user's products), status and holder filters, sortable, CSV/XLSX export
    of the filtered list."""

    model = Unit
    template = "trace/unit_list.html"
    table_template = "trace/_unit_table.html"
    filters = (
        Filter(
            "product",
            gettext_lazy("Product"),
            product_choices,
            field="product_id",
            css="col-6 col-md-3",
        ),
        Filter(
            "status",
            gettext_lazy("Status"),
            [("", gettext_lazy("All statuses")), *UnitStatus.choices],
        ),
        Filter(
            "holder", gettext_lazy("Held by"), parse=parse_id, field="holder_id", widget="hidden"
        ),
    )
    columns = {
        "serial": Column(gettext_lazy("Serial number"), lambda u: u.serial, sort="serial"),
        "product_code": Column(
            gettext_lazy("Product code"), lambda u: u.product.code, sort="product__code"
        ),
        "product": Column(gettext_lazy("Product"), lambda u: u.product.name),
        "lot": Column(
            gettext_lazy("Lot"), lambda u: u.lot.lot_number if u.lot else "", sort="lot__lot_number"
        ),
        "produced": Column(
            gettext_lazy("Produced"),
            lambda u: u.production_date.isoformat() if u.production_date else "",
            sort="production_date",
        ),
        "status": Column(gettext_lazy("Status"), lambda u: u.get_status_display(), sort="status"),
        "holder": Column(
            gettext_lazy("Held by"),
            lambda u: u.holder.name if u.holder else _("us"),
            sort="holder__name",
        ),
    }
    default_sort = ("product_id", "serial")
    per_page = 50
    export_name = "units"

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request)
        self.scan_error = ""

    def queryset(self) -> Any:
        return super().queryset().select_related("product", "lot", "holder")

    def search(self, qs: Any, q: str) -> Any:
        if looks_like_udi(q):
            return qs.none()  # a scan names one unit (respond() goes there), never a list
        return qs.filter(serial__startswith=q)

    # The table's values, in the order rows() reads them (no model instance per row: #13).
    ROW_VALUES = (
        "pk",
        "serial",
        "product__code",
        "product__name",
        "lot_id",
        "lot__lot_number",
        "production_date",
        "status",
        "holder__name",
    )

    def listed(self, qs: Any) -> Any:
        return qs.values_list(*self.ROW_VALUES)

    def extra_context(self, page: Any) -> dict[str, Any]:
        return {"scan_error": self.scan_error, "rows": self.rows(page.object_list)}

    def rows(self, units: Any) -> Any:
        """The table's rows from the values of :attr:`ROW_VALUES`, built in Python
        (core.records.render; #13): the same markup the template loop made, at a fraction of
        its cost."""
        status = {value: str(label) for value, label in UnitStatus.choices}
        us = esc(_("us"))
        unit_url = pk_url_maker("trace:unit_detail")
        lot_url = pk_url_maker("trace:lot_detail")
        cells = (
            Cell(lambda u: link(unit_url(u[0]), u[1])),
            Cell(lambda u: f"{esc(u[2])} {esc(u[3])}"),
            Cell(lambda u: link(lot_url(u[4]), u[5]) if u[4] is not None else "—"),
            Cell(lambda u: u[6].isoformat() if u[6] else "—", css="d-none d-md-table-cell"),
            Cell(lambda u: esc(status.get(u[7], u[7]))),
            Cell(lambda u: esc(u[8]) if u[8] else us),
        )
        return table_rows(units, cells)

    def respond(self) -> HttpResponse:
        if self.q and looks_like_udi(self.q) and self.request.GET.get("format") not in FORMATS:
            # A scanned UDI goes straight to the unit, or to the lot for a lot-tracked label
            # without a serial; otherwise the reason, and no list (nothing matched the scan).
            try:
                return htmx_redirect(
                    self.request, find_unit_or_lot(self.q, self.user).get_absolute_url()
                )
            except UdiError as exc:
                self.scan_error = exc.message
        if self.request.GET.get("format") in FORMATS and self.may_export():
            return self.export(self.request.GET["format"])
        context = self.context()
        page = context["page"]
        if self.q and page.paginator.count == 1 and not self.request.GET.get("page"):
            return htmx_redirect(self.request, pk_url("trace:unit_detail", page.object_list[0][0]))
        return self.render(context)


unit_list = UnitList.as_view()


@login_required
@require_POST
def unit_scan(request: HttpRequest) -> HttpResponse:
    """htmx: check one scan and show the unit it designates, or the error."""
    text = request.POST.get("scan", "")
    try:
        unit = find_unit(text, request.user)
        error = ""
    except UdiError as exc:
        unit, error = None, exc.message
    return render(request, "trace/_scan_result.html", {"unit": unit, "error": error})
