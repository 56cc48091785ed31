"""A user's effective access (PLAT-1), resolved once and kept per process.

What a user may do comes from data that changes rarely (the roles, their permissions, the
read-only flag), yet it is needed on every request: each `has_perm`, the navigation, the
read-only check. Django's ModelBackend keeps the permissions on the user object
(`_perm_cache`), which lives for one request, so every request read them again (three to five
queries). Here they are kept per process, keyed by the user, and checked against one value
that every process sees: the access stamp (`AccessStamp`, one row).

- Any change that can alter anyone's access gives the stamp a new random value in the same
  transaction as the change (signals below: a user's roles, groups or direct permissions; a
  role's or group's permissions; a role's read-only flag; a role, group or permission
  deleted). The changes themselves are audited as before (core.signals, the record's trail).
- The stamp is read in the same query as the request's user: the session user
  (`RoleBackend.get_user`) and the API token's user (`APIToken.authenticate`) carry it, so
  checking it costs no query. A cached entry made under another stamp is not used: a change
  committed by any process takes effect on the next request in every process and worker.
- The value is random, not a counter: after a rolled-back transaction (a test, a failed
  import) a counter could come back to a value an entry was cached under with other data.
- A user object obtained any other way (a service, the shell, a task) reads the stamp once
  when its access is first asked for (one small query), then keeps it, as Django does.
- Whether the user is active or a superuser is part of the entry's key: those are columns of
  the user's own row, read with it on every request.

Frappe keeps roles in Redis and deletes them when a user or role is saved; NetBox caches
object permissions on the user object for one request. A row read with the user needs no
shared cache (Redis stays optional) and is as cheap on SQLite as on PostgreSQL.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils.translation import get_language

READ_ONLY_PREFIXES = ("view_", "export_")
# Users whose access one process keeps (least recently used dropped past this).
MAX_ENTRIES = 10_000
STAMP_PK = 1
# Attribute names on a user instance.
STAMP_ATTR = "mv_access_stamp"  # the stamp read with the user row (an annotation)
ACCESS_ATTR = "_mv_access"  # the Access resolved for this instance


@dataclass(frozen=True)
class RoleInfo:
    """A role as a user's access knows it (shared between requests: plain, immutable)."""

    pk: int
    code: str
    name_zh: str
    name_en: str
    read_only: bool

    def __str__(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh


@dataclass(frozen=True)
class Access:
    stamp: int | None
    active: bool
    superuser: bool
    roles: tuple[RoleInfo, ...]
    permissions: frozenset[str]
    read_only: bool

    @property
    def role_codes(self) -> frozenset[str]:
        return frozenset(r.code for r in self.roles)


_lock = threading.Lock()
_entries: OrderedDict[Any, Access] = OrderedDict()
# Users with the same roles share one permission set (memory stays small with many users).
_shared_sets: dict[frozenset[str], frozenset[str]] = {}


def stamp_query() -> Any:
    """The stamp as a subquery, to annotate the query that reads the request's user."""
    from .models import AccessStamp

    return models.Subquery(AccessStamp.objects.filter(pk=STAMP_PK).values("value")[:1])


def with_stamp(qs: models.QuerySet) -> models.QuerySet:
    """`qs` with the stamp read in the same query (`mv_access_stamp` on each row)."""
    return qs.annotate(**{STAMP_ATTR: stamp_query()})


def current_stamp() -> int | None:
    from .models import AccessStamp

    return AccessStamp.objects.filter(pk=STAMP_PK).values_list("value", flat=True).first()


def bump(using: str | None = None) -> None:
    """Give the stamp a new value (in the caller's transaction) and forget this process's
    entries. Called by the signal handlers; call it after changing roles or permissions
    with raw SQL."""
    from .models import AccessStamp

    value = secrets.randbits(62)
    manager = AccessStamp.objects.db_manager(using)
    if not manager.filter(pk=STAMP_PK).update(value=value):
        try:
            with transaction.atomic(using=manager.db):
                manager.create(pk=STAMP_PK, value=value)
        except IntegrityError:  # created meanwhile by another process
            manager.filter(pk=STAMP_PK).update(value=value)
    clear()


def clear() -> None:
    with _lock:
        _entries.clear()
        _shared_sets.clear()


def cached_users() -> int:
    return len(_entries)


def access_for(user: Any) -> Access:
    """The user's access: from the instance, else this process's cache if made under the
    current stamp, else resolved from the database (two queries) and kept."""
    access = getattr(user, ACCESS_ATTR, None)
    if access is not None:
        return access
    stamp = getattr(user, STAMP_ATTR) if hasattr(user, STAMP_ATTR) else current_stamp()
    key = user.pk
    with _lock:
        access = _entries.get(key)
        if access is not None:
            _entries.move_to_end(key)
    if (
        access is None
        or stamp is None
        or access.stamp != stamp
        or access.active != user.is_active
        or access.superuser != user.is_superuser
    ):
        access = _resolve(user, stamp)
        if stamp is not None:
            with _lock:
                _entries[key] = access
                while len(_entries) > MAX_ENTRIES:
                    _entries.popitem(last=False)
    setattr(user, ACCESS_ATTR, access)
    return access


def forget(user: Any) -> None:
    """Drop what this user object remembers (its next check reads the stamp again)."""
    for attr in (ACCESS_ATTR, STAMP_ATTR, "_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(attr, None)


def _resolve(user: Any, stamp: int | None) -> Access:
    from django.contrib.auth.models import Group, Permission

    from .models import Role

    if not user.is_active or user.pk is None:
        return Access(stamp, user.is_active, user.is_superuser, (), frozenset(), False)
    roles = tuple(
        RoleInfo(*row)
        for row in Role.objects.filter(users=user)
        .order_by("code")
        .values_list("pk", "code", "name_zh", "name_en", "read_only")
    )
    perms = Permission.objects.all()
    if not user.is_superuser:
        # ModelBackend's three sources (direct, groups, roles) in one query
        perms = perms.filter(
            models.Q(
                pk__in=type(user)
                .user_permissions.through.objects.filter(user=user)
                .values("permission_id")
            )
            | models.Q(
                pk__in=Group.permissions.through.objects.filter(group__user=user).values(
                    "permission_id"
                )
            )
            | models.Q(
                pk__in=Role.permissions.through.objects.filter(role__users=user).values(
                    "permission_id"
                )
            )
        )
    names = {
        f"{app}.{codename}"
        for app, codename in perms.values_list("content_type__app_label", "codename").order_by()
    }
    read_only = not user.is_superuser and bool(roles) and all(r.read_only for r in roles)
    if read_only:
        names = {p for p in names if p.split(".", 1)[-1].startswith(READ_ONLY_PREFIXES)}
    permissions = frozenset(names)
    with _lock:
        permissions = _shared_sets.setdefault(permissions, permissions)
    return Access(stamp, True, user.is_superuser, roles, permissions, read_only)


# --- what bumps the stamp -------------------------------------------------------------------


def _on_m2m(sender: Any, action: str, using: str, **kwargs: Any) -> None:
    if action in {"post_add", "post_remove", "post_clear"}:
        bump(using)


def _on_role_saved(sender: Any, created: bool, using: str, **kwargs: Any) -> None:
    if not created:  # a new role has no holders yet
        bump(using)


def _on_deleted(sender: Any, using: str, **kwargs: Any) -> None:
    bump(using)


def connect_signals() -> None:
    from django.contrib.auth.models import Group, Permission
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from .models import Role, User

    for through in (
        User.roles.through,
        User.groups.through,
        User.user_permissions.through,
        Role.permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(_on_m2m, sender=through, dispatch_uid=f"mv_access_{through.__name__}")
    post_save.connect(_on_role_saved, sender=Role, dispatch_uid="mv_access_role_saved")
    for model in (Role, Group, Permission):
        post_delete.connect(_on_deleted, sender=model, dispatch_uid=f"mv_access_del_{model}")
