"""SVC-4/9/11 pages: the engineer's work order on a phone. Each field is saved as it is typed
(htmx autosave with the record's version: a stale page gets the conflict message and keeps
what was typed; static/service/workorder.js also keeps a draft in the browser's storage and
restores it after a lost connection or a reload), the drawn signature (static/service/sign.js),
and closing with "is this a complaint?"."""

from __future__ import annotations

import uuid
from collections.abc import Callable
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
from medvigil.trace.privacy import mask

from ..models import CONTACT_PERM, ServiceRequest, WorkOrder
from ..services import warranty, workorders

CHANGE_PERM = "service.change_workorder"


def _mine(qs: QuerySet, value: str, user: Any) -> QuerySet:
    return qs.filter(engineer=user)


class WorkOrderList(RecordList):
    model = WorkOrder
    template = "service/workorder_list.html"
    table_template = "service/_workorder_table.html"
    search_fields = ("number", "request__number", "request__title")
    filters = (
        Filter(
            "status", gettext_lazy("Status"), [("", gettext_lazy("All")), *WorkOrder.Status.choices]
        ),
        Filter(
            "mine",
            gettext_lazy("Engineer"),
            [("", gettext_lazy("All")), ("1", gettext_lazy("Mine"))],
            apply=_mine,
        ),
    )
    columns = {
        "number": Column(gettext_lazy("Number"), lambda o: o.number, sort="number"),
        "request": Column(gettext_lazy("Request"), lambda o: o.request.number),
        "title": Column(gettext_lazy("Subject"), lambda o: o.request.title),
        "engineer": Column(gettext_lazy("Engineer"), lambda o: o.engineer.printed_name),
        "status": Column(gettext_lazy("Status"), lambda o: o.get_status_display(), sort="status"),
        "arrived": Column(
            gettext_lazy("Arrived"), lambda o: o.arrived_at.isoformat() if o.arrived_at else ""
        ),
        "result": Column(gettext_lazy("Result"), lambda o: o.get_result_display()),
    }
    default_sort = "-number"
    export_name = "work-orders"

    def queryset(self) -> QuerySet:
        return super().queryset().select_related("request", "engineer")


workorder_list = WorkOrderList.as_view()


def _get(request: Any, pk: int) -> WorkOrder:
    qs = WorkOrder.objects.select_related(
        "request", "request__unit", "request__product", "request__customer", "engineer"
    )
    return get_object_for_user(request.user, qs, pk=pk)


def visible_complaints(user: Any, work_orders: list[WorkOrder]) -> dict[int, Any]:
    """The complaints opened from these work orders (SVC-11) that `user` may view, by id:
    through core.permissions.scope_for_user, so the complaint's view permission and its own
    rule (sales staff and dealers: their own customers only) decide, as on the complaint
    pages. A page links (and names) only these. One query; none without a complaint."""
    ids = {wo.complaint_id for wo in work_orders if wo.complaint_id}
    if not ids:
        return {}
    model = WorkOrder.complaint.field.related_model
    return {c.pk: c for c in scope_for_user(user, model).filter(pk__in=ids)}


def _may_fill(user: Any, wo: WorkOrder) -> bool:
    return user.has_perm(CHANGE_PERM) and (
        wo.engineer_id == user.pk or user.has_perm("service.dispatch_servicerequest")
    )


@login_required
@require_GET
def workorder_detail(request: Any, pk: int) -> Any:
    wo = _get(request, pk)
    return render(request, "service/workorder_detail.html", _context(request, wo))


