"""What the parts services share: the audit context of an actor and the permission check
(None is the system: a task, the demo, a data migration)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from medvigil.core.audit import audit_context
from medvigil.core.permissions import require
from medvigil.core.types import Actor


@contextmanager
def acting(by: Actor, reason: str | None = None) -> Iterator[None]:
    """Audit context for `by` (and the reason) when given; else the caller's context."""
    if by is None and not reason:
        yield
        return
    with audit_context(actor=by, reason=reason or None):
        yield


def check_perm(by: Actor, perm: str) -> None:
    """PermissionDenied unless `by` holds `perm` (the system, None, may do anything)."""
    if by is not None:
        require(by, perm)


def has_perm(by: Actor, perm: str) -> bool:
    return by is None or bool(by.is_authenticated and by.has_perm(perm))


def text(value: Any, limit: int) -> str:
    """A stripped text of at most `limit` characters (anything else: its str)."""
    return str(value or "").strip()[:limit]
