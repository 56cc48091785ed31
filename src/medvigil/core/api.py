"""API building blocks shared by every app's router (the audit trail's endpoints are in
audit/api.py).

For an app router (see docs/api.md), use:

    from medvigil.core.api import Page, Pagination, api_get_object, paginate, require_perm

    router = Router(tags=["trace"])

    @router.get("/products", response=list[ProductOut])
    @paginate(Pagination)                      # -> {"count", "limit", "offset", "items"}
    def list_products(request):
        return scope_for_user(request.user, Product).order_by("name")

    @router.get("/products/{pk}", response=ProductOut)
    def get_product(request, pk: int):
        return api_get_object(request, Product, "view", pk=pk)   # 404 / 403 in the error shape

    @router.post("/products/{pk}/obsolete", response=ProductOut)
    def obsolete(request, pk: int, payload: ObsoleteIn):
        product = api_get_object(request, Product, "change", pk=pk)
        return services.obsolete_product(product, by=request.user, version=payload.version)

`request.user` is the authenticated user for both token and session requests, and the audit
actor is already set: services called from an endpoint are attributed to that user with the
source "api". Raise django's ValidationError / PermissionDenied / Http404 or ConflictError from
services; the API turns them into the one error shape (medvigil.core.api_errors)."""

from typing import Annotated, Any

from annotated_types import Ge, Le
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.pagination import PaginationBase, paginate
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from .audit.context import set_actor
from .permissions import get_object_for_user, require

__all__ = [
    "ERROR_RESPONSES",
    "ApiTokenAuth",
    "ErrorOut",
    "Id",
    "Page",
    "PageParams",
    "Pagination",
    "SessionCsrfAuth",
    "Versioned",
    "api_get_object",
    "api_user",
    "error_responses",
    "paginate",
    "paginate_queryset",
    "require_perm",
    "auth_with_perm",
]

DEFAULT_LIMIT = int(getattr(settings, "NINJA_PAGINATION_PER_PAGE", 50))
MAX_LIMIT = 500
# Every integer a client sends that reaches the database is bounded in the schema, so a value
# the database cannot hold is a 422, not a 500 ("bigint out of range"); a test walks the
# OpenAPI schema for unbounded integers.
DB_INT_MAX = 2**63 - 1
MAX_OFFSET = 2**31 - 1
Id = Annotated[int, Ge(1), Le(DB_INT_MAX)]
"""A record id in a path, query or body: `def get_unit(request, unit_id: Id)`."""


