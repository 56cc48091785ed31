"""Types shared by the services' signatures (mypy checks them; nothing here runs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

#: Who makes a change: the signed-in user (``request.user``), or None for the system (a
#: management command, a periodic task, a data migration). Services pass it to
#: ``audit_context(actor=...)`` and check permissions on it.
Actor: TypeAlias = "AbstractBaseUser | AnonymousUser | None"

#: A user whose access is checked (``request.user``; an anonymous one sees nothing).
UserLike: TypeAlias = "AbstractBaseUser | AnonymousUser"

__all__ = ["Actor", "UserLike"]
