"""VIG-5 on the event: the IMDRF picker on the event form, the same check
(imdrf.services.validate_codes) on the page, the API and the services; retired codes refused
for new coding but kept readable on old events; the regulators' forms show code and term."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ..models import AdverseEvent, ReportabilityDecision, VigilanceReport
from ..services import decisions as dec_svc
from ..services import events as ev_svc
from ..services import reports as rep_svc
from ..services.forms import form_sections
from .conftest import PASSWORD, make_event

pytestmark = [pytest.mark.django_db, pytest.mark.req("VIG-5")]

API = "/api/v1/vigilance"
CREATE = {
    "title": "Leak at the connector",
    "aware_at": "2026-11-24T10:00",
    "outcome": "malfunction",
    "occurred_place": "CN",
}


def test_the_event_form_has_the_picker_and_stores_normalised_codes(people, world, client_for):
    c = client_for(people.quality)
    page = c.get(reverse("vigilance:event_create")).content.decode()
    assert reverse("imdrf:picker") in page and 'name="imdrf_codes"' in page
    r = c.post(
        reverse("vigilance:event_create"),
        {**CREATE, "device": world.units[0].serial, "imdrf_codes": "a0101, E0102 ; a0101"},
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    event = AdverseEvent.objects.get()
    assert event.imdrf_codes == ["A0101", "E0102"]
    detail = c.get(event.get_absolute_url()).content.decode()
    assert "Patient-Device Incompatibility" in detail and "Brain Injury" in detail


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        ("A0101, XYZ", "is not an IMDRF code"),
        ("A9999", "is not a code of the IMDRF terminology"),
        ("G04081", "was retired in IMDRF release 2022; choose a current code"),
        ("E01", "is a grouping term"),
    ],
)
def test_bad_codes_get_a_clear_message_on_the_page_and_nothing_is_saved(
    people, world, client_for, codes, message
):
    c = client_for(people.quality)
    r = c.post(reverse("vigilance:event_create"), {**CREATE, "imdrf_codes": codes})
    assert r.status_code == 200
    assert message in r.content.decode()
    assert not AdverseEvent.objects.exists()


def test_the_api_and_the_services_use_the_same_check(people, world, client_for):
    c = client_for(people.quality)
    body = {**CREATE, "aware_at": "2026-11-24T10:00:00+08:00", "imdrf_codes": ["G04081"]}
    r = c.post(f"{API}/events", body, content_type="application/json")
    assert r.status_code == 422 and "retired in IMDRF release 2022" in r.content.decode()
    assert not AdverseEvent.objects.exists()
    with pytest.raises(ValidationError) as exc:
        make_event(people.quality, imdrf_codes=["A9999"])
    assert "imdrf_codes" in exc.value.message_dict
    r = c.post(
        f"{API}/events",
        {**body, "imdrf_codes": ["a0101", "F0101"]},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["imdrf_codes"] == ["A0101", "F0101"]
    assert [t["term"] for t in out["imdrf_terms"]] == [
        "Patient-Device Incompatibility",
        "Therapeutic Response Decreased",
    ]
    event = AdverseEvent.objects.get()
    patch = c.patch(
        f"{API}/events/{event.pk}",
        {"version": event.version, "imdrf_codes": ["E01"]},
        content_type="application/json",
    )
    assert patch.status_code == 422 and "grouping term" in patch.content.decode()
    event.refresh_from_db()
    assert event.imdrf_codes == ["A0101", "F0101"]


def test_an_old_event_keeps_its_retired_code_readable_and_editable(people, world, client_for):
    event = make_event(people.quality, unit=world.units[0], imdrf_codes=["A0101"])
    # coded before IMDRF retired G04081 (and with a code typed before the picker)
    AdverseEvent.objects.filter(pk=event.pk).update(imdrf_codes=["G04081", "A0101"])
    event.refresh_from_db()
    c = client_for(people.quality)
    page = c.get(event.get_absolute_url()).content.decode()
    assert "G04081" in page and "retired in IMDRF release 2022" in page
    # editing the event keeps the retired code; adding it to another event is refused
    edit = c.get(reverse("vigilance:event_edit", args=[event.pk])).content.decode()
    assert "G04081" in edit
    kept = ev_svc.update_event(
        event, by=people.quality, version=event.version, imdrf_codes=["G04081", "E0102"]
    )
    assert kept.imdrf_codes == ["G04081", "E0102"]
    other = make_event(people.quality, unit=world.units[0])
    with pytest.raises(ValidationError, match="retired in IMDRF release 2022"):
        ev_svc.update_event(other, by=people.quality, version=other.version, imdrf_codes=["G04081"])


def test_the_regulators_forms_show_code_and_term_and_freeze_them(people, world, client_for):
    c = client_for(people.quality)
    for unit in world.units[:3]:
        event = make_event(people.quality, unit=unit, imdrf_codes=["A0101", "E0102"])
        d = ReportabilityDecision.objects.get(event=event, status="proposed")
        dec_svc.confirm_decision(d, by=people.quality, password=PASSWORD)
    for report in VigilanceReport.objects.all():
        _code, _title, sections = form_sections(report, people.quality)
        values = {k: v for _s, _t, fields in sections for k, _l, v in fields}
        key = "codes" if report.market == "US" else "imdrf_codes"
        assert "A0101 Patient-Device Incompatibility" in values[key], report.market
        assert "E0102 Brain Injury" in values[key]
        export = json.loads(c.get(reverse("vigilance:report_json", args=[report.pk])).content)
        assert "A0101 Patient-Device Incompatibility" in json.dumps(export, ensure_ascii=False)
    # submitted: the terms are frozen with the content
    report = VigilanceReport.objects.get(market="EU")
    submitted = rep_svc.submit_report(
        report, by=people.quality, password=PASSWORD, regulator_reference="EUDAMED-1"
    )
    terms = submitted.content["event"]["imdrf_terms"]
    assert [(t["code"], t["term"]) for t in terms] == [
        ("A0101", "Patient-Device Incompatibility"),
        ("E0102", "Brain Injury"),
    ]
