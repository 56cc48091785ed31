"""The htmx "show older entries" fragment of {% history_panel %} (PLAT-2). Access: a user
who may view the record (through get_object_for_user); the trail of a destroyed record only
to users who may view that record type and the destruction requests or the audit trail."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .models import AuditEntry
from .permissions import can, get_object_for_user
from .templatetags.records import history_context


@login_required
@require_GET
def record_history(
    request: HttpRequest, app_label: str, model: str, object_id: str
) -> HttpResponse:
    try:
        ct = ContentType.objects.get_by_natural_key(app_label, model)
    except ContentType.DoesNotExist:
        raise Http404
    model_class = ct.model_class()
    if model_class is None:
        raise Http404
    user = request.user
    try:
        exists = model_class._base_manager.filter(pk=object_id).exists()
    except (ValueError, TypeError):
        raise Http404
    if exists:
        get_object_for_user(user, model_class, "view", pk=object_id)
    else:
        allowed = can(user, model_class, "view") and (
            user.has_perm("core.view_destructionrequest") or user.has_perm("core.view_auditentry")
        )
        if (
            not allowed
            or not AuditEntry.objects.filter(content_type=ct, object_id=str(object_id)).exists()
        ):
            raise Http404
    ctx = history_context(request, ct, object_id, request.GET.get("page"))
    return render(request, "core/_history_entries.html", ctx)
