"""Changing market calendars (PLAT-7): every change goes through :func:`enter_year`, which
the calendar page and the CLI both call. It is audited with the administrator's reason and
recomputes the open deadlines that used the calendar (each recomputation audited with the
same reason)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.permissions import require

from ..types import Actor
from .models import HOLIDAY, WORKDAY, CalendarYear, MarketCalendar
from .working import invalidate

logger = logging.getLogger(__name__)

CHANGE_PERM = "core.change_marketcalendar"
VIEW_PERM = "core.view_marketcalendar"

KIND_WORDS = {
    "holiday": HOLIDAY,
    "off": HOLIDAY,
    "休": HOLIDAY,
    "假": HOLIDAY,
    "workday": WORKDAY,
    "work": WORKDAY,
    "班": WORKDAY,
}
LINE = re.compile(r"^\s*(\S+)\s+(\S+)\s*(.*?)\s*$")


def parse_day_lines(text: str, year: int) -> list[dict[str, str]]:
    """Lines of ``YYYY-MM-DD holiday|workday name`` → sorted day entries of `year`.
    Blank lines and lines starting with # are skipped. Raises ValidationError listing every
    bad line (nothing is saved by the caller then)."""
    errors: list[str] = []
    days: dict[str, dict[str, str]] = {}
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        if not m:
            errors.append(_("Line %(n)d: write “YYYY-MM-DD holiday|workday name”.") % {"n": number})
            continue
        date_text, kind_text, name = m.groups()
        try:
            day = dt.date.fromisoformat(date_text)
        except ValueError:
            errors.append(
                _("Line %(n)d: %(value)s is not a date (YYYY-MM-DD).")
                % {"n": number, "value": date_text}
            )
            continue
        kind = KIND_WORDS.get(kind_text.lower())
        if kind is None:
            errors.append(
                _("Line %(n)d: the kind must be “holiday” or “workday”, not “%(value)s”.")
                % {"n": number, "value": kind_text}
            )
            continue
        if day.year != year:
            errors.append(
                _("Line %(n)d: %(day)s is not in %(year)d.")
                % {"n": number, "day": day.isoformat(), "year": year}
            )
            continue
        if kind == WORKDAY and day.weekday() < 5:
            errors.append(
                _(
                    "Line %(n)d: %(day)s is a weekday; only a Saturday or Sunday can be a "
                    "make-up working day."
                )
                % {"n": number, "day": day.isoformat()}
            )
            continue
        if not name:
            errors.append(_("Line %(n)d: give the name of the holiday, e.g. 春节.") % {"n": number})
            continue
        if len(name) > 100:
            errors.append(_("Line %(n)d: the name is longer than 100 characters.") % {"n": number})
            continue
        if day.isoformat() in days:
            errors.append(
                _("Line %(n)d: %(day)s is listed twice.") % {"n": number, "day": day.isoformat()}
            )
            continue
        days[day.isoformat()] = {"date": day.isoformat(), "kind": kind, "name": name}
    if errors:
        raise ValidationError({"days": errors})
    return [days[k] for k in sorted(days)]


def format_day_lines(days: Iterable[dict[str, str]]) -> str:
    return "\n".join(f"{d['date']} {d['kind']} {d.get('name', '')}".rstrip() for d in days)


@dataclass
class YearResult:
    year: CalendarYear
    created: bool
    recomputed: int


def enter_year(
    calendar: MarketCalendar,
    year: int,
    days_text: str,
    *,
    by: Actor,
    reason: str,
    source: str,
) -> YearResult:
    """Enter (or correct) one year of a market calendar from lines of
    ``YYYY-MM-DD holiday|workday name``; recompute the open deadlines that used it."""
    require(by, CHANGE_PERM)
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    source = (source or "").strip()
    if not reason:
        errors["reason"] = [_("Give the reason for this change.")]
    if not source:
        errors["source"] = [_("Name the source, e.g. the State Council notice.")]
    elif len(source) > 300:
        errors["source"] = [_("At most 300 characters.")]
    if not isinstance(year, int) or not 1990 <= year <= 2100:
        errors["year"] = [_("Give a year between 1990 and 2100.")]
    try:
        days = parse_day_lines(days_text, year if "year" not in errors else 0)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), audit_context(actor=by, reason=reason):
        calendar = MarketCalendar.objects.select_for_update().get(pk=calendar.pk)
        row = CalendarYear.objects.filter(calendar=calendar, year=year).first()
        created = row is None
        if row is None:
            row = CalendarYear(calendar=calendar, year=year)
        row.days = days
        row.source = source
        row.loaded_by = by
        row.loaded_at = timezone.now()
        row.save()
        invalidate(calendar.code)
        transaction.on_commit(lambda: invalidate(calendar.code))
        why = _("Calendar %(code)s %(year)d changed: %(reason)s") % {
            "code": calendar.code,
            "year": year,
            "reason": reason,
        }
        count = recompute_open_deadlines(calendar.code, reason=why)
    return YearResult(row, created, count)


# --- open deadlines that used a calendar ------------------------------------------------

_extra_models: list[type[models.Model]] = []


def register_deadline_model(model: type[models.Model]) -> None:
    """Models with DeadlineFields are found among the installed models; this adds others
    (e.g. a model defined by a test, or a record with several clocks of its own). A model
    that keeps its due times in fields of its own defines a classmethod
    ``recompute_calendar_deadlines(code, now) -> int`` (how many records changed), which a
    change of calendar `code` calls instead of recomputing DeadlineFields."""
    if model not in _extra_models:
        _extra_models.append(model)


def unregister_deadline_model(model: type[models.Model]) -> None:
    if model in _extra_models:
        _extra_models.remove(model)


def deadline_models() -> list[type[models.Model]]:
    from medvigil.core.calendar.clock import DeadlineFields

    found = [m for m in apps.get_models() if issubclass(m, DeadlineFields) and not m._meta.abstract]
    return found + [m for m in _extra_models if m not in found]


def open_deadlines(model: type[models.Model], code: str, now: dt.datetime) -> models.QuerySet:
    """Records of `model` whose rule-based deadline used calendar `code` and is still open:
    flagged, or not yet due. A model narrows "open" with a classmethod
    ``open_deadlines_q()`` returning a Q (e.g. its open statuses)."""
    qs = model._default_manager.filter(deadline_calendar=code).exclude(deadline_rule="")
    qs = qs.filter(Q(deadline_flag__gt="") | Q(due_at__gte=now))
    narrow = getattr(model, "open_deadlines_q", None)
    if narrow is not None:
        qs = qs.filter(narrow())
    return qs


def recompute_open_deadlines(code: str, *, reason: str) -> int:
    """Recompute every open deadline that used calendar `code`; save (audited, with
    `reason`) those whose due moment or flag changed. Returns how many changed."""
    now = timezone.now()
    changed = 0
    with audit_context(reason=reason):
        for model in deadline_models():
            custom = getattr(model, "recompute_calendar_deadlines", None)
            if custom is not None:
                changed += custom(code, now)
                continue
            for record in open_deadlines(model, code, now).select_for_update():
                before = (record.due_at, record.deadline_flag, record.deadline_flag_year)
                try:
                    record.recompute_deadline()
                except LookupError:  # its rule is no longer registered: leave it as it is
                    logger.warning(
                        "%s %s: deadline rule %s is not registered; not recomputed",
                        model._meta.label,
                        record.pk,
                        record.deadline_rule,
                    )
                    continue
                if before != (record.due_at, record.deadline_flag, record.deadline_flag_year):
                    record.save(update_fields=["due_at", "deadline_flag", "deadline_flag_year"])
                    changed += 1
    return changed


# --- next year's data -------------------------------------------------------------------


def missing_next_year(today: dt.date | None = None) -> list[tuple[MarketCalendar, int]]:
    """From 1 November: calendars with loaded years that lack next year."""
    today = today or timezone.localdate()
    if today.month < 11:
        return []
    nxt = today.year + 1
    years = CalendarYear.objects.filter(calendar=OuterRef("pk"))
    return [
        (cal, nxt)
        for cal in MarketCalendar.objects.filter(Exists(years)).exclude(
            Exists(years.filter(year=nxt))
        )
    ]
