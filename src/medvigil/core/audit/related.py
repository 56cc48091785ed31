"""Records named in another record's history (PLAT-1 in the trail): a foreign key's value or a
copied reference (RecordHooks.record_references) names a record only to a reader who may view
it — core.permissions.scope_for_user, the rule of the list pages and get_object_for_user; the
others read the record's type alone. Used by the history panel (core.templatetags.records),
the audit search, its CSV export and the audit API (core.audit.search.change_rows)."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from ..records.hooks import hook

__all__ = ["hidden_record", "hidden_references", "reader_scope"]


def hidden_record(model: type[models.Model] | None) -> str:
    """What a history shows instead of the name of a record the reader may not view: its type
    only, never its name, number or anything it holds."""
    if model is None:
        return _("a record you may not view")
    return _("%(type)s you may not view") % {"type": model._meta.verbose_name}


def reader_scope(model: type[models.Model], user: Any) -> Any:
    """Which records of `model` a history may name to `user`: True (all of them: no reader
    given, or a type every page names), False (none: no view permission), or the queryset of
    those the user may view — core.permissions.scope_for_user, the rule of the list pages and
    get_object_for_user (the permission, then the model's visible_to). A visible_to that
    narrows nothing returns the queryset it was given: then all, without a query."""
    from ..permissions import can, scope_for_user

    if user is None or model is ContentType or hook(model, "history_name_public"):
        return True
    if not can(user, model, "view"):
        return False
    base = model._base_manager.all()
    scoped = scope_for_user(user, base)
    return True if scoped is base else scoped


def _side(pair: Any, index: int) -> Any:
    return ((pair + [None, None])[:2] if isinstance(pair, list) else [None, pair])[index]


def hidden_references(
    entries: list[Any],
    model: type[models.Model] | None,
    user: Any,
    obj: Any,
    look_up: bool = True,
) -> dict[tuple[int, str, int], str]:
    """The text fields naming another record (RecordHooks.record_references) whose record the
    reader may not view, per (id() of the entry, field, side 0 old / 1 new): the text shown
    instead.
    A generic link's record is the one its type and id fields name in the same entry, else
    the one `obj` (or the entry's record as it is now) links; a text with no record named is
    shown as it is (free text)."""
    from django.apps import apps as django_apps

    refs = hook(model, "record_references") if model is not None else {}
    if not refs or user is None:
        return {}
    records: dict[str, Any] = {}

    def current(object_id: str) -> Any:
        """The record as it is now (its link, where an entry does not carry it)."""
        if object_id not in records:
            try:
                records[object_id] = model._base_manager.filter(pk=object_id).first()  # type: ignore[union-attr]
            except (ValueError, TypeError, ValidationError):
                records[object_id] = None
        return records[object_id]

    wanted: dict[tuple[Any, str], set[str]] = {}
    targets: dict[tuple[int, str, int], tuple[Any, str, str]] = {}
    for e in entries:
        changes = e.changes or {}
        for name, (where, key) in refs.items():
            if name not in changes:
                continue
            for side in (0, 1):
                text = _side(changes[name], side)
                if text in (None, ""):
                    continue
                target: type[models.Model] | None
                if "." in where:  # a model label and the field the text is
                    target, field, value = django_apps.get_model(where), key, str(text)
                else:  # a generic link: its content-type and id fields
                    ct_id = _side(changes[where], side) if where in changes else None
                    pk = _side(changes[key], side) if key in changes else None
                    if (where not in changes or key not in changes) and obj is None and not look_up:
                        # one entry at a time (the CSV export, the API): no query per entry;
                        # a link the entry does not carry is not shown
                        targets[(id(e), name, side)] = (None, "pk", "")
                        continue
                    if where not in changes or key not in changes:
                        record = obj if obj is not None else current(e.object_id)
                        if where not in changes:
                            ct_id = getattr(record, f"{where}_id", None)
                        if key not in changes:
                            pk = getattr(record, key, None)
                    if ct_id in (None, "") or pk in (None, ""):
                        continue  # no record named: a free reference
                    try:
                        target = ContentType.objects.get_for_id(int(ct_id)).model_class()
                    except (ContentType.DoesNotExist, ValueError, TypeError):
                        target = None
                    field, value = "pk", str(pk)
                targets[(id(e), name, side)] = (target, field, value)
                if target is not None:
                    wanted.setdefault((target, field), set()).add(value)
    visible: dict[tuple[Any, str], set[str] | bool] = {}
    for (target, field), values in wanted.items():
        scope = reader_scope(target, user)
        if isinstance(scope, bool):
            visible[(target, field)] = scope
            continue
        try:
            found = scope.filter(**{f"{field}__in": list(values)[:500]}).values_list(
                field, flat=True
            )
            visible[(target, field)] = {str(v) for v in found}
        except (ValueError, TypeError, ValidationError):
            visible[(target, field)] = set()
    out: dict[tuple[int, str, int], str] = {}
    for where_key, (target, field, value) in targets.items():
        seen = visible.get((target, field), False) if target is not None else False
        if seen is True or (isinstance(seen, set) and value in seen):
            continue
        out[where_key] = hidden_record(target)
    return out
