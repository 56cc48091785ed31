"""VIG-1: the suspected adverse event — raised directly or from a complaint's evaluation, the
awareness and EU reportability moments, outcome, device through trace (scan or serial),
narrative (≤ 4,000 characters), where, the markets from traceability, the cluster flag, and
patient data hidden from roles that do not need it (PLAT-11)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from medvigil.core.models import AuditEntry

from ..models import AdverseEvent, ReportabilityDecision
from ..services import events as ev_svc
from .conftest import make_event

pytestmark = [pytest.mark.django_db, pytest.mark.req("VIG-1")]


def test_an_event_raised_directly_takes_the_device_from_a_typed_serial(people, world):
    unit = world.units[0]
    event = make_event(people.quality, device=unit.serial)
    assert event.number.startswith("AE-")
    assert (event.unit, event.lot, event.product) == (unit, world.lot, world.pump)
    assert event.udi_di == world.pump.gtin
    assert event.source == "direct" and event.owner == people.quality
    assert event.aware_at == dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)


def test_a_scanned_udi_finds_the_unit(people, world):
    unit = world.units[1]
    udi = f"01{world.pump.gtin}10{world.lot.lot_number}\x1d21{unit.serial}"
    event = make_event(people.quality, device=udi)
    assert event.unit == unit


def test_an_unknown_device_is_a_clear_error_and_nothing_is_saved(people, world):
    with pytest.raises(ValidationError) as exc:
        make_event(people.quality, device="NO-SUCH-SERIAL")
    assert "device" in exc.value.message_dict
    assert not AdverseEvent.objects.exists()


@pytest.mark.req("VIG-2")
def test_the_markets_come_from_traceability(people, world):
    # the unit sold to a Shanghai hospital: China; the lot (sold in CN, US and the EU): all
    cn = make_event(people.quality, unit=world.units[0])
    assert cn.markets == ["CN"]
    assert cn.market_sources[0]["customer"] == world.cn.code
    lot_event = make_event(people.quality, lot=world.lot)
    assert lot_event.markets == ["CN", "EU", "US"]
    assert {s["customer"] for s in lot_event.market_sources} == {
        world.cn.code,
        world.us.code,
        world.eu.code,
    }
    # a unit in stock has no market from trace; one may be added by hand
    stock = make_event(people.quality, unit=world.units[3], markets=["US"])
    assert stock.markets == ["US"] and stock.market_sources[0]["manual"] is True
    # a decision is proposed for every market
    assert sorted(lot_event.decisions.values_list("market", flat=True)) == ["CN", "EU", "US"]


def test_the_narrative_is_limited_to_4000_characters_with_a_clear_message(people, world):
    with pytest.raises(ValidationError) as exc:
        make_event(people.quality, unit=world.units[0], narrative="x" * 4001)
    message = exc.value.message_dict["narrative"][0]
    assert "4001 characters" in message and "at most 4000" in message and "by 1" in message
    assert make_event(people.quality, unit=world.units[0], narrative="x" * 4000).pk


def test_bad_moments_are_refused(people, world):
    with pytest.raises(ValidationError) as exc:
        make_event(people.quality, aware_at=None)
    assert "aware_at" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        make_event(
            people.quality,
            occurred_at=dt.datetime(2026, 11, 25, tzinfo=dt.UTC),
        )
    assert "occurred_at" in exc.value.message_dict


def test_the_eu_reportability_moment_and_where_are_kept(people, world):
    at = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
    event = make_event(
        people.quality,
        unit=world.units[2],
        eu_reportability_at=at,
        occurred_where="ICU, Charité Berlin",
        occurred_place="EU",
    )
    assert event.eu_reportability_at == at and event.occurred_place == "EU"


def test_a_cluster_links_several_events(people, world):
    a = make_event(people.quality, unit=world.units[0])
    b = make_event(people.quality, unit=world.units[0])
    ev_svc.link_cluster(b, by=people.quality, lead=a)
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.cluster and b.cluster and b.cluster_lead == a
    assert list(a.cluster_members.all()) == [b]
    # a cluster in China: the 12-hour phone report is proposed
    d = ReportabilityDecision.objects.get(event=b, market="CN", status="proposed")
    assert d.deadline_rules[0] == "cn.cluster_phone"
    with pytest.raises(ValidationError):
        ev_svc.link_cluster(a, by=people.quality, lead=a)


def test_raised_from_a_complaint_evaluation_completes_the_hand_off(people, world, client_for):
    from medvigil.complaints.models import Evaluation, Handoff
    from medvigil.complaints.tests.flow_builders import evaluated, routed_complaint

    fb = routed_complaint(
        people.quality,
        unit=world.units[0],
        product=world.pump,
        lot=world.lot,
        patient_involvement="serious_injury",
        patient_details="男, 67岁",
    )

    class P:
        quality = people.quality

    ev = evaluated(fb, P, adverse_event=True)  # type: ignore[arg-type]
    assert ev.adverse_event_handoff == Handoff.PENDING
    c = client_for(people.quality)
    # the complaint's evaluation offers the hand-off to vigilance
    assert 'id="raise-adverse-event"' in c.get(fb.get_absolute_url()).content.decode()
    listing = c.get(reverse("vigilance:event_list")).content.decode()
    assert fb.number in listing and f"?evaluation={ev.pk}" in listing
    url = reverse("vigilance:event_create") + f"?evaluation={ev.pk}"
    page = c.get(url).content.decode()
    assert fb.title in page and fb.number in page and "男, 67岁" in page
    response = c.post(
        url,
        {
            "title": fb.title,
            "aware_at": "2026-11-20T09:00",
            "outcome": "serious_injury",
            "occurred_place": "CN",
            "narrative": fb.description,
            "patient_history": "男, 67岁",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AdverseEvent.objects.get()
    assert event.feedback == fb and event.evaluation == ev and event.source == "complaint"
    assert event.unit == world.units[0] and event.markets == ["CN"]
    assert event.patient_history == "男, 67岁"
    ev = Evaluation.objects.get(pk=ev.pk)
    assert ev.adverse_event_handoff == Handoff.DONE
    assert ev.adverse_event_reference == event.number
    complaint_page = c.get(fb.get_absolute_url()).content.decode()
    assert 'id="adverse-event-link"' in complaint_page and 'id="raise-adverse-event"' not in (
        complaint_page
    )
    # taken once: a second hand-off of the same evaluation is refused
    with pytest.raises(ValidationError):
        ev_svc.create_event(
            by=people.quality, evaluation=ev, aware_at=event.aware_at, outcome="other"
        )


@pytest.mark.req("PLAT-11")
def test_patient_data_is_hidden_from_a_role_that_does_not_need_it(people, world, client_for):
    event = make_event(people.quality, unit=world.units[0], patient_record_number="MRN-778")
    url = event.get_absolute_url()
    tech = client_for(people.technical).get(url)
    assert tech.status_code == 200
    html = tech.content.decode()
    assert "张三" not in html and "MRN-778" not in html and "***" in html
    for user in (people.quality, people.auditor):
        assert "张三" in client_for(user).get(url).content.decode()
    api = f"/api/v1/vigilance/events/{event.pk}"
    assert client_for(people.technical).get(api).json()["patient_name"] == "***"
    assert client_for(people.quality).get(api).json()["patient_name"] == "张三"
    # the general manager reads the event and its history (core.view_auditentry) but not the
    # patient: the history panel and the audit API mask the values (audit_view_perms)
    assert AuditEntry.objects.filter(object_id=str(event.pk)).exists()
    gm = client_for(people.gm)
    html = gm.get(url).content.decode()
    assert "张三" not in html and "MRN-778" not in html
    history = gm.get(f"/api/v1/audit/records/vigilance.adverseevent/{event.pk}/history")
    assert history.status_code == 200 and event.number in history.content.decode()
    assert "张三" not in history.content.decode()
    assert "张三" in client_for(people.auditor).get(url).content.decode()
    export = client_for(people.technical).get(reverse("vigilance:event_list") + "?format=csv")
    body = b"".join(export.streaming_content) if export.streaming else export.content
    assert export.status_code == 200 and "张三" not in body.decode("utf-8-sig")
    # the edit page offers no patient fields to a role without the permission
    from ..forms import EventForm

    assert "patient_name" not in EventForm(user=people.technical).fields


def test_finance_and_outsiders_see_no_event(people, world, client_for, outsider):
    event = make_event(people.quality, unit=world.units[0])
    for user in (people.finance, outsider):
        assert client_for(user).get(event.get_absolute_url()).status_code in (403, 404)
    # a service engineer sees only the events they raised
    own = make_event(people.engineer, unit=world.units[0])
    c = client_for(people.engineer)
    assert c.get(own.get_absolute_url()).status_code == 200
    assert c.get(event.get_absolute_url()).status_code in (403, 404)


def test_create_page_with_a_scanned_device(people, world, client_for):
    c = client_for(people.quality)
    response = c.post(
        reverse("vigilance:event_create"),
        {
            "title": "Alarm failure",
            "aware_at": "2026-11-24T10:00",
            "outcome": "malfunction",
            "occurred_place": "CN",
            "device": world.units[1].serial,
        },
    )
    assert response.status_code == 302
    event = AdverseEvent.objects.get()
    assert event.unit == world.units[1] and event.markets == ["US"]
    page = c.get(event.get_absolute_url()).content.decode()
    assert "us.mdr_30" in page and "21 CFR 803.50(a)" in page
    bad = c.post(
        reverse("vigilance:event_create"),
        {"title": "x", "aware_at": "2026-11-24T10:00", "outcome": "other", "device": "NOPE"},
    )
    assert bad.status_code == 200 and "is-invalid" in bad.content.decode()
