"""Service request pages (SVC-1/2/5): the list (a RecordList), the intake form with the device
look-up (warranty shown at once), the record page with its clocks and actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medvigil.core.audit.models import ConflictError
from medvigil.core.permissions import get_object_for_user, scope_for_user
from medvigil.core.records.lists import Column, Filter, RecordList
from medvigil.core.records.views import apply_errors, edit_record

from .. import rules
from ..forms import DispatchForm, RequestEditForm, RequestForm
from ..models import CONTACT_PERM, FaultLevel, Quote, ServiceRequest, WorkOrder, Zone
from ..services import clocks, dispatching, requests, warranty
from .workorders import visible_complaints

MASK = "***"
ADD_PERM = "service.add_servicerequest"
CHANGE_PERM = "service.change_servicerequest"
DISPATCH_PERM = "service.dispatch_servicerequest"


def _due(o: ServiceRequest) -> str:
    c = clocks.next_due(o) if o.is_open else None
    return c.due_at.isoformat() if c and c.due_at else ""


class RequestList(RecordList):
    model = ServiceRequest
    template = "service/request_list.html"
    table_template = "service/_request_table.html"
    search_fields = ("number", "title", "device_text", "udi_text", "unit__serial")
    search_placeholder = gettext_lazy("Number, subject, serial or UDI")
    filters = (
        Filter(
            "status",
            gettext_lazy("Status"),
            [("", gettext_lazy("All")), *ServiceRequest.Status.choices],
        ),
        Filter(
            "fault_level",
            gettext_lazy("Fault level"),
            [("", gettext_lazy("All")), *FaultLevel.choices],
        ),
        Filter("zone", gettext_lazy("Zone"), [("", gettext_lazy("All")), *Zone.choices]),
    )
    columns = {
        "number": Column(gettext_lazy("Number"), lambda o: o.number, sort="number"),
        "received": Column(
            gettext_lazy("Received"), lambda o: o.received_at.isoformat(), sort="received_at"
        ),
        "title": Column(gettext_lazy("Subject"), lambda o: o.title, sort="title"),
        "product": Column(
            gettext_lazy("Product"), lambda o: str(o.product) if o.product_id else o.device_text
        ),
        "serial": Column(gettext_lazy("Serial"), lambda o: o.unit.serial if o.unit_id else ""),
        "fault_level": Column(
            gettext_lazy("Fault level"), lambda o: o.get_fault_level_display(), sort="fault_level"
        ),
        "zone": Column(gettext_lazy("Zone"), lambda o: o.get_zone_display()),
        "warranty": Column(
            gettext_lazy("Under warranty"),
            lambda o: "" if o.under_warranty is None else ("yes" if o.under_warranty else "no"),
        ),
        "engineer": Column(
            gettext_lazy("Engineer"), lambda o: o.engineer.printed_name if o.engineer_id else ""
        ),
        "status": Column(gettext_lazy("Status"), lambda o: o.get_status_display(), sort="status"),
        "arrival_due": Column(
            gettext_lazy("Arrival due"),
            lambda o: o.arrival_due_at.isoformat() if o.arrival_due_at else "",
            sort="arrival_due_at",
        ),
        "due": Column(gettext_lazy("Next due"), _due),
    }
    default_sort = "-received_at"
    export_name = "service-requests"

    def queryset(self) -> QuerySet:
        return super().queryset().select_related("product", "unit", "engineer")

    def extra_context(self, page: Any) -> dict[str, Any]:
        now = timezone.now()
        rows = []
        for o in page:
            nxt = clocks.next_due(o, now=now) if o.is_open else None
            rows.append((o, nxt, nxt.state(now) if nxt else ""))
        return {
            "rows": rows,
            "may_add": self.user.has_perm(ADD_PERM),
            "compliance": None,
        }


request_list = RequestList.as_view()


def _require(request: Any, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


@login_required
@require_GET
def device_lookup(request: Any) -> Any:
    """htmx: the unit a scanned UDI or typed serial designates and its warranty (SVC-5)."""
    _require(request, ADD_PERM)
    facts = warranty.find_device(request.GET.get("device", ""), user=request.user)
    return render(
        request,
        "service/_device_facts.html",
        {"facts": facts, "contact": request.user.has_perm(CONTACT_PERM)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request: Any) -> Any:
    """The intake form (SVC-1): the device is looked up again on submit, so what is stored
    follows trace's records."""
    _require(request, ADD_PERM)
    contact = request.user.has_perm(CONTACT_PERM)
    facts: dict[str, Any] = {}
    if request.method == "POST":
        form = RequestForm(request.POST, contact=contact)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "device"}
            facts = requests.prefill_from_device(
                data, form.cleaned_data.get("device", ""), user=request.user
            )
            try:
                sr = requests.create_service_request(by=request.user, **data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("%(number)s registered.") % {"number": sr.number})
                return redirect(sr)
    else:
        device = request.GET.get("device", "")
        form = RequestForm(initial={"device": device}, contact=contact)
        if device:
            facts = warranty.find_device(device, user=request.user)
    return render(
        request, "service/request_form.html", {"form": form, "facts": facts, "contact": contact}
    )


