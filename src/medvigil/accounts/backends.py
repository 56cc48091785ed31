"""Permissions from roles (PLAT-1). A read-only role grants only view/export permissions.

The effective permissions are resolved once per process and user and checked against the
access stamp read with the user (accounts.access): `has_perm` makes no query on a warm
cache."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError

from .access import READ_ONLY_PREFIXES, access_for
from .userload import user_by_id

__all__ = ["READ_ONLY_PREFIXES", "RoleBackend"]


class RoleBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        """The session's user with its department and the access stamp, in one query
        (accounts.userload)."""
        try:
            pk = get_user_model()._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        user = user_by_id(pk)
        if user is None or not self.user_can_authenticate(user):
            return None
        return user

    def _get_role_permissions(self, user_obj: Any) -> Any:
        return Permission.objects.filter(role__users=user_obj)

    def get_role_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return self._get_permissions(user_obj, obj, "role")

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> Any:
        """A frozenset shared by the user's requests (no copy per request)."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return frozenset()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = access_for(user_obj).permissions
        return user_obj._perm_cache
