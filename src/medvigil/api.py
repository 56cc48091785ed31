"""The REST API: every endpoint under /api/v1/, interactive docs at /api/docs, the OpenAPI
schema at /api/v1/openapi.json (docs/api.md).

Each domain app contributes a ninja Router: its `api.router` is mounted automatically at
/api/v1/<app label>/ (core.records.domain.DomainApp.api and api_prefix; no edit here needed).
The platform's own routers are mounted below. Prefixes are put under v1/ for you, and
mounting the same router twice is ignored."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path, re_path
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Router

from medvigil.core.api import ApiTokenAuth, SessionCsrfAuth
from medvigil.core.api_errors import install_error_handlers, json_error
from medvigil.core.records.domain import mount_api_routers

API_VERSION_PREFIX = "v1"


class MedVigilAPI(NinjaAPI):
    def add_router(self, prefix: str, router: Router | str, **kwargs: Any) -> None:  # type: ignore[override]
        if isinstance(router, str):
            router = import_string(router)
        if any(r is router for _p, r in self._routers):
            return  # already mounted (auto-discovery and an explicit call may both happen)
        p = prefix.strip("/")
        if p != API_VERSION_PREFIX and not p.startswith(f"{API_VERSION_PREFIX}/"):
            p = f"{API_VERSION_PREFIX}/{p}" if p else API_VERSION_PREFIX
        super().add_router(f"/{p}/", router, **kwargs)

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                pattern.callback = _json_errors(pattern.callback)
        return urls


def _json_errors(view: Any) -> Any:
    """Answers ninja gives outside its operations (a wrong method: bare 405; the API root:
    Http404) in the API's error shape."""

    @wraps(view)  # keeps csrf_exempt
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return api_not_found(request)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            allow = response.get("Allow", "")
            response = json_error(
                405,
                "method_not_allowed",
                _("Method %(method)s is not allowed here (allowed: %(allow)s).")
                % {"method": request.method, "allow": allow},
            )
            response["Allow"] = allow
        return response

    return wrapped


api = MedVigilAPI(
    title="MedVigil API",
    version="1",
    description="Post-market quality system. Authenticate with `Authorization: Bearer <token>` "
    "(create a token on your profile page) or a signed-in browser session. "
    "See docs/api.md for the error shape and pagination.",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url=f"/{API_VERSION_PREFIX}/openapi.json",
    auth=[ApiTokenAuth(), SessionCsrfAuth()],
)
install_error_handlers(api)

api.add_router("/", "medvigil.accounts.api.router")  # /api/v1/me, /api/v1/me/tokens
api.add_router("/audit/", "medvigil.core.audit.api.router")  # /api/v1/audit/...
api.add_router("/", "medvigil.core.imports.api.router")  # /api/v1/imports...


mount_api_routers(api)  # each domain app's router at /api/v1/<label>/ (core.records.domain)


@csrf_exempt  # nothing to protect: it only answers 404
def api_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    return json_error(
        404,
        "not_found",
        _("No API endpoint at %(path)s. See /api/docs.") % {"path": request.path},
    )


# Mounted by medvigil/urls.py. The catch-all keeps unknown /api/ paths in the error shape.
urlpatterns = [
    path("api/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
]
