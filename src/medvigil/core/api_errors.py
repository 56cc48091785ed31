"""One error shape for every API error (docs/api.md):

    {"error": {"code": "...", "message": "...", "fields": {"field": ["msg", ...]}}}

`install_error_handlers(api)` registers the handlers on the NinjaAPI; `error_body()` builds the
shape for anything that answers outside ninja (unknown URL, wrong method)."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from medvigil.core.models import ConflictError

logger = logging.getLogger("medvigil.api")

NON_FIELD = "__all__"
# Where ninja says an input came from; the first element of a pydantic error location.
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}

CODE_FOR_STATUS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "validation_error",
    429: "throttled",
}


def error_body(
    code: str, message: str, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def json_error(
    status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> HttpResponse:
    """A plain Django response in the API error shape (for views outside ninja)."""
    return HttpResponse(
        json.dumps(error_body(code, message, fields), ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def _field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        source = parts.pop(0)
        # A body schema parameter adds its own name: ("body", "payload", "name") -> "name".
        if source in {"body", "form"} and len(parts) > 1:
            parts.pop(0)
    return ".".join(str(p) for p in parts) or NON_FIELD


def _ninja_fields(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for err in errors:
        name = _field_name(err.get("loc", ()))
        msg = str(err.get("msg", "")) or _("Invalid value.")
        fields.setdefault(name, []).append(msg)
    return fields


def _django_fields(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            (NON_FIELD if k == "__all__" else k): [str(m) for m in v]
            for k, v in exc.message_dict.items()
        }
    return {NON_FIELD: [str(m) for m in exc.messages]}


def install_error_handlers(api: NinjaAPI) -> None:
    """Register the handlers. More specific classes win (ninja walks the exception's MRO)."""

    def respond(
        request: HttpRequest,
        status: int,
        code: str,
        message: str,
        fields: dict[str, list[str]] | None = None,
    ) -> HttpResponse:
        return api.create_response(request, error_body(code, message, fields), status=status)

    @api.exception_handler(NinjaValidationError)
    def on_ninja_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return respond(
            request,
            422,
            "validation_error",
            _("Some values are not valid; nothing was changed."),
            _ninja_fields(exc.errors),
        )

    @api.exception_handler(DjangoValidationError)
    def on_django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        fields = _django_fields(exc)
        non_field = fields.get(NON_FIELD, [])
        message = (
            non_field[0]
            if len(fields) == 1 and len(non_field) == 1
            else _("Some values are not valid; nothing was changed.")
        )
        return respond(request, 422, "validation_error", message, fields)

    @api.exception_handler(PermissionDenied)
    def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        message = str(exc) or _("You do not have permission to do this.")
        return respond(request, 403, "permission_denied", message)

    @api.exception_handler(Http404)
    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, "not_found", _("Not found."))

    @api.exception_handler(ConflictError)
    def on_conflict(request: HttpRequest, exc: ConflictError) -> HttpResponse:
        return respond(request, 409, "conflict", str(exc))

    @api.exception_handler(AuthenticationError)
    def on_not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = respond(
            request,
            401,
            "not_authenticated",
            _(
                "Authentication required: send 'Authorization: Bearer <token>' with a valid "
                "API token, or sign in."
            ),
        )
        response["WWW-Authenticate"] = 'Bearer realm="medvigil"'
        return response

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        status = exc.status_code
        code = CODE_FOR_STATUS.get(status, "bad_request" if status < 500 else "server_error")
        message = str(exc)
        if status == 400 and message == "Cannot parse request body":
            message = _("The request body is not valid JSON.")
        return respond(request, status, code, message)

    @api.exception_handler(Exception)
    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception(
            "Unhandled API error on %s %s (request %s)",
            request.method,
            request.path,
            getattr(request, "request_id", "-"),
        )
        return respond(
            request,
            500,
            "server_error",
            _("An unexpected error occurred; it has been logged."),
        )
