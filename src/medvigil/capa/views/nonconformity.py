"""CAPA-2 pages: nonconforming product — list, record page (segregation, disposition, the
signed concession approval, closure, a request to the supplier), create and edit."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medvigil.core.models import ConflictError, Signature
from medvigil.core.permissions import can, get_object_for_user, permission_required, scope_for_user
from medvigil.core.records.forms import ReasonForm
from medvigil.core.records.lists import Column, Filter, RecordList
from medvigil.core.records.views import apply_errors, create_record, signed_action
from medvigil.core.templatetags.records import signature_dialog_context

from ..forms import DispositionForm, DueDateForm, NonconformityForm, SegregationForm
from ..models import Nonconformity
from ..services import nonconformity as svc
from ..services import suppliers as sup_svc
from ._common import form_errors, run_post


class NonconformityList(RecordList):
    model = Nonconformity
    template = "capa/nc_list.html"
    table_template = "capa/_nc_table.html"
    search_fields = ("number", "title")
    filters = (
        Filter(
            "status",
            gettext_lazy("Status"),
            [("", gettext_lazy("All")), *Nonconformity.Status.choices],
        ),
        Filter(
            "stage",
            gettext_lazy("Found"),
            [("", gettext_lazy("All")), *Nonconformity.Stage.choices],
        ),
    )
    columns = {
        "number": Column(gettext_lazy("Number"), lambda o: o.number, sort="number"),
        "title": Column(gettext_lazy("Title"), lambda o: o.title, sort="title"),
        "stage": Column(gettext_lazy("Found"), lambda o: o.get_stage_display(), sort="stage"),
        "quantity": Column(gettext_lazy("Quantity"), lambda o: o.quantity, sort="quantity"),
        "disposition": Column(gettext_lazy("Disposition"), lambda o: o.get_disposition_display()),
        "status": Column(gettext_lazy("Status"), lambda o: o.get_status_display(), sort="status"),
    }
    default_sort = "-number"
    export_name = "nonconformities"

    def extra_context(self, page: Any) -> dict[str, Any]:
        return {"can_add": can(self.user, Nonconformity, "add")}


nc_list = NonconformityList.as_view()


def _nc_for(request: HttpRequest, pk: int, action: str = "view") -> Nonconformity:
    return get_object_for_user(
        request.user,
        Nonconformity.objects.select_related(
            "product", "supplier", "complaint", "capa", "disposition_by", "concession_approved_by"
        ),
        action,
        pk=pk,
    )


def _approve_dialog(request: HttpRequest, nc: Nonconformity, form: Any = None) -> dict[str, Any]:
    return signature_dialog_context(
        form_action=reverse("capa:nc_approve", args=[nc.pk]),
        meaning=Signature.Meaning.APPROVED,
        csrf_token=get_token(request),
        dialog_id="concession-approve",
        title=_("Approve the concession with your e-signature"),
        button=_("Approve concession"),
        form=form,
        comment_required=True,
        comment_label=_("Conditions / basis that quality and safety are assured"),
        submit_label=_("Sign and approve"),
        version=nc.version,
    )


def _related_url(nc: Nonconformity, user: Any) -> str:
    """The page of the recall or advisory notice the nonconformity caused, when the user may
    see it ("" otherwise: the reference alone is shown)."""
    if not nc.related_type_id or not nc.related_id:
        return ""
    model = nc.related_type.model_class() if nc.related_type else None
    if model is None or not nc.related_id.isdigit():
        return ""
    if not can(user, model, "view"):
        return ""
    record = scope_for_user(user, model).filter(pk=int(nc.related_id)).first()
    return record.get_absolute_url() if record is not None else ""


def _detail_context(request: HttpRequest, nc: Nonconformity, **extra: Any) -> dict[str, Any]:
    user = request.user
    may_change = user.has_perm(svc.CHANGE_PERM)
    is_open = nc.status == Nonconformity.Status.OPEN
    ctx: dict[str, Any] = {
        "obj": nc,
        "lots": list(nc.lots.all()),
        "units": list(nc.units.all()[:200]),
        "may_change": may_change and is_open,
        "segregation_form": SegregationForm(initial={"version": nc.version})
        if may_change and is_open
        else None,
        "disposition_form": DispositionForm(initial={"version": nc.version})
        if may_change and is_open
        else None,
        "may_close": may_change and nc.status == Nonconformity.Status.DISPOSITIONED,
        "may_approve": nc.status == Nonconformity.Status.AWAITING_APPROVAL
        and user.has_perm(svc.APPROVE_PERM),
        "scar_form": DueDateForm()
        if nc.supplier_id and user.has_perm(sup_svc.SCAR_PERM_ADD) and not nc.is_voided
        else None,
        "scars": list(nc.scars.all()),
        "related": nc.related_reference,
        "related_url": _related_url(nc, user),
        "may_link_related": may_change
        and nc.stage == Nonconformity.Stage.AFTER_DELIVERY
        and not nc.is_voided,
        "may_open_capa": nc.capa_id is None
        and not nc.is_voided
        and user.has_perm("capa.add_capa")
        and may_change,
    }
    if ctx["may_approve"]:
        ctx["dialog"] = extra.pop("dialog", None) or _approve_dialog(request, nc)
    ctx.update(extra)
    return ctx


@permission_required("capa.view_nonconformity")
@require_GET
def nc_detail(request: HttpRequest, pk: int) -> HttpResponse:
    nc = _nc_for(request, pk)
    return render(request, "capa/nc_detail.html", _detail_context(request, nc))


@permission_required("capa.add_nonconformity")
@require_http_methods(["GET", "POST"])
def nc_create(request: HttpRequest) -> HttpResponse:
    form = NonconformityForm(request.POST or None, user=request.user)
    return create_record(
        request,
        form,
        svc.create_nonconformity,
        lambda nc: _("Nonconformity %(n)s recorded.") % {"n": nc.number},
        _("New nonconformity"),
        cancel=reverse("capa:nc_list"),
        values=lambda f: f.values(),
    )


@permission_required("capa.change_nonconformity")
@require_http_methods(["GET", "POST"])
def nc_edit(request: HttpRequest, pk: int) -> HttpResponse:
    nc = _nc_for(request, pk, "change")
    if nc.status != Nonconformity.Status.OPEN:
        messages.error(request, _("Only an open nonconformity can be changed."))
        return redirect(nc)
    form = NonconformityForm(request.POST or None, instance=nc, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            nc = svc.update_nonconformity(
                nc, by=request.user, version=form.cleaned_data.get("version"), **form.values()
            )
        except (ValidationError, ConflictError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Nonconformity %(n)s saved.") % {"n": nc.number})
            return redirect(nc)
    return render(
        request,
        "records/form.html",
        {
            "form": form,
            "title": _("Edit nonconformity %(n)s") % {"n": nc.number},
            "cancel": nc.get_absolute_url(),
            "record": nc,
        },
    )


@permission_required("capa.change_nonconformity")
@require_POST
def nc_segregate(request: HttpRequest, pk: int) -> HttpResponse:
    nc = _nc_for(request, pk, "change")
    return run_post(
        request,
        nc,
        SegregationForm(request.POST),
        lambda d: svc.record_segregation(
            nc, by=request.user, version=d["version"], location=d["location"]
        ),
        _("Segregation recorded."),
    )


@permission_required("capa.change_nonconformity")
@require_POST
def nc_disposition(request: HttpRequest, pk: int) -> HttpResponse:
    nc = _nc_for(request, pk, "change")
    return run_post(
        request,
        nc,
        DispositionForm(request.POST),
        lambda d: svc.decide_disposition(
            nc,
            by=request.user,
            version=d["version"],
            disposition=d["disposition"],
            reason=d["reason"],
        ),
        _("Disposition recorded."),
    )


@permission_required("capa.approve_concession")
@require_POST
def nc_approve(request: HttpRequest, pk: int) -> HttpResponse:
    nc = _nc_for(request, pk)

    def perform(password: str, comment: str) -> Nonconformity:
        return svc.approve_concession(
            nc, by=request.user, password=password, comment=comment, request=request
        )

    return signed_action(
        request,
        nc,
        meaning=Signature.Meaning.APPROVED,
        perform=perform,
        dialog=lambda form: _approve_dialog(request, nc, form),
        page=lambda dialog: render(
            request, "capa/nc_detail.html", _detail_context(request, nc, dialog=dialog)
        ),
        success=lambda n: _("Concession approved and signed."),
        comment_required=True,
    )


@permission_required("capa.approve_concession")
@require_POST
def nc_reject(request: HttpRequest, pk: int) -> HttpResponse:
    nc = _nc_for(request, pk)
    return run_post(
        request,
        nc,
        ReasonForm(request.POST),
        lambda d: svc.reject_concession(
            nc, by=request.user, version=request.POST.get("version"), reason=d["reason"]
        ),
        _("Concession rejected; decide another disposition."),
    )


@permission_required("capa.change_nonconformity")
@require_POST
def nc_close(request: HttpRequest, pk: int) -> HttpResponse:
    nc = _nc_for(request, pk, "change")
    try:
        svc.close_nonconformity(nc, by=request.user, version=request.POST.get("version"))
    except ConflictError as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Nonconformity closed."))
    return redirect(nc)


@permission_required("capa.change_nonconformity")
@require_POST
def nc_link_recall(request: HttpRequest, pk: int) -> HttpResponse:
    """CAPA-2: link the recall or advisory notice (by its number, one the user may see) that
    this after-delivery nonconformity caused (services.link_related)."""
    from django.apps import apps

    nc = _nc_for(request, pk, "change")
    number = (request.POST.get("number") or "").strip()[:40]
    if not apps.is_installed("medvigil.recalls"):
        raise Http404
    from medvigil.recalls.models import Recall

    recall = (
        scope_for_user(request.user, Recall).filter(number__iexact=number).first()
        if number and can(request.user, Recall, "view")
        else None
    )
    if recall is None:
        messages.error(request, _("No recall or advisory notice with this number."))
        return redirect(nc)
    try:
        svc.link_related(nc, recall, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(n)s linked.") % {"n": recall.number})
    return redirect(nc)


@permission_required("capa.add_capa")
@require_POST
def nc_capa(request: HttpRequest, pk: int) -> HttpResponse:
    nc = _nc_for(request, pk, "change")
    try:
        capa = svc.open_capa(nc, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(nc)
    messages.success(request, _("CAPA %(n)s opened.") % {"n": capa.number})
    return redirect(capa)


@permission_required("capa.add_scar")
@require_POST
def nc_scar(request: HttpRequest, pk: int) -> HttpResponse:
    nc = _nc_for(request, pk)
    form = DueDateForm(request.POST)
    if form.is_valid():
        try:
            scar = sup_svc.scar_from_nonconformity(
                nc, by=request.user, due_date=form.cleaned_data["due_date"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Request %(n)s sent to the supplier.") % {"n": scar.number})
            return redirect(scar)
    else:
        messages.error(request, form_errors(form))
    return redirect(nc)
