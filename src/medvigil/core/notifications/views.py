"""The notification list, mark read (htmx) and mark all read (PLAT-8). A user only ever sees
their own notifications: anyone else's is a 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from ..models import Notification
from .services import mark_all_read, mark_read, unread_count

PER_PAGE = 25


def _own(request: HttpRequest, pk: int) -> Notification:
    try:
        return mark_read(request.user, pk)
    except Notification.DoesNotExist:
        raise Http404


def _safe_next(request: HttpRequest, url: str) -> str | None:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    qs = Notification.objects.filter(user=request.user).order_by(
        F("read_at").asc(nulls_first=True), "-created_at", "-pk"
    )
    show = request.GET.get("show", "")
    if show == "unread":
        qs = qs.filter(read_at__isnull=True)
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "core/notifications.html",
        {"page": page, "notifications": page.object_list, "show": show},
    )


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    n = _own(request, pk)
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request,
            "core/notifications_row.html",
            {"n": n, "unread_count": unread_count(request.user), "oob_bell": True},
        )
    return redirect(_safe_next(request, request.POST.get("next", "")) or "notifications")


@login_required
@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link (from the list or the e-mail), marking it read."""
    n = _own(request, pk)
    return redirect(_safe_next(request, n.url) or "notifications")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    mark_all_read(request.user)
    return redirect(_safe_next(request, request.POST.get("next", "")) or "notifications")
