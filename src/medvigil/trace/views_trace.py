"""Trace pages (TRC-7): the unit's whole life, forward and backward trace with exports, and
traceability drills (TRC-8)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medvigil.core.models import Signature
from medvigil.core.permissions import can, get_object_for_user, permission_required, scope_for_user
from medvigil.core.records.exports import export_response
from medvigil.core.records.lists import Column, Filter, RecordList
from medvigil.core.records.views import (
    create_record,
    int_param,
    querystring,
    signed_action,
)
from medvigil.core.templatetags.records import signature_dialog_context

from . import services
from .drill_history import drill_history_context, readable_rows
from .exports import (
    EXPORT_PERM,
    backward_header,
    backward_rows,
    forward_header,
    forward_rows,
)
from .forms import AcceptForm, ConclusionForm, DrillForm, TraceForm
from .models import DrillStatus, Installation, ReturnRecord, TraceDrill, Unit, UnitStatus
from .privacy import can_view_contacts, mask
from .queries import backward_queryset, backward_trace, forward_trace
from .udi import UdiError, find_unit_or_lot

UI_LIMIT = 20_000  # units per trace on a page (exports take up to the query default)


@permission_required("trace.view_unit")
@require_GET
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The unit's whole life on one screen (backward trace + timeline of every app)."""
    # the unit with its lot and product, and whether it has rows of each kind the page and
    # its timeline read (one query; the empty kinds are not queried, #13)
    unit = get_object_for_user(
        request.user, backward_queryset(timeline=True, panels=True), "view", pk=pk
    )
    trace = backward_trace(unit, loaded=True)
    unit.backward_trace = trace  # the timeline panel reads the same rows (trace.timeline)
    allowed = can_view_contacts(request.user)
    current = next((i for i in trace.installations if i.current), None)
    return render(
        request,
        "trace/unit_detail.html",
        {
            "unit": trace.unit,
            "trace": trace,
            "current": current,
            "current_contacts": {
                name: mask(getattr(current, name), allowed) for name in Installation.CONTACT_FIELDS
            }
            if current
            else {},
            "accept_form": AcceptForm(
                initial={"accepted_on": timezone.localdate(), "version": current.version}
            )
            if current
            else None,
            "can_install": can(request.user, Installation, "add")
            and trace.unit.status in (UnitStatus.SOLD, UnitStatus.SOLD_ON, UnitStatus.INSTALLED),
            "can_accept": can(request.user, Installation, "change"),
            "can_return": can(request.user, ReturnRecord, "add") and trace.unit.holder_id,
            "can_sell": request.user.has_perm("trace.add_sale")
            and trace.unit.status in (UnitStatus.IN_STOCK, UnitStatus.SOLD),
            "can_export": request.user.has_perm(EXPORT_PERM),
        },
    )


