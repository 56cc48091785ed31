"""PLAT-7 (issue #8 item 1): market calendars as data.

Holiday data as seeded on migrate: CN from chinesecalendar 1.11.0 (State Council notice
国办发明电〔2025〕7号 for 2026: Spring Festival 15-23 Feb off, Sat 14 Feb and Sat 28 Feb
working), US from holidays 0.108 (5 U.S.C. 6103: Thanksgiving Thu 26 Nov 2026; Independence
Day Sat 4 Jul 2026 observed Fri 3 Jul under Executive Order 11582).
"""

from __future__ import annotations

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models
from django.test.utils import CaptureQueriesContext, isolate_apps
from django.urls import reverse

from medvigil.core.calendar import services, working
from medvigil.core.calendar.clock import DeadlineFields, DeadlineFlag
from medvigil.core.calendar.models import CalendarYear, MarketCalendar
from medvigil.core.calendar.rules import compute
from medvigil.core.calendar.seed import ensure_calendars, seed_years
from medvigil.core.calendar.views import missing_year_items
from medvigil.core.calendar.working import YearNotLoaded, get_calendar
from medvigil.core.models import AuditedModel, AuditEntry

pytestmark = [pytest.mark.req("PLAT-7"), pytest.mark.django_db]

CST = ZoneInfo("Asia/Shanghai")
ET = ZoneInfo("America/New_York")
D = dt.date

CN_2027 = """
# 国办发明电〔2026〕×号 (test data)
2027-01-01 holiday 元旦
2027-02-06 holiday 春节
2027-02-07 holiday 春节
2027-02-08 holiday 春节
2027-02-09 holiday 春节
2027-02-10 holiday 春节
2027-02-11 holiday 春节
2027-02-12 holiday 春节
2027-02-13 holiday 春节
2027-02-20 workday 春节 (调休)
"""


def cn() -> MarketCalendar:
    return MarketCalendar.objects.get(code="CN")


# --- the calendar cases by ID ----------------------------------------------------------


def test_cn_2026_spring_festival_with_its_saturday_make_up_days():
    cal = get_calendar("CN")
    assert cal.time_zone == "Asia/Shanghai"
    assert cal.is_working_day(D(2026, 2, 13)) is True  # Friday before
    assert cal.is_working_day(D(2026, 2, 14)) is True  # Saturday, make-up working day
    assert not any(cal.is_working_day(D(2026, 2, d)) for d in range(15, 24))  # 15-23 off
    assert cal.is_working_day(D(2026, 2, 24)) is True
    assert cal.is_working_day(D(2026, 2, 28)) is True  # Saturday, make-up working day
    assert cal.is_working_day(D(2026, 3, 1)) is False  # an ordinary Sunday
    # Fri 13 + 2 working days: Sat 14 (1), then the festival, Tue 24 (2).
    assert cal.add_working_days(D(2026, 2, 13), 2) == D(2026, 2, 24)
    # A 5-working-day rule (《医疗器械召回管理办法》第十六条) from Thu 12 Feb 10:00:
    # Fri 13, Sat 14 (make-up), Tue 24, Wed 25, Thu 26 -> end of Thu 26 Feb in Shanghai.
    due = compute("cn.recall_plan_5wd", dt.datetime(2026, 2, 12, 10, tzinfo=CST)).due_at
    assert due == dt.datetime(2026, 2, 26, 23, 59, 59, tzinfo=CST)


def test_us_5_work_days_across_thanksgiving():
    # 21 CFR 803.53(a): 5 work days. Tue 24 Nov 2026: Wed 25 (1), Thu 26 Thanksgiving,
    # Fri 27 (2), Mon 30 (3), Tue 1 Dec (4), Wed 2 Dec (5).
    assert get_calendar("US").is_working_day(D(2026, 11, 26)) is False
    result = compute("us.mdr_5wd", dt.datetime(2026, 11, 24, 10, tzinfo=ET))
    assert result.due_at == dt.datetime(2026, 12, 2, 23, 59, 59, tzinfo=ET)
    assert result.due_at.isoformat() == "2026-12-02T23:59:59-05:00"


def test_us_5_work_days_across_independence_day_observed_on_friday():
    cal = get_calendar("US")
    assert D(2026, 7, 4).weekday() == 5  # a Saturday
    assert cal.is_working_day(D(2026, 7, 3)) is False  # observed on Friday 3 July
    # Tue 30 Jun: Wed 1 (1), Thu 2 (2), Fri 3 observed, Mon 6 (3), Tue 7 (4), Wed 8 (5).
    result = compute("us.mdr_5wd", dt.datetime(2026, 6, 30, 10, tzinfo=ET))
    assert result.due_at is not None
    assert result.due_at.isoformat() == "2026-07-08T23:59:59-04:00"


