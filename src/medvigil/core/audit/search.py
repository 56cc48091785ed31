"""Searching the audit trail (PLAT-2): one filter used by the auditor pages, the CSV export and
the API, so all three answer the same question the same way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..records.hooks import hook

ACTIONS = ("create", "update", "delete", "sign", "event")


@dataclass
class AuditFilter:
    record_type: str = ""  # "app_label.model", e.g. "accounts.department"
    object_id: str = ""  # exact record id
    record: str = ""  # record id (exact) or name (contains)
    user: str = ""  # user name (exact), display name or the frozen actor name (contains)
    actor_id: int | None = None
    action: str = ""
    source: str = ""  # ui, api, admin, shell, command:<name>, task:<name>, ...
    request_id: str = ""
    date_from: dt.date | None = None  # whole days in the company's time zone, inclusive
    date_to: dt.date | None = None
    since: dt.datetime | None = None  # exact instants; naive values are company time
    until: dt.datetime | None = None  # exclusive

    def as_query(self) -> dict[str, str]:
        """The non-empty filter values as query-string parameters (for links and exports)."""
        out: dict[str, str] = {}
        for key, value in self.__dict__.items():
            if value in (None, ""):
                continue
            out[key] = value.isoformat() if hasattr(value, "isoformat") else str(value)
        return out


SOURCE_LABELS = {
    "ui": gettext_lazy("web"),
    "api": gettext_lazy("API"),
    "admin": gettext_lazy("administration"),
    "import": gettext_lazy("import"),
    "shell": gettext_lazy("shell"),
    "defaults": gettext_lazy("setup"),
    "system": gettext_lazy("system"),
}


def source_label(source: str) -> str:
    """ "ui" -> "web", "task:send_alerts" -> "system job (send_alerts)"; unknown as is."""
    if source in SOURCE_LABELS:
        return str(SOURCE_LABELS[source])
    kind, _sep, name = source.partition(":")
    if kind == "task" and name:
        return _("system job (%(name)s)") % {"name": name}
    if kind == "command" and name:
        return _("command (%(name)s)") % {"name": name}
    return source


def content_type_for(label: str) -> ContentType | None:
    """ "app_label.model" (case-insensitive) -> ContentType, or None if there is no such type."""
    app_label, _sep, model = label.strip().lower().partition(".")
    if not app_label or not model:
        return None
    try:
        return ContentType.objects.get_by_natural_key(app_label, model)
    except ContentType.DoesNotExist:
        return None


def record_type_label(ct: ContentType) -> str:
    return f"{ct.app_label}.{ct.model}"


def record_types() -> list[tuple[str, str]]:
    """(label, human name) of every audited model, for the search form."""
    from ..models import AuditedModel

    out = []
    for model in apps.get_models():
        if issubclass(model, AuditedModel):
            label = f"{model._meta.app_label}.{model._meta.model_name}"
            out.append((label, f"{model._meta.verbose_name} ({label})"))
    return sorted(out, key=lambda x: x[1].lower())


def _start_of_day(day: dt.date, plus_days: int = 0) -> dt.datetime | None:
    """Start of the day (company time) in UTC; None when out of the representable range."""
    try:
        return _aware(dt.datetime.combine(day + dt.timedelta(days=plus_days), dt.time.min))
    except OverflowError:
        return None


def _aware(value: dt.datetime) -> dt.datetime | None:
    """The instant in UTC (naive values are company time); None when out of range. In UTC
    because PostgreSQL refuses offsets beyond ±15:59 that Python accepts."""
    try:
        aware = timezone.make_aware(value) if timezone.is_naive(value) else value
        return aware.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None


def search_entries(f: AuditFilter, qs: models.QuerySet | None = None) -> models.QuerySet:
    """Entries matching the filter, newest first. Bad filter values raise a ValidationError
    keyed by field name (the caller turns it into a form or API field error)."""
    from ..models import AuditEntry

    qs = AuditEntry.objects.all() if qs is None else qs
    errors: dict[str, list[str]] = {}
    if f.record_type:
        ct = content_type_for(f.record_type)
        if ct is None:
            errors.setdefault("record_type", []).append(
                _("Unknown record type “%(type)s”; use app_label.model, e.g. accounts.user.")
                % {"type": f.record_type}
            )
        else:
            qs = qs.filter(content_type=ct)
    if f.object_id:
        qs = qs.filter(object_id=f.object_id.strip())
    if f.record:
        text = f.record.strip()
        qs = qs.filter(Q(object_id=text) | Q(object_repr__icontains=text))
    if f.user:
        text = f.user.strip()
        qs = qs.filter(
            Q(actor__username__iexact=text)
            | Q(actor__display_name__icontains=text)
            | Q(actor_name__icontains=text)
        )
    if f.actor_id is not None:
        qs = qs.filter(actor_id=f.actor_id)
    if f.action:
        if f.action not in ACTIONS:
            errors.setdefault("action", []).append(
                _("Unknown action; choose one of: %(actions)s.") % {"actions": ", ".join(ACTIONS)}
            )
        else:
            qs = qs.filter(action=f.action)
    if f.source:
        qs = qs.filter(source=f.source.strip())
    if f.request_id:
        qs = qs.filter(request_id=f.request_id.strip())
    if f.date_from and f.date_to and f.date_from > f.date_to:
        errors.setdefault("date_to", []).append(_("The end date is before the start date."))
    bounds = {
        "date_from": (f.date_from and _start_of_day(f.date_from), "timestamp__gte"),
        "date_to": (f.date_to and _start_of_day(f.date_to, plus_days=1), "timestamp__lt"),
        "since": (f.since and _aware(f.since), "timestamp__gte"),
        "until": (f.until and _aware(f.until), "timestamp__lt"),
    }
    for name, (instant, lookup) in bounds.items():
        if getattr(f, name) is None:
            continue
        if instant is None:
            errors.setdefault(name, []).append(_("This date is out of range."))
        else:
            qs = qs.filter(**{lookup: instant})
    since, until = bounds["since"][0], bounds["until"][0]
    if since and until and since >= until:
        errors.setdefault("until", []).append(_("'until' must be after 'since'."))
    if errors:
        raise ValidationError(errors)
    return qs.select_related("actor", "content_type").order_by("-id")


@lru_cache(maxsize=512)
def _field_labels(model: type[models.Model] | None) -> dict[str, Any]:
    if model is None:
        return {}
    labels: dict[str, Any] = {}
    for field in model._meta.get_fields():
        verbose = getattr(field, "verbose_name", None)
        if verbose is None:
            continue
        labels[field.name] = verbose
        attname = getattr(field, "attname", None)
        if attname:
            labels[attname] = verbose
    return labels


# Names of the values of signature and event entries (not fields of the record), as readers
# see them in the history panel and the audit trail.
EVENT_LABELS = {
    "event": gettext_lazy("event"),
    "meaning": gettext_lazy("meaning"),
    "printed_name": gettext_lazy("printed name"),
    "content_hash": gettext_lazy("content hash (SHA-256)"),
    "signature": gettext_lazy("signature"),
    "signer": gettext_lazy("signer"),
    "outcome": gettext_lazy("outcome"),
    "record": gettext_lazy("record"),
    "dependent_rows": gettext_lazy("dependent rows deleted with it"),
    "ip": gettext_lazy("IP address"),
    "path": gettext_lazy("page"),
}


def field_label(ct: ContentType, field: str) -> str:
    if field == "event":
        return _("event")
    label = _field_labels(ct.model_class()).get(field)
    if label is None:
        label = EVENT_LABELS.get(field)
    return str(label) if label is not None else field


HIDDEN = "***"


def hidden_fields(model: type[models.Model] | None, user: Any) -> set[str]:
    """Fields whose values the viewer may not see: a model's ``audit_view_perms`` maps a field
    name to the permission needed (e.g. customer contact data, PLAT-11). The trail keeps the
    values; every place that shows them (history panel, audit search, CSV export, API) masks
    them with this."""
    perms = hook(model, "audit_view_perms") if model is not None else {}
    return {name for name, perm in perms.items() if user is None or not user.has_perm(perm)}


def hide(value: Any) -> Any:
    """A hidden value as shown: a mask, except that "empty" stays visible."""
    return HIDDEN if value not in (None, "") else value


def ordered_changes(changes: Any, model: type[models.Model] | None) -> list[tuple[str, Any]]:
    """An entry's changes in the model's field order (storage does not keep an order:
    PostgreSQL's jsonb sorts keys), names the model does not know last, as recorded."""
    if not isinstance(changes, dict):
        return []
    position: dict[str, int] = {}
    if model is not None:
        for i, f in enumerate(model._meta.concrete_fields):
            position[f.attname] = position[f.name] = i
    end = len(position)
    return sorted(changes.items(), key=lambda kv: position.get(kv[0], end))


def change_rows(entry: Any, user: Any) -> list[dict[str, Any]]:
    """The entry's changes as [{field, label, old, new}], in recorded order, with the values
    `user` may not see masked."""
    from .related import hidden_references

    model = entry.content_type.model_class()
    hidden = hidden_fields(model, user)
    # a copied reference to a record the user may not view: its type alone (as the history)
    references = hidden_references([entry], model, user, None, look_up=False)
    rows = []
    for field, pair in ordered_changes(entry.changes, model):
        if isinstance(pair, list | tuple) and len(pair) == 2:
            old, new = pair
        else:  # never written by the recorder, but show rather than hide it
            old, new = None, pair
        if field in hidden:
            old, new = hide(old), hide(new)
        old = references.get((id(entry), field, 0), old)
        new = references.get((id(entry), field, 1), new)
        rows.append(
            {
                "field": field,
                "label": field_label(entry.content_type, field),
                "old": old,
                "new": new,
            }
        )
    return rows


def display_value(value: Any) -> str:
    """A JSON value from the trail as text for a page or a spreadsheet cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list | tuple):
        return ", ".join(display_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {display_value(v)}" for k, v in value.items())
    return str(value)


def iter_export_rows(qs: models.QuerySet, user: Any) -> Iterable[list[Any]]:
    """One row per field change (an entry without changes gives one row), newest first; values
    `user` may not see are masked."""
    tz = timezone.get_default_timezone()
    for entry in qs.iterator(chunk_size=2000):
        base = [
            entry.id,
            timezone.localtime(entry.timestamp, tz).strftime("%Y-%m-%d %H:%M:%S"),
            entry.actor.get_username() if entry.actor else "",
            entry.actor_name,
            entry.source,
            entry.request_id,
            record_type_label(entry.content_type),
            entry.object_id,
            entry.object_repr,
            entry.action,
            entry.seq,
            entry.reason,
        ]
        rows = change_rows(entry, user)
        if not rows:
            yield [*base, "", "", "", ""]
        for row in rows:
            yield [
                *base,
                row["field"],
                row["label"],
                display_value(row["old"]),
                display_value(row["new"]),
            ]
