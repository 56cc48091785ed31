"""One way to fetch records for a user (ARCHITECTURE rule 6): role permission first, then the
model's own object rule (the `visible_to(user, qs)` record hook, core/records/hooks.py)."""

from __future__ import annotations

from functools import wraps
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404

from .records.hooks import hook

M = TypeVar("M", bound=models.Model)

WRITE_ACTIONS = {"add", "change", "delete"}


def perm_name(model: type[models.Model], action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def require(user: Any, perm: str) -> None:
    """Raise PermissionDenied unless the user holds perm (auditors never hold write perms)."""
    if not user.is_authenticated or not user.has_perm(perm):
        raise PermissionDenied


def can(user: Any, model: type[models.Model], action: str = "view") -> bool:
    return bool(user.is_authenticated and user.has_perm(perm_name(model, action)))


# Set by get_object_for_user on the instance it returns: the pk of the user whose scope it was
# read through (attachments.services.can_upload trusts it instead of querying again).
FETCHED_FOR_ATTR = "_mv_fetched_for"


def scope_for_user(user: Any, qs_or_model: Any, action: str = "view") -> models.QuerySet:
    qs = (
        qs_or_model
        if isinstance(qs_or_model, models.QuerySet)
        else qs_or_model._default_manager.all()
    )
    if not can(user, qs.model, action):
        return qs.none()
    return hook(qs.model, "visible_to")(user, qs)


def get_object_for_user(user: Any, qs_or_model: Any, action: str = "view", **lookup: Any) -> Any:
    """Fetch one record the user may see (404 otherwise) and may `action` (403 otherwise)."""
    qs = (
        qs_or_model
        if isinstance(qs_or_model, models.QuerySet)
        else qs_or_model._default_manager.all()
    )
    visible = scope_for_user(user, qs, "view")
    try:
        obj = visible.get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404
    if action != "view" and not can(user, qs.model, action):
        raise PermissionDenied
    # This instance was read through the user's scope: a check of the same scope on it later
    # in the request (the attachments panel's upload form) needs no query of its own.
    setattr(obj, FETCHED_FOR_ATTR, getattr(user, "pk", None))
    return obj


def check_history_access(user: Any, content_type: Any, object_id: Any) -> None:
    """Whether `user` may read the history (audit entries) of one record, for the history
    panel and the API alike: a user who may view the record (get_object_for_user: 404 or
    403 otherwise); the trail of a destroyed record only to users who may view that record
    type and the destruction requests or the audit trail (404 otherwise)."""
    from .models import AuditEntry

    model_class = content_type.model_class()
    if model_class is None:
        raise Http404
    try:
        exists = model_class._base_manager.filter(pk=object_id).exists()
    except (ValueError, TypeError, ValidationError):
        raise Http404
    if exists:
        get_object_for_user(user, model_class, "view", pk=object_id)
        return
    allowed = can(user, model_class, "view") and (
        user.has_perm("core.view_destructionrequest") or user.has_perm("core.view_auditentry")
    )
    if (
        not allowed
        or not AuditEntry.objects.filter(
            content_type=content_type, object_id=str(object_id)
        ).exists()
    ):
        raise Http404


def permission_required(perm: str) -> Any:
    """View decorator: login required, then the permission; 403 (not a redirect) if missing."""
    from django.contrib.auth.views import redirect_to_login

    def deco(view: Any) -> Any:
        @wraps(view)
        def wrapped(request: Any, *args: Any, **kwargs: Any) -> Any:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            require(request.user, perm)
            return view(request, *args, **kwargs)

        return wrapped

    return deco
