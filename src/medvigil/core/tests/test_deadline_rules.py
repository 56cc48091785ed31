"""PLAT-7 (issue #8 item 2): deadline rules as data, with citations.

Each rule's test names the clause it proves (the `clause` column below) and checks the due
moment by the legal convention: day-counted rules start counting the day after the start
event and end at the end of the last day (23:59:59) in the market's zone; working days follow
the market calendar; hour-counted rules are exact.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from medvigil.core.calendar import regulatory
from medvigil.core.calendar.rules import (
    DeadlineRule,
    Unit,
    all_rules,
    compute,
    get_rule,
    register_rule,
)

pytestmark = [pytest.mark.req("PLAT-7"), pytest.mark.django_db]

CN_START = "2026-02-12T10:00+08:00"  # Thursday before the 2026 Spring Festival
US_START = "2026-11-24T10:00-05:00"  # Tuesday of Thanksgiving week

# rule, clause cited, start, due (ISO-8601 in the market's zone)
CASES = [
    ("FBK-QUALITY-ROUTE", "seed 003 售后服务管理程序 4.2.1", CN_START, "2026-02-12T12:00:00+08:00"),
    ("FBK-FIRST-RESPONSE", "seed 002", CN_START, "2026-02-13T10:00:00+08:00"),
    ("FBK-RESOLUTION", "seed 002", CN_START, "2026-02-14T10:00:00+08:00"),
    # 2 working days: Fri 13 (1), Sat 14 make-up working day (2)
    ("FBK-VISIT", "seed 003 客户投诉处理程序 4、2", CN_START, "2026-02-14T23:59:59+08:00"),
    # 10 work days: 25, 27, 30, 1, 2, 3, 4, 7, 8, 9 Dec
]


@pytest.mark.parametrize(("code", "clause", "start", "due"), CASES, ids=[c[0] for c in CASES])
def test_rule_cites_its_clause_and_counts_by_the_legal_convention(code, clause, start, due):
    rule = get_rule(code)
    assert clause in rule.citation
    result = compute(rule, dt.datetime.fromisoformat(start))
    assert result.due_at is not None
    assert result.due_at.isoformat() == due


def test_every_platform_rule_has_a_case_above():
    # The vigilance rules (VIG-3) have their own table: vigilance/tests/test_deadline_rules.py
    assert {r.code for r in regulatory.RULES} == {c[0] for c in CASES}


def test_day_rules_count_in_the_market_zone_whatever_the_start_offset():
    # 2026-02-12 20:00 UTC is already Fri 13 Feb 04:00 in Shanghai: counting starts Sat 14.
    due = compute("cn.death", dt.datetime(2026, 2, 12, 20, tzinfo=dt.UTC)).due_at
    assert due is not None and due.isoformat() == "2026-02-20T23:59:59+08:00"
    # Hour rules are exact: the same instant, shown in the market's zone.
    due = compute("cn.cluster_phone", dt.datetime(2026, 2, 12, 20, tzinfo=dt.UTC)).due_at
    assert due == dt.datetime(2026, 2, 13, 8, tzinfo=dt.UTC)


def test_a_company_setting_may_tighten_a_rule_never_loosen_it(settings):
    # 《医疗器械不良事件监测和再评价管理办法》第二十五条: death 7 days.
    start = dt.datetime.fromisoformat(CN_START)
    settings.VIG_CN_DEATH_DAYS = 5
    assert get_rule("cn.death").effective_amount() == 5
    assert compute("cn.death", start).due_at.isoformat() == "2026-02-17T23:59:59+08:00"
    settings.VIG_CN_DEATH_DAYS = 10  # looser than the law: ignored
    assert compute("cn.death", start).due_at.isoformat() == "2026-02-19T23:59:59+08:00"
    settings.VIG_CN_DEATH_DAYS = "soon"  # not a number: ignored
    assert get_rule("cn.death").effective_amount() == 7


def test_the_registry_refuses_rules_without_citation_or_with_a_clashing_code():
    with pytest.raises(ValueError, match="cites"):
        DeadlineRule("X-1", "CN", 1, Unit.HOURS, "start", "  ")
    with pytest.raises(ValueError):
        DeadlineRule("X-1", "CN", 1, "fortnights", "start", "clause")
    with pytest.raises(ValueError, match="already registered"):
        register_rule(DeadlineRule("cn.death", "CN", 8, Unit.CALENDAR_DAYS, "x", "y"))
    register_rule(get_rule("cn.death"))  # the same data again is fine
    with pytest.raises(LookupError):
        get_rule("NO-SUCH-RULE")


def test_compute_refuses_a_naive_start():
    with pytest.raises(ValueError, match="aware"):
        compute("cn.death", dt.datetime(2026, 2, 12, 10))


# --- CLI --------------------------------------------------------------------------------


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_cli_rules_prints_one_rule_per_line_with_its_citation():
    lines = _run("deadlines", "rules").splitlines()
    assert len(lines) == len(all_rules())
    fields = {line.split("\t")[0]: line.split("\t") for line in lines}
    assert fields["us.mdr_5wd"] == [
        "us.mdr_5wd",
        "US",
        "5",
        "working_days",
        get_rule("us.mdr_5wd").citation,
    ]
    assert all(len(f) == 5 and f[4] for f in fields.values())


def test_cli_compute_prints_the_due_moment_with_its_offset():
    assert _run("deadlines", "compute", "cn.death", "--start", CN_START) == (
        "2026-02-19T23:59:59+08:00\n"
    )
    assert _run("deadlines", "compute", "us.mdr_5wd", "--start", US_START) == (
        "2026-12-02T23:59:59-05:00\n"
    )
    with pytest.raises(CommandError, match="year not loaded"):
        _run("deadlines", "compute", "cn.recall_plan_5wd", "--start", "2026-12-28T10:00+08:00")
    with pytest.raises(CommandError, match="offset"):
        _run("deadlines", "compute", "cn.death", "--start", "2026-02-12T10:00")
    with pytest.raises(CommandError, match="ISO-8601"):
        _run("deadlines", "compute", "cn.death", "--start", "yesterday")
    with pytest.raises(CommandError, match="no deadline rule"):
        _run("deadlines", "compute", "NOPE", "--start", CN_START)


# --- the rules page ---------------------------------------------------------------------


def test_rules_page_lists_every_rule_with_its_citation(
    client_for, quality_user, auditor, make_user
):
    itadmin = make_user("itadmin", "admin", department="it")
    for user in (quality_user, auditor, itadmin):
        page = client_for(user).get(reverse("deadline_rules"), HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200
        html = page.content.decode()
        for rule in all_rules():
            assert rule.code in html
        assert "21 CFR 806.10(b)" in html and "第二十五条" in html
        assert "working days" in html


def test_rules_page_in_chinese_and_refused_to_outsiders(client_for, auditor, outsider, make_user):
    c = client_for(auditor)
    c.post("/language/", {"language": "zh-hans", "next": "/"})
    html = c.get(reverse("deadline_rules")).content.decode()
    assert "期限规则" in html and "工作日" in html
    assert client_for(outsider).get(reverse("deadline_rules")).status_code == 403
    service = make_user("cs", "customer_service", department="customer-service")
    assert client_for(service).get(reverse("deadline_rules")).status_code == 403


def test_amounts_read_as_words_in_both_languages_and_calendars_are_named_in_chinese(
    client_for, make_user
):
    from django.utils import translation

    one_day = next(r for r in all_rules() if r.amount == 1 and r.unit == "calendar_days")
    with translation.override("en"):
        assert one_day.amount_text == "1 calendar day"
    with translation.override("zh-hans"):
        assert one_day.amount_text == "1 个自然日"
    itadmin = make_user("itadmin", "admin", department="it")
    c = client_for(itadmin)
    c.post("/language/", {"language": "zh-hans", "next": "/"})
    html = c.get(reverse("calendar_list")).content.decode()
    assert "中国（法定节假日与调休工作日）" in html and "United States" not in html
