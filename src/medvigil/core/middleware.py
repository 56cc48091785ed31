from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from .audit.context import audit_context

NUL = "\x00"
# A request id from a proxy is kept only if it is short and plain (it is stored in the audit
# trail and echoed in a header).
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def _has_nul(values: Iterable[Any]) -> bool:
    return any(NUL in v for v in values if isinstance(v, str))


def _json_has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_json_has_nul(k) or _json_has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_json_has_nul(v) for v in value)
    return False


class RejectNulMiddleware:
    """Text may not contain the NUL character: PostgreSQL cannot store or compare it (a query
    with one fails) and no user types it. A NUL anywhere in the path, the query string, a
    header or cookie, a form field or another body (JSON) is refused with one clear 400 (in
    the API's error shape under /api/) before any view or query sees it. Uploaded files are
    not looked into: they may hold any bytes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_nul(request):
            return self.refuse(request)
        return self.get_response(request)

    @staticmethod
    def _has_nul_in_cookies(request: HttpRequest) -> bool:
        return _has_nul(request.COOKIES.keys()) or _has_nul(request.COOKIES.values())

    @classmethod
    def _has_nul(cls, request: HttpRequest) -> bool:
        if NUL in request.path or NUL in request.META.get("QUERY_STRING", ""):
            return True
        if _has_nul(request.GET.keys()) or _has_nul(
            v for _k, vs in request.GET.lists() for v in vs
        ):
            return True
        if cls._has_nul_in_cookies(request):
            return True
        if _has_nul(v for k, v in request.META.items() if k.startswith("HTTP_")):
            return True  # headers end up in the database too (user agent of a failed login)
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return False
        content_type = request.content_type or ""
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            # Django drops non-printable characters from uploaded files' names.
            return _has_nul(request.POST.keys()) or _has_nul(
                v for _k, vs in request.POST.lists() for v in vs
            )
        body = request.body
        if b"\x00" in body:
            return True
        if b"\\u0000" in body:  # cheap test first; parse only when an escaped NUL may be there
            try:
                return _json_has_nul(json.loads(body))
            except ValueError:
                return False  # not JSON: the view answers it (the API: 400 invalid JSON)
        return False

    @staticmethod
    def refuse(request: HttpRequest) -> HttpResponse:
        message = _("The request contains a NUL character (\\0), which is not allowed in text.")
        if request.path.startswith("/api/"):
            from .api_errors import json_error

            return json_error(400, "bad_request", message)
        return HttpResponseBadRequest(render_to_string("400.html", {"message": message}, request))


class RejectNulCookieMiddleware(RejectNulMiddleware):
    """The cookies' part of RejectNulMiddleware, placed before the session middleware: the
    session and CSRF cookies are looked up in the database before any view runs. The full
    check runs after the user's language and account are known, so its refusal page is in
    the reader's language and has the usual navigation."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_nul_in_cookies(request):
            return self.refuse(request)
        return self.get_response(request)


class AuditContextMiddleware:
    """Every change made while serving a request is attributed to its user and request id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        source = (
            "api" if path.startswith("/api/") else "admin" if path.startswith("/admin/") else "ui"
        )
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
        with audit_context(
            actor=actor,
            source=source,
            request_id=request_id,
            actor_name=None if actor else "anonymous",
        ):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class NoStoreWhenSignedInMiddleware:
    """Pages and API answers for a signed-in user (session or token) are never stored by the
    browser or a proxy (`Cache-Control: no-store`): they hold personal and patient data, and
    the back button after signing out must not show them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
