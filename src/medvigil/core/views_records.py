"""The htmx "show older entries" fragment of {% history_panel %} (PLAT-2). Access:
core.permissions.check_history_access (the API's record history uses it too)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .permissions import check_history_access
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
    check_history_access(request.user, ct, object_id)
    ctx = history_context(request, ct, object_id, request.GET.get("page"))
    return render(request, "core/_history_entries.html", ctx)
