"""VIG-7: the countdown board — every open event's clocks per market, most urgent first,
coloured before the breach; alerts at the configured points (50 %, 80 %), at the due moment,
escalation at the breach; the on-time reporting rate per market and period; "My work"."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from medvigil.core.calendar.deadlines import check_deadlines
from medvigil.core.notifications.models import Notification

from ..models import ReportabilityDecision, VigilanceReport
from ..services import board as board_svc
from ..services import decisions as dec_svc
from ..services import reports as rep_svc
from .conftest import PASSWORD, make_event

pytestmark = [pytest.mark.django_db, pytest.mark.req("VIG-7")]

AWARE = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai


def _confirm(event, market, by):
    d = ReportabilityDecision.objects.get(event=event, market=market, status="proposed")
    return dec_svc.confirm_decision(d, by=by, password=PASSWORD)


def test_the_board_sorts_by_urgency_and_colours_before_the_breach(people, world):
    death = make_event(people.quality, unit=world.units[0], outcome="death", aware_at=AWARE)
    serious = make_event(people.quality, unit=world.units[0], aware_at=AWARE)
    _confirm(death, "CN", people.quality)
    # cn.death: due 1 Dec 23:59:59 +08; cn.serious (proposed, undecided): 14 Dec
    now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
    rows = board_svc.board_rows(people.quality, now=now)
    assert [(r.event, r.kind, r.rule) for r in rows] == [
        (death, "report", "cn.death"),
        (serious, "decision", "cn.serious"),
    ]
    assert rows[0].state(now) == "urgent"  # 85 % of 7 days and 14 h used
    assert rows[1].state(now) == "ok"
    later = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    assert board_svc.board_rows(people.quality, now=later)[0].state(later) == "breached"
    assert rows[0].state(dt.datetime(2026, 11, 28, 2, tzinfo=dt.UTC)) == "soon"


def test_alerts_at_50_and_80_percent_and_escalation_at_the_breach(people, world):
    event = make_event(people.quality, unit=world.units[0], outcome="death", aware_at=AWARE)
    _confirm(event, "CN", people.quality)
    report = VigilanceReport.objects.get(event=event)
    span = report.due_at - AWARE

    def titles(user):
        return [n.title_text for n in Notification.objects.filter(user=user).order_by("id")]

    check_deadlines(AWARE + span * 0.3)
    assert titles(people.quality) == []
    check_deadlines(AWARE + span * 0.55)
    assert len(titles(people.quality)) == 1 and "Due soon" in titles(people.quality)[0]
    check_deadlines(AWARE + span * 0.85)
    assert len(titles(people.quality)) == 2
    check_deadlines(AWARE + span * 0.86)  # never twice
    assert len(titles(people.quality)) == 2
    check_deadlines(report.due_at + dt.timedelta(minutes=1))
    assert any("Overdue" in t for t in titles(people.quality))
    assert any("Escalation" in t for t in titles(people.mr))  # the management representative


def test_the_alert_points_are_a_setting(settings):
    settings.VIG_ALERT_POINTS = [0.25, "0.9", "bad", 2]
    assert board_svc.alert_points() == (0.25, 0.9)


def test_on_time_rate_per_market_and_period(people, world):
    with time_machine.travel(dt.datetime(2026, 11, 25, 3, tzinfo=dt.UTC), tick=False):
        on_time = make_event(people.quality, unit=world.units[1], aware_at=AWARE)
        _confirm(on_time, "US", people.quality)
        late = make_event(people.quality, unit=world.units[1], aware_at=AWARE)
        _confirm(late, "US", people.quality)
        rep = VigilanceReport.objects.get(event=on_time)
        rep_svc.submit_report(rep, by=people.quality, password=PASSWORD, regulator_reference="A")
    with time_machine.travel(dt.datetime(2027, 1, 5, tzinfo=dt.UTC), tick=False):
        rep = VigilanceReport.objects.get(event=late)
        rep_svc.submit_report(rep, by=people.quality, password=PASSWORD, regulator_reference="B")
        rates = {
            r["market"]: r
            for r in board_svc.on_time_rates(dt.date(2026, 12, 1), dt.date(2026, 12, 31))
        }
    assert (rates["US"]["on_time"], rates["US"]["late"], rates["US"]["rate"]) == (1, 1, 0.5)
    assert rates["CN"]["rate"] is None


def test_board_page_my_work_and_api(people, world, client_for):
    event = make_event(people.quality, unit=world.units[0], outcome="death")
    c = client_for(people.quality)
    html = c.get(reverse("vigilance:board")).content.decode()
    assert event.number in html and 'id="rates"' in html
    # what is due reads by the rule's name; its code is only the tooltip
    assert 'title="cn.death"' in html and ">cn.death<" not in html
    from medvigil.core.calendar.rules import get_rule

    assert f"{get_rule('cn.death').title}</a>" in html
    # the rate ("100 %") does not break at phone width
    rates_table = html.split('id="rates"', 1)[1].split("</table>", 1)[0]
    rows = rates_table.count("<tr>") - 1
    assert rows > 0 and rates_table.count('<td class="text-nowrap">') == rows
    api = c.get("/api/v1/vigilance/board").json()
    assert api["rows"][0]["rule"] == "cn.death" and api["rows"][0]["state"] == "breached"
    from ..services.board import my_work

    assert [w.url for w in my_work(people.quality)] == [api["rows"][0]["url"]]
    assert my_work(people.finance) == []
    zh = client_for(people.quality)
    zh.post("/language/", {"language": "zh-hans", "next": "/"})
    html = zh.get(reverse("vigilance:board")).content.decode()
    assert "倒计时看板" in html and "按时上报率" in html


def test_periodic_reports_are_due_from_registration_date_and_class(people, world, client_for):
    from ..services import periodic as per_svc

    cn = per_svc.create_obligation(
        by=people.quality, product=world.pump, market="CN", registered_on=dt.date(2025, 3, 1)
    )
    due = per_svc.next_due(cn, today=dt.date(2026, 3, 10))
    # the first full year ends 1 Mar 2026: the evaluation is due 60 days later
    assert due.period_end == dt.date(2026, 3, 1) and due.rule == "cn.periodic_risk"
    assert due.due_at.isoformat() == "2026-04-30T23:59:59+08:00"
    per_svc.record_period_reported(cn, by=people.quality, period_end=dt.date(2026, 3, 1))
    cn.refresh_from_db()
    assert per_svc.next_due(cn).period_end == dt.date(2027, 3, 1)
    # only the first 5 years
    cn.last_period_end = dt.date(2030, 3, 1)
    assert per_svc.next_due(cn) is None
    eu = per_svc.create_obligation(
        by=people.quality,
        product=world.pump,
        market="EU",
        registered_on=dt.date(2024, 5, 20),
        eu_class="IIa",
    )
    assert per_svc.next_due(eu, today=dt.date(2026, 1, 1)).period_end == dt.date(2026, 5, 20)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        per_svc.create_obligation(
            by=people.quality, product=world.pump, market="EU", registered_on=dt.date(2024, 1, 1)
        )
    html = client_for(people.quality).get(reverse("vigilance:board")).content.decode()
    assert 'title="eu.psur"' in html and 'title="cn.periodic_risk"' in html
    assert ">eu.psur<" not in html and ">cn.periodic_risk<" not in html


def test_a_proposal_stores_its_clock_and_follows_the_awareness(people, world):
    """VIG-3/VIG-7: a reportable proposal keeps its due moment (the board and the deadline
    check sort and filter on it in SQL); a corrected awareness moves it; deciding ends it."""
    from medvigil.core.calendar.rules import compute

    from ..services import events as ev_svc

    event = make_event(people.quality, unit=world.units[0], aware_at=AWARE)
    d = ReportabilityDecision.objects.get(event=event, market="CN", status="proposed")
    assert d.due_at == compute("cn.serious", AWARE).due_at
    later = AWARE + dt.timedelta(days=3)
    ev_svc.update_event(event, by=people.quality, version=event.version, aware_at=later)
    d.refresh_from_db()
    assert d.due_at == compute("cn.serious", later).due_at
    other = make_event(people.quality, unit=world.units[0], aware_at=AWARE, outcome="other")
    assert ReportabilityDecision.objects.get(event=other, market="CN").due_at is None


def test_the_board_page_shows_the_most_urgent_clocks_a_page_at_a_time(
    people, world, client_for, monkeypatch
):
    """VIG-7: with more clocks than a page, the most urgent come first and the next page
    continues where the first ended; the count says how many run."""
    from .. import views

    monkeypatch.setattr(views, "BOARD_PAGE", 2)
    events = [
        make_event(people.quality, unit=world.units[0], aware_at=AWARE + dt.timedelta(days=k))
        for k in (2, 0, 1)
    ]
    c = client_for(people.quality)
    first = c.get(reverse("vigilance:board")).content.decode()
    second = c.get(reverse("vigilance:board") + "?page=2").content.decode()
    assert first.count('class="board-row') == 2 and second.count('class="board-row') == 1
    assert events[1].number in first and events[2].number in first
    assert events[0].number in second and events[0].number not in first
    assert "Clocks 1–2 of 3" in first and 'id="board-next"' in first
    assert c.get(reverse("vigilance:board") + "?page=x").status_code == 200
    assert (
        c.get(reverse("vigilance:board") + "?page=99").content.decode().count('class="board-row')
        == 1
    )  # past the end: the last page


def test_the_board_leaves_a_voided_events_clocks_and_shows_them_again_never(people, world):
    """Issue #10: the board reads its clocks by ``event_open``, copied from the event by the
    services that change its status (close, reopen, void)."""
    from ..services import events as ev_svc

    event = make_event(people.quality, unit=world.units[0], outcome="death")
    kept = make_event(people.quality, unit=world.units[1], outcome="death")
    assert {r.event.pk for r in board_svc.board_rows()} == {event.pk, kept.pk}
    assert all(d.event_open for d in event.decisions.all())
    ev_svc.void_event(event, by=people.quality, reason="entered twice")
    assert {r.event.pk for r in board_svc.board_rows()} == {kept.pk}
    assert board_svc.board_count() == len(board_svc.board_rows())
    assert not any(d.event_open for d in event.decisions.all())
    assert all(d.event_open for d in kept.decisions.all())


def test_the_cached_on_time_rate_follows_each_submission(people, world):
    """Issue #10: the submitted reports' counts are cached under a stamp (the drafts' count,
    the highest key): a submission, a new draft or a voided one shows at once."""
    with time_machine.travel(dt.datetime(2026, 11, 25, 3, tzinfo=dt.UTC), tick=False):
        events = [make_event(people.quality, unit=world.units[1], aware_at=AWARE) for _ in "ab"]
        for e in events:
            _confirm(e, "US", people.quality)

        def us() -> tuple[int, int, int]:
            r = board_svc.on_time_rates(dt.date(2026, 12, 1), dt.date(2026, 12, 31))[1]
            return r["on_time"], r["overdue"], r["pending"]

        assert us() == (0, 0, 2)
        first = VigilanceReport.objects.get(event=events[0], market="US")
        rep_svc.submit_report(first, by=people.quality, password=PASSWORD, regulator_reference="A")
        assert us() == (1, 0, 1)
        second = VigilanceReport.objects.get(event=events[1], market="US")
        rep_svc.void_report(second, by=people.quality, reason="sent in error")
        assert us() == (1, 0, 0)
    with time_machine.travel(dt.datetime(2027, 1, 5, tzinfo=dt.UTC), tick=False):
        assert us() == (1, 0, 0)
        rates = board_svc.on_time_rates(
            dt.date(2026, 12, 1), dt.date(2026, 12, 31), user=people.quality
        )
        assert rates[1]["on_time"] == 1