def test_a_year_not_loaded_is_flagged_never_counted_monday_to_friday():
    assert not CalendarYear.objects.filter(calendar__code="CN", year=2027).exists()
    with pytest.raises(YearNotLoaded) as exc:
        get_calendar("CN").add_working_days(D(2026, 12, 30), 3)
    assert exc.value.year == 2027
    result = compute("cn.recall_plan_5wd", dt.datetime(2026, 12, 28, 10, tzinfo=CST))
    assert result.flagged and result.due_at is None and result.missing_year == 2027
    # Calendar-day rules need no holiday data: they are computed across the new year.
    due = compute("cn.death", dt.datetime(2026, 12, 28, 10, tzinfo=CST)).due_at
    assert due == dt.datetime(2027, 1, 4, 23, 59, 59, tzinfo=CST)


def test_the_record_stores_the_flag_and_shows_it(deadline_model):
    record = deadline_model()
    due = record.apply_deadline_rule(
        "cn.recall_plan_5wd", started_at=dt.datetime(2026, 12, 28, 10, tzinfo=CST)
    )
    assert due is None and record.due_at is None
    assert record.deadline_flag == DeadlineFlag.YEAR_NOT_LOADED
    assert record.deadline_flag_year == 2027
    assert (record.deadline_rule, record.deadline_calendar) == ("cn.recall_plan_5wd", "CN")
    assert "2027" in record.deadline_problem and "CN" in record.deadline_problem
    assert record.is_overdue() is False
    # The legacy clock API flags the same way.
    record.set_deadline(5, clock="working_days", started_at=dt.datetime(2026, 12, 30, tzinfo=CST))
    assert record.due_at is None and record.deadline_flag_year == 2027
    # A start inside the loaded years computes and clears the flag.
    record.apply_deadline_rule(
        "cn.recall_plan_5wd", started_at=dt.datetime(2026, 2, 12, 10, tzinfo=CST)
    )
    assert record.due_at == dt.datetime(2026, 2, 26, 23, 59, 59, tzinfo=CST)
    assert (
        record.deadline_flag == ""
        and record.deadline_flag_year is None
        and not record.deadline_problem
    )


# --- a calendar edit recomputes open deadlines -----------------------------------------


@pytest.fixture
def deadline_model():
    with isolate_apps("medvigil.core"):

        class CalendarTestReport(AuditedModel, DeadlineFields):
            title = models.CharField(max_length=50, default="report")
            closed = models.BooleanField(default=False)

            class Meta:
                app_label = "core"

            @classmethod
            def open_deadlines_q(cls):
                return models.Q(closed=False)

        yield CalendarTestReport


@pytest.fixture
def report_table(deadline_model):
    with connection.schema_editor() as editor:
        editor.create_model(deadline_model)
    services.register_deadline_model(deadline_model)
    yield deadline_model
    services.unregister_deadline_model(deadline_model)
    with connection.schema_editor() as editor:
        editor.delete_model(deadline_model)


@pytest.fixture
def itadmin(make_user):
    return make_user("itadmin", "admin", department="it")


@pytest.mark.django_db(transaction=True)
def test_entering_next_year_recomputes_the_open_deadline_that_used_it(report_table, itadmin):
    Report = report_table
    start = dt.datetime(2026, 12, 28, 10, tzinfo=CST)
    flagged = Report()
    flagged.apply_deadline_rule("cn.recall_plan_5wd", started_at=start)
    flagged.save()
    closed = Report(closed=True)
    closed.apply_deadline_rule("cn.recall_plan_5wd", started_at=start)
    closed.save()
    us = Report()
    us.apply_deadline_rule(
        "us.correction_removal_10wd", started_at=dt.datetime(2030, 12, 28, tzinfo=ET)
    )
    us.save()
    assert flagged.deadline_flag_year == 2027

    with time_machine.travel(dt.datetime(2026, 12, 1, tzinfo=CST), tick=False):
        result = services.enter_year(
            cn(),
            2027,
            CN_2027,
            by=itadmin,
            reason="State Council notice published",
            source="国办发明电〔2026〕×号",
        )
    assert result.created and result.recomputed == 1
    flagged.refresh_from_db()
    # Mon 28 Dec: Tue 29 (1), Wed 30 (2), Thu 31 (3), Fri 1 Jan holiday, Mon 4 (4), Tue 5 (5)
    assert flagged.due_at == dt.datetime(2027, 1, 5, 23, 59, 59, tzinfo=CST)
    assert flagged.deadline_flag == "" and flagged.deadline_flag_year is None
    closed.refresh_from_db()
    assert closed.deadline_flag_year == 2027  # closed: not an open deadline, left alone
    us.refresh_from_db()
    assert us.deadline_flag_year == 2031  # another calendar: not touched
    ct = ContentType.objects.get_for_model(Report)
    entry = AuditEntry.objects.filter(content_type=ct, object_id=str(flagged.pk)).latest("seq")
    assert entry.action == AuditEntry.Action.UPDATE
    assert "State Council notice published" in entry.reason and "CN 2027" in entry.reason
    assert entry.actor_id == itadmin.pk
    assert "due_at" in entry.changes


