"""The business clock (PLAT-7): every deadline in the product is computed here.

Three clocks, because regulations count time in three ways:

* ``Clock.CALENDAR`` — elapsed time: "within 30 days", "within 24 hours".
* ``Clock.BUSINESS`` — working hours only (``BUSINESS_DAY_START``..``BUSINESS_DAY_END``) on
  working days, in ``BUSINESS_TIME_ZONE``: service-level targets such as "respond within 8
  business hours".
* ``Clock.WORKING_DAYS`` — the same time of day *n* working days later: "10 work days"
  (21 CFR 803.10), "5 working days" (China's recall rules).

Working days follow the market calendar ``BUSINESS_CALENDAR`` (default ``"CN"``: the State
Council's statutory holidays and make-up working days, 调休), kept as data in the database
(core/calendar). A year the calendar has not loaded raises ``YearNotLoaded``: it is never
counted as Monday–Friday. Deadline *rules* (amount, unit, market, citation) are in
core/calendar/rules.py. See docs/business-clock.md.

Every input and output is an aware datetime; results are returned in UTC (as stored).
Naive datetimes are refused with a ValueError: guessing a zone for a deadline is a bug.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

UTC = dt.UTC
ZERO = dt.timedelta(0)

__all__ = [
    "Clock",
    "DeadlineFields",
    "DeadlineFlag",
    "add_business_time",
    "add_calendar",
    "add_working_days",
    "business_hours",
    "business_time_between",
    "business_zone",
    "compute_due",
    "is_working_day",
    "next_opening",
]


# --- settings ---------------------------------------------------------------------------


def business_zone() -> ZoneInfo:
    return ZoneInfo(settings.BUSINESS_TIME_ZONE)


def _parse_time(value: str, name: str) -> dt.time:
    try:
        return dt.time.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{name} must be a time of day like 09:00, not {value!r}") from None


def business_hours() -> tuple[dt.time, dt.time]:
    """(opening, closing) local times of a working day, from the settings."""
    start = _parse_time(settings.BUSINESS_DAY_START, "BUSINESS_DAY_START")
    end = _parse_time(settings.BUSINESS_DAY_END, "BUSINESS_DAY_END")
    if end <= start:
        raise ValueError(
            f"BUSINESS_DAY_END ({settings.BUSINESS_DAY_END}) must be after "
            f"BUSINESS_DAY_START ({settings.BUSINESS_DAY_START})"
        )
    return start, end


def _require_aware(value: dt.datetime, name: str = "start") -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if timezone.is_naive(value):
        raise ValueError(
            f"{name} is a naive datetime ({value.isoformat()}); deadlines need an aware "
            "datetime (use django.utils.timezone.now() or attach a tzinfo)"
        )
    return value


# --- working days -----------------------------------------------------------------------


def is_working_day(day: dt.date) -> bool:
    """True on a working day of the market calendar BUSINESS_CALENDAR (read from the
    database, see core/calendar). A datetime is taken at its date in the business zone (an
    aware one is converted first). A year the calendar has not loaded raises
    :class:`~medvigil.core.calendar.working.YearNotLoaded`; it is never guessed."""
    from .working import get_calendar

    if isinstance(day, dt.datetime):
        if timezone.is_aware(day):
            day = day.astimezone(business_zone())
        day = day.date()
    return get_calendar(str(settings.BUSINESS_CALENDAR or "")).is_working_day(day)


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Opening and closing of `day` as UTC instants."""
    tz = business_zone()
    start, end = business_hours()
    opening = dt.datetime.combine(day, start, tzinfo=tz).astimezone(UTC)
    closing = dt.datetime.combine(day, end, tzinfo=tz).astimezone(UTC)
    return opening, closing