def _context(request: Any, wo: WorkOrder, **extra: Any) -> dict[str, Any]:
    sr: ServiceRequest = wo.request
    contact = request.user.has_perm(CONTACT_PERM)
    ctx = {
        "obj": wo,
        "sr": sr,
        # SVC-11: the complaint this work order opened, only if the user may view it
        "complaint": visible_complaints(request.user, [wo]).get(wo.complaint_id or 0),
        "contact": contact,
        "may_fill": _may_fill(request.user, wo) and wo.is_open,
        "may_act": _may_fill(request.user, wo),
        "picker": workorders.part_choices(wo, request.user)
        if _may_fill(request.user, wo) and wo.status == WorkOrder.Status.ON_SITE
        else None,
        "part_key": f"wo-{wo.pk}-{uuid.uuid4().hex[:20]}",
        # PLAT-11: the address is contact data; without the permission it shows masked
        "code_address": (workorders.signoff_address(wo) and "***")
        if not contact
        else workorders.signoff_address(wo),
        "code_sent_to": wo.signoff_code_sent_to if contact else "***",
        "code_live": bool(wo.signoff_code_hash)
        and wo.signoff_code_expires_at is not None
        and wo.signoff_code_expires_at > timezone.now()
        and wo.signoff_code_attempts < workorders.code_attempts(),
        "warranty": warranty.warranty_status(sr.unit) if sr.unit is not None else None,
        "results": WorkOrder.Result.choices,
        "archive": workorders.archive_entry(wo) if wo.status in ("signed", "closed") else [],
        "now": timezone.now(),
    }
    ctx.update(extra)
    return ctx


def _v(request: Any) -> Any:
    """The version the page was built on (optimistic concurrency)."""
    return request.POST.get("version")


def _refuse(request: Any, wo: WorkOrder, exc: Exception) -> Any:
    messages.error(
        request,
        str(exc) if isinstance(exc, ConflictError) else " ".join(exc.messages),  # type: ignore[attr-defined]
    )
    return redirect(wo)


def _act(
    request: Any,
    pk: int,
    call: Callable[[WorkOrder], WorkOrder],
    done: str | Callable[[WorkOrder], str] | None = None,
    denied: str | None = None,
) -> Any:
    """One POST action on a work order, the engineer's (or a dispatcher's): `call` runs the
    service with the posted values; bad input or a stale version comes back as the message and
    nothing changes. `done` is the success message (or makes it from the saved work order);
    `denied`, where given, answers a PermissionDenied the service raises."""
    wo = _get(request, pk)
    if not _may_fill(request.user, wo):
        raise PermissionDenied
    try:
        wo = call(wo)
    except (ValidationError, ConflictError) as exc:
        return _refuse(request, wo, exc)
    except PermissionDenied:
        if denied is None:
            raise
        messages.error(request, denied)
        return redirect(wo)
    if done is not None:
        messages.success(request, done(wo) if callable(done) else done)
    return redirect(wo)


@login_required
@require_POST
def workorder_step(request: Any, pk: int, step: str) -> Any:
    """accept, travel, arrive (time-stamped by the server)."""
    perform = {
        "accept": workorders.accept,
        "travel": workorders.start_travel,
        "arrive": workorders.arrive,
    }.get(step)
    if perform is None:
        _get(request, pk)  # a work order the user may not see stays a 404
        raise PermissionDenied
    return _act(request, pk, lambda wo: perform(wo, by=request.user, version=_v(request)))


@login_required
@require_POST
def workorder_save(request: Any, pk: int) -> Any:
    """htmx autosave of the fields posted (and the parts as text lines): the answer is the
    save status and, out of band, the new version. A conflict or a refusal says so (409/400)
    and changes nothing; what was typed stays on the page and in the browser's draft."""
    wo = _get(request, pk)
    if not _may_fill(request.user, wo):
        raise PermissionDenied
    version = request.POST.get("version")
    values = {
        name: request.POST.get(name)
        for name in WorkOrder.FIELD_WORK
        if name in request.POST and name != "training_given"
    }
    if "training_given_sent" in request.POST:
        values["training_given"] = request.POST.get("training_given", "")
    status = 200
    saved = wo
    try:
        if values:
            saved = workorders.save_fields(wo, by=request.user, version=version, values=values)
            version = saved.version
        message, ok = (
            _("Saved %(time)s") % {"time": timezone.localtime().strftime("%H:%M:%S")},
            True,
        )
    except ConflictError:
        message, ok, status = (
            _(
                "Someone else changed this work order. Your text is kept on this phone: "
                "reload the page to see their change; your draft is restored."
            ),
            False,
            409,
        )
    except ValidationError as exc:
        message, ok, status = " ".join(exc.messages), False, 400
    if not getattr(request, "htmx", False):
        (messages.success if status == 200 else messages.error)(request, message)
        return redirect(wo)
    response = render(
        request,
        "service/_save_status.html",
        {"message": message, "ok": ok, "version": saved.version if ok else None},
        status=status,
    )
    return response


