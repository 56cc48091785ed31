"""Pages of the spare-parts app (SVC-10). Thin: records come through core.permissions
(ARCHITECTURE rule 6), changes through parts.services (rule 1); list pages are RecordList
declarations, create and edit pages the kit's create_record / edit_record, and every record
page shows the platform's panels ({% record_panels %})."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
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
from medvigil.core.records.forms import ReasonForm
from medvigil.core.records.lists import Column, Filter, RecordList
from medvigil.core.records.views import apply_errors, create_record, edit_record

from . import services
from .forms import CountForm, LocationForm, MovementForm, PartForm
from .models import (
    LocationKind,
    MovementKind,
    Part,
    ReorderLevel,
    StockLevel,
    StockLocation,
    StockMovement,
)
from .rules import CITATION

ACTIVE_FILTER = Filter(
    "active",
    gettext_lazy("Active"),
    [("1", gettext_lazy("Active")), ("0", gettext_lazy("Inactive")), ("all", gettext_lazy("All"))],
    default="1",
    apply=lambda qs, v, user: qs.filter(active=v == "1"),
)


def _yes(value: bool) -> str:
    return _("yes") if value else _("no")


def location_choices(user: Any) -> list[tuple[str, Any]]:
    """The locations the user may see (filters of the stock and movement lists)."""
    rows = scope_for_user(user, StockLocation).order_by("kind", "code").only("pk", "code", "name")
    return [("", gettext_lazy("All locations")), *((str(r.pk), str(r)) for r in rows)]


# --- parts -----------------------------------------------------------------------------------


class PartList(RecordList):
    """The parts catalogue: search, active filter, stock on hand and reorder point per part,
    sortable, CSV/XLSX export."""

    model = Part
    template = "parts/part_list.html"
    table_template = "parts/_part_table.html"
    search_fields = ("code", "name", "name_en")
    search_placeholder = gettext_lazy("Part code or name")
    filters = (ACTIVE_FILTER,)
    columns = {
        "code": Column(gettext_lazy("Code"), lambda p: p.code, sort="code"),
        "name": Column(gettext_lazy("Name"), lambda p: p.name, sort="name"),
        "name_en": Column(gettext_lazy("English name"), lambda p: p.name_en),
        "unit_cost": Column(gettext_lazy("Unit cost"), lambda p: p.unit_cost, sort="unit_cost"),
        "lead_time": Column(
            gettext_lazy("Lead time (days)"), lambda p: p.lead_time_days, sort="lead_time_days"
        ),
        "on_hand": Column(
            gettext_lazy("On hand"),
            lambda p: p.reorder.on_hand if hasattr(p, "reorder") else 0,
            sort="reorder__on_hand",
        ),
        "reorder_point": Column(
            gettext_lazy("Reorder point"),
            lambda p: p.reorder.reorder_point if hasattr(p, "reorder") else 0,
            sort="reorder__reorder_point",
        ),
    }
    default_sort = "code"
    export_name = "spare-parts"

    def queryset(self) -> Any:
        return super().queryset().select_related("reorder")

    def extra_context(self, page: Any) -> dict[str, Any]:
        return {"can_add": can(self.user, Part, "add"), "section": "parts"}


part_list = PartList.as_view()


@permission_required("parts.view_part")
@require_GET
def part_detail(request: HttpRequest, pk: int) -> HttpResponse:
    part = get_object_for_user(request.user, Part.objects.select_related("reorder"), pk=pk)
    levels = (
        scope_for_user(request.user, StockLevel)
        .filter(part=part)
        .select_related("location", "location__engineer")
        .order_by("location__kind", "location__code")
    )
    movements = (
        scope_for_user(request.user, StockMovement)
        .filter(part=part)
        .select_related("from_location", "to_location", "created_by")
        .order_by("-id")[:20]
    )
    inputs, figures = services.figures_for(part)
    return render(
        request,
        "parts/part_detail.html",
        {
            "part": part,
            "products": services.fitted_products(part),
            "levels": levels,
            "movements": movements,
            "inputs": inputs,
            "figures": figures,
            "citation": CITATION,
            "can_change": can(request.user, Part, "change"),
            "can_move": request.user.has_perm("parts.add_stockmovement")
            or request.user.has_perm("parts.use_van_stock"),
            "section": "parts",
        },
    )


@permission_required("parts.add_part")
@require_http_methods(["GET", "POST"])
def part_create(request: HttpRequest) -> HttpResponse:
    return create_record(
        request,
        PartForm(request.POST or None, user=request.user),
        services.create_part,
        lambda p: _("Spare part %(p)s created.") % {"p": p},
        _("New spare part"),
        cancel=reverse("parts:part_list"),
        template="parts/form.html",
    )


@permission_required("parts.change_part")
@require_http_methods(["GET", "POST"])
def part_edit(request: HttpRequest, pk: int) -> HttpResponse:
    part = get_object_for_user(request.user, Part, "change", pk=pk)
    return edit_record(
        request,
        part,
        PartForm(request.POST or None, instance=part, user=request.user),
        services.update_part,
        lambda p: _("Spare part %(p)s saved.") % {"p": p},
        _("Edit spare part %(p)s") % {"p": part},
        template="parts/form.html",
    )


# --- locations -------------------------------------------------------------------------------


class LocationList(RecordList):
    """Warehouses and engineers' vans (an engineer sees the warehouses and their own van)."""

    model = StockLocation
    template = "parts/location_list.html"
    table_template = "parts/_location_table.html"
    search_fields = ("code", "name")
    filters = (
        Filter(
            "kind",
            gettext_lazy("Type"),
            [("", gettext_lazy("All types")), *LocationKind.choices],
        ),
        ACTIVE_FILTER,
    )
    columns = {
        "code": Column(gettext_lazy("Code"), lambda o: o.code, sort="code"),
        "name": Column(gettext_lazy("Name"), lambda o: o.name, sort="name"),
        "kind": Column(gettext_lazy("Type"), lambda o: o.get_kind_display(), sort="kind"),
        "engineer": Column(
            gettext_lazy("Engineer"), lambda o: str(o.engineer) if o.engineer_id else ""
        ),
        "active": Column(gettext_lazy("Active"), lambda o: _yes(o.active)),
    }
    default_sort = ("kind", "code")
    export_name = "stock-locations"

    def queryset(self) -> Any:
        return super().queryset().select_related("engineer")

    def extra_context(self, page: Any) -> dict[str, Any]:
        return {"can_add": can(self.user, StockLocation, "add"), "section": "locations"}


