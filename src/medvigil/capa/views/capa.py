"""CAPA-1 pages: the list, the record page (actions, verification, signed closure), create
(directly or from a complaint's hand-off), edit, the actions' own list and edit page."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medvigil.core.models import Signature
from medvigil.core.permissions import can, get_object_for_user, permission_required
from medvigil.core.records.forms import ReasonForm
from medvigil.core.records.lists import Column, Filter, RecordList
from medvigil.core.records.views import create_record, edit_record, int_param, signed_action
from medvigil.core.templatetags.records import signature_dialog_context

from ..forms import ActionForm, CapaForm, ComplaintCapaForm, ResultForm, VerifyForm
from ..models import Capa, CapaAction, CapaReport, SourceKind
from ..services import capa as svc
from ._common import run_post


class CapaList(RecordList):
    model = Capa
    template = "capa/capa_list.html"
    table_template = "capa/_capa_table.html"
    search_fields = ("number", "title", "source_reference")
    search_placeholder = gettext_lazy("Number, title or source")
    filters = (
        Filter("status", gettext_lazy("Status"), [("", gettext_lazy("All")), *Capa.Status.choices]),
        Filter(
            "source_kind", gettext_lazy("Source"), [("", gettext_lazy("All")), *SourceKind.choices]
        ),
    )
    columns = {
        "number": Column(gettext_lazy("Number"), lambda o: o.number, sort="number"),
        "title": Column(gettext_lazy("Title"), lambda o: o.title, sort="title"),
        "source": Column(
            gettext_lazy("Source"), lambda o: o.get_source_kind_display(), sort="source_kind"
        ),
        "reference": Column(gettext_lazy("Source reference"), lambda o: o.source_reference),
        "owner": Column(gettext_lazy("Owner"), lambda o: str(o.owner or "")),
        "status": Column(gettext_lazy("Status"), lambda o: o.get_status_display(), sort="status"),
        "due": Column(
            gettext_lazy("Target date"),
            lambda o: o.due_date.isoformat() if o.due_date else "",
            sort="due_date",
        ),
    }
    default_sort = "-number"
    export_name = "capas"

    def queryset(self) -> QuerySet:
        return super().queryset().select_related("owner")

    def extra_context(self, page: Any) -> dict[str, Any]:
        return {
            "can_add": can(self.user, Capa, "add"),
            "handoffs": list(svc.pending_complaint_handoffs(self.user)[:20]),
        }


capa_list = CapaList.as_view()


class ActionList(RecordList):
    model = CapaAction
    template = "capa/action_list.html"
    table_template = "capa/_action_table.html"
    search_fields = ("capa__number", "description")
    filters = (
        Filter(
            "status",
            gettext_lazy("Status"),
            [("", gettext_lazy("All")), *CapaAction.Status.choices],
        ),
        Filter(
            "mine",
            gettext_lazy("Owner"),
            [("", gettext_lazy("All")), ("1", gettext_lazy("Mine"))],
            apply=lambda qs, value, user: qs.filter(owner=user),
        ),
    )
    columns = {
        "capa": Column(gettext_lazy("CAPA"), lambda o: o.capa.number, sort="capa__number"),
        "description": Column(gettext_lazy("Description"), lambda o: o.description),
        "kind": Column(gettext_lazy("Kind"), lambda o: o.get_kind_display()),
        "owner": Column(gettext_lazy("Owner"), lambda o: str(o.owner)),
        "due": Column(gettext_lazy("Due date"), lambda o: o.due_date.isoformat(), sort="due_date"),
        "status": Column(gettext_lazy("Status"), lambda o: o.get_status_display(), sort="status"),
    }
    default_sort = "due_date"
    export_name = "capa-actions"

    def queryset(self) -> QuerySet:
        return super().queryset().select_related("capa", "owner")


action_list = ActionList.as_view()


def _close_dialog(request: HttpRequest, capa: Capa, form: Any = None) -> dict[str, Any]:
    return signature_dialog_context(
        form_action=reverse("capa:capa_close", args=[capa.pk]),
        meaning=Signature.Meaning.CLOSED,
        csrf_token=get_token(request),
        dialog_id="capa-close",
        title=_("Close the CAPA with your e-signature"),
        button=_("Close and sign"),
        form=form,
        submit_label=_("Sign and close"),
        version=capa.version,
    )


def _recall_context(capa: Capa, user: Any) -> dict[str, Any]:
    """RCL-1 / CAPA-1: the recalls and advisory notices started from this CAPA, and whether
    the user may start one (the recalls app, when installed, owns both)."""
    from django.apps import apps

    if not apps.is_installed("medvigil.recalls"):
        return {"recalls": [], "may_start_recall": False}
    from medvigil.recalls.services.records import recalls_from

    return {
        "recalls": list(recalls_from(capa, user).order_by("-id")[:50]),
        "may_start_recall": capa.status != Capa.Status.VOIDED
        and user.has_perm("recalls.add_recall")
        and user.has_perm("recalls.change_recall"),
        "recall_source": f"capa.capa:{capa.pk}",
    }


def _detail_context(request: HttpRequest, capa: Capa, **extra: Any) -> dict[str, Any]:
    user = request.user
    actions = list(capa.actions.select_related("owner").order_by("due_date", "id"))
    may_change = capa.is_open and user.has_perm(svc.CHANGE_PERM)
    for a in actions:
        a.may_act = a.is_open and svc.may_act(a, user)  # type: ignore[attr-defined]
    ctx: dict[str, Any] = {
        "obj": capa,
        "actions": actions,
        "may_change": may_change,
        "action_form": ActionForm() if may_change else None,
        "verify_form": VerifyForm(initial={"version": capa.version}) if may_change else None,
        "close_errors": capa.close_errors() if capa.is_open else [],
        "may_close": capa.is_open and user.has_perm(svc.CLOSE_PERM),
        "source": capa.source_record(),
        "nonconformities": list(capa.nonconformities.all()),
        "scars": list(capa.scars.select_related("supplier")),
        **_recall_context(capa, user),
        # CAPA-1: the CAPA reports (core.records.issued, capa/views/reports.py)
        "reports": list(capa.reports.all()) if can(user, CapaReport, "view") else [],
        "may_add_report": capa.status in (Capa.Status.OPEN, Capa.Status.CLOSED)
        and can(user, CapaReport, "add"),
    }
    if ctx["may_close"]:
        ctx["dialog"] = extra.pop("dialog", None) or _close_dialog(request, capa)
    ctx.update(extra)
    return ctx


def _capa_for(request: HttpRequest, pk: int, action: str = "view") -> Capa:
    return get_object_for_user(
        request.user, Capa.objects.select_related("owner", "source_type"), action, pk=pk
    )


@permission_required("capa.view_capa")
@require_GET
def capa_detail(request: HttpRequest, pk: int) -> HttpResponse:
    capa = _capa_for(request, pk)
    return render(request, "capa/capa_detail.html", _detail_context(request, capa))


def _capa_values(form: Any) -> dict[str, Any]:
    data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
    return data


@permission_required("capa.add_capa")
@require_http_methods(["GET", "POST"])
def capa_create(request: HttpRequest) -> HttpResponse:
    """A new CAPA, directly or (``?evaluation=<id>``) from a complaint waiting for one:
    prefilled from the complaint, and the hand-off completed on save."""
    evaluation = None
    ev_id = int_param(request.GET.get("evaluation"))
    if request.GET.get("evaluation") is not None:
        evaluation = svc.pending_complaint_handoffs(request.user).filter(pk=ev_id).first()
        if evaluation is None:
            raise Http404
    initial = svc.complaint_prefill(evaluation) if evaluation is not None else {}
    form_class = CapaForm if evaluation is None else ComplaintCapaForm
    form = form_class(request.POST or None, initial=initial)
    create: Callable[..., Capa] = svc.create_capa
    notice = ""
    if evaluation is not None:
        create = partial(svc.open_capa_from_complaint, evaluation)
        notice = _("From complaint %(n)s: saving completes its CAPA hand-off.") % {
            "n": evaluation.feedback.number
        }
    return create_record(
        request,
        form,
        create,
        lambda c: _("CAPA %(n)s opened.") % {"n": c.number},
        _("New CAPA"),
        cancel=reverse("capa:capa_list"),
        values=_capa_values,
        context={"notice": notice},
    )


@permission_required("capa.change_capa")
@require_http_methods(["GET", "POST"])
def capa_edit(request: HttpRequest, pk: int) -> HttpResponse:
    capa = _capa_for(request, pk, "change")
    if not capa.is_open:
        messages.error(request, _("Only an open CAPA can be changed."))
        return redirect(capa)
    return edit_record(
        request,
        capa,
        CapaForm(request.POST or None, instance=capa),
        svc.update_capa,
        lambda c: _("CAPA %(n)s saved.") % {"n": c.number},
        _("Edit CAPA %(n)s") % {"n": capa.number},
    )


@permission_required("capa.change_capa")
@require_POST
def action_add(request: HttpRequest, pk: int) -> HttpResponse:
    capa = _capa_for(request, pk, "change")
    form = ActionForm(request.POST)
    return run_post(
        request,
        capa,
        form,
        lambda d: svc.add_action(
            capa,
            by=request.user,
            description=d["description"],
            owner=d["owner"],
            due_date=d["due_date"],
            kind=d["kind"],
        ),
        _("Action added."),
    )


def _action_for(request: HttpRequest, pk: int) -> CapaAction:
    return get_object_for_user(
        request.user, CapaAction.objects.select_related("capa", "owner"), "view", pk=pk
    )


@permission_required("capa.change_capa")
@require_http_methods(["GET", "POST"])
def action_edit(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_object_for_user(
        request.user, CapaAction.objects.select_related("capa", "owner"), "change", pk=pk
    )
    if not action.is_open:
        messages.error(request, _("Only an open action can be changed."))
        return redirect(action.capa)

    def update(record: CapaAction, **kwargs: Any) -> CapaAction:
        return svc.update_action(record, **kwargs)

    response = edit_record(
        request,
        action,
        ActionForm(request.POST or None, instance=action),
        update,
        lambda a: _("Action saved."),
        _("Edit action of %(n)s") % {"n": action.capa.number},
    )
    if response.status_code == 302:
        return redirect(action.capa)
    return response


@permission_required("capa.view_capaaction")
@require_POST
def action_done(request: HttpRequest, pk: int) -> HttpResponse:
    action = _action_for(request, pk)
    if not svc.may_act(action, request.user):
        raise PermissionDenied
    return run_post(
        request,
        action.capa,
        ResultForm(request.POST),
        lambda d: svc.complete_action(
            action, by=request.user, version=d["version"], result=d["result"]
        ),
        _("Action recorded as done."),
    )


@permission_required("capa.change_capa")
@require_POST
def action_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    action = _action_for(request, pk)
    form = ReasonForm(request.POST)
    return run_post(
        request,
        action.capa,
        form,
        lambda d: svc.cancel_action(
            action, by=request.user, version=request.POST.get("version"), reason=d["reason"]
        ),
        _("Action cancelled."),
    )


@permission_required("capa.change_capa")
@require_POST
def capa_verify(request: HttpRequest, pk: int) -> HttpResponse:
    capa = _capa_for(request, pk, "change")
    return run_post(
        request,
        capa,
        VerifyForm(request.POST),
        lambda d: svc.verify_effectiveness(
            capa,
            by=request.user,
            version=d["version"],
            effective=d["effective"],
            evidence=d["evidence"],
            verified_on=d["verified_on"],
        ),
        _("Verification of effectiveness recorded."),
    )


@permission_required("capa.close_capa")
@require_POST
def capa_close(request: HttpRequest, pk: int) -> HttpResponse:
    capa = _capa_for(request, pk)

    def perform(password: str, comment: str) -> Capa:
        return svc.close_capa(
            capa, by=request.user, password=password, comment=comment, request=request
        )

    return signed_action(
        request,
        capa,
        meaning=Signature.Meaning.CLOSED,
        perform=perform,
        dialog=lambda form: _close_dialog(request, capa, form),
        page=lambda dialog: render(
            request, "capa/capa_detail.html", _detail_context(request, capa, dialog=dialog)
        ),
        success=lambda c: _("CAPA %(n)s closed and signed.") % {"n": c.number},
    )


@permission_required("capa.change_capa")
@require_POST
def capa_void(request: HttpRequest, pk: int) -> HttpResponse:
    capa = _capa_for(request, pk, "change")
    return run_post(
        request,
        capa,
        ReasonForm(request.POST),
        lambda d: svc.void_capa(capa, by=request.user, reason=d["reason"]),
        _("CAPA voided."),
    )