@permission_required("trace.view_unit")
@require_GET
def unit_export(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm(EXPORT_PERM):
        raise PermissionDenied
    unit = get_object_for_user(request.user, backward_queryset(), "view", pk=pk)
    trace = backward_trace(unit, loaded=True)
    fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    return export_response(
        fmt,
        f"backward-trace-{unit.serial}",
        backward_header(),
        backward_rows(trace, request.user),
    )


@permission_required("trace.view_unit")
@require_GET
def trace_backward(request: HttpRequest) -> HttpResponse:
    """Scan or type a unit: go to its page (the backward trace); a lot-tracked label without
    a serial goes to its lot."""
    scan = request.GET.get("scan", "").strip()
    error = ""
    if scan:
        try:
            return redirect(find_unit_or_lot(scan, request.user))
        except UdiError as exc:
            error = exc.message
    return render(request, "trace/trace_backward.html", {"scan": scan, "error": error})


def forward_criteria(request: HttpRequest) -> tuple[TraceForm, dict[str, Any] | None]:
    """The forward-trace form bound to the request's query, and what ``forward_trace`` takes
    from it: the validated criteria and the units the user may see (None when nothing was
    asked or the input is invalid: the form has the errors). The page, its CSV/XLSX exports
    and the PDF report all read their criteria here."""
    form = TraceForm(request.GET or None, user=request.user)
    if not request.GET or not form.is_valid():
        return form, None
    return form, {"units_qs": scope_for_user(request.user, Unit), **form.criteria()}


@permission_required("trace.view_unit")
@require_GET
def trace_forward(request: HttpRequest) -> HttpResponse:
    """Forward trace from lots, serials/UDIs, a UDI-DI or a production date range."""
    form, criteria = forward_criteria(request)
    trace = None
    page = None
    if criteria is not None:
        fmt = request.GET.get("format", "")
        if fmt in ("csv", "xlsx"):
            if not request.user.has_perm(EXPORT_PERM):
                raise PermissionDenied
            trace = forward_trace(**criteria)
            stamp = timezone.localdate().isoformat()
            return export_response(
                fmt, f"forward-trace-{stamp}", forward_header(), forward_rows(trace, request.user)
            )
        trace = forward_trace(limit=UI_LIMIT, **criteria)
        page = Paginator(trace.units, 100).get_page(request.GET.get("page"))
    allowed = can_view_contacts(request.user)
    rows = []
    if page is not None:
        for ut in page:
            rows.append(
                {
                    "t": ut,
                    "address": mask(ut.address, allowed),
                    "contact_person": mask(ut.contact_person, allowed),
                    "contact_phone": mask(ut.contact_phone, allowed),
                }
            )
    lot_rows = []
    if trace is not None:
        for line in trace.lot_lines:
            lot_rows.append(
                {
                    "line": line,
                    "address": mask(line.buyer.address, allowed),
                    "phone": mask(line.buyer.phone, allowed),
                }
            )
    return render(
        request,
        "trace/trace_forward.html",
        {
            "form": form,
            "trace": trace,
            "page": page,
            "rows": rows,
            "lot_rows": lot_rows,
            "consignees": trace.consignees() if trace else [],
            "end_users": trace.end_users() if trace else [],
            "located": sum(1 for ut in trace.units if ut.located) if trace else 0,
            "qs": querystring(request),
            "can_export": request.user.has_perm(EXPORT_PERM),
            "can_view_contacts": allowed,
        },
    )


# --- drills (TRC-8) ------------------------------------------------------------------------


class DrillList(RecordList):
    """Traceability drills (TRC-8): search by number or lot, status filter, sortable, CSV/XLSX
    export of the filtered list."""

    model = TraceDrill
    template = "trace/drill_list.html"
    table_template = "trace/_drill_table.html"
    search_fields = ("number", "lot__lot_number", "lot__product__code")
    search_placeholder = gettext_lazy("Number, lot or product code")
    filters = (
        Filter(
            "status",
            gettext_lazy("Status"),
            [("", gettext_lazy("All")), *DrillStatus.choices],
            css="col-6 col-md-3",
        ),
    )
    columns = {
        "number": Column(gettext_lazy("Number"), lambda d: d.number, sort="number"),
        "lot": Column(gettext_lazy("Lot"), lambda d: d.lot.lot_number, sort="lot__lot_number"),
        "product_code": Column(gettext_lazy("Product code"), lambda d: d.lot.product.code),
        "run_at": Column(
            gettext_lazy("Traced at"),
            lambda d: timezone.localtime(d.run_at).strftime("%Y-%m-%d %H:%M") if d.run_at else "",
            sort="run_at",
        ),
        "located": Column(gettext_lazy("Located"), lambda d: d.located_units, sort="located_units"),
        "total": Column(gettext_lazy("Units in lot"), lambda d: d.total_units),
        "percent": Column(gettext_lazy("Located %"), lambda d: float(d.located_percent)),
        "target": Column(gettext_lazy("Target %"), lambda d: float(d.target_percent)),
        "status": Column(gettext_lazy("Status"), lambda d: d.get_status_display(), sort="status"),
        "performed_by": Column(gettext_lazy("Performed by"), lambda d: str(d.performed_by or "")),
    }
    default_sort = ("-created_at", "-id")
    export_name = "drills"

    def queryset(self) -> Any:
        return super().queryset().select_related("lot", "lot__product", "performed_by")

    def extra_context(self, page: Any) -> dict[str, Any]:
        return {"can_add": can(self.user, TraceDrill, "add")}


drill_list = DrillList.as_view()


@permission_required("trace.add_tracedrill")
@require_http_methods(["GET", "POST"])
def drill_create(request: HttpRequest) -> HttpResponse:
    initial = {}
    if int_param(request.GET.get("lot")):
        from .models import Lot

        lot = scope_for_user(request.user, Lot).filter(pk=int_param(request.GET.get("lot"))).first()
        if lot is not None:
            initial["lot"] = lot.lot_number
    form = DrillForm(request.POST or None, user=request.user, initial=initial)
    return create_record(
        request,
        form,
        lambda by, lot, target_percent: services.start_drill(
            lot, by=by, target_percent=target_percent
        ),
        lambda drill: _("Drill %(n)s run.") % {"n": drill.number},
        _("New traceability drill"),
        cancel=reverse("trace:drill_list"),
        template="trace/form.html",
        values=lambda f: {
            "lot": f.cleaned_data["lot"],
            "target_percent": f.cleaned_data["target_percent"],
        },
    )


def _drill_dialog(request: HttpRequest, drill: TraceDrill, form: Any = None) -> dict[str, Any]:
    """The dialog that completes and signs the drill (its conclusion is the comment)."""
    return signature_dialog_context(
        form_action=reverse("trace:drill_complete", args=[drill.pk]),
        meaning=Signature.Meaning.CLOSED,
        csrf_token=get_token(request),
        dialog_id="drill-sign",
        title=_("Complete and sign the drill"),
        button=_("Complete and sign"),
        form=form,
        comment_required=True,
        comment_label=_("Conclusion"),
        submit_label=_("Sign and complete"),
        version=drill.version,
    )


def _drill_context(request: HttpRequest, drill: TraceDrill, **extra: Any) -> dict[str, Any]:
    rows = readable_rows(drill.result.get("rows", []) if isinstance(drill.result, dict) else [])
    missing = [r for r in rows if not r.get("located")]
    can_change = can(request.user, TraceDrill, "change")
    ctx = {
        "drill": drill,
        "missing": missing[:500],
        "rows": rows[:500],
        "consignees": drill.result.get("consignees", []) if drill.result else [],
        "end_users": drill.result.get("end_users", []) if drill.result else [],
        "can_change": can_change and drill.status == DrillStatus.OPEN,
        "history": drill_history_context(request, drill, request.GET.get("history_page")),
        "conclusion_form": extra.pop("conclusion_form", None) or ConclusionForm(),
        "dialog": extra.pop("dialog", None) or _drill_dialog(request, drill),
    }
    ctx.update(extra)
    return ctx


@permission_required("trace.view_tracedrill")
@require_GET
def drill_detail(request: HttpRequest, pk: int) -> HttpResponse:
    drill = get_object_for_user(
        request.user,
        TraceDrill.objects.select_related("lot", "lot__product", "performed_by"),
        "view",
        pk=pk,
    )
    return render(request, "trace/drill_detail.html", _drill_context(request, drill))


@permission_required("trace.view_tracedrill")
@require_GET
def drill_history(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx: older entries of the drill's history (the shared entries template, the result
    as a table)."""
    drill = get_object_for_user(request.user, TraceDrill, "view", pk=pk)
    ctx = drill_history_context(request, drill, request.GET.get("page"))
    return render(request, "core/_history_entries.html", ctx)


@permission_required("trace.change_tracedrill")
@require_POST
def drill_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    drill = get_object_for_user(request.user, TraceDrill, "change", pk=pk)
    try:
        services.run_drill(drill, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Trace run again."))
    return redirect(drill)


@permission_required("trace.change_tracedrill")
@require_POST
def drill_complete(request: HttpRequest, pk: int) -> HttpResponse:
    drill = get_object_for_user(
        request.user,
        TraceDrill.objects.select_related("lot", "lot__product", "performed_by"),
        "change",
        pk=pk,
    )

    def perform(password: str, comment: str) -> TraceDrill:
        return services.complete_drill(
            drill, by=request.user, conclusion=comment, password=password, request=request
        )

    return signed_action(
        request,
        drill,
        meaning=Signature.Meaning.CLOSED,
        perform=perform,
        dialog=lambda form: _drill_dialog(request, drill, form),
        page=lambda dialog: render(
            request, "trace/drill_detail.html", _drill_context(request, drill, dialog=dialog)
        ),
        success=lambda done: _("Drill completed and signed."),
        comment_required=True,
    )