@login_required
@require_GET
def request_detail(request: Any, pk: int) -> Any:
    qs = ServiceRequest.objects.select_related(
        "product", "unit", "customer", "dealer", "engineer", "owner"
    )
    obj = get_object_for_user(request.user, qs, pk=pk)
    return render(request, "service/request_detail.html", _detail_context(request, obj))


def _detail_context(request: Any, obj: ServiceRequest, **extra: Any) -> dict[str, Any]:
    user = request.user
    now = timezone.now()
    contact = user.has_perm(CONTACT_PERM)
    masked = {
        name: (getattr(obj, name) if contact or not getattr(obj, name) else MASK)
        for name in ServiceRequest.CONTACT_FIELDS
    }
    work_orders = list(
        scope_for_user(user, WorkOrder)
        .filter(request=obj)
        .select_related("engineer")
        .order_by("id")
    )
    # SVC-11: a work order's complaint is linked only for those who may view it
    complaints = visible_complaints(user, work_orders)
    for wo in work_orders:
        wo.visible_complaint = complaints.get(wo.complaint_id or 0)  # type: ignore[attr-defined]
    may_dispatch = user.has_perm(DISPATCH_PERM) and obj.status in (
        ServiceRequest.Status.NEW,
        ServiceRequest.Status.DISPATCHED,
    )
    ctx = {
        "obj": obj,
        "masked": masked,
        "clocks": [(c, c.state(now)) for c in clocks.clocks_for(obj, now=now)],
        "cell": rules.cell_for(obj.zone, obj.fault_level),
        "work_orders": work_orders,
        "may_change": user.has_perm(CHANGE_PERM) and obj.is_open,
        "may_dispatch": may_dispatch,
        "loaner_needed": obj.loaner_needed(now),
        "dispatch_form": extra.pop("dispatch_form", None)
        or (DispatchForm(initial={"version": obj.version}) if may_dispatch else None),
        "qualified": _qualified_engineers(obj) if may_dispatch else [],
        "quotes": list(scope_for_user(user, Quote).filter(request=obj).order_by("id")),
        "may_quote": user.has_perm("service.add_quote") and obj.status != "voided",
        # SVC-1: the public feedback the request came from, linked for those who may see it
        "feedback": scope_for_user(user, ServiceRequest.feedback.field.related_model)
        .filter(pk=obj.feedback_id)
        .first()
        if obj.feedback_id
        else None,
    }
    ctx.update(extra)
    return ctx


def _qualified_engineers(obj: ServiceRequest) -> list[Any]:
    if obj.product_id is None:
        return []
    today = timezone.localdate()
    from ..models import EngineerQualification

    quals = EngineerQualification.objects.filter(product_id=obj.product_id).select_related(
        "engineer"
    )
    return sorted({q.engineer for q in quals if q.valid_on(today)}, key=lambda u: u.username)


