"""FBK-4: the clocks against fixed dates: a weekend, the 2026 Spring Festival (15–23 Feb off)
with its make-up Saturday (14 Feb), in and out of hours; serious complaints in calendar time
with the immediate alert; the pause; "My work" and the deadline source."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from medvigil.complaints.services import clocks, intake
from medvigil.core.calendar.deadlines import check_deadlines
from medvigil.core.models import Notification

from .conftest import complaint_data

pytestmark = [pytest.mark.django_db, pytest.mark.req("FBK-4")]

CST = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CST)


def register(user: Any, received: dt.datetime, **extra: Any) -> Any:
    with time_machine.travel(received, tick=False):
        return intake.register_feedback(
            by=user, received_at=received, route=False, **complaint_data(**extra)
        )


def due(fb: Any, code: str, now: dt.datetime | None = None) -> dt.datetime:
    [c] = [c for c in clocks.clocks_for(fb, now=now or fb.received_at) if c.code == code]
    assert c.due_at is not None
    return c.due_at.astimezone(CST)


def test_business_time_across_a_weekend(cs_user: Any) -> None:
    fb = register(cs_user, at(2026, 3, 6, 17, 0))  # Friday 17:00
    assert due(fb, "route") == at(2026, 3, 6, 17, 30)
    # 1 h on Friday, 9 h Mon, 9 h Tue, 5 h Wed → Wed 14:00
    assert due(fb, "response") == at(2026, 3, 11, 14, 0)
    assert due(fb, "quality") == at(2026, 3, 9, 10, 0)  # 1 h Fri + 1 h Mon
    assert due(fb, "resolution") == at(2026, 3, 16, 11, 0)


def test_out_of_hours_starts_at_the_next_opening(cs_user: Any) -> None:
    fb = register(cs_user, at(2026, 3, 7, 22, 0))  # Saturday night
    assert due(fb, "route") == at(2026, 3, 9, 9, 30)
    fb = register(cs_user, at(2026, 3, 10, 7, 15))  # Tuesday before opening
    assert due(fb, "route") == at(2026, 3, 10, 9, 30)


def test_public_holiday_and_make_up_saturday(cs_user: Any) -> None:
    fb = register(cs_user, at(2026, 2, 13, 17, 45))  # Friday before the Spring Festival
    # 15 min on Friday, then Saturday 14 Feb is a make-up working day
    assert due(fb, "route") == at(2026, 2, 14, 9, 15)
    fb = register(cs_user, at(2026, 2, 13, 16, 0), visit_needed=True)
    # 2 h Fri, 9 h Sat 14 Feb (make-up day), 15–23 Feb off, 9 h Tue 24, 4 h Wed 25 → 13:00
    assert due(fb, "response") == at(2026, 2, 25, 13, 0)
    # visit: 2 working days: Sat 14 Feb, Tue 24 Feb; to the end of that day
    assert due(fb, "visit") == dt.datetime(2026, 2, 24, 23, 59, 59, tzinfo=CST)


def test_serious_complaint_counts_calendar_time_and_alerts_managers_at_once(
    cs_user: Any, mgmt_rep: Any
) -> None:
    received = at(2026, 2, 14, 22, 0)  # Saturday night, in the Spring Festival week
    fb = register(cs_user, received, patient_involvement="injury")
    assert fb.severity == "serious"
    assert due(fb, "route") == at(2026, 2, 14, 22, 30)
    assert due(fb, "response") == at(2026, 2, 15, 22, 0)
    assert due(fb, "resolution") == at(2026, 2, 16, 22, 0)
    fb.refresh_from_db()
    assert fb.on_call_alerted_at is not None
    alert = Notification.objects.get(user=mgmt_rep)
    assert fb.number in alert.title and alert.level == "danger"
    assert not Notification.objects.filter(user=cs_user, level="danger").exists()


def test_raising_severity_to_serious_alerts_once(cs_user: Any, mgmt_rep: Any) -> None:
    fb = register(cs_user, at(2026, 3, 9, 10, 0))
    from medvigil.complaints.services import routing

    fb = routing.set_severity(
        fb, by=cs_user, version=fb.version, severity="serious", reason="patient fell"
    )
    assert Notification.objects.filter(user=mgmt_rep, level="danger").count() == 1
    fb = routing.set_severity(fb, by=cs_user, version=fb.version, severity="major", reason="x")
    fb = routing.set_severity(fb, by=cs_user, version=fb.version, severity="serious", reason="y")
    assert Notification.objects.filter(user=mgmt_rep, level="danger").count() == 1


def test_pause_moves_the_due_time_by_the_paused_business_time(cs_user: Any) -> None:
    fb = register(cs_user, at(2026, 3, 9, 10, 0))  # Monday 10:00
    assert due(fb, "response") == at(2026, 3, 11, 16, 0)
    with time_machine.travel(at(2026, 3, 9, 11, 0), tick=False):
        pause = clocks.pause_clock(fb, by=cs_user, reason="waiting for the customer's photos")
    with pytest.raises(ValidationError):
        clocks.pause_clock(fb, by=cs_user, reason="again")
    # while paused, the clock is shown paused and counts up to now
    [resp] = [c for c in clocks.clocks_for(fb, now=at(2026, 3, 9, 15, 0)) if c.code == "response"]
    assert resp.state(at(2026, 3, 9, 15, 0)) == "paused"
    with time_machine.travel(at(2026, 3, 10, 11, 0), tick=False):
        clocks.resume_clock(fb, by=cs_user)
    # paused 7 h Monday + 2 h Tuesday = 9 business hours
    assert due(fb, "response", now=at(2026, 3, 10, 12, 0)) == at(2026, 3, 12, 16, 0)
    pause.refresh_from_db()
    assert pause.ended_by == cs_user
    from medvigil.core.models import AuditEntry

    entry = AuditEntry.objects.filter(object_id=str(pause.pk), action="create").first()
    assert entry is not None and entry.reason == "waiting for the customer's photos"


def test_pause_needs_a_reason(cs_user: Any) -> None:
    fb = register(cs_user, at(2026, 3, 9, 10, 0))
    with pytest.raises(ValidationError):
        clocks.pause_clock(fb, by=cs_user, reason="  ")
    with pytest.raises(ValidationError):
        clocks.resume_clock(fb, by=cs_user)


def test_met_and_late(cs_user: Any) -> None:
    fb = register(cs_user, at(2026, 3, 9, 10, 0))
    fb = clocks.record_milestone(
        fb, by=cs_user, version=fb.version, milestone="response", at=at(2026, 3, 9, 12, 0)
    )
    states = {c.code: c.state(at(2026, 3, 20, 9, 0)) for c in clocks.clocks_for(fb)}
    assert states["response"] == "met"
    assert states["route"] == "overdue" and states["resolution"] == "overdue"
    with pytest.raises(ValidationError):
        clocks.record_milestone(
            fb, by=cs_user, version=fb.version, milestone="response", at=at(2026, 3, 1, 9, 0)
        )


def test_my_work_and_deadline_alerts(cs_user: Any, mgmt_rep: Any) -> None:
    fb = register(cs_user, at(2026, 3, 9, 10, 0))
    items = clocks.my_work(cs_user)
    assert any(fb.number in i.title for i in items)
    [item] = [i for i in items if fb.number in i.title]
    assert item.due == at(2026, 3, 9, 10, 30)  # the route clock is due first
    # before the breach: due soon to the owner; at the breach: overdue; escalated to managers
    check_deadlines(now=at(2026, 3, 9, 10, 25))
    assert Notification.objects.filter(user=cs_user, title__contains=fb.number).exists()
    with time_machine.travel(at(2026, 3, 9, 18, 0), tick=False):
        result = check_deadlines(now=at(2026, 3, 9, 18, 0))
    assert result is not None
    assert Notification.objects.filter(user=mgmt_rep, title__contains=fb.number).exists()


def test_clocks_on_the_record_and_the_list(cs_user: Any, client_for: Any) -> None:
    fb = register(cs_user, at(2026, 3, 9, 10, 0))
    c = client_for(cs_user)
    page = c.get(fb.get_absolute_url()).content.decode()
    assert 'id="clock-response"' in page and "FBK-FIRST-RESPONSE" in page
    r = c.post(f"/complaints/{fb.pk}/pause/", {"reason": "等待顾客提供照片"})
    assert r.status_code == 302
    page = c.get(fb.get_absolute_url()).content.decode()
    assert "等待顾客提供照片" in page and 'id="paused-badge"' in page
    page = c.get("/complaints/").content.decode()
    assert fb.number in page


# --- the stored due times ("My work", the list, the deadline alerts read them) -------------


def assert_stored_equals_live(fb: Any, now: dt.datetime) -> dict[str, dt.datetime]:
    """The stored due times are those clocks_for computes for the running clocks."""
    from medvigil.complaints.models import Feedback

    fb = Feedback.objects.get(pk=fb.pk)
    live = {
        c.code: c.due_at
        for c in clocks.clocks_for(fb, now=now)
        if c.is_open and c.due_at is not None and not c.running_pause
    }
    stored = clocks.stored_dues(fb)
    assert stored == live
    assert fb.next_due_at == min(live.values(), default=None)
    return stored


def test_stored_due_times_follow_intake_pause_resume_milestone_and_severity(
    cs_user: Any, mgmt_rep: Any
) -> None:
    from medvigil.complaints.services import routing

    fb = register(cs_user, at(2026, 3, 6, 17, 0), visit_needed=True)  # Friday 17:00
    stored = assert_stored_equals_live(fb, at(2026, 3, 6, 17, 0))
    assert set(stored) == {"route", "quality", "response", "resolution", "visit"}
    assert stored["route"] == at(2026, 3, 6, 17, 30)
    # paused: the paused clocks have no stored due time (it moves until the pause ends)
    with time_machine.travel(at(2026, 3, 9, 9, 0), tick=False):
        clocks.pause_clock(fb, by=cs_user, reason="waiting for the customer")
    stored = assert_stored_equals_live(fb, at(2026, 3, 9, 9, 0))
    assert set(stored) == {"route"}  # overdue before the pause began: not paused
    with time_machine.travel(at(2026, 3, 9, 13, 0), tick=False):
        clocks.resume_clock(fb, by=cs_user)
    stored = assert_stored_equals_live(fb, at(2026, 3, 9, 13, 0))
    assert stored["response"] == at(2026, 3, 11, 18, 0)  # Wed 14:00 + 4 paused hours
    fb.refresh_from_db()
    with time_machine.travel(at(2026, 3, 9, 14, 0), tick=False):
        fb = clocks.record_milestone(
            fb, by=cs_user, version=fb.version, milestone="response", at=at(2026, 3, 9, 14, 0)
        )
    stored = assert_stored_equals_live(fb, at(2026, 3, 9, 14, 0))
    assert "response" not in stored
    # serious: calendar time from receipt
    with time_machine.travel(at(2026, 3, 9, 15, 0), tick=False):
        fb = routing.set_severity(
            fb, by=cs_user, version=fb.version, severity="serious", reason="patient fell"
        )
    stored = assert_stored_equals_live(fb, at(2026, 3, 9, 15, 0))
    assert stored["resolution"] == at(2026, 3, 8, 17, 0)
    # closed or voided: nothing runs
    fb = intake.void_feedback(fb, by=cs_user, version=fb.version, reason="duplicate")
    fb.refresh_from_db()
    assert fb.next_due_at is None and fb.clock_dues == {}


@pytest.mark.django_db(transaction=True)
def test_a_calendar_change_recomputes_the_stored_due_times(cs_user: Any, make_user: Any) -> None:
    from medvigil.core.calendar import services as calendar_services
    from medvigil.core.calendar import working
    from medvigil.core.calendar.models import CalendarYear

    itadmin = make_user("itadmin", "admin", department="it")
    fb = register(cs_user, at(2026, 12, 21, 9, 0))  # Monday 09:00
    before = assert_stored_equals_live(fb, at(2026, 12, 21, 9, 0))
    # 48 business hours: Mon 21 … Fri 25 (5 × 9 h = 45 h), Mon 28 12:00
    assert before["resolution"] == at(2026, 12, 28, 12, 0)
    row = CalendarYear.objects.get(calendar__code="CN", year=2026)
    lines = calendar_services.format_day_lines(row.entries()) + "\n2026-12-24 holiday closure"
    try:
        with time_machine.travel(at(2026, 12, 21, 9, 5), tick=False):
            result = calendar_services.enter_year(
                row.calendar, 2026, lines, by=itadmin, reason="correction", source=row.source
            )
        assert result.recomputed >= 1
        after = assert_stored_equals_live(fb, at(2026, 12, 21, 9, 5))
        assert after["resolution"] == at(2026, 12, 29, 12, 0)
    finally:
        working.invalidate("CN")


def test_my_work_orders_by_the_stored_due_time(cs_user: Any) -> None:
    late = register(cs_user, at(2026, 3, 9, 10, 0))
    early = register(cs_user, at(2026, 3, 9, 9, 0), patient_involvement="injury")  # calendar
    other = register(cs_user, at(2026, 3, 2, 9, 0))
    other = intake.void_feedback(other, by=cs_user, version=other.version, reason="spam")
    items = [i for i in clocks.my_work(cs_user) if i.title.startswith("FB")]
    assert [i.title.split()[0] for i in items] == [early.number, late.number]
    assert items[0].due == at(2026, 3, 9, 9, 30) and items[1].due == at(2026, 3, 9, 10, 30)


def test_the_deadline_source_reads_only_clocks_inside_the_alert_horizon(cs_user: Any) -> None:
    fb = register(cs_user, at(2026, 3, 9, 10, 0))  # Monday 10:00
    keys = {d.key for d in clocks.deadline_source(at(2026, 3, 9, 10, 5))}
    # route (10:30), quality (12:00) and response (Wed 16:00) inside 24 h? response is not
    assert {k.split(":")[2] for k in keys} == {"route", "quality"}
    assert all(k.startswith(f"complaints:{fb.pk}:") for k in keys)
    # two days later everything but the resolution (Mon 16 Mar 11:00 + …) is inside
    later = {d.key.split(":")[2] for d in clocks.deadline_source(at(2026, 3, 11, 10, 0))}
    assert later == {"route", "quality", "response"}


def test_the_deadline_source_leaves_out_clocks_whose_escalation_was_sent(
    cs_user: Any, mgmt_rep: Any
) -> None:
    fb = register(cs_user, at(2026, 3, 9, 10, 0))
    late = at(2026, 3, 9, 18, 0)  # route and quality overdue (and escalated: no delay)
    before = {d.key for d in clocks.deadline_source(late)}
    route = {k for k in before if k.split(":")[2] in ("route", "quality")}
    assert len(route) == 2
    with time_machine.travel(late, tick=False):
        sent = check_deadlines(now=late)
    assert sent.sent["overdue"] >= 2 and sent.sent["escalated"] >= 2
    after = {d.key for d in clocks.deadline_source(late)}
    assert after == before - route  # nothing left to send for them: not built again
    with time_machine.travel(late, tick=False):
        again = check_deadlines(now=late)
    assert again.total_sent == 0
    # an overdue alert nobody received (no owner) is not settled: offered again
    type(fb).objects.filter(pk=fb.pk).update(owner=None)
    from medvigil.core.models import DeadlineAlert

    DeadlineAlert.objects.filter(key__in=route, level="overdue").delete()
    assert route <= {d.key for d in clocks.deadline_source(late)}


def test_a_rule_setting_change_is_taken_by_the_refresh_command(cs_user: Any, settings: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    from medvigil.core.calendar.rules import get_rule

    fb = register(cs_user, at(2026, 3, 9, 10, 0))  # Monday 10:00
    assert clocks.stored_dues(type(fb).objects.get(pk=fb.pk))["route"] == at(2026, 3, 9, 10, 30)
    setting = get_rule("FBK-ROUTE").setting
    assert setting
    setattr(settings, setting, 15)  # the company tightens the target to 15 minutes
    out = StringIO()
    with time_machine.travel(at(2026, 3, 9, 10, 5), tick=False):
        call_command("complaint_clocks", stdout=out)
    assert "1 open record" in out.getvalue()
    stored = assert_stored_equals_live(fb, at(2026, 3, 9, 10, 5))
    assert stored["route"] == at(2026, 3, 9, 10, 15)


def test_stored_due_times_follow_routing(cs_user: Any) -> None:
    from medvigil.complaints.services import routing

    fb = register(cs_user, at(2026, 3, 9, 10, 0))  # not routed at intake
    assert "route" in assert_stored_equals_live(fb, at(2026, 3, 9, 10, 0))
    with time_machine.travel(at(2026, 3, 9, 10, 10), tick=False):
        fb = routing.route_feedback(fb, by=cs_user, version=fb.version)
    stored = assert_stored_equals_live(fb, at(2026, 3, 9, 10, 10))
    assert set(stored) == {"response", "resolution"}  # routed, and with quality: stopped
