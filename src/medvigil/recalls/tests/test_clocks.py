"""RCL-3: the recall clocks are rules of the platform's deadline-rule registry, each with its
citation, started by the signed decision; counted across a Chinese holiday (Spring Festival
2026 with its make-up working day) and a US federal holiday (Thanksgiving 2026)."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from medvigil.core.calendar import regulatory
from medvigil.core.calendar.rules import all_rules, compute, get_rule

from .. import rules, services
from ..models import RecallClock
from .conftest import decide, new_recall

pytestmark = [pytest.mark.django_db, pytest.mark.req("RCL-3")]

CN_START = "2026-02-12T10:00+08:00"  # Thursday before the 2026 Spring Festival
US_START = "2026-11-24T10:00-05:00"  # Tuesday of Thanksgiving week

CASES = [
    ("cn.recall_notify_l1", "第十四条", CN_START, "2026-02-13T23:59:59+08:00"),
    ("cn.recall_notify_l2", "第十四条", CN_START, "2026-02-15T23:59:59+08:00"),
    ("cn.recall_notify_l3", "第十四条", CN_START, "2026-02-19T23:59:59+08:00"),
    ("cn.recall_event_report", "第十六条", CN_START, "2026-02-13T23:59:59+08:00"),
    # 5 working days: Fri 13, Sat 14 (make-up), festival 15-23, Tue 24, Wed 25, Thu 26
    ("cn.recall_plan_5wd", "第十六条", CN_START, "2026-02-26T23:59:59+08:00"),
    # progress reports: every 5 working days, the first from the decision (as the plan)
    ("cn.recall_progress_report", "第二十条", CN_START, "2026-02-26T23:59:59+08:00"),
    # summary evaluation: 10 working days from completion: 13, 14 (make-up), festival
    # 15-23, 24, 25, 26, 27, 28 (make-up), 2, 3, 4 March
    ("cn.recall_summary_10wd", "第二十二条", CN_START, "2026-03-04T23:59:59+08:00"),
    # 10 working days: 25, (Thanksgiving 26), 27, 30, 1, 2, 3, 4, 7, 8, 9 Dec
    ("us.correction_removal_10wd", "21 CFR 806.10(b)", US_START, "2026-12-09T23:59:59-05:00"),
]


@pytest.mark.parametrize(("code", "clause", "start", "due"), CASES, ids=[c[0] for c in CASES])
def test_each_recall_clock_cites_its_clause_and_counts_across_holidays(code, clause, start, due):
    rule = get_rule(code)
    assert clause in rule.citation
    result = compute(rule, dt.datetime.fromisoformat(start))
    assert result.due_at is not None and result.due_at.isoformat() == due


def test_one_rule_per_deadline_and_the_old_codes_are_gone():
    codes = {r.code for r in all_rules()}
    assert {c[0] for c in CASES} <= codes
    assert not codes & {
        "CN-RECALL-L1-NOTICE",
        "CN-RECALL-L2-NOTICE",
        "CN-RECALL-L3-NOTICE",
        "CN-RECALL-PLAN",
        "US-806-CORRECTION",
    }
    assert not {r.code for r in regulatory.RULES} & {c[0] for c in CASES}
    assert {c[0] for c in CASES} == {r.code for r in rules.RULES}


def test_the_cli_lists_and_computes_the_recall_rules():
    out = StringIO()
    call_command("deadlines", "rules", stdout=out)
    line = next(ln for ln in out.getvalue().splitlines() if ln.startswith("cn.recall_plan_5wd\t"))
    assert line.split("\t")[1:4] == ["CN", "5", "working_days"]
    out = StringIO()
    call_command(
        "deadlines", "compute", "us.correction_removal_10wd", "--start", US_START, stdout=out
    )
    assert out.getvalue() == "2026-12-09T23:59:59-05:00\n"


def test_the_decision_starts_the_clocks_of_its_level_in_china(
    world: Any, quality_user: Any, gm: Any
):
    with time_machine.travel(dt.datetime.fromisoformat(CN_START), tick=False):
        recall = services.resolve_scope(new_recall(quality_user, level=1), by=quality_user)
        recall = decide(recall, gm)
    clocks = {c.deadline_rule: c for c in RecallClock.objects.filter(recall=recall)}
    assert set(clocks) == {
        "cn.recall_event_report",
        "cn.recall_notify_l1",
        "cn.recall_plan_5wd",
        "cn.recall_progress_report",
    }
    plan = clocks["cn.recall_plan_5wd"]
    assert plan.due_at == dt.datetime.fromisoformat("2026-02-26T23:59:59+08:00")
    assert (plan.deadline_calendar, plan.clock_started_at) == ("CN", recall.decided_at)
    assert clocks["cn.recall_notify_l1"].due_at == dt.datetime.fromisoformat(
        "2026-02-13T23:59:59+08:00"
    )


def test_a_us_recall_gets_the_806_clock_and_its_report_number(
    world: Any, quality_user: Any, gm: Any
):
    with time_machine.travel(dt.datetime.fromisoformat(US_START), tick=False):
        recall = new_recall(
            quality_user, level=3, fda_class="II", us_action="R", fda_registration="3001234567"
        )
        recall = decide(services.resolve_scope(recall, by=quality_user), gm)
    clock = RecallClock.objects.get(recall=recall, deadline_rule="us.correction_removal_10wd")
    assert clock.due_at == dt.datetime.fromisoformat("2026-12-09T23:59:59-05:00")
    assert clock.deadline_calendar == "US"
    met = services.meet_clock(
        clock, by=quality_user, at=dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC)
    )
    assert met.reference == "3001234567-12/01/2026-001-R"
    recall.refresh_from_db()
    assert recall.us_report_number == met.reference
    assert rules.us_report_number("3001234567", dt.date(2026, 12, 1), 2, "C") == (
        "3001234567-12/01/2026-002-C"
    )
