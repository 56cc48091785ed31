from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


class UserLanguageMiddleware:
    """Activate the language chosen in the user's profile (a switch per user, PLAT-6).
    Runs after LocaleMiddleware and AuthenticationMiddleware and overrides the browser's
    language for signed-in users who chose one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "language", ""):
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


SESSION_TOUCHED = "_mv_touched"


class SessionIdleMiddleware:
    """The idle timeout (SESSION_COOKIE_AGE) without writing the session on every request.

    With SESSION_SAVE_EVERY_REQUEST each page cost three more statements (BEGIN, UPDATE of
    the session row, COMMIT) only to push its expiry on (#13). Here an existing session is
    marked changed — so that SessionMiddleware saves it with a new expiry and renews the
    cookie — when SESSION_REFRESH_SECONDS (default 60) have passed since it was last saved
    that way: the idle limit then holds to within that minute. Sessions of visitors who are
    not signed in are not created here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.every = int(getattr(settings, "SESSION_REFRESH_SECONDS", 60))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        # keys() loads the session (AuthenticationMiddleware reads it anyway); a cookie naming
        # no stored session loads nothing and creates nothing.
        if session is not None and session.session_key and session.keys():
            now = int(time.time())
            touched = session.get(SESSION_TOUCHED)
            if not isinstance(touched, int) or not 0 <= now - touched < self.every:
                session[SESSION_TOUCHED] = now
        return self.get_response(request)
