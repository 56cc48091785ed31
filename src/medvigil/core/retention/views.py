"""Pages of record destruction (PLAT-5): list, request form, detail with the signed
approve/reject dialogs. Every state change goes through core/retention/destruction.py; every
object is fetched through core/permissions.py (outsiders get 403/404, auditors read only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..models import DestructionRequest
from ..permissions import can, get_object_for_user, permission_required, scope_for_user
from ..registry import NavItem, WorkItem, register_nav, register_work
from ..templatetags.records import signature_dialog_context
from .services import (
    APPROVE_PERM,
    REQUEST_PERM,
    VIEW_PERM,
    approve_destruction,
    destroyable_models,
    explain_retention,
    four_eyes,
    reject_destruction,
    request_destruction,
    target_of,
)

PER_PAGE = 25
Status = DestructionRequest.Status


def _type_key(model: Any) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


class DestructionRequestForm(forms.Form):
    record_type = forms.ChoiceField(label=gettext_lazy("Record type"))
    record_id = forms.CharField(label=gettext_lazy("Record id"), max_length=64)
    reason = forms.CharField(
        label=gettext_lazy("Reason for destruction"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.models = {_type_key(m): m for m in destroyable_models(user)}
        self.fields["record_type"].choices = [("", "—")] + sorted(
            (
                (k, f"{m._meta.verbose_name} ({m._meta.app_config.verbose_name})")
                for k, m in self.models.items()
            ),
            key=lambda c: str(c[1]).lower(),
        )
        self.record: Any = None

    def resolve(self, type_key: str, record_id: str) -> str:
        """Find the record the user may see; returns an error message or ""."""
        model = self.models.get(type_key or "")
        if model is None:
            return _("Choose a record type.")
        try:
            self.record = get_object_for_user(self.user, model, "view", pk=record_id.strip())
        except (Http404, PermissionDenied):
            return _("There is no record of this type with this id that you can see.")
        return ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("record_type") and (data.get("record_id") or "").strip():
            error = self.resolve(data["record_type"], data["record_id"])
            if error:
                self.add_error("record_id", error)
        return data


def _preview(form: DestructionRequestForm) -> dict[str, Any] | None:
    """The record and its retention date, shown before the request is sent."""
    if form.record is None:
        return None
    decision = explain_retention(form.record)
    return {"record": form.record, "decision": decision, "expired": decision.expired()}


@require_GET
@permission_required(VIEW_PERM)
def destruction_list(request: HttpRequest) -> HttpResponse:
    qs = scope_for_user(request.user, DestructionRequest).select_related(
        "content_type", "requested_by", "decided_by"
    )
    status = request.GET.get("status", "")
    if status in Status.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    page = Paginator(qs.order_by("-requested_at", "-pk"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "core/retention/list.html",
        {
            "page": page,
            "requests": page.object_list,
            "status": status,
            "statuses": Status.choices,
            "can_request": request.user.has_perm(REQUEST_PERM),
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required(REQUEST_PERM)
def destruction_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    record_error = ""
    if request.method == "POST":
        form = DestructionRequestForm(request.POST, user=user)
        if form.is_valid() and form.record is not None:
            try:
                req = request_destruction(form.record, by=user, reason=form.cleaned_data["reason"])
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Destruction request %(number)s was sent for approval.")
                    % {"number": req.number},
                )
                return redirect("destruction_detail", pk=req.pk)
        status = 400
    else:
        initial = {
            "record_type": request.GET.get("type", ""),
            "record_id": request.GET.get("id", ""),
        }
        form = DestructionRequestForm(initial=initial, user=user)
        if initial["record_type"] and initial["record_id"]:
            # Prefilled from a record page's button: show the record and its retention date.
            record_error = form.resolve(initial["record_type"], initial["record_id"])
        status = 200
    return render(
        request,
        "core/retention/new.html",
        {"form": form, "preview": _preview(form), "record_error": record_error},
        status=status,
    )


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _detail_context(request: HttpRequest, req: DestructionRequest) -> dict[str, Any]:
    user = request.user
    model = req.content_type.model_class()
    can_view_record = False
    target = None
    if model is not None and can(user, model, "view"):
        existing = target_of(req)
        if existing is None:
            can_view_record = True  # destroyed: its trail is part of the destruction record
        else:
            try:  # the record's own object rules apply while it exists
                target = get_object_for_user(user, model, "view", pk=existing.pk)
                can_view_record = True
            except Http404:
                pass
    decision = explain_retention(target) if target is not None else None
    is_open = req.status == Status.REQUESTED
    can_decide = is_open and user.has_perm(APPROVE_PERM)
    return {
        "req": req,
        "target": target,
        "target_url": getattr(target, "get_absolute_url", lambda: "")() if target else "",
        "decision": decision,
        "can_view_record": can_view_record,
        "record_ct": req.content_type,
        "can_decide": can_decide,
        "own_request": four_eyes() and req.requested_by_id == user.pk,
        "approve_dialog": None,
        "reject_dialog": None,
    }


def _dialogs(
    request: HttpRequest,
    req: DestructionRequest,
    ctx: dict[str, Any],
    *,
    approve_form: Any = None,
    reject_form: Any = None,
) -> dict[str, Any]:
    from django.middleware.csrf import get_token

    token = get_token(request)
    ctx["approve_dialog"] = _approve_dialog(req, token, approve_form)
    ctx["reject_dialog"] = _reject_dialog(req, token, reject_form)
    return ctx


def _approve_dialog(req: DestructionRequest, token: Any, form: Any = None) -> dict[str, Any]:
    return signature_dialog_context(
        form_action=reverse("destruction_approve", args=[req.pk]),
        meaning="approved",
        csrf_token=token,
        dialog_id="approve-dialog",
        title=_("Approve destruction and sign"),
        form=form,
        submit_label=_("Sign and destroy the record"),
        comment_label=_("Note"),
        version=req.version,
        text=_(
            "The record %(record)s will be destroyed permanently. Its audit trail, this request "
            "and your signature remain."
        )
        % {"record": req.object_repr},
    )


def _reject_dialog(req: DestructionRequest, token: Any, form: Any = None) -> dict[str, Any]:
    return signature_dialog_context(
        form_action=reverse("destruction_reject", args=[req.pk]),
        meaning="reviewed",
        csrf_token=token,
        dialog_id="reject-dialog",
        title=_("Reject destruction and sign"),
        form=form,
        comment_required=True,
        comment_label=_("Why is the destruction rejected?"),
        submit_label=_("Sign and reject"),
        version=req.version,
    )


@require_GET
def destruction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    req = get_object_for_user(
        request.user,
        DestructionRequest.objects.select_related("content_type", "requested_by", "decided_by"),
        "view",
        pk=pk,
    )
    ctx = _detail_context(request, req)
    if ctx["can_decide"]:
        _dialogs(request, req, ctx)
    return render(request, "core/retention/detail.html", ctx)


def _decide(request: HttpRequest, pk: int, *, approving: bool) -> HttpResponse:
    from django.middleware.csrf import get_token

    from ..records.views import signed_action

    if not request.user.is_authenticated:
        raise PermissionDenied
    req = get_object_for_user(request.user, DestructionRequest, "approve", pk=pk)
    service = approve_destruction if approving else reject_destruction
    make_dialog = _approve_dialog if approving else _reject_dialog

    def perform(password: str, comment: str) -> DestructionRequest:
        return service(req, by=request.user, password=password, request=request, note=comment)

    def success(done: DestructionRequest) -> str:
        if approving:
            return _("%(number)s approved: the record was destroyed.") % {"number": done.number}
        return _("%(number)s rejected.") % {"number": done.number}

    def page(dialog: dict[str, Any]) -> HttpResponse:
        ctx = _detail_context(request, req)
        _dialogs(request, req, ctx)
        ctx["approve_dialog" if approving else "reject_dialog"] = dialog
        return render(request, "core/retention/detail.html", ctx)

    return signed_action(
        request,
        req,
        meaning="approved" if approving else "reviewed",
        perform=perform,
        dialog=lambda form: make_dialog(req, get_token(request), form),
        page=page,
        success=success,
        comment_required=not approving,
    )


@require_POST
def destruction_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, approving=True)


@require_POST
def destruction_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, approving=False)


# --- navigation and My work ---------------------------------------------------------------


def pending_destructions(user: Any) -> list[WorkItem]:
    """My work: open destruction requests for users who may approve them."""
    if not user.is_authenticated or not user.has_perm(APPROVE_PERM):
        return []
    qs = (
        DestructionRequest.objects.filter(status=Status.REQUESTED)
        .select_related("requested_by")
        .order_by("requested_at")
    )
    if four_eyes():
        qs = qs.exclude(requested_by=user)
    return [
        WorkItem(
            title=f"{r.number} · {r.object_repr}",
            url=reverse("destruction_detail", args=[r.pk]),
            kind=gettext_lazy("Destruction to approve"),
            detail=_("Requested by %(name)s: %(reason)s")
            % {"name": r.requested_by.printed_name, "reason": r.reason[:120]},
        )
        for r in qs[:50]
    ]


def register_ui() -> None:
    register_nav(
        NavItem(
            gettext_lazy("Record destruction"),
            "destruction_list",
            perm=VIEW_PERM,
            order=60,
            group="admin",
        )
    )
    register_work(pending_destructions)


__all__ = [
    "destruction_approve",
    "destruction_detail",
    "destruction_list",
    "destruction_new",
    "destruction_reject",
    "pending_destructions",
    "register_ui",
]