def _next_working_day(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def next_opening(moment: dt.datetime) -> dt.datetime:
    """`moment` itself if it is within working hours, else the next opening (UTC)."""
    _require_aware(moment, "moment")
    moment = moment.astimezone(UTC)
    day = moment.astimezone(business_zone()).date()
    if is_working_day(day):
        opening, closing = _day_bounds(day)
        if moment < opening:
            return opening
        if moment < closing:
            return moment
    return _day_bounds(_next_working_day(day))[0]


# --- the three clocks -------------------------------------------------------------------


def add_calendar(start: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """Elapsed (calendar) time: `start` + `delta`, in UTC. Weekends and holidays count."""
    _require_aware(start)
    if not isinstance(delta, dt.timedelta):
        raise TypeError("a calendar deadline needs a timedelta amount")
    return start.astimezone(UTC) + delta


def add_business_time(start: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """Add `delta` of working time: only working hours on working days count. A start
    outside working hours begins at the next opening; a deadline that falls exactly on a
    closing time stays there (it does not roll over to the next morning)."""
    _require_aware(start)
    if not isinstance(delta, dt.timedelta):
        raise TypeError("a business-hours deadline needs a timedelta amount")
    if delta < ZERO:
        raise ValueError("business time to add must not be negative")
    cursor = next_opening(start)
    remaining = delta
    while True:
        day = cursor.astimezone(business_zone()).date()
        closing = _day_bounds(day)[1]
        available = closing - cursor
        if remaining <= available:
            return cursor + remaining
        remaining -= available
        cursor = _day_bounds(_next_working_day(day))[0]


def business_time_between(a: dt.datetime, b: dt.datetime) -> dt.timedelta:
    """Working time from `a` to `b` (negative if `b` is before `a`)."""
    _require_aware(a, "a")
    _require_aware(b, "b")
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    if b < a:
        return -business_time_between(b, a)
    tz = business_zone()
    total = ZERO
    day = a.astimezone(tz).date()
    last = b.astimezone(tz).date()
    while day <= last:
        if is_working_day(day):
            opening, closing = _day_bounds(day)
            lo, hi = max(opening, a), min(closing, b)
            if hi > lo:
                total += hi - lo
        day += dt.timedelta(days=1)
    return total


def add_working_days(start: dt.datetime, n: int) -> dt.datetime:
    """The same local time of day, `n` working days after the date of `start` (in UTC).
    Days are counted from the day after `start`, so a start on a Saturday and one on the
    Friday before give the same working day for n ≥ 1 but keep their own time of day."""
    _require_aware(start)
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError("a working-days deadline needs an int amount (number of days)")
    if n < 0:
        raise ValueError("the number of working days must not be negative")
    tz = business_zone()
    local = start.astimezone(tz)
    day = local.date()
    for _day in range(n):
        day = _next_working_day(day)
    return dt.datetime.combine(day, local.time(), tzinfo=tz).astimezone(UTC)


class Clock(models.TextChoices):
    CALENDAR = "calendar", _("calendar time")
    BUSINESS = "business", _("business hours")
    WORKING_DAYS = "working_days", _("working days")


def compute_due(start: dt.datetime, amount: dt.timedelta | int, clock: Clock | str) -> dt.datetime:
    """The deadline `amount` after `start` on `clock`, as an aware UTC datetime. `amount` is a
    timedelta for CALENDAR and BUSINESS, an int (days) for WORKING_DAYS."""
    try:
        clock = Clock(clock)
    except ValueError:
        raise ValueError(
            f"unknown clock {clock!r}; expected one of {', '.join(Clock.values)}"
        ) from None
    if clock == Clock.WORKING_DAYS:
        if isinstance(amount, dt.timedelta):
            raise TypeError("the working-days clock counts days: pass an int, not a timedelta")
        return add_working_days(start, amount)
    if not isinstance(amount, dt.timedelta):
        raise TypeError(f"the {clock.value} clock needs a timedelta amount, not {amount!r}")
    if clock == Clock.BUSINESS:
        return add_business_time(start, amount)
    return add_calendar(start, amount)


# --- model mixin ------------------------------------------------------------------------


class DeadlineFlag(models.TextChoices):
    YEAR_NOT_LOADED = "year_not_loaded", _("calendar year not loaded")


class DeadlineFields(models.Model):
    """Fields of a record that has a deadline. Every deadline records its clock and the event
    that started it (ARCHITECTURE "Times"), so the due time can be explained and recomputed.

    With a rule of the registry (core/calendar/rules.py, the usual way)::

        report.apply_deadline_rule("us.mdr_5wd", started_at=awareness,
                                   start_event="awareness date")

    records the rule and its market calendar, so that a change of that calendar recomputes
    the deadline (core/calendar/services.recompute_open_deadlines). If the count crosses a
    year the calendar has not loaded, ``due_at`` stays empty and ``deadline_flag`` says why.

    Without a rule: ``report.set_deadline(timedelta(days=30), clock=Clock.CALENDAR,
    started_at=awareness, start_event="awareness date")``. Neither saves.
    """

    due_at = models.DateTimeField(_("due"), null=True, blank=True, db_index=True)
    clock = models.CharField(
        _("clock"), max_length=16, choices=Clock.choices, default=Clock.CALENDAR
    )
    clock_start_event = models.CharField(
        _("clock starts at"),
        max_length=200,
        blank=True,
        help_text=_("The event that starts the clock, e.g. awareness date."),
    )
    clock_started_at = models.DateTimeField(_("clock started"), null=True, blank=True)
    deadline_rule = models.CharField(_("deadline rule"), max_length=64, blank=True)
    deadline_calendar = models.CharField(_("deadline calendar"), max_length=8, blank=True)
    deadline_flag = models.CharField(
        _("deadline problem"), max_length=32, blank=True, choices=DeadlineFlag.choices
    )
    deadline_flag_year = models.PositiveSmallIntegerField(
        _("calendar year missing"), null=True, blank=True
    )

    class Meta:
        abstract = True

    def _flag(self, year: int | None) -> None:
        self.deadline_flag = DeadlineFlag.YEAR_NOT_LOADED if year is not None else ""
        self.deadline_flag_year = year

    @property
    def deadline_rule_title(self) -> str:
        """The deadline rule's name in the reader's language (its code when the registry has
        no such rule; "" without a rule): pages show this, the code as its tooltip."""
        if not self.deadline_rule:
            return ""
        from .rules import get_rule

        try:
            return str(get_rule(self.deadline_rule).title)
        except LookupError:
            return self.deadline_rule

    @property
    def deadline_problem(self) -> str:
        """A sentence for pages when the deadline could not be computed, else ""."""
        if self.deadline_flag == DeadlineFlag.YEAR_NOT_LOADED:
            from django.utils.translation import gettext

            return gettext(
                "Deadline not computed: the %(calendar)s calendar has no data for %(year)s "
                "yet. An administrator enters that year on the calendars page."
            ) % {"calendar": self.deadline_calendar or "?", "year": self.deadline_flag_year}
        return ""

    def set_deadline(
        self,
        amount: dt.timedelta | int,
        *,
        clock: Clock | str | None = None,
        started_at: dt.datetime | None = None,
        start_event: str | None = None,
    ) -> dt.datetime | None:
        """(Re)compute `due_at` from the clock start; arguments left out keep the stored
        value (so a changed start date or a corrected clock recomputes the deadline).
        Returns None (and flags the record) when a working-day count needs a calendar year
        that is not loaded. Does not save."""
        from .working import YearNotLoaded

        if clock is not None:
            self.clock = Clock(clock)
        if started_at is not None:
            self.clock_started_at = _require_aware(started_at, "started_at").astimezone(UTC)
        if start_event is not None:
            self.clock_start_event = start_event
        if self.clock_started_at is None:
            raise ValueError("the clock has not started: pass started_at")
        if self.clock != Clock.CALENDAR:
            self.deadline_calendar = str(settings.BUSINESS_CALENDAR or "").upper()
        try:
            self.due_at = compute_due(self.clock_started_at, amount, self.clock)
        except YearNotLoaded as exc:
            self.due_at = None
            self._flag(exc.year)
            return None
        self._flag(None)
        return self.due_at

    def apply_deadline_rule(
        self,
        rule: Any,
        *,
        started_at: dt.datetime | None = None,
        start_event: str | None = None,
    ) -> dt.datetime | None:
        """Compute the deadline of a registered rule (or its code) from the clock start;
        arguments left out keep the stored values. Returns the due moment, or None with the
        record flagged when a needed calendar year is not loaded. Does not save."""
        from .rules import Unit, compute, get_rule

        if isinstance(rule, str):
            rule = get_rule(rule)
        if started_at is not None:
            self.clock_started_at = _require_aware(started_at, "started_at").astimezone(UTC)
        if start_event is not None:
            self.clock_start_event = start_event
        elif not self.clock_start_event:
            self.clock_start_event = str(rule.start_event)[:200]
        if self.clock_started_at is None:
            raise ValueError("the clock has not started: pass started_at")
        self.deadline_rule = rule.code
        self.deadline_calendar = rule.market
        self.clock = Clock.WORKING_DAYS if rule.unit == Unit.WORKING_DAYS else Clock.CALENDAR
        result = compute(rule, self.clock_started_at)
        self.due_at = None if result.due_at is None else result.due_at.astimezone(UTC)
        self._flag(result.missing_year)
        return self.due_at

    def recompute_deadline(self) -> dt.datetime | None:
        """Recompute a rule-based deadline from its stored rule and start (after a calendar
        change). Does not save."""
        if not self.deadline_rule:
            raise ValueError("only a deadline computed from a rule can be recomputed")
        return self.apply_deadline_rule(self.deadline_rule)

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        if self.due_at is None:
            return False
        return (now or timezone.now()) > self.due_at

    def time_left(self, now: dt.datetime | None = None) -> dt.timedelta | None:
        """Time until the deadline on the record's own clock (working time for BUSINESS);
        negative once overdue; None without a deadline, or when the working time cannot be
        counted because a calendar year is not loaded."""
        from .working import YearNotLoaded

        if self.due_at is None:
            return None
        now = now or timezone.now()
        if self.clock == Clock.BUSINESS:
            try:
                return business_time_between(now, self.due_at)
            except YearNotLoaded:
                return None
        return self.due_at - now
