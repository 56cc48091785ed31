"""Permissions from roles. A read-only role grants only view/export permissions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

READ_ONLY_PREFIXES = ("view_", "export_")


class RoleBackend(ModelBackend):
    def _get_role_permissions(self, user_obj: Any) -> Any:
        return Permission.objects.filter(role__users=user_obj)

    def get_role_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return self._get_permissions(user_obj, obj, "role")

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            perms = {*super().get_all_permissions(user_obj), *self.get_role_permissions(user_obj)}
            if getattr(user_obj, "is_read_only", False):
                perms = {p for p in perms if p.split(".", 1)[-1].startswith(READ_ONLY_PREFIXES)}
            user_obj._perm_cache = perms
        return user_obj._perm_cache