@pytest.mark.django_db(transaction=True)
def test_correcting_a_loaded_year_moves_an_open_deadline(report_table, itadmin):
    Report = report_table
    record = Report()
    record.apply_deadline_rule(
        "cn.recall_plan_5wd", started_at=dt.datetime(2026, 12, 21, 9, tzinfo=CST)
    )
    record.save()
    # Tue 22 .. Mon 28 Dec: 22, 23, 24, 25, 28
    assert record.due_at == dt.datetime(2026, 12, 28, 23, 59, 59, tzinfo=CST)
    row = CalendarYear.objects.get(calendar__code="CN", year=2026)
    lines = services.format_day_lines(row.entries()) + "\n2026-12-24 holiday test closure"
    with time_machine.travel(dt.datetime(2026, 12, 1, tzinfo=CST), tick=False):
        result = services.enter_year(
            cn(), 2026, lines, by=itadmin, reason="correction", source=row.source
        )
    assert not result.created and result.recomputed == 1
    record.refresh_from_db()
    assert record.due_at == dt.datetime(2026, 12, 29, 23, 59, 59, tzinfo=CST)


# --- entering a year: service, permissions, bad input ----------------------------------


def test_enter_year_is_audited_with_reason_source_and_who(itadmin):
    result = services.enter_year(
        cn(), 2027, CN_2027, by=itadmin, reason="notice of 2026-11-10", source="国办发明电"
    )
    row = result.year
    assert row.loaded_by == itadmin and row.source == "国办发明电"
    assert len(row.days) == 10 and row.days[-1] == {
        "date": "2027-02-20",
        "kind": "workday",
        "name": "春节 (调休)",
    }
    entry = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(CalendarYear), object_id=str(row.pk)
    ).get()
    assert entry.action == AuditEntry.Action.CREATE and entry.reason == "notice of 2026-11-10"
    # The cache of this process sees the new year at once.
    cal = get_calendar("CN")
    assert cal.is_working_day(D(2027, 2, 20)) is True  # Saturday make-up
    assert cal.is_working_day(D(2027, 2, 8)) is False


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2027-02-30 holiday 春节", "is not a date"),
        ("2027-02-06 vacation 春节", "holiday"),
        ("2026-02-06 holiday 春节", "not in 2027"),
        ("2027-02-08 workday 春节", "only a Saturday or Sunday"),
        ("2027-02-06 holiday", "give the name"),
        ("2027-02-06 holiday 春节\n2027-02-06 holiday 春节", "listed twice"),
        ("garbage", "YYYY-MM-DD"),
    ],
)
def test_bad_day_lines_are_field_errors_and_nothing_is_saved(itadmin, text, fragment):
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.enter_year(cn(), 2027, text, by=itadmin, reason="r", source="s")
    assert fragment in " ".join(exc.value.message_dict["days"])
    assert not CalendarYear.objects.filter(calendar__code="CN", year=2027).exists()
    assert AuditEntry.objects.count() == before


def test_enter_year_needs_a_reason_a_source_and_the_permission(itadmin, auditor, outsider):
    with pytest.raises(ValidationError) as exc:
        services.enter_year(cn(), 2027, CN_2027, by=itadmin, reason=" ", source="")
    assert set(exc.value.message_dict) == {"reason", "source"}
    for user in (auditor, outsider):
        with pytest.raises(PermissionDenied):
            services.enter_year(cn(), 2027, CN_2027, by=user, reason="r", source="s")
    assert not CalendarYear.objects.filter(calendar__code="CN", year=2027).exists()