# --- authentication -------------------------------------------------------------------------
class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` with a personal API token (accounts.APIToken).
    Revoked or unknown tokens, and tokens of inactive users, are refused (401)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from medvigil.accounts.models import APIToken

        token = token.strip()
        if not token:
            return None
        user = APIToken.authenticate(token)
        if user is None:
            return None
        request.user = user
        request.auth_method = "token"  # type: ignore[attr-defined]
        set_actor(user)  # the audit context opened by AuditContextMiddleware (source "api")
        return user


class SessionCsrfAuth(APIKeyCookie):
    """The browser session, so htmx pages can call the API. Unsafe methods need the CSRF token
    (header X-CSRFToken), as for any form post. Without a signed-in session this auth simply
    does not apply, so a request with a bad token gets 401, not a CSRF error."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if (
            self.csrf
            and not getattr(request, "_ninja_csrf_exempt", False)
            and check_csrf(request) is not None
        ):
            raise PermissionDenied(
                _("CSRF check failed: send the X-CSRFToken header with the session cookie.")
            )
        request.auth_method = "session"  # type: ignore[attr-defined]
        return user


def auth_with_perm(perm: str, *alternatives: str) -> list[Any]:
    """Per-operation `auth=` for writes: the usual token/session auth, then the permission,
    so a user without it gets 403 before the body is even validated (not a 422).
    Usage: `@router.post("/x", auth=auth_with_perm("trace.add_x"))`. With alternatives the
    user needs one of the permissions (the service then checks which one applies, e.g. a
    stock keeper's movement or an engineer's issue from their own van)."""
    perms = (perm, *alternatives)

    def checked(inner: Any) -> Any:
        def call(request: HttpRequest) -> Any:
            user = inner(request)
            if user and not any(user.has_perm(p) for p in perms):
                raise PermissionDenied
            return user

        return call

    return [checked(ApiTokenAuth()), checked(SessionCsrfAuth())]


# --- helpers for routers --------------------------------------------------------------------
def api_user(request: HttpRequest) -> Any:
    """The authenticated user of an API request (token or session)."""
    return getattr(request, "auth", None) or request.user


def require_perm(request: HttpRequest, perm: str) -> None:
    """403 (permission_denied) unless the API user holds `perm`, e.g. "trace.add_sale".
    Read-only roles (auditor) never hold write permissions."""
    require(api_user(request), perm)


def api_get_object(
    request: HttpRequest, model_or_qs: Any, action: str = "view", **lookup: Any
) -> Any:
    """One record the API user may see (404 otherwise) and may `action` (403 otherwise):
    core.permissions.get_object_for_user for endpoints (ARCHITECTURE rule 6)."""
    return get_object_for_user(api_user(request), model_or_qs, action, **lookup)


class ErrorDetail(Schema):
    code: str = Field(
        ...,
        description="validation_error, permission_denied, not_authenticated, not_found, "
        "conflict, bad_request, method_not_allowed, throttled or server_error",
    )
    message: str
    fields: dict[str, list[str]] = Field(
        default_factory=dict, description="Messages per input field; '__all__' for the record."
    )


class ErrorOut(Schema):
    error: ErrorDetail


# for OpenAPI: response={200: X, **ERROR_RESPONSES}
ERROR_RESPONSES: dict[int, Any] = dict.fromkeys((400, 401, 403, 404, 409, 422), ErrorOut)
# Any request may get these: 400 (a body that is not JSON, a NUL character anywhere), 401, 422.
ALWAYS = (400, 401, 422)


def error_responses(*statuses: int) -> dict[int, Any]:
    """OpenAPI error responses for an endpoint: `response={200: Out, **error_responses(403)}`.
    400, 401 and 422 are always included."""
    return dict.fromkeys(sorted({*ALWAYS, *statuses}), ErrorOut)


class Versioned(Schema):
    """Base of an update body: the record `version` the client read (ARCHITECTURE rule 8).
    Pass it on to the service (`version=payload.version`): a stale, missing or null version
    is a 409 conflict there (AuditedModel.check_version), never a silent overwrite."""

    version: int | None = Field(
        None,
        ge=0,
        le=DB_INT_MAX,
        description="The record's version as read. Required in effect: without it, or with "
        "an older one, the update is refused as a conflict (409).",
    )


class PageParams(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip.")


class Page(Schema):
    """The shape of every paginated list. Routers get it through @paginate(Pagination)."""

    count: int = Field(..., description="Total number of items matching the query.")
    limit: int
    offset: int
    items: list[Any]


def paginate_queryset(qs: Any, limit: int, offset: int) -> dict[str, Any]:
    """{"count", "limit", "offset", "items"} for a queryset or list (items evaluated)."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    count = qs.count() if isinstance(qs, models.QuerySet) else len(qs)
    return {"count": count, "limit": limit, "offset": offset, "items": list(qs[offset:][:limit])}


class Pagination(PaginationBase):
    """limit/offset pagination with the total: `@paginate(Pagination)` under `@router.get(...,
    response=list[ItemOut])`. The query must be ordered (the endpoint decides the order)."""

    class Input(PageParams):
        pass

    class Output(Page):
        pass

    def paginate_queryset(
        self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any
    ) -> Any:
        return paginate_queryset(queryset, pagination.limit, pagination.offset)
