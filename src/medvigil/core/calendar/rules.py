"""Deadline rules as data, with citations (PLAT-7; ARCHITECTURE rule 4).

Every deadline rule of the product is registered here, by the platform and by each domain
app (in its ``rules.py``, imported from its AppConfig.ready())::

    from medvigil.core.calendar.rules import DeadlineRule, Unit, register_rule

    register_rule(DeadlineRule(
        code="us.mdr_5wd", market="US", amount=5, unit=Unit.WORKING_DAYS,
        start_event=_("awareness of an event needing remedial action"),
        citation="21 CFR 803.53(a)", title=_("MDR 5-day report"),
    ))

How a rule counts (:func:`compute`):

* ``minutes``, ``hours``: exact, start + the amount.
* ``calendar_days`` and ``working_days``: the legal convention — counting starts the day
  after the start event (in the market's zone); the deadline is the end of the last day
  (23:59:59 in the market's zone). Working days follow the market's calendar; a day in a
  year that is not loaded gives a *flagged* result (``due_at`` None, ``missing_year`` set),
  never a Monday–Friday guess.

``setting`` names a company setting that may *tighten* the rule (a Django setting or
environment variable of that name holding a smaller amount in the same unit). A larger
value is ignored: a company may be stricter than the law, never looser.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .working import CalendarNotFound, YearNotLoaded, get_calendar

logger = logging.getLogger(__name__)

__all__ = [
    "DeadlineResult",
    "DeadlineRule",
    "Unit",
    "all_rules",
    "compute",
    "end_of_day",
    "get_rule",
    "register_rule",
]


class Unit(models.TextChoices):
    MINUTES = "minutes", _("minutes")
    HOURS = "hours", _("hours")
    CALENDAR_DAYS = "calendar_days", _("calendar days")
    WORKING_DAYS = "working_days", _("working days")


@dataclass(frozen=True)
class DeadlineRule:
    code: str
    market: str
    amount: int
    unit: str
    start_event: Any  # lazy translation: what starts the clock
    citation: str  # the clause, verbatim reference
    title: Any = ""  # lazy translation: what is due
    setting: str = ""  # company setting that may tighten the amount

    def __post_init__(self) -> None:
        Unit(self.unit)  # ValueError for an unknown unit
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise ValueError(f"rule {self.code}: amount must be a non-negative int")
        if not self.citation.strip():
            raise ValueError(f"rule {self.code}: every rule cites its clause")

    @property
    def unit_label(self) -> Any:
        return Unit(self.unit).label

    @property
    def amount_text(self) -> str:
        """ "1 calendar day", "5 working days", "24 hours" in the reader's language."""
        n = self.amount
        if self.unit == Unit.MINUTES:
            return ngettext("%(n)d minute", "%(n)d minutes", n) % {"n": n}
        if self.unit == Unit.HOURS:
            return ngettext("%(n)d hour", "%(n)d hours", n) % {"n": n}
        if self.unit == Unit.CALENDAR_DAYS:
            return ngettext("%(n)d calendar day", "%(n)d calendar days", n) % {"n": n}
        return ngettext("%(n)d working day", "%(n)d working days", n) % {"n": n}

    def company_amount(self) -> int | None:
        """The company's tighter amount, if its setting holds one (else None)."""
        if not self.setting:
            return None
        raw = getattr(settings, self.setting, None)
        if raw is None:
            raw = os.environ.get(self.setting)
        if raw in (None, ""):
            return None
        try:
            value = int(str(raw).strip())
        except ValueError:
            logger.warning(
                "%s=%r is not a whole number; rule %s ignores it", self.setting, raw, self.code
            )
            return None
        if value < 0 or value >= self.amount:
            if value > self.amount:
                logger.warning(
                    "%s=%s is looser than rule %s (%s %s); the rule's amount is used",
                    self.setting,
                    value,
                    self.code,
                    self.amount,
                    self.unit,
                )
            return None
        return value

    def effective_amount(self) -> int:
        tighter = self.company_amount()
        return self.amount if tighter is None else tighter


@dataclass(frozen=True)
class DeadlineResult:
    rule: DeadlineRule
    started_at: dt.datetime
    due_at: dt.datetime | None
    missing_year: int | None = None

    @property
    def flagged(self) -> bool:
        return self.due_at is None


_rules: dict[str, DeadlineRule] = {}


def register_rule(rule: DeadlineRule) -> DeadlineRule:
    """Add a rule to the registry; registering the same code twice with other data is a bug."""
    existing = _rules.get(rule.code)
    if existing is not None and existing != rule:
        raise ValueError(f"deadline rule {rule.code} is already registered with other data")
    _rules[rule.code] = rule
    return rule


def get_rule(code: str) -> DeadlineRule:
    try:
        return _rules[code]
    except KeyError:
        raise LookupError(f"there is no deadline rule {code!r}") from None


def all_rules() -> list[DeadlineRule]:
    return sorted(_rules.values(), key=lambda r: (r.market, r.code))


def end_of_day(day: dt.date, zone: Any) -> dt.datetime:
    """The end of `day` in `zone` (23:59:59 local), as an aware datetime in that zone."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=zone)


def compute(rule: DeadlineRule | str, start: dt.datetime) -> DeadlineResult:
    """The deadline of `rule` for a clock started at `start` (aware). The due moment is
    returned in the market's zone; a year not loaded gives a flagged result."""
    if isinstance(rule, str):
        rule = get_rule(rule)
    if not isinstance(start, dt.datetime) or start.tzinfo is None:
        raise ValueError("a deadline needs an aware start datetime (with its offset)")
    calendar = get_calendar(rule.market)
    zone = calendar.zone
    amount = rule.effective_amount()
    if rule.unit in (Unit.MINUTES, Unit.HOURS):
        delta = (
            dt.timedelta(minutes=amount)
            if rule.unit == Unit.MINUTES
            else dt.timedelta(hours=amount)
        )
        return DeadlineResult(rule, start, (start + delta).astimezone(zone))
    day = start.astimezone(zone).date()
    if rule.unit == Unit.CALENDAR_DAYS:
        return DeadlineResult(rule, start, end_of_day(day + dt.timedelta(days=amount), zone))
    try:
        last = calendar.add_working_days(day, amount)
    except YearNotLoaded as exc:
        return DeadlineResult(rule, start, None, missing_year=exc.year)
    return DeadlineResult(rule, start, end_of_day(last, zone))


# Re-exported for callers that catch them around compute().
__all__ += ["CalendarNotFound", "YearNotLoaded"]