def test_admin_pages_list_show_and_enter_a_year(client_for, itadmin):
    c = client_for(itadmin)
    page = c.get(reverse("calendar_list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Asia/Shanghai" in html and "America/New_York" in html
    year = c.get(reverse("calendar_year", args=["CN", 2026]))
    assert year.status_code == 200
    html = year.content.decode()
    assert "2026-02-14" in html and "chinesecalendar" in html and 'name="reason"' in html
    missing = c.get(reverse("calendar_year", args=["CN", 2027]))
    assert 'id="year-not-loaded"' in missing.content.decode()
    saved = c.post(
        reverse("calendar_year", args=["CN", 2027]),
        {"days": CN_2027, "source": "国办发明电〔2026〕×号", "reason": "notice published"},
    )
    assert saved.status_code == 302
    row = CalendarYear.objects.get(calendar__code="CN", year=2027)
    assert row.loaded_by == itadmin
    shown = c.get(reverse("calendar_year", args=["CN", 2027])).content.decode()
    assert "2027-02-20" in shown and 'id="year-not-loaded"' not in shown


def test_bad_lines_on_the_page_give_a_field_error_and_save_nothing(client_for, itadmin):
    c = client_for(itadmin)
    before = AuditEntry.objects.count()
    response = c.post(
        reverse("calendar_year", args=["CN", 2027]),
        {"days": "2027-13-01 holiday x", "source": "s", "reason": ""},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="days-errors"' in html and "is not a date" in html
    assert 'id="reason-errors"' in html
    assert not CalendarYear.objects.filter(calendar__code="CN", year=2027).exists()
    assert AuditEntry.objects.count() == before


def test_auditor_reads_but_cannot_write_and_outsider_is_refused(client_for, auditor, outsider):
    c = client_for(auditor)
    assert c.get(reverse("calendar_list")).status_code == 200
    page = c.get(reverse("calendar_year", args=["CN", 2026]))
    assert page.status_code == 200 and 'name="reason"' not in page.content.decode()
    post = c.post(
        reverse("calendar_year", args=["CN", 2027]),
        {"days": CN_2027, "source": "s", "reason": "r"},
    )
    assert post.status_code == 403
    o = client_for(outsider)
    assert o.get(reverse("calendar_list")).status_code == 403
    assert o.get(reverse("calendar_year", args=["CN", 2026])).status_code == 403
    assert o.post(reverse("calendar_year", args=["CN", 2027]), {}).status_code == 403
    assert not CalendarYear.objects.filter(calendar__code="CN", year=2027).exists()
    assert client_for(auditor).get(reverse("calendar_year", args=["XX", 2026])).status_code == 404


def test_my_work_warns_administrators_from_1_november_while_next_year_is_missing(itadmin, auditor):
    with time_machine.travel(dt.datetime(2026, 10, 31, 12, tzinfo=CST), tick=False):
        assert missing_year_items(itadmin) == []
    with time_machine.travel(dt.datetime(2026, 11, 1, 12, tzinfo=CST), tick=False):
        items = missing_year_items(itadmin)
        assert [i.url for i in items] == [reverse("calendar_year", args=["CN", 2027])]
        assert "2027" in items[0].title
        assert missing_year_items(auditor) == []
        services.enter_year(cn(), 2027, CN_2027, by=itadmin, reason="r", source="s")
        assert missing_year_items(itadmin) == []


# --- seeding and the cache ------------------------------------------------------------


def test_years_are_seeded_from_the_libraries_with_their_source():
    cn_years = CalendarYear.objects.filter(calendar__code="CN")
    assert cn_years.filter(year=2026).get().source.startswith("chinesecalendar ")
    assert not cn_years.filter(year=2027).exists()
    us_2026 = CalendarYear.objects.get(calendar__code="US", year=2026)
    assert us_2026.source.startswith("holidays ")
    assert {"date": "2026-07-03", "kind": "holiday", "name": "Independence Day (observed)"} in (
        us_2026.days
    )
    assert us_2026.loaded_by is None


def test_seeding_again_keeps_a_year_an_administrator_entered(itadmin):
    row = CalendarYear.objects.get(calendar__code="CN", year=2026)
    services.enter_year(
        cn(), 2026, "2026-10-01 holiday 国庆节", by=itadmin, reason="r", source="mine"
    )
    ensure_calendars()
    row.refresh_from_db()
    assert row.source == "mine" and len(row.days) == 1


def test_an_eu_member_state_is_loaded_on_demand_and_audited():
    out = StringIO()
    call_command("calendar", "seed", "DE", "--years", "2026-2027", stdout=out)
    assert out.getvalue().strip() == "DE: loaded 2026, 2027"
    de = MarketCalendar.objects.get(code="DE")
    assert de.time_zone == "Europe/Berlin"
    assert get_calendar("DE").is_working_day(D(2026, 10, 3)) is False  # German Unity Day (Sat)
    assert get_calendar("DE").is_working_day(D(2026, 5, 14)) is False  # Ascension Day
    ct = ContentType.objects.get_for_model(CalendarYear)
    assert (
        AuditEntry.objects.filter(content_type=ct, action="create")
        .filter(object_repr__startswith="DE ")
        .count()
        == 2
    )
    with pytest.raises(CommandError, match="no calendar"):
        call_command("calendar", "seed", "XX")


def test_the_calendar_is_cached_per_process_and_reloaded_when_it_changes(settings):
    get_calendar("US")
    with CaptureQueriesContext(connection) as queries:
        for _i in range(50):
            get_calendar("US").add_working_days(D(2026, 11, 24), 5)
    assert len(queries) == 0
    # Another process changed the data: seen after CALENDAR_CACHE_SECONDS.
    row = CalendarYear.objects.get(calendar__code="US", year=2026)
    row.days = [*row.days, {"date": "2026-11-27", "kind": "holiday", "name": "Day after"}]
    row.save()
    assert get_calendar("US").is_working_day(D(2026, 11, 27)) is True  # still cached
    settings.CALENDAR_CACHE_SECONDS = 0
    assert get_calendar("US").is_working_day(D(2026, 11, 27)) is False
    working.invalidate()


# --- CLI ---------------------------------------------------------------------------------


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_cli_add_working_days_prints_the_date_reached():
    assert _run("calendar", "add-working-days", "CN", "2026-02-13", "2") == "2026-02-24\n"
    assert _run("calendar", "add-working-days", "us", "2026-11-24", "5") == "2026-12-02\n"
    with pytest.raises(CommandError, match="2027"):
        _run("calendar", "add-working-days", "CN", "2026-12-30", "5")
    with pytest.raises(CommandError, match="not a date"):
        _run("calendar", "add-working-days", "CN", "2026-02-30", "1")
    with pytest.raises(CommandError, match="no market calendar"):
        _run("calendar", "add-working-days", "ZZ", "2026-02-13", "1")


def test_cli_show_lists_the_year_or_says_it_is_not_loaded():
    assert _run("calendar", "show", "CN", "2027") == "CN 2027: not loaded\n"
    lines = _run("calendar", "show", "CN", "2026").splitlines()
    assert lines[0].startswith("CN 2026 (Asia/Shanghai); source: chinesecalendar")
    assert "2026-02-14 Sat workday 春节 Spring Festival" in lines
    assert "2026-02-15 Sun holiday 春节 Spring Festival" in lines
    assert "2026-02-28 Sat workday 春节 Spring Festival" in lines


def test_the_flag_is_shown_where_a_page_shows_the_deadline(deadline_model):
    from django.template.loader import render_to_string

    record = deadline_model()
    record.apply_deadline_rule(
        "cn.recall_plan_5wd", started_at=dt.datetime(2026, 12, 28, tzinfo=CST)
    )
    html = render_to_string("core/calendar/_deadline.html", {"record": record})
    assert "Deadline not computed" in html and "2027" in html
    record.apply_deadline_rule(
        "cn.recall_plan_5wd", started_at=dt.datetime(2026, 2, 12, tzinfo=CST)
    )
    html = render_to_string("core/calendar/_deadline.html", {"record": record})
    assert "2026-02-26 23:59" in html and "cn.recall_plan_5wd" in html


def test_list_pages_make_the_same_number_of_queries_with_more_calendars(client_for, itadmin):
    c = client_for(itadmin)
    c.get(reverse("calendar_list"))  # warm the session and permission caches

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert c.get(url).status_code == 200
        return len(queries)

    before = (count(reverse("calendar_list")), count(reverse("deadline_rules")))
    seed_years("DE", [2025, 2026, 2027])
    seed_years("FR", [2026])
    after = (count(reverse("calendar_list")), count(reverse("deadline_rules")))
    assert after == before


def test_time_left_on_business_hours_is_unknown_in_a_year_not_loaded(deadline_model):
    record = deadline_model()
    record.set_deadline(
        dt.timedelta(hours=8), clock="business", started_at=dt.datetime(2026, 12, 30, 9, tzinfo=CST)
    )
    assert record.due_at == dt.datetime(2026, 12, 30, 17, tzinfo=CST)
    with time_machine.travel(dt.datetime(2026, 12, 30, 12, tzinfo=CST), tick=False):
        assert record.time_left() == dt.timedelta(hours=5)
    # Overdue into 2027, which is not loaded: unknown rather than guessed.
    assert record.time_left(now=dt.datetime(2027, 1, 4, 12, tzinfo=CST)) is None