@login_required
@require_http_methods(["GET", "POST"])
def request_edit(request: Any, pk: int) -> Any:
    obj = get_object_for_user(request.user, ServiceRequest, "change", pk=pk)
    form = RequestEditForm(request.POST or None, instance=obj, user=request.user)
    return edit_record(
        request,
        obj,
        form,
        requests.update_service_request,
        lambda o: _("%(number)s saved.") % {"number": o.number},
        _("Edit %(number)s") % {"number": obj.number},
    )


def _act(request: Any, pk: int, perform: Any, done: str) -> Any:
    """A POST action of the record page through its service; refusals show as a message."""
    obj = get_object_for_user(request.user, ServiceRequest, pk=pk)
    try:
        perform(obj, request.POST.get("version"))
    except ConflictError as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect(obj)


@login_required
@require_POST
def request_respond(request: Any, pk: int) -> Any:
    _require(request, CHANGE_PERM)
    return _act(
        request,
        pk,
        lambda o, v: requests.record_response(o, by=request.user, version=v),
        _("Response recorded."),
    )


@login_required
@require_POST
def request_answer(request: Any, pk: int) -> Any:
    _require(request, CHANGE_PERM)
    return _act(
        request,
        pk,
        lambda o, v: requests.answer_question(
            o, by=request.user, version=v, resolution=request.POST.get("resolution", "")
        ),
        _("Answered and closed."),
    )


@login_required
@require_POST
def request_loaner(request: Any, pk: int) -> Any:
    _require(request, CHANGE_PERM)
    return _act(
        request,
        pk,
        lambda o, v: requests.record_loaner(
            o, by=request.user, version=v, note=request.POST.get("note", "")
        ),
        _("Loaner recorded."),
    )


@login_required
@require_POST
def request_void(request: Any, pk: int) -> Any:
    _require(request, CHANGE_PERM)
    return _act(
        request,
        pk,
        lambda o, v: requests.void_service_request(
            o, by=request.user, version=v, reason=request.POST.get("reason", "")
        ),
        _("Request voided."),
    )


@login_required
@require_POST
def request_dispatch(request: Any, pk: int) -> Any:
    """Dispatch to an engineer (SVC-3): an unqualified one is refused with the reason, shown on
    the record page's dispatch form (400)."""
    _require(request, DISPATCH_PERM)
    obj = get_object_for_user(request.user, ServiceRequest, pk=pk)
    form = DispatchForm(request.POST)
    if form.is_valid():
        try:
            wo = dispatching.dispatch(
                obj,
                by=request.user,
                version=form.cleaned_data.get("version"),
                engineer=form.cleaned_data["engineer"],
                note=form.cleaned_data.get("note", ""),
            )
        except (ValidationError, ConflictError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(number)s dispatched to %(engineer)s (%(wo)s).")
                % {"number": obj.number, "engineer": wo.engineer.printed_name, "wo": wo.number},
            )
            return redirect(obj)
    ctx = _detail_context(request, obj, dispatch_form=form)
    return render(request, "service/request_detail.html", ctx, status=400)


@login_required
@require_GET
def policy_page(request: Any) -> Any:
    """SVC-2: the service-level policy in force, each target with its rule and citation."""
    _require(request, "service.view_servicerequest")
    from medvigil.core.calendar.rules import get_rule

    pol = rules.policy()
    rows = []
    for zone, zone_label in Zone.choices:
        for level, level_label in FaultLevel.choices:
            cell = pol[(zone, level)]
            rows.append(
                (
                    zone_label,
                    level_label,
                    rules.clock_for(cell),
                    [
                        get_rule(code) if code else None
                        for code in (cell.response, cell.arrival, cell.fix)
                    ],
                )
            )
    used = [get_rule(r.code) for r in rules.RULES]
    compliance = clocks.arrival_compliance(scope_for_user(request.user, ServiceRequest))
    return render(
        request,
        "service/policy.html",
        {"rows": rows, "rules": used, "compliance": compliance},
    )
