"""VIG-2: reportability per market, proposed by rules-as-data (rule and citation kept); a
qualified person confirms it or decides "not reportable" with a written basis, both with an
e-signature; a revision keeps the earlier decision visible (803.18/803.20)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from medvigil.core.models import Signature
from medvigil.core.signatures.services import SignatureError

from ..models import ReportabilityDecision, VigilanceReport
from ..services import decisions as dec_svc
from .conftest import PASSWORD, make_event

pytestmark = [pytest.mark.django_db, pytest.mark.req("VIG-2")]


def _decision(event, market):
    return ReportabilityDecision.objects.exclude(status="superseded").get(
        event=event, market=market
    )


@pytest.mark.parametrize(
    ("facts", "market", "rule", "deadlines", "citation"),
    [
        ({"outcome": "death"}, "CN", "cn.death", ["cn.death"], "第二十五条"),
        ({"outcome": "malfunction"}, "CN", "cn.serious", ["cn.serious"], "第二十五条"),
        (
            {"outcome": "serious_injury", "occurred_place": "US"},
            "CN",
            "cn.abroad",
            ["cn.overseas_serious"],
            "第二十九条",
        ),
        (
            {"outcome": "serious_injury", "cluster": True},
            "CN",
            "cn.cluster",
            ["cn.cluster_phone", "cn.cluster_case", "cn.cluster_self_inspection"],
            "第三十条",
        ),
        ({"outcome": "other"}, "CN", "cn.other", [], "第二十五条"),
        ({"outcome": "serious_injury"}, "US", "us.30day", ["us.mdr_30"], "803.50(a)"),
        (
            {"outcome": "malfunction", "remedial_action": True},
            "US",
            "us.5day",
            ["us.mdr_5wd"],
            "803.53",
        ),
        ({"outcome": "other"}, "US", "us.other", [], "803.20"),
        (
            {"outcome": "serious_injury", "public_health_threat": True},
            "EU",
            "eu.threat",
            ["eu.public_health_threat"],
            "Art. 87(4)",
        ),
        ({"outcome": "death"}, "EU", "eu.death", ["eu.death_unanticipated"], "Art. 87(5)"),
        ({"outcome": "malfunction"}, "EU", "eu.serious", ["eu.serious_incident"], "Art. 87(3)"),
        ({"outcome": "other"}, "EU", "eu.other", [], "Art. 88"),
    ],
)
def test_the_rule_that_fired_is_kept_with_its_citation(
    people, world, facts, market, rule, deadlines, citation
):
    event = make_event(people.quality, lot=world.lot, **facts)
    d = _decision(event, market)
    assert d.fired_rule == rule and citation in d.fired_citation
    assert d.deadline_rules == deadlines and d.proposed_reportable == bool(deadlines)
    assert d.status == "proposed"


def test_the_us_reporter_setting_chooses_the_importer_rule(people, world, settings):
    settings.VIG_US_REPORTER = "importer"
    event = make_event(people.quality, unit=world.units[1])
    assert _decision(event, "US").deadline_rules == ["us.importer_30"]


def test_confirming_signs_and_opens_the_initial_report_with_its_deadline(people, world):
    event = make_event(people.quality, unit=world.units[0], outcome="death")
    d = dec_svc.confirm_decision(
        _decision(event, "CN"), by=people.quality, password=PASSWORD, comment="death, reportable"
    )
    assert d.status == "confirmed" and d.decided_reportable is True
    assert d.decided_by == people.quality
    from medvigil.core.signatures.services import signatures_for

    sig = signatures_for(d).get()
    assert sig.meaning == "approved"
    report = VigilanceReport.objects.get(event=event)
    assert (report.market, report.kind, report.deadline_rule) == ("CN", "initial", "cn.death")
    # 24 Nov 2026 15:00 UTC = 23:00 in Shanghai; 7 days → 1 Dec 23:59:59 +08:00
    assert report.due_at.isoformat() == "2026-12-01T15:59:59+00:00"
    with pytest.raises(ValidationError):
        dec_svc.confirm_decision(d, by=people.quality, password=PASSWORD)


def test_not_reportable_needs_a_basis_and_the_password(people, world):
    event = make_event(people.quality, unit=world.units[1], outcome="other")
    d = _decision(event, "US")
    with pytest.raises(ValidationError) as exc:
        dec_svc.decide_not_reportable(d, by=people.quality, password=PASSWORD, basis="  ")
    assert "basis" in exc.value.message_dict
    with pytest.raises(SignatureError):
        dec_svc.decide_not_reportable(d, by=people.quality, password="wrong", basis="No harm")
    d.refresh_from_db()
    assert d.status == "proposed" and not d.basis
    d = dec_svc.decide_not_reportable(
        d, by=people.quality, password=PASSWORD, basis="Not an MDR reportable event: no harm."
    )
    assert d.status == "not_reportable" and d.decided_reportable is False
    assert Signature.objects.filter(object_id=str(d.pk), reason__contains="no harm").exists()
    assert not VigilanceReport.objects.filter(event=event).exists()


def test_only_a_qualified_person_decides(people, world):
    event = make_event(people.quality, unit=world.units[0])
    with pytest.raises(Exception) as exc:
        dec_svc.confirm_decision(_decision(event, "CN"), by=people.technical, password=PASSWORD)
    assert "Permission" in type(exc.value).__name__


def test_a_revision_keeps_the_earlier_decision_visible(people, world, client_for):
    event = make_event(people.quality, unit=world.units[0], outcome="other")
    first = dec_svc.decide_not_reportable(
        _decision(event, "CN"), by=people.quality, password=PASSWORD, basis="No harm reported"
    )
    from ..services import events as ev_svc

    event.refresh_from_db()
    event = ev_svc.update_event(event, by=people.quality, version=event.version, outcome="death")
    # a decided market is not changed by new facts: a qualified person revises it
    assert _decision(event, "CN").pk == first.pk
    new = dec_svc.revise_decision(first, by=people.quality, reason="The patient died on day 3")
    first.refresh_from_db()
    assert first.status == "superseded" and new.supersedes == first
    assert new.fired_rule == "cn.death" and new.status == "proposed"
    # the earlier decision's signature stays valid: the lifecycle status is not signed
    from medvigil.core.signatures.services import signature_state

    assert signature_state(Signature.objects.get(object_id=str(first.pk))) == "matches"
    html = client_for(people.quality).get(event.get_absolute_url()).content.decode()
    assert "No harm reported" in html and "The patient died on day 3" in html
    assert html.count('class="badge text-bg-secondary decision-status"') == 1


def test_the_page_confirms_with_a_signature_and_refuses_a_wrong_password(people, world, client_for):
    event = make_event(people.quality, unit=world.units[0], outcome="death")
    d = _decision(event, "CN")
    c = client_for(people.quality)
    page = c.get(event.get_absolute_url()).content.decode()
    assert reverse("vigilance:decision_confirm", args=[d.pk]) in page
    url = reverse("vigilance:decision_confirm", args=[d.pk])
    bad = c.post(url, {"password": "nope", "meaning": "approved", "version": d.version})
    assert bad.status_code == 400
    d.refresh_from_db()
    assert d.status == "proposed"
    ok = c.post(url, {"password": PASSWORD, "meaning": "approved", "version": d.version})
    assert ok.status_code == 302
    d.refresh_from_db()
    assert d.status == "confirmed"
    url = reverse("vigilance:decision_not_reportable", args=[_decision(event, "CN").pk])
    assert c.post(url, {"password": PASSWORD, "meaning": "approved"}).status_code == 400


def test_not_reportable_on_the_page_needs_the_basis(people, world, client_for):
    event = make_event(people.quality, unit=world.units[0], outcome="other")
    d = _decision(event, "CN")
    c = client_for(people.quality)
    url = reverse("vigilance:decision_not_reportable", args=[d.pk])
    assert (
        c.post(url, {"password": PASSWORD, "meaning": "approved", "version": d.version}).status_code
        == 400
    )
    ok = c.post(
        url,
        {"password": PASSWORD, "meaning": "approved", "version": d.version, "comment": "No harm"},
    )
    assert ok.status_code == 302
    d.refresh_from_db()
    assert d.status == "not_reportable" and d.basis == "No harm"
