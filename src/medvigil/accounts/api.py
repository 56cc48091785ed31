"""The current user and their API tokens (PLAT-1)."""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status
from pydantic import field_validator

from medvigil.core.api import Id, api_user, error_responses

from .models import APIToken

router = Router(tags=["me"])


class DepartmentOut(Schema):
    code: str
    name: str
    name_zh: str
    name_en: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj)


class RoleOut(Schema):
    code: str
    name: str
    read_only: bool

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj)


class MeOut(Schema):
    id: int
    username: str
    printed_name: str
    email: str
    department: DepartmentOut | None
    roles: list[RoleOut]
    read_only: bool = Field(..., description="True for an auditor: may view, never change.")
    permissions: list[str] = Field(..., description="app_label.codename, sorted.")
    language: str = Field(..., description="Preferred UI language (zh-hans or en).")
    auth: str = Field(..., description="How this request authenticated: token or session.")


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(..., description="First characters of the token, to recognise it.")
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    active: bool

    @staticmethod
    def resolve_active(obj: APIToken) -> bool:
        return obj.revoked_at is None


class TokenCreatedOut(TokenOut):
    token: str = Field(..., description="The raw token. Shown only in this response.")


class TokenIn(Schema):
    name: str = Field(..., max_length=100, description="What the token is for.")

    @field_validator("name")
    @classmethod
    def not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError(_("Give the token a name."))
        return value


@router.get("/me", response={200: MeOut, **error_responses()}, summary="Who am I")
def me(request: HttpRequest) -> Any:
    user = api_user(request)
    return {
        "id": user.pk,
        "username": user.get_username(),
        "printed_name": user.printed_name,
        "email": user.email,
        "department": user.department,
        "roles": list(user.role_list),
        "read_only": user.is_read_only,
        "permissions": sorted(user.get_all_permissions()),
        "language": user.language or get_language() or "",
        "auth": getattr(request, "auth_method", "session"),
    }


@router.get(
    "/me/tokens", response={200: list[TokenOut], **error_responses()}, summary="My API tokens"
)
def list_tokens(request: HttpRequest) -> Any:
    return list(APIToken.objects.filter(user=api_user(request)).order_by("-created_at", "-id"))


@router.post(
    "/me/tokens",
    response={201: TokenCreatedOut, **error_responses(403)},
    summary="Create an API token",
)
def create_token(request: HttpRequest, payload: TokenIn) -> Any:
    """Returns the raw token once; only its hash is kept. Needs a signed-in browser session:
    an API token cannot mint further tokens (a leaked token must not outlive its revocation)."""
    if getattr(request, "auth_method", "") == "token":
        raise PermissionDenied(
            _("API tokens cannot create tokens; sign in to create one (profile page).")
        )
    token, raw = APIToken.issue(api_user(request), payload.name)
    token.token = raw  # type: ignore[attr-defined]  # in this response only; never stored
    return Status(201, token)


@router.post(
    "/me/tokens/{token_id}/revoke",
    response={200: TokenOut, **error_responses(404)},
    summary="Revoke an API token",
)
def revoke_token(request: HttpRequest, token_id: Id) -> Any:
    """Revoked tokens are refused from then on (401). Revoking twice changes nothing."""
    user = api_user(request)
    with transaction.atomic():
        # A user's own tokens are theirs to manage; nobody else's are visible here.
        token = APIToken.objects.select_for_update().filter(user=user, pk=token_id).first()
        if token is None:
            raise Http404
        if token.revoked_at is None:
            token.revoke()
    return token
