"""Helpers every traceability service uses: the audit context of an actor, building and
updating a record with its model validation and version check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models, transaction
from django.utils.formats import date_format

from medvigil.core.audit import audit_context
from medvigil.core.types import Actor

if TYPE_CHECKING:
    pass


M = TypeVar("M", bound=models.Model)


@contextmanager
def _acting(by: Actor, reason: str | None = None) -> Iterator[None]:
    """Audit context for `by` (a user) if given; otherwise the caller's context stands."""
    if by is None and reason is None:
        yield
        return
    with audit_context(actor=by, reason=reason):
        yield


def _d(day: dt.date | None) -> str:
    return date_format(day, "Y-m-d") if day else ""


# --- generic master data ---------------------------------------------------------------------


def _build(model: type[M], fields: dict[str, Any], exclude: Sequence[str] = ()) -> M:
    obj = model(**fields)
    obj.full_clean(exclude=list(exclude))
    return obj


def _update(obj: M, fields: dict[str, Any], *, by: Actor, version: Any, reason: str | None) -> M:
    with transaction.atomic(), _acting(by, reason):
        locked = type(obj)._default_manager.select_for_update(of=("self",)).get(pk=obj.pk)
        locked.check_version(version)  # type: ignore[attr-defined]
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean()
        locked.save()
        return locked
