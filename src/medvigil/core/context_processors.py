from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .registry import nav_for


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "unread_count": 0}
    from .models import Notification

    return {
        "nav_items": nav_for(user),
        "admin_nav_items": nav_for(user, "admin"),
        "unread_count": Notification.objects.filter(user=user, read_at__isnull=True).count(),
        "company_time_zone": settings.TIME_ZONE,
    }
