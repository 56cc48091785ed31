"""VIG-4: initial, follow-up and final reports per market, each with its deadline from the
rule; submitted = content frozen and signed, with the submission moment and the regulator's
reference; new information opens a follow-up with its own deadline (us.supplemental)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from medvigil.core.signatures.services import signature_state

from ..models import ReportabilityDecision, VigilanceReport
from ..services import decisions as dec_svc
from ..services import events as ev_svc
from ..services import reports as rep_svc
from .conftest import PASSWORD, make_event

pytestmark = [pytest.mark.django_db, pytest.mark.req("VIG-4")]


def _initial(people, unit, **facts):
    event = make_event(people.quality, unit=unit, **facts)
    d = ReportabilityDecision.objects.get(event=event, status="proposed")
    dec_svc.confirm_decision(d, by=people.quality, password=PASSWORD)
    return event, VigilanceReport.objects.get(event=event)


def test_submitting_freezes_the_content_and_signs_it(people, world):
    event, report = _initial(people, world.units[1])
    assert report.deadline_rule == "us.mdr_30" and report.status == "draft"
    with pytest.raises(ValidationError) as exc:
        rep_svc.submit_report(report, by=people.quality, password=PASSWORD)
    assert "regulator_reference" in exc.value.message_dict
    report = rep_svc.submit_report(
        report, by=people.quality, password=PASSWORD, regulator_reference="MW-3001234"
    )
    assert report.status == "submitted" and report.regulator_reference == "MW-3001234"
    assert report.submitted_by == people.quality and report.submitted_at is not None
    assert report.content["event"]["number"] == event.number
    assert report.content["report"]["deadline_rule"] == "us.mdr_30"
    assert report.content["patient"]["name"] == "张三"
    from medvigil.core.signatures.services import signatures_for

    sig = signatures_for(report).get()
    assert signature_state(sig) == "matches"
    # the event changes later: the frozen content does not
    event.refresh_from_db()
    ev_svc.update_event(event, by=people.quality, version=event.version, title="Renamed")
    report.refresh_from_db()
    assert report.content["event"]["title"] == "Pump over-infusion"
    with pytest.raises(ValidationError):
        rep_svc.update_report(report, by=people.quality, version=report.version, narrative="x")
    with pytest.raises(ValidationError):
        rep_svc.submit_report(report, by=people.quality, password=PASSWORD)
    assert report.on_time is True


def test_the_report_narrative_is_limited_to_4000_characters(people, world):
    _event, report = _initial(people, world.units[0])
    with pytest.raises(ValidationError) as exc:
        rep_svc.update_report(
            report, by=people.quality, version=report.version, narrative="字" * 4001
        )
    assert "at most 4000" in exc.value.message_dict["narrative"][0]


def test_new_information_opens_a_us_supplemental_report_with_its_own_deadline(people, world):
    event, report = _initial(people, world.units[1])
    with pytest.raises(ValidationError):  # nothing submitted yet
        rep_svc.open_follow_up(event, by=people.quality, market="US", new_information="x")
    rep_svc.submit_report(report, by=people.quality, password=PASSWORD, regulator_reference="R1")
    received = dt.datetime(2026, 11, 30, 14, 0, tzinfo=dt.UTC)
    follow = rep_svc.open_follow_up(
        event,
        by=people.quality,
        market="US",
        new_information="Device evaluation: occlusion sensor failed.",
        received_at=received,
    )
    assert follow.kind == "follow_up" and follow.deadline_rule == "us.supplemental"
    # 30 days from 30 Nov (09:00 in New York): end of 30 Dec, New York time
    assert follow.due_at.isoformat() == "2026-12-31T04:59:59+00:00"
    final = rep_svc.open_follow_up(
        event, by=people.quality, market="US", new_information="Closed", kind="final"
    )
    assert final.kind == "final"
    with pytest.raises(ValidationError):
        rep_svc.open_follow_up(event, by=people.quality, market="US", new_information=" ")


def test_a_cluster_in_china_opens_three_reports_with_their_clocks(people, world):
    event = make_event(people.quality, unit=world.units[0], cluster=True)
    d = ReportabilityDecision.objects.get(event=event, market="CN")
    dec_svc.confirm_decision(d, by=people.quality, password=PASSWORD)
    rules = list(
        VigilanceReport.objects.filter(event=event)
        .order_by("due_at")
        .values_list("deadline_rule", "due_at")
    )
    aware = event.aware_at
    assert [r for r, _due in rules] == [
        "cn.cluster_phone",
        "cn.cluster_case",
        "cn.cluster_self_inspection",
    ]
    assert rules[0][1] == aware + dt.timedelta(hours=12)
    assert rules[1][1] == aware + dt.timedelta(hours=24)


def test_report_pages_submit_with_a_signature(people, world, client_for):
    event, report = _initial(people, world.units[0])
    c = client_for(people.quality)
    edit = c.post(
        reverse("vigilance:report_edit", args=[report.pk]),
        {
            "version": report.version,
            "kind": "initial",
            "narrative": "患者输注过量。",
            "new_information": "",
            "regulator_reference": "CN-ADR-2026-0001",
        },
    )
    assert edit.status_code == 302
    report.refresh_from_db()
    page = c.get(report.get_absolute_url()).content.decode()
    assert "CN-ADR-2026-0001" in page and "cn.serious" in page
    url = reverse("vigilance:report_submit", args=[report.pk])
    ok = c.post(url, {"password": PASSWORD, "meaning": "approved", "version": report.version})
    assert ok.status_code == 302
    report.refresh_from_db()
    assert report.is_submitted and report.content["report"]["narrative"] == "患者输注过量。"
    # the frozen content reads by the fields' names, codes by their labels, not as raw keys
    page = c.get(report.get_absolute_url()).content.decode()
    content = page.split('id="content"', 1)[1].split("</div></div>", 1)[0]
    assert 'data-key="narrative"' in content and ">Narrative</dt>" in content
    assert ">Patient sex</dt>" in content and ">Rule that fired</dt>" in content
    assert ">narrative<" not in content and ">deadline_rule<" not in content
    assert f">{report.deadline_rule}<" not in content and ">cn.serious<" not in content
    from medvigil.core.calendar.rules import get_rule

    assert f">{get_rule(report.deadline_rule).title}</dd>" in content
    # the technical engineer reads the frozen report without the patient's data
    html = client_for(people.technical).get(report.get_absolute_url()).content.decode()
    assert "张三" not in html


def test_the_api_submits_and_masks(people, world, client_for):
    event, report = _initial(people, world.units[1])
    c = client_for(people.quality)
    response = c.post(
        f"/api/v1/vigilance/reports/{report.pk}/submit",
        {"password": PASSWORD, "regulator_reference": "MW-1"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "submitted"
    tech = client_for(people.technical).get(f"/api/v1/vigilance/reports/{report.pk}").json()
    assert tech["content"]["patient"]["name"] == "***"
