"""VIG-3: every vigilance deadline rule, with the clause it cites and a case counted by the
legal convention: day-counted rules start the day after the start event and end at the end of
the last day (23:59:59) in the market's zone; US work days skip federal holidays; hour rules
are exact. `medvigil deadlines compute <code>` gives what the record shows."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from medvigil.core.calendar.rules import all_rules, compute, get_rule

from ..rules import DEADLINE_RULES

pytestmark = [pytest.mark.req("VIG-3"), pytest.mark.django_db]

# Thursday 12 Feb 2026, three days before the 2026 Spring Festival holiday (15-23 Feb)
CN_START = "2026-02-12T10:00+08:00"
# Tuesday 24 Nov 2026, Thanksgiving (a federal holiday) is Thursday 26 Nov
US_START = "2026-11-24T10:00-05:00"
EU_START = "2026-02-12T10:00+01:00"

# rule, clause cited, start, due (ISO-8601 in the market's zone)
CASES = [
    # China death: 7 calendar days, straight through the Spring Festival
    ("cn.death", "第二十五条", CN_START, "2026-02-19T23:59:59+08:00"),
    ("cn.serious", "第二十五条", CN_START, "2026-03-04T23:59:59+08:00"),
    ("cn.overseas_serious", "第二十九条", CN_START, "2026-03-14T23:59:59+08:00"),
    # China cluster event in hours: exact
    ("cn.cluster_phone", "第三十条", CN_START, "2026-02-12T22:00:00+08:00"),
    ("cn.cluster_case", "第三十条", CN_START, "2026-02-13T10:00:00+08:00"),
    ("cn.cluster_self_inspection", "第三十一条", CN_START, "2026-02-19T23:59:59+08:00"),
    # 60 days after the first registration year ends (registered 1 Mar 2025)
    ("cn.periodic_risk", "第三十九条", "2026-03-01T00:00+08:00", "2026-04-30T23:59:59+08:00"),
    ("us.mdr_30", "21 CFR 803.50(a)", US_START, "2026-12-24T23:59:59-05:00"),
    # US 5 work days across Thanksgiving: Wed 25 (1), Thu 26 holiday, Fri 27 (2),
    # Mon 30 (3), Tue 1 (4), Wed 2 Dec (5)
    ("us.mdr_5wd", "21 CFR 803.53", US_START, "2026-12-02T23:59:59-05:00"),
    ("us.supplemental", "21 CFR 803.56", US_START, "2026-12-24T23:59:59-05:00"),
    ("us.importer_30", "21 CFR 803.40(a)", US_START, "2026-12-24T23:59:59-05:00"),
    # 10 work days: 25, 27, 30 Nov, 1, 2, 3, 4, 7, 8, 9 Dec
    ("us.user_facility_10wd", "21 CFR 803.30(a)", US_START, "2026-12-09T23:59:59-05:00"),
    # EU public-health threat: 2 days
    ("eu.public_health_threat", "Art. 87(4)", EU_START, "2026-02-14T23:59:59+01:00"),
    ("eu.death_unanticipated", "Art. 87(5)", EU_START, "2026-02-22T23:59:59+01:00"),
    ("eu.serious_incident", "Art. 87(3)", EU_START, "2026-02-27T23:59:59+01:00"),
    # the PSUR is due at the end of its period's last day (Art. 86)
    ("eu.psur", "Art. 86(1)", "2026-06-30T12:00+02:00", "2026-06-30T23:59:59+02:00"),
]


@pytest.mark.parametrize(("code", "clause", "start", "due"), CASES, ids=[c[0] for c in CASES])
def test_rule_cites_its_clause_and_counts_by_the_legal_convention(code, clause, start, due):
    rule = get_rule(code)
    assert clause in rule.citation
    result = compute(rule, dt.datetime.fromisoformat(start))
    assert result.due_at is not None
    assert result.due_at.isoformat() == due
    # the CLI gives the same moment
    out = StringIO()
    call_command("deadlines", "compute", code, "--start", start, stdout=out)
    assert out.getvalue().strip() == due


def test_every_rule_the_issue_names_has_a_case_and_is_in_the_registry():
    named = {
        "cn.death",
        "cn.serious",
        "cn.overseas_serious",
        "cn.cluster_phone",
        "cn.cluster_case",
        "cn.cluster_self_inspection",
        "cn.periodic_risk",
        "us.mdr_30",
        "us.mdr_5wd",
        "us.supplemental",
        "us.importer_30",
        "us.user_facility_10wd",
        "eu.public_health_threat",
        "eu.death_unanticipated",
        "eu.serious_incident",
        "eu.psur",
    }
    assert {r.code for r in DEADLINE_RULES} == named == {c[0] for c in CASES}
    registered = {r.code for r in all_rules()}
    assert named <= registered
    # one rule per deadline: the platform's old codes are gone
    assert not {"CN-AE-DEATH", "US-803-30DAY", "EU-MDR-87-THREAT"} & registered


def test_a_china_death_on_the_eve_of_the_festival_still_counts_calendar_days():
    # awareness on 16 Feb 2026 (the festival's eve, 除夕): due 23 Feb, a holiday, all the same
    due = compute(
        "cn.death", dt.datetime(2026, 2, 16, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    )
    assert due.due_at is not None and due.due_at.isoformat() == "2026-02-23T23:59:59+08:00"


def test_the_cli_lists_the_new_codes_with_their_citations():
    out = StringIO()
    call_command("deadlines", "rules", stdout=out)
    lines = {line.split("\t")[0]: line.split("\t") for line in out.getvalue().splitlines()}
    assert lines["us.mdr_5wd"][1:4] == ["US", "5", "working_days"]
    assert "第二十五条" in lines["cn.death"][4]
