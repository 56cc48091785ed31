"""Turn model field values into JSON values for the audit trail and for signature hashes."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import uuid
from functools import lru_cache
from typing import Any

from django.db import models

from ..records.hooks import hook

MASKED = "********"


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if hasattr(value, "name") and hasattr(value, "storage"):  # FieldFile
        return value.name or ""
    return str(value)


def mask(value: Any) -> str:
    """A secret as the trail shows it: a digest fragment, so that a change of the secret shows
    as a change without revealing it."""
    if not value:
        return ""
    return f"{MASKED}#{hashlib.sha256(str(value).encode()).hexdigest()[:8]}"


def audited_fields(model: type[models.Model]) -> list[models.Field]:
    exclude = set(hook(model, "audit_exclude"))
    return [
        f for f in model._meta.concrete_fields if f.name not in exclude and f.attname not in exclude
    ]


@lru_cache(maxsize=128)
def snapshot_plan(model: type[models.Model]) -> tuple[tuple[str, bool], ...]:
    """(attname, masked) of the model's audited fields, computed once per model."""
    masked = set(hook(model, "audit_masked"))
    return tuple((f.attname, f.name in masked) for f in audited_fields(model))


# Values jsonable() returns as they are, checked by exact type first (#13: a snapshot per
# imported row, a dozen fields each; most values are one of these).
_AS_IS = frozenset({str, int, bool, float, type(None)})


def snapshot(instance: models.Model) -> dict[str, Any]:
    """Field values by attname, as JSON values (FKs as their raw id)."""
    out = {}
    for attname, masked in snapshot_plan(type(instance)):
        value = getattr(instance, attname)
        if masked:
            out[attname] = mask(value)
        elif value.__class__ in _AS_IS:
            out[attname] = value
        elif value.__class__ is dt.date:
            out[attname] = value.isoformat()
        else:
            out[attname] = jsonable(value)
    return out


def diff(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, list[Any]]:
    """{field: [old, new]} for every field that differs."""
    old = old or {}
    new = new or {}
    keys = list(dict.fromkeys([*old.keys(), *new.keys()]))
    return {k: [old.get(k), new.get(k)] for k in keys if old.get(k) != new.get(k)}