stocklocation_list = LocationList.as_view()


@permission_required("parts.view_stocklocation")
@require_GET
def stocklocation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    location = get_object_for_user(
        request.user, StockLocation.objects.select_related("engineer"), pk=pk
    )
    levels = (
        StockLevel.objects.filter(location=location, quantity__gt=0)
        .select_related("part")
        .order_by("part__code")
    )
    movements = (
        scope_for_user(request.user, StockMovement)
        .filter(Q(from_location=location) | Q(to_location=location))
        .select_related("part", "from_location", "to_location", "created_by")
        .order_by("-id")[:20]
    )
    total = levels.aggregate(n=Sum("quantity"))["n"] or 0
    may_count = request.user.has_perm("parts.add_stockmovement") and location.active
    return render(
        request,
        "parts/location_detail.html",
        {
            "location": location,
            "levels": levels,
            "total": total,
            "movements": movements,
            "can_change": can(request.user, StockLocation, "change"),
            "count_form": CountForm(user=request.user) if may_count else None,
            "section": "locations",
        },
    )


@permission_required("parts.add_stocklocation")
@require_http_methods(["GET", "POST"])
def stocklocation_create(request: HttpRequest) -> HttpResponse:
    return create_record(
        request,
        LocationForm(request.POST or None),
        services.create_location,
        lambda o: _("Stock location %(o)s created.") % {"o": o},
        _("New stock location"),
        cancel=reverse("parts:stocklocation_list"),
        template="parts/form.html",
    )


@permission_required("parts.change_stocklocation")
@require_http_methods(["GET", "POST"])
def stocklocation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    location = get_object_for_user(request.user, StockLocation, "change", pk=pk)
    return edit_record(
        request,
        location,
        LocationForm(request.POST or None, instance=location),
        services.update_location,
        lambda o: _("Stock location %(o)s saved.") % {"o": o},
        _("Edit stock location %(o)s") % {"o": location},
        template="parts/form.html",
    )


