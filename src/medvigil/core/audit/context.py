"""Who is acting, from where, and why: carried in a context variable so that audit does not
depend on a request. The web middleware, the API auth, task wrappers, the import and the CLI
set it; anything else is recorded as a named system actor derived from the process."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class AuditContext:
    actor: Any = None  # a User or None for a system actor
    actor_name: str = ""
    source: str = ""  # ui, api, admin, shell, command:<name>, task:<name>, import, system
    request_id: str = ""
    reason: str = ""
    allow_destroy: bool = False  # set only by the retention destruction process


_current: ContextVar[AuditContext | None] = ContextVar("medvigil_audit_context", default=None)


def _process_source() -> str:
    argv = [os.path.basename(a) for a in sys.argv[:3]]
    if not argv:
        return "system"
    if "pytest" in argv[0] or "py.test" in argv[0]:
        return "test"
    if len(argv) > 1 and argv[0] in {"manage.py", "medvigil", "django-admin", "-m", "python"}:
        if argv[1] in {"shell", "shell_plus", "dbshell"}:
            return "shell"
        if argv[1] in {"run_huey"}:
            return "task"
        return f"command:{argv[1]}"
    return "system"


def system_actor_name(source: str | None = None) -> str:
    return f"system:{source or _process_source()}"


def current_context() -> AuditContext:
    ctx = _current.get()
    if ctx is None:
        source = _process_source()
        return AuditContext(actor_name=system_actor_name(source), source=source)
    return ctx


@contextmanager
def audit_context(
    *,
    actor: Any = None,
    actor_name: str | None = None,
    source: str | None = None,
    request_id: str | None = None,
    reason: str | None = None,
    allow_destroy: bool | None = None,
) -> Iterator[AuditContext]:
    """Nest a new audit context; unspecified values are inherited from the outer one."""
    base = current_context()
    changes: dict[str, Any] = {}
    if actor is not None:
        changes["actor"] = actor
        changes["actor_name"] = actor_name or _actor_label(actor)
    elif actor_name is not None:
        changes["actor_name"] = actor_name
    if source is not None:
        changes["source"] = source
        if actor is None and actor_name is None and base.actor is None:
            changes["actor_name"] = system_actor_name(source)
    if request_id is not None:
        changes["request_id"] = request_id
    if reason is not None:
        changes["reason"] = reason
    if allow_destroy is not None:
        changes["allow_destroy"] = allow_destroy
    if not (base.request_id or request_id):
        changes["request_id"] = uuid.uuid4().hex
    token = _current.set(replace(base, **changes))
    try:
        yield _current.get()  # type: ignore[misc]
    finally:
        _current.reset(token)


def set_actor(actor: Any) -> None:
    """Replace the actor of the current context (used by API token auth, inside a request)."""
    ctx = _current.get()
    if ctx is not None:
        _current.set(replace(ctx, actor=actor, actor_name=_actor_label(actor)))


def _actor_label(actor: Any) -> str:
    if actor is None:
        return system_actor_name()
    full = actor.get_full_name() if hasattr(actor, "get_full_name") else ""
    return f"{actor.get_username()} ({full})" if full else str(actor.get_username())
