from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .registry import nav_menus_for


def shell(request: HttpRequest) -> dict[str, Any]:
    """The page shell: the main bar's menus (from the user's cached permissions: no query)
    and the unread notifications (one query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_menus": [], "unread_count": 0}
    from .models import Notification

    match = getattr(request, "resolver_match", None)
    current = match.view_name if match is not None else ""
    return {
        "nav_menus": nav_menus_for(user, current),
        "nav_current": current,
        "unread_count": Notification.objects.filter(user=user, read_at__isnull=True).count(),
        "company_time_zone": settings.TIME_ZONE,
    }