@permission_required("parts.add_stockmovement")
@require_POST
def stocklocation_count(request: HttpRequest, pk: int) -> HttpResponse:
    """A stock count at this location: the level adjusted to what was counted."""
    location = get_object_for_user(request.user, StockLocation, pk=pk)
    form = CountForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            movement = services.adjust_to_count(
                form.cleaned_data["part"],
                location,
                form.cleaned_data["counted"],
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if movement is None:
                messages.info(request, _("The count matches the stock: nothing to adjust."))
            else:
                messages.success(
                    request, _("Stock adjusted (%(number)s).") % {"number": movement.number}
                )
    else:
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
    return redirect(location)


# --- stock on hand ----------------------------------------------------------------------------


class StockList(RecordList):
    """Quantity on hand per part and location (the locations the user may see)."""

    model = StockLevel
    template = "parts/stock_list.html"
    table_template = "parts/_stock_table.html"
    search_fields = ("part__code", "part__name", "part__name_en")
    search_placeholder = gettext_lazy("Part code or name")
    filters = (
        Filter("location", gettext_lazy("Location"), location_choices, field="location_id"),
        Filter(
            "stock",
            gettext_lazy("Stock"),
            [("", gettext_lazy("In stock")), ("all", gettext_lazy("All, with zero"))],
            apply=lambda qs, v, user: qs,
        ),
    )
    columns = {
        "part": Column(gettext_lazy("Part code"), lambda o: o.part.code, sort="part__code"),
        "name": Column(gettext_lazy("Name"), lambda o: o.part.name),
        "location": Column(
            gettext_lazy("Location"), lambda o: str(o.location), sort="location__code"
        ),
        "quantity": Column(gettext_lazy("On hand"), lambda o: o.quantity, sort="quantity"),
        "value": Column(gettext_lazy("Value"), lambda o: o.quantity * o.part.unit_cost, sort=""),
    }
    default_sort = ("part__code", "location__code")
    export_name = "stock-on-hand"

    def queryset(self) -> Any:
        qs = super().queryset().select_related("part", "location")
        if self.request.GET.get("stock") != "all":
            qs = qs.filter(quantity__gt=0)
        return qs

    def extra_context(self, page: Any) -> dict[str, Any]:
        return {"section": "stock"}


stocklevel_list = StockList.as_view()


# --- movements --------------------------------------------------------------------------------


class MovementList(RecordList):
    """The ledger: every movement the user may see, by type, location and part."""

    model = StockMovement
    template = "parts/movement_list.html"
    table_template = "parts/_movement_table.html"
    search_fields = ("number", "part__code", "part__name", "reference_label", "reason")
    search_placeholder = gettext_lazy("Number, part, reference or reason")
    filters = (
        Filter(
            "kind", gettext_lazy("Type"), [("", gettext_lazy("All types")), *MovementKind.choices]
        ),
        Filter(
            "location",
            gettext_lazy("Location"),
            location_choices,
            apply=lambda qs, v, user: qs.filter(Q(from_location_id=v) | Q(to_location_id=v)),
        ),
    )
    columns = {
        "number": Column(gettext_lazy("Number"), lambda o: o.number, sort="number"),
        "date": Column(gettext_lazy("Date"), lambda o: o.created_at.isoformat(), sort="created_at"),
        "kind": Column(gettext_lazy("Type"), lambda o: o.get_kind_display(), sort="kind"),
        "part": Column(gettext_lazy("Part code"), lambda o: o.part.code, sort="part__code"),
        "quantity": Column(gettext_lazy("Quantity"), lambda o: o.quantity, sort="quantity"),
        "from": Column(
            gettext_lazy("From"), lambda o: str(o.from_location) if o.from_location_id else ""
        ),
        "to": Column(gettext_lazy("To"), lambda o: str(o.to_location) if o.to_location_id else ""),
        "reference": Column(gettext_lazy("Reference"), lambda o: o.reference_label),
        "reason": Column(gettext_lazy("Reason"), lambda o: o.reason),
        "by": Column(gettext_lazy("By"), lambda o: str(o.created_by) if o.created_by_id else ""),
    }
    default_sort = "-id"
    export_name = "stock-movements"

    def queryset(self) -> Any:
        return (
            super().queryset().select_related("part", "from_location", "to_location", "created_by")
        )

    def extra_context(self, page: Any) -> dict[str, Any]:
        u = self.user
        return {
            "can_move": u.has_perm("parts.add_stockmovement") or u.has_perm("parts.use_van_stock"),
            "section": "movements",
        }


stockmovement_list = MovementList.as_view()


def _may_move(user: Any) -> bool:
    return user.has_perm("parts.add_stockmovement") or user.has_perm("parts.use_van_stock")


@permission_required("parts.view_stockmovement")
@require_http_methods(["GET", "POST"])
def stockmovement_create(request: HttpRequest) -> HttpResponse:
    if not _may_move(request.user):
        raise PermissionDenied
    initial = {}
    for name in ("part", "kind", "from_location", "to_location"):
        if name in request.GET:
            initial[name] = request.GET[name][:40]
    form = MovementForm(request.POST or None, user=request.user, initial=initial)
    return create_record(
        request,
        form,
        services.move,
        lambda m: _("Stock movement %(n)s recorded.") % {"n": m.number},
        _("New stock movement"),
        cancel=reverse("parts:stockmovement_list"),
        template="parts/form.html",
        values=lambda f: f.service_values(),
    )


@permission_required("parts.view_stockmovement")
@require_GET
def stockmovement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    movement = get_object_for_user(
        request.user,
        StockMovement.objects.select_related(
            "part", "from_location", "to_location", "created_by", "reverses"
        ),
        pk=pk,
    )
    reversal = StockMovement.objects.filter(reverses=movement).first()
    may_reverse = (
        request.user.has_perm("parts.add_stockmovement")
        and reversal is None
        and movement.kind != MovementKind.REVERSAL
    )
    return render(
        request,
        "parts/movement_detail.html",
        {
            "movement": movement,
            "reversal": reversal,
            "reference_url": movement.reference_url,
            "reverse_form": ReasonForm() if may_reverse else None,
            "section": "movements",
        },
    )


@permission_required("parts.add_stockmovement")
@require_POST
def stockmovement_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    movement = get_object_for_user(request.user, StockMovement, pk=pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            reversal = services.reverse_movement(
                movement, by=request.user, reason=form.cleaned_data["reason"]
            )
        except (ValidationError, ConflictError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(n)s reversed by %(r)s.") % {"n": movement.number, "r": reversal.number},
            )
            return redirect(reversal)
    response = render(
        request,
        "parts/movement_detail.html",
        {
            "movement": movement,
            "reversal": None,
            "reference_url": movement.reference_url,
            "reverse_form": form,
            "section": "movements",
        },
    )
    response.status_code = 400
    return response


# --- reorder list ------------------------------------------------------------------------------


class ReorderList(RecordList):
    """Parts at or below their reorder point with the quantity to order (SVC-10), exportable
    as the purchase request (CSV/XLSX)."""

    model = ReorderLevel
    template = "parts/reorder_list.html"
    table_template = "parts/_reorder_table.html"
    search_fields = ("part__code", "part__name", "part__name_en")
    search_placeholder = gettext_lazy("Part code or name")
    filters = (
        Filter(
            "show",
            gettext_lazy("Show"),
            [
                ("", gettext_lazy("To reorder")),
                ("all", gettext_lazy("All parts")),
            ],
            apply=lambda qs, v, user: qs,
        ),
    )
    columns = {
        "part": Column(gettext_lazy("Part code"), lambda o: o.part.code, sort="part__code"),
        "name": Column(gettext_lazy("Name"), lambda o: o.part.name),
        "installed": Column(
            gettext_lazy("Installed units"), lambda o: o.installed_units, sort="installed_units"
        ),
        "demand": Column(
            gettext_lazy("Demand per day"), lambda o: o.demand_per_day, sort="demand_per_day"
        ),
        "lead_time": Column(gettext_lazy("Lead time (days)"), lambda o: o.part.lead_time_days),
        "safety_stock": Column(
            gettext_lazy("Safety stock"), lambda o: o.safety_stock, sort="safety_stock"
        ),
        "reorder_point": Column(
            gettext_lazy("Reorder point"), lambda o: o.reorder_point, sort="reorder_point"
        ),
        "on_hand": Column(gettext_lazy("On hand"), lambda o: o.on_hand, sort="on_hand"),
        "suggested": Column(
            gettext_lazy("Suggested order"),
            lambda o: o.suggested_quantity,
            sort="suggested_quantity",
        ),
        "cost": Column(
            gettext_lazy("Order value"), lambda o: o.suggested_quantity * o.part.unit_cost
        ),
        "below_since": Column(
            gettext_lazy("Below since"),
            lambda o: o.below_since.isoformat() if o.below_since else "",
            sort="below_since",
        ),
    }
    default_sort = ("-suggested_quantity", "part__code")
    export_name = "reorder-list"

    def queryset(self) -> Any:
        qs = super().queryset().select_related("part").filter(part__active=True)
        if self.request.GET.get("show") != "all":
            qs = qs.filter(below=True)
        return qs

    def extra_context(self, page: Any) -> dict[str, Any]:
        return {
            "can_recompute": self.user.has_perm("parts.add_stockmovement"),
            "citation": CITATION,
            "section": "reorder",
        }


reorderlevel_list = ReorderList.as_view()


@permission_required("parts.add_stockmovement")
@require_POST
def reorder_recompute(request: HttpRequest) -> HttpResponse:
    n = services.recompute_all()
    messages.success(request, _("Reorder figures recomputed for %(n)s parts.") % {"n": n})
    return redirect("parts:reorderlevel_list")
