"""SVC-2: service-level clocks by zone and fault level on the business clock (09:00–18:00 on
China's working days): city 3 h and suburb 7 h across the 2026 National Day holiday (1–7 Oct)
and its make-up Saturday (10 Oct) and make-up Sunday (20 Sep); the 8 working-hour cap; the
12 h fix → free loaner within 24 h; calendar time as a setting; alerts; arrival compliance."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from medvigil.core.calendar.rules import get_rule
from medvigil.service import rules
from medvigil.service.services import arrival_compliance, clocks_for
from medvigil.service.services.clocks import deadline_source

from .conftest import CST, at, new_request

pytestmark = pytest.mark.django_db

SEED = "seed 003 医疗器械售后服务管理程序 四 4"


def make(user: Any, world: Any, received: dt.datetime, **extra: Any) -> Any:
    with time_machine.travel(received, tick=False):
        return new_request(user, world, received_at=received, **extra)


def local(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(CST) if value else None


@pytest.mark.req("SVC-2")
def test_rules_cite_the_seed_clause() -> None:
    assert get_rule("SVC-ARRIVE-CITY").amount == 3
    assert get_rule("SVC-ARRIVE-SUBURB").amount == 7
    assert get_rule("SVC-ARRIVE-MAX").amount == 8
    assert get_rule("SVC-FIX").amount == 12
    assert get_rule("SVC-LOANER").amount == 24
    for code in ("SVC-ARRIVE-CITY", "SVC-ARRIVE-SUBURB", "SVC-ARRIVE-MAX"):
        assert SEED in get_rule(code).citation and "市区采用3小时" in get_rule(code).citation
    assert "24小时内免费提供备用机" in get_rule("SVC-LOANER").citation


@pytest.mark.req("SVC-2")
def test_city_arrival_across_national_day(world: Any, cs_user: Any) -> None:
    # Wed 30 Sep 16:00: 2 h that day, 1–7 Oct off, 1 h on Thu 8 Oct → 10:00
    sr = make(cs_user, world, at(2026, 9, 30, 16, 0), zone="city")
    assert local(sr.arrival_due_at) == at(2026, 10, 8, 10, 0)
    assert sr.sla_clock == "business"
    assert sr.sla_rules["arrival"] == "SVC-ARRIVE-CITY"


@pytest.mark.req("SVC-2")
def test_suburb_arrival_across_national_day(world: Any, cs_user: Any) -> None:
    # Wed 30 Sep 15:00: 3 h that day, then 4 h on Thu 8 Oct → 13:00
    sr = make(cs_user, world, at(2026, 9, 30, 15, 0), zone="suburb")
    assert local(sr.arrival_due_at) == at(2026, 10, 8, 13, 0)


@pytest.mark.req("SVC-2")
def test_city_and_suburb_arrival_on_the_make_up_saturday(world: Any, cs_user: Any) -> None:
    # Fri 9 Oct 17:00: 1 h Friday; Sat 10 Oct is a make-up working day
    city = make(cs_user, world, at(2026, 10, 9, 17, 0), zone="city")
    assert local(city.arrival_due_at) == at(2026, 10, 10, 11, 0)
    suburb = make(cs_user, world, at(2026, 10, 9, 16, 0), zone="suburb")
    assert local(suburb.arrival_due_at) == at(2026, 10, 10, 14, 0)  # 2 h Fri + 5 h Sat


@pytest.mark.req("SVC-2")
def test_make_up_sunday_and_an_ordinary_weekend(world: Any, cs_user: Any) -> None:
    # Sat 19 Sep is off; Sun 20 Sep is a make-up working day → Sun 12:00
    sr = make(cs_user, world, at(2026, 9, 19, 10, 0), zone="city")
    assert local(sr.arrival_due_at) == at(2026, 9, 20, 12, 0)
    # an ordinary weekend: Sat 17 Oct night → Mon 19 Oct 12:00
    sr = make(cs_user, world, at(2026, 10, 17, 22, 0), zone="city")
    assert local(sr.arrival_due_at) == at(2026, 10, 19, 12, 0)


@pytest.mark.req("SVC-2")
def test_remote_and_the_8_working_hour_cap(world: Any, cs_user: Any, settings: Any) -> None:
    sr = make(cs_user, world, at(2026, 10, 12, 10, 0), zone="remote")
    assert local(sr.arrival_due_at) == at(2026, 10, 12, 18, 0)
    # a company setting that gives the suburb 7 h of *calendar* time never goes past the cap
    settings.SERVICE_LEVEL_POLICY = {"suburb.down": {"clock": "calendar"}}
    sr = make(cs_user, world, at(2026, 10, 12, 17, 0), zone="suburb")
    assert sr.sla_clock == "calendar"
    assert local(sr.arrival_due_at) == at(2026, 10, 13, 0, 0)  # 17:00 + 7 h elapsed
    settings.SERVICE_LEVEL_POLICY = {"suburb.down": {"arrival": "SVC-FIX"}}  # 12 h > cap
    sr = make(cs_user, world, at(2026, 10, 12, 9, 0), zone="suburb")
    assert local(sr.arrival_due_at) == at(2026, 10, 12, 17, 0)  # capped at 8 working hours


@pytest.mark.req("SVC-2")
def test_a_question_has_no_visit_target(world: Any, cs_user: Any) -> None:
    sr = make(cs_user, world, at(2026, 10, 12, 10, 0), fault_level="question")
    assert sr.arrival_due_at is None and sr.fix_due_at is None
    assert local(sr.response_due_at) == at(2026, 10, 12, 11, 0)


@pytest.mark.req("SVC-2")
def test_not_fixed_in_12_hours_owes_a_free_loaner_in_24(world: Any, cs_user: Any) -> None:
    sr = make(cs_user, world, at(2026, 10, 12, 9, 0), zone="city")  # Monday 09:00
    assert local(sr.fix_due_at) == at(2026, 10, 13, 12, 0)  # 9 h Mon + 3 h Tue
    assert local(sr.loaner_due_at) == at(2026, 10, 14, 15, 0)  # 9 + 9 + 6 h
    assert not sr.loaner_needed(at(2026, 10, 13, 11, 59))
    assert sr.loaner_needed(at(2026, 10, 13, 12, 1))
    codes = [c.code for c in clocks_for(sr, now=at(2026, 10, 13, 12, 1))]
    assert "loaner" in codes
    assert "loaner" not in [c.code for c in clocks_for(sr, now=at(2026, 10, 13, 11, 0))]
    from medvigil.service.services import record_loaner

    with time_machine.travel(at(2026, 10, 14, 10, 0), tick=False):
        sr = record_loaner(sr, by=cs_user, version=sr.version, note="备用机 SN LOAN-1")
    assert not sr.loaner_needed(at(2026, 10, 15, 9, 0))
    [loaner] = [c for c in clocks_for(sr, now=at(2026, 10, 15, 9, 0)) if c.code == "loaner"]
    assert loaner.state(at(2026, 10, 15, 9, 0)) == "met"


@pytest.mark.req("SVC-2")
def test_settings_tighten_a_target(world: Any, cs_user: Any, settings: Any) -> None:
    settings.SVC_ARRIVE_CITY_HOURS = 2
    sr = make(cs_user, world, at(2026, 10, 12, 9, 0), zone="city")
    assert local(sr.arrival_due_at) == at(2026, 10, 12, 11, 0)
    settings.SVC_ARRIVE_CITY_HOURS = 5  # looser than the rule: ignored
    sr = make(cs_user, world, at(2026, 10, 12, 9, 0), zone="city")
    assert local(sr.arrival_due_at) == at(2026, 10, 12, 12, 0)
    settings.SERVICE_LEVEL_POLICY = {"nowhere.down": {"arrival": "X"}, "city.down": {"fix": "NOPE"}}
    assert rules.cell_for("city", "down").fix == "SVC-FIX"  # unknown cells and rules ignored


@pytest.mark.req("SVC-2")
def test_alerts_go_to_the_engineer_and_escalate_to_managers(
    world: Any, cs_user: Any, manager: Any
) -> None:
    sr = make(cs_user, world, at(2026, 10, 12, 9, 0), zone="city")
    deadlines = list(deadline_source(at(2026, 10, 12, 13, 0)))
    arrival = [d for d in deadlines if ":arrival:" in d.key]
    assert arrival and arrival[0].due_at == sr.arrival_due_at
    assert manager in list(arrival[0].escalate_to)
    assert cs_user in list(arrival[0].users)


@pytest.mark.req("SVC-2")
def test_arrival_compliance(world: Any, cs_user: Any) -> None:
    from medvigil.service.models import ServiceRequest

    on_time = make(cs_user, world, at(2026, 10, 12, 9, 0), zone="city")
    late = make(cs_user, world, at(2026, 10, 12, 9, 0), zone="city")
    ServiceRequest.objects.filter(pk=on_time.pk).update(arrived_at=at(2026, 10, 12, 11, 0))
    ServiceRequest.objects.filter(pk=late.pk).update(arrived_at=at(2026, 10, 12, 13, 0))
    figures = arrival_compliance()
    assert (figures["arrived"], figures["met"], figures["late"], figures["percent"]) == (
        2,
        1,
        1,
        50.0,
    )