@login_required
@require_POST
def workorder_sign(request: Any, pk: int) -> Any:
    """The customer's drawn signature and printed name (SVC-4)."""
    return _act(
        request,
        pk,
        lambda wo: workorders.sign_off(
            wo,
            by=request.user,
            version=_v(request),
            signer_name=request.POST.get("signer_name", ""),
            signature=request.POST.get("signature", ""),
        ),
        _("Signed off by the customer."),
    )


@login_required
@require_POST
def workorder_part_use(request: Any, pk: int) -> Any:
    """A part from the catalogue used on site: it leaves stock (the engineer's van or the
    chosen location) through the parts app (SVC-10); short stock is refused, nothing changes."""
    return _act(
        request,
        pk,
        lambda wo: workorders.use_part(
            wo,
            by=request.user,
            version=_v(request),
            part=request.POST.get("part"),
            quantity=request.POST.get("quantity"),
            location=request.POST.get("location") or None,
            request_key=request.POST.get("request_key") or None,
        ),
        _("Part recorded; it has left stock."),
    )


@login_required
@require_POST
def workorder_part_return(request: Any, pk: int) -> Any:
    """Take back a part line recorded by mistake: the parts go back where they came from."""
    return _act(
        request,
        pk,
        lambda wo: workorders.return_part(
            wo,
            by=request.user,
            version=_v(request),
            movement_id=request.POST.get("movement_id", ""),
        ),
        _("Part line removed; the parts are back in stock."),
    )


@login_required
@require_POST
def workorder_code_send(request: Any, pk: int) -> Any:
    """E-mail a one-time sign-off code to the customer contact (SVC-4)."""
    return _act(
        request,
        pk,
        lambda wo: workorders.send_signoff_code(wo, by=request.user, version=_v(request)),
        lambda wo: (
            _("A code was sent to %(address)s; it is valid for %(n)d minutes.")
            % {
                "address": wo.signoff_code_sent_to
                if request.user.has_perm(CONTACT_PERM)
                else "***",
                "n": workorders.code_minutes(),
            }
        ),
    )


@login_required
@require_POST
def workorder_code_confirm(request: Any, pk: int) -> Any:
    """The engineer enters the code the customer received: signed off by code (SVC-4)."""
    return _act(
        request,
        pk,
        lambda wo: workorders.confirm_signoff_code(
            wo,
            by=request.user,
            version=_v(request),
            signer_name=request.POST.get("signer_name", ""),
            code=request.POST.get("code", ""),
        ),
        _("Signed off by the customer's code."),
    )


def _closed_message(user: Any) -> Callable[[WorkOrder], str]:
    def message(wo: WorkOrder) -> str:
        if not wo.complaint_id:
            return _("Work order closed.")
        complaint = visible_complaints(user, [wo]).get(wo.complaint_id)
        if complaint is None:
            return _("Closed; a complaint was opened from this work order.")
        return _("Closed; complaint %(number)s opened from this work order.") % {
            "number": complaint.number
        }

    return message


@login_required
@require_POST
def workorder_close(request: Any, pk: int) -> Any:
    """Close with the answer to "is this a complaint?"; yes opens the complaint (SVC-11)."""
    answer = {"yes": True, "no": False}.get(request.POST.get("is_complaint", ""))
    return _act(
        request,
        pk,
        lambda wo: workorders.close_work_order(
            wo,
            by=request.user,
            version=_v(request),
            is_complaint=answer,
            note=request.POST.get("note", ""),
        ),
        _closed_message(request.user),
        denied=_("You may not register complaints; ask customer service."),
    )


@login_required
@require_http_methods(["GET"])
def workorder_archive(request: Any, pk: int) -> Any:
    """The service-archive entry of a closed work order (seed 001; 21 CFR 820.35(b))."""
    wo = _get(request, pk)
    allowed = request.user.has_perm(CONTACT_PERM)  # PLAT-11: the contact row is contact data
    rows = [
        (
            key,
            label,
            value if allowed or key not in workorders.ARCHIVE_CONTACT_KEYS else mask(value, False),
        )
        for key, label, value in workorders.archive_entry(wo)
    ]
    return render(request, "service/workorder_archive.html", {"obj": wo, "rows": rows})
