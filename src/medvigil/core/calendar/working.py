"""Working-day arithmetic on the market calendars in the database (PLAT-7).

:func:`get_calendar` returns an immutable snapshot of one market's calendar, cached per
process. A service that changes a calendar calls :func:`invalidate` (this process at once);
other processes notice within ``CALENDAR_CACHE_SECONDS`` (default 30) through one cheap
revision query, so pages that compute many deadlines read the database at most once per
period.

A day in a year that is not loaded raises :class:`YearNotLoaded`: the caller stores that as
a flag on the record, it is never counted as Monday–Friday.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from .models import HOLIDAY, WORKDAY

__all__ = [
    "CalendarNotFound",
    "WorkingCalendar",
    "YearNotLoaded",
    "get_calendar",
    "invalidate",
]


class YearNotLoaded(ValueError):
    """A computation needs a year of a market calendar that no one has loaded yet."""

    def __init__(self, code: str, year: int) -> None:
        self.code = code
        self.year = year
        super().__init__(
            f"the {code} calendar has no data for {year} (year not loaded); an administrator "
            f"enters it on the calendars page or with `medvigil calendar seed {code}`"
        )


class CalendarNotFound(LookupError):
    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"there is no market calendar {code!r}")


@dataclass(frozen=True)
class WorkingCalendar:
    code: str
    time_zone: str
    years: frozenset[int]
    holidays: dict[dt.date, str] = field(default_factory=dict)
    workdays: dict[dt.date, str] = field(default_factory=dict)
    revision: tuple[Any, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_loaded(self, year: int) -> bool:
        return year in self.years

    def is_working_day(self, day: dt.date) -> bool:
        if isinstance(day, dt.datetime):
            day = day.astimezone(self.zone).date() if day.tzinfo else day.date()
        if day.year not in self.years:
            raise YearNotLoaded(self.code, day.year)
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def next_working_day(self, day: dt.date) -> dt.date:
        day += dt.timedelta(days=1)
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after `day` (counting starts the day after); `day` for 0."""
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError("the number of working days must be an int")
        if n < 0:
            raise ValueError("the number of working days must not be negative")
        for _i in range(n):
            day = self.next_working_day(day)
        return day


_lock = threading.Lock()
_cache: dict[str, tuple[float, WorkingCalendar]] = {}


def invalidate(code: str | None = None) -> None:
    """Forget the cached calendar(s) of this process."""
    with _lock:
        if code is None:
            _cache.clear()
        else:
            _cache.pop(code.upper(), None)


def _ttl() -> float:
    return float(getattr(settings, "CALENDAR_CACHE_SECONDS", 30))


def _revision(code: str) -> tuple[Any, ...] | None:
    from django.db.models import Count, Max, Sum

    from .models import CalendarYear, MarketCalendar

    cal = MarketCalendar.objects.filter(code=code).values_list("pk", "version").first()
    if cal is None:
        return None
    agg = CalendarYear.objects.filter(calendar_id=cal[0]).aggregate(
        n=Count("pk"), v=Sum("version"), m=Max("pk")
    )
    return (*cal, agg["n"], agg["v"], agg["m"])


def _load(code: str, revision: tuple[Any, ...]) -> WorkingCalendar:
    from .models import CalendarYear, MarketCalendar

    cal = MarketCalendar.objects.get(code=code)
    holidays: dict[dt.date, str] = {}
    workdays: dict[dt.date, str] = {}
    years = set()
    for year, days in CalendarYear.objects.filter(calendar=cal).values_list("year", "days"):
        years.add(year)
        for entry in days or ():
            day = dt.date.fromisoformat(entry["date"])
            if entry["kind"] == WORKDAY:
                workdays[day] = entry.get("name", "")
            elif entry["kind"] == HOLIDAY:
                holidays[day] = entry.get("name", "")
    return WorkingCalendar(
        code=cal.code,
        time_zone=cal.time_zone,
        years=frozenset(years),
        holidays=holidays,
        workdays=workdays,
        revision=revision,
    )


def get_calendar(code: str) -> WorkingCalendar:
    """The working calendar of market `code` (e.g. "CN"), cached per process."""
    code = str(code or "").strip().upper()
    now = time.monotonic()
    with _lock:
        hit = _cache.get(code)
    if hit is not None and now - hit[0] < _ttl():
        return hit[1]
    revision = _revision(code)
    if revision is None:
        invalidate(code)
        raise CalendarNotFound(code)
    fresh = hit is not None and hit[1].revision == revision
    calendar = hit[1] if hit is not None and fresh else _load(code, revision)
    with _lock:
        _cache[code] = (now, calendar)
    return calendar
