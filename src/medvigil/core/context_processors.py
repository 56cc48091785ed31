from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from medvigil.accounts.userload import UNREAD_ATTR

from .shell import main_bar, url


def unread_for(request: HttpRequest, user: Any) -> int:
    """The user's unread notifications. On a GET or HEAD (which changes no notification) the
    count read with the user at the start of the request; otherwise counted now (a POST that
    re-renders a page may just have read or created some)."""
    count = getattr(user, UNREAD_ATTR, None)
    if count is not None and request.method in ("GET", "HEAD"):
        return int(count)
    from .notifications.services import unread_count

    return unread_count(user)


def shell(request: HttpRequest) -> dict[str, Any]:
    """The page shell: the main bar (core.shell: built once per combination of the user's
    entries, page and language; no query) and the unread notifications (read with the
    session's user: no query of its own on a GET)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_menus": "", "unread_count": 0}
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match is not None else ""
    return {
        "nav_menus": main_bar(user, current),
        "nav_current": current,
        "shell_urls": {
            name: url(name)
            for name in ("home", "notifications", "set_language_pref", "profile", "logout")
        },
        "unread_count": unread_for(request, user),
        "company_time_zone": settings.TIME_ZONE,
    }
