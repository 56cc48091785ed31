"""PLAT-7: the business clock, checked against real Chinese holiday weeks.

Holiday data: the installed chinesecalendar 1.11.0 (chinese_calendar/constants.py), which
follows the State Council notices 国办发明电〔2024〕12号 (2025 arrangement) and
国办发明电〔2025〕7号 (2026 arrangement). In that data:
- 2025 Spring Festival: Jan 28 - Feb 4 off; Sun Jan 26 and Sat Feb 8 are working days.
- 2025 National Day + Mid-autumn: Oct 1 - Oct 8 off; Sun Sep 28 and Sat Oct 11 working.
- 2026 Spring Festival: Feb 15 - Feb 23 off; Sat Feb 14 and Sat Feb 28 working.
- 2026 Labour Day: May 1 - May 5 off; Sat May 9 working.
- 2026 Mid-autumn Fri Sep 25 off; National Day Oct 1 - Oct 7 off; Sun Sep 20 and Sat Oct 10
  working.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test.utils import isolate_apps
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from medvigil.core.calendar.clock import (
    Clock,
    DeadlineFields,
    add_business_time,
    add_calendar,
    add_working_days,
    business_time_between,
    compute_due,
    is_working_day,
    next_opening,
)
from medvigil.core.calendar.working import CalendarNotFound, YearNotLoaded

# The working days are read from the market calendars in the database (seeded on migrate).
pytestmark = [pytest.mark.req("PLAT-7"), pytest.mark.django_db]

CST = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
H = dt.timedelta(hours=1)


def cst(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=CST)


@pytest.fixture(autouse=True)
def _business_settings(settings):
    """Pin the clock settings to the shipped defaults, whatever the environment says."""
    settings.BUSINESS_TIME_ZONE = "Asia/Shanghai"
    settings.BUSINESS_DAY_START = "09:00"
    settings.BUSINESS_DAY_END = "18:00"
    settings.BUSINESS_CALENDAR = "CN"


# --- working days ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # 2025 Spring Festival
        (dt.date(2025, 1, 24), True),  # Friday
        (dt.date(2025, 1, 25), False),  # Saturday
        (dt.date(2025, 1, 26), True),  # Sunday, make-up working day
        (dt.date(2025, 1, 27), True),
        *[(dt.date(2025, 1, 28) + dt.timedelta(days=i), False) for i in range(8)],  # to Feb 4
        (dt.date(2025, 2, 5), True),
        (dt.date(2025, 2, 8), True),  # Saturday, make-up
        (dt.date(2025, 2, 9), False),
        # 2025 National Day
        (dt.date(2025, 9, 27), False),  # Saturday
        (dt.date(2025, 9, 28), True),  # Sunday, make-up
        (dt.date(2025, 9, 30), True),
        *[(dt.date(2025, 10, d), False) for d in range(1, 9)],  # Oct 1 - 8
        (dt.date(2025, 10, 9), True),
        (dt.date(2025, 10, 11), True),  # Saturday, make-up
        (dt.date(2025, 10, 12), False),
        # 2026 Spring Festival
        (dt.date(2026, 2, 14), True),  # Saturday, make-up
        *[(dt.date(2026, 2, 15) + dt.timedelta(days=i), False) for i in range(9)],  # to Feb 23
        (dt.date(2026, 2, 24), True),
        (dt.date(2026, 2, 28), True),  # Saturday, make-up
        # 2026 Labour Day
        (dt.date(2026, 4, 30), True),
        *[(dt.date(2026, 5, d), False) for d in range(1, 6)],  # May 1 - 5
        (dt.date(2026, 5, 9), True),  # Saturday, make-up
        # 2026 Mid-autumn and National Day
        (dt.date(2026, 9, 20), True),  # Sunday, make-up
        (dt.date(2026, 9, 25), False),  # Friday, Mid-autumn
        *[(dt.date(2026, 10, d), False) for d in range(1, 8)],  # Oct 1 - 7
        (dt.date(2026, 10, 8), True),
        (dt.date(2026, 10, 10), True),  # Saturday, make-up
        (dt.date(2026, 10, 11), False),
    ],
)
def test_working_days_follow_statutory_holidays_and_make_up_days(day, working):
    assert is_working_day(day) is working


def test_an_aware_datetime_is_judged_by_its_date_in_the_business_zone():
    # 2025-09-30 20:00 UTC is already Oct 1 04:00 in Shanghai: a holiday.
    assert is_working_day(dt.datetime(2025, 9, 30, 20, tzinfo=UTC)) is False
    assert is_working_day(dt.datetime(2025, 9, 30, 10, tzinfo=UTC)) is True


def test_unknown_year_is_refused_never_counted_as_monday_to_friday():
    # Issue #8: a year not loaded is never silently counted as Monday-Friday.
    with pytest.raises(YearNotLoaded, match="2031") as exc:
        is_working_day(dt.date(2031, 10, 1))
    assert (exc.value.code, exc.value.year) == ("CN", 2031)
    with pytest.raises(YearNotLoaded):
        add_working_days(cst(2026, 12, 30, 10), 5)  # runs into 2027, not loaded


def test_a_calendar_setting_without_a_calendar_is_a_clear_error(settings):
    settings.BUSINESS_CALENDAR = "WEEKDAYS"
    with pytest.raises(CalendarNotFound, match="WEEKDAYS"):
        is_working_day(dt.date(2025, 10, 1))


# --- business hours ----------------------------------------------------------------------


def test_24_business_hours_from_friday_1700_before_spring_festival_2025():
    # Fri 17-18 (1h), Sat off, Sun Jan 26 make-up 9h (10h), Mon 9h (19h),
    # Jan 28 - Feb 4 off, Wed Feb 5 09:00 + 5h.
    start = cst(2025, 1, 24, 17)
    assert add_business_time(start, 24 * H) == cst(2025, 2, 5, 14)
    assert compute_due(start, 24 * H, Clock.CALENDAR) == cst(2025, 1, 25, 17)


def test_24_business_hours_from_friday_1700_before_spring_festival_2026():
    # Fri Feb 13 1h, Sat Feb 14 make-up 9h, Feb 15 - 23 off, Tue Feb 24 9h, Wed 09:00 + 5h.
    assert add_business_time(cst(2026, 2, 13, 17), 24 * H) == cst(2026, 2, 25, 14)


def test_24_business_hours_from_the_eve_of_national_day_2025():
    # Tue Sep 30 1h, Oct 1 - 8 off, Thu Oct 9 9h, Fri Oct 10 9h, Sat Oct 11 make-up 09:00 + 5h.
    assert add_business_time(cst(2025, 9, 30, 17), 24 * H) == cst(2025, 10, 11, 14)


def test_start_on_a_make_up_saturday_counts_that_day():
    start = cst(2025, 10, 11, 10)  # Saturday, working
    assert add_business_time(start, 8 * H) == cst(2025, 10, 11, 18)
    assert add_business_time(start, 9 * H) == cst(2025, 10, 13, 10)  # Sun off
    assert add_working_days(start, 1) == cst(2025, 10, 13, 10)


def test_start_at_night_begins_at_the_next_opening():
    assert add_business_time(cst(2025, 10, 15, 23, 30), H) == cst(2025, 10, 16, 10)
    assert add_business_time(cst(2025, 10, 16, 3), H) == cst(2025, 10, 16, 10)
    # The night before National Day: the next opening is after the holiday.
    assert add_business_time(cst(2025, 9, 30, 22), H) == cst(2025, 10, 9, 10)
    assert next_opening(cst(2025, 9, 30, 22)) == cst(2025, 10, 9, 9)
    assert add_business_time(cst(2025, 9, 30, 22), dt.timedelta(0)) == cst(2025, 10, 9, 9)


def test_a_deadline_on_closing_time_stays_there():
    assert add_business_time(cst(2025, 10, 16, 9), 9 * H) == cst(2025, 10, 16, 18)


def test_working_hours_come_from_the_settings(settings):
    settings.BUSINESS_DAY_START = "08:30"
    settings.BUSINESS_DAY_END = "17:30"
    assert add_business_time(cst(2025, 10, 16, 17), H) == cst(2025, 10, 17, 9)
    settings.BUSINESS_DAY_END = "08:00"
    with pytest.raises(ValueError, match="BUSINESS_DAY_END"):
        add_business_time(cst(2025, 10, 16, 17), H)


def test_business_time_between_counts_only_working_hours():
    assert business_time_between(cst(2025, 9, 30, 17), cst(2025, 10, 11, 14)) == 24 * H
    assert business_time_between(cst(2025, 10, 1), cst(2025, 10, 8, 23)) == dt.timedelta(0)
    assert business_time_between(cst(2025, 10, 11, 14), cst(2025, 9, 30, 17)) == -24 * H


# --- working days and calendar -----------------------------------------------------------


def test_calendar_versus_working_days_across_national_day_2025():
    start = cst(2025, 9, 30, 10)
    assert compute_due(start, dt.timedelta(days=5), Clock.CALENDAR) == cst(2025, 10, 5, 10)
    # Oct 9 (1), 10 (2), Sat 11 make-up (3), Mon 13 (4), Tue 14 (5)
    assert compute_due(start, 5, Clock.WORKING_DAYS) == cst(2025, 10, 14, 10)
    assert compute_due(start, dt.timedelta(days=30), "calendar") == cst(2025, 10, 30, 10)


def test_working_days_across_labour_day_and_national_day_2026():
    # May 6 (1), 7 (2), 8 (3), Sat May 9 make-up (4), Mon May 11 (5)
    assert add_working_days(cst(2026, 4, 30, 10), 5) == cst(2026, 5, 11, 10)
    # Oct 8 (1), 9 (2), Sat Oct 10 make-up (3)
    assert add_working_days(cst(2026, 9, 30, 15, 45), 3) == cst(2026, 10, 10, 15, 45)
    # Thu Sep 24: Fri 25 is Mid-autumn, weekend, so the next working day is Mon Sep 28.
    assert add_working_days(cst(2026, 9, 24, 9), 1) == cst(2026, 9, 28, 9)


def test_working_days_from_a_holiday_count_from_the_next_working_day():
    # Awareness on Oct 3 2025 (holiday): 1st working day is Oct 9.
    assert add_working_days(cst(2025, 10, 3, 20), 1) == cst(2025, 10, 9, 20)
    assert add_working_days(cst(2025, 10, 3, 20), 0) == cst(2025, 10, 3, 20)


def test_results_are_utc_and_naive_input_is_refused():
    due = compute_due(cst(2025, 10, 16, 10), H, Clock.BUSINESS)
    assert due.utcoffset() == dt.timedelta(0)
    assert due == dt.datetime(2025, 10, 16, 3, tzinfo=UTC)
    naive = dt.datetime(2025, 10, 16, 10)
    for clk, amount in ((Clock.CALENDAR, H), (Clock.BUSINESS, H), (Clock.WORKING_DAYS, 1)):
        with pytest.raises(ValueError, match="naive"):
            compute_due(naive, amount, clk)
    with pytest.raises(ValueError, match="naive"):
        business_time_between(naive, cst(2025, 1, 1))
    with pytest.raises(ValueError, match="naive"):
        add_calendar(naive, H)


def test_wrong_amount_types_and_clocks_are_clear_errors():
    start = cst(2025, 10, 16, 10)
    with pytest.raises(TypeError, match="int"):
        compute_due(start, dt.timedelta(days=1), Clock.WORKING_DAYS)
    with pytest.raises(TypeError, match="timedelta"):
        compute_due(start, 3, Clock.BUSINESS)
    with pytest.raises(ValueError, match="unknown clock"):
        compute_due(start, H, "lunar")
    with pytest.raises(ValueError, match="negative"):
        compute_due(start, -H, Clock.BUSINESS)
    with pytest.raises(ValueError, match="negative"):
        compute_due(start, -1, Clock.WORKING_DAYS)


# --- properties --------------------------------------------------------------------------

# Up to August 2026 so that the counts (a + b: up to 600 business hours) stay inside the
# loaded years (2027 is not loaded: counting into it raises YearNotLoaded instead of
# guessing Monday-Friday).
instants = st.datetimes(
    min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2026, 8, 1), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(hours=300))


@hyp_settings(max_examples=300, deadline=None)
@given(start=instants, delta=durations)
def test_business_time_between_inverts_add_business_time(start, delta):
    due = add_business_time(start, delta)
    assert business_time_between(start, due) == delta
    # Working time never runs faster than the wall clock.
    assert due - start >= delta
    if delta:
        local = due.astimezone(CST)
        assert is_working_day(local.date())
        assert dt.time(9) < local.time() <= dt.time(18)


@hyp_settings(max_examples=200, deadline=None)
@given(start=instants, a=durations, b=durations)
def test_business_deadlines_are_monotonic_and_additive(start, a, b):
    lo, hi = sorted((a, b))
    assert add_business_time(start, lo) <= add_business_time(start, hi)
    assert add_business_time(add_business_time(start, a), b) == add_business_time(start, a + b)


@hyp_settings(max_examples=200, deadline=None)
@given(start=instants, n=st.integers(min_value=1, max_value=40))
def test_working_day_deadlines_land_on_a_working_day_at_the_same_local_time(start, n):
    due = add_working_days(start, n)
    assert due.astimezone(CST).time() == start.astimezone(CST).time()
    assert is_working_day(due.astimezone(CST).date())
    days = dt.timedelta(0)
    counted = 0
    d = start.astimezone(CST).date()
    while d < due.astimezone(CST).date():
        d += dt.timedelta(days=1)
        days += dt.timedelta(days=1)
        counted += is_working_day(d)
    assert counted == n
    assert due - start >= dt.timedelta(days=n)


# --- the model mixin ---------------------------------------------------------------------


@pytest.fixture
def deadline_model():
    with isolate_apps("medvigil.core"):

        class Report(DeadlineFields):
            class Meta:
                app_label = "core"

        yield Report


def test_deadline_fields_record_clock_and_start_event_and_recompute(deadline_model):
    r = deadline_model()
    due = r.set_deadline(
        5, clock=Clock.WORKING_DAYS, started_at=cst(2025, 9, 30, 10), start_event="awareness date"
    )
    assert due == r.due_at == cst(2025, 10, 14, 10)
    assert r.clock == Clock.WORKING_DAYS
    assert r.clock_start_event == "awareness date"
    assert r.clock_started_at == cst(
        2025, 9, 30, 10
    ) and r.clock_started_at.utcoffset() == dt.timedelta(0)
    # The awareness date is corrected: the deadline follows, clock and event kept.
    r.set_deadline(5, started_at=cst(2025, 9, 26, 10))
    # Sun Sep 28 make-up (1), Mon 29 (2), Tue 30 (3), Oct 9 (4), Oct 10 (5)
    assert r.due_at == cst(2025, 10, 10, 10)
    assert r.clock_start_event == "awareness date"


def test_deadline_mixin_needs_a_start_and_an_aware_one(deadline_model):
    r = deadline_model()
    with pytest.raises(ValueError, match="not started"):
        r.set_deadline(dt.timedelta(days=1))
    with pytest.raises(ValueError, match="naive"):
        r.set_deadline(dt.timedelta(days=1), started_at=dt.datetime(2025, 1, 1))
    assert r.due_at is None


def test_deadline_overdue_and_time_left_use_now(deadline_model):
    r = deadline_model()
    r.set_deadline(8 * H, clock=Clock.BUSINESS, started_at=cst(2025, 9, 30, 17), start_event="x")
    assert r.due_at == cst(2025, 10, 9, 16)
    with time_machine.travel(cst(2025, 10, 3, 12), tick=False):
        assert not r.is_overdue()
        assert r.time_left() == 7 * H  # holidays do not use up business time
    with time_machine.travel(cst(2025, 10, 9, 16, 30), tick=False):
        assert r.is_overdue()
        assert r.time_left() == -dt.timedelta(minutes=30)
