"""The vigilance API: events raised, decided and reported through the same services as the
pages; bad input gets a clear message and changes nothing (VIG-1, VIG-2, VIG-4)."""

from __future__ import annotations

import pytest

from ..models import AdverseEvent, ReportabilityDecision
from .conftest import PASSWORD

pytestmark = [pytest.mark.django_db]

BASE = "/api/v1/vigilance"


def _post(c, path, body):
    return c.post(BASE + path, body, content_type="application/json")


@pytest.mark.req("VIG-1")
def test_create_an_event_by_serial_and_read_it(people, world, client_for):
    c = client_for(people.quality)
    r = _post(
        c,
        "/events",
        {
            "title": "Over-infusion",
            "aware_at": "2026-11-24T10:00:00+08:00",
            "outcome": "death",
            "device": world.units[2].serial,
            "patient_name": "Anna M.",
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["markets"] == ["EU"] and body["unit_id"] == world.units[2].pk
    assert body["decisions"][0]["fired_rule"] == "eu.death"
    assert c.get(f"{BASE}/events").json()["count"] == 1


_OK = {"title": "x", "aware_at": "2026-11-24T10:00:00+08:00", "outcome": "death"}


@pytest.mark.req("VIG-1")
@pytest.mark.parametrize(
    "body",
    [
        {**_OK, "outcome": "fatal"},
        {**_OK, "aware_at": "yesterday"},
        {**_OK, "title": "x\x00"},
        {**_OK, "unit_id": 10**30},
        {**_OK, "narrative": "n" * 4001},
        {**_OK, "device": "NOPE"},
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_saved(people, world, client_for, body):
    r = _post(client_for(people.quality), "/events", body)
    assert 400 <= r.status_code < 500, r.content
    assert not AdverseEvent.objects.exists()


@pytest.mark.req("VIG-2")
def test_decide_through_the_api(people, world, client_for):
    c = client_for(people.quality)
    event = _post(
        c,
        "/events",
        {"title": "x", "aware_at": "2026-11-24T10:00:00+08:00", "outcome": "other",
         "device": world.units[1].serial},
    ).json()  # fmt: skip
    decision = event["decisions"][0]
    r = _post(c, f"/decisions/{decision['id']}/not-reportable", {"password": PASSWORD, "basis": ""})
    assert r.status_code in (400, 422) and "basis" in r.content.decode()
    r = _post(
        c, f"/decisions/{decision['id']}/not-reportable", {"password": PASSWORD, "basis": "No harm"}
    )
    assert r.status_code == 200 and r.json()["status"] == "not_reportable"
    r = _post(c, f"/decisions/{decision['id']}/revise", {"reason": "Patient died"})
    assert r.status_code == 201 and r.json()["supersedes_id"] == decision["id"]
    assert ReportabilityDecision.objects.filter(event_id=event["id"]).count() == 2
    # the technical engineer may not decide
    tech = client_for(people.technical)
    new = r.json()["id"]
    assert _post(tech, f"/decisions/{new}/confirm", {"password": PASSWORD}).status_code == 403
