"""FBK-1 … FBK-3 through the API: POST /api/v1/complaints and the list/read/transition
endpoints; contact data masked (PLAT-11)."""

from __future__ import annotations

from typing import Any

import pytest

from medvigil.complaints.models import Feedback

from .conftest import complaint_data

pytestmark = pytest.mark.django_db


def _post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


@pytest.mark.req("FBK-1", "FBK-3")
def test_post_complaint_by_serial_prefills_and_routes(
    world: Any, cs_user: Any, client_for: Any
) -> None:
    c = client_for(cs_user)
    body = complaint_data(device="A1", patient_involvement="injury")
    r = _post(c, "/api/v1/complaints", body)
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["unit_id"] == world.a_units[0].pk and out["product_id"] == world.pump.pk
    assert out["severity"] == "serious" and "patient-harm" in out["severity_reasons"]
    assert out["status"] == "routed" and out["department"] == "quality"
    assert {c["code"] for c in out["clocks"]} >= {"route", "quality", "response", "resolution"}
    assert out["complainant_phone"] == "13800000009"
    r = c.get(f"/api/v1/complaints/{out['id']}")
    assert r.status_code == 200 and r.json()["number"] == out["number"]
    r = c.get("/api/v1/complaints?severity=serious&status=routed")
    assert r.json()["count"] == 1


@pytest.mark.req("FBK-1")
def test_post_refuses_bad_input_with_field_errors(cs_user: Any, client_for: Any) -> None:
    c = client_for(cs_user)
    r = _post(c, "/api/v1/complaints", complaint_data(channel="pigeon"))
    assert r.status_code == 422 and "channel" in r.json()["error"]["fields"]
    r = _post(c, "/api/v1/complaints", complaint_data(device="NOPE-404"))
    assert r.status_code == 422 and "device" in r.json()["error"]["fields"]
    r = _post(c, "/api/v1/complaints", {"kind": "rumour", "description": "x"})
    assert r.status_code == 422
    r = c.get("/api/v1/complaints?status=bogus")
    assert r.status_code == 422


@pytest.mark.req("FBK-1", "PLAT-1")
def test_outsider_cannot_post_or_read(cs_user: Any, outsider: Any, client_for: Any) -> None:
    r = _post(client_for(cs_user), "/api/v1/complaints", complaint_data())
    fid = r.json()["id"]
    o = client_for(outsider)
    assert _post(o, "/api/v1/complaints", complaint_data()).status_code == 403
    assert o.get(f"/api/v1/complaints/{fid}").status_code in (403, 404)


@pytest.mark.req("FBK-2")
def test_transition_answers_and_closes_an_inquiry(cs_user: Any, client_for: Any) -> None:
    c = client_for(cs_user)
    r = _post(
        c, "/api/v1/complaints", {"kind": "inquiry", "channel": "email", "description": "Price?"}
    )
    out = r.json()
    assert out["status"] == "received"
    r = _post(
        c,
        f"/api/v1/complaints/{out['id']}/transitions",
        {"action": "answer_and_close", "answer": "See the price list.", "version": out["version"]},
    )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "closed"
    # a stale version is a conflict
    r = _post(
        c,
        f"/api/v1/complaints/{out['id']}/transitions",
        {"action": "void", "reason": "dup", "version": out["version"]},
    )
    assert r.status_code == 409
    assert Feedback.objects.get(pk=out["id"]).status == "closed"


@pytest.mark.req("PLAT-11")
def test_contact_and_patient_data_masked_without_permission(
    cs_user: Any, make_user: Any, client_for: Any
) -> None:
    r = _post(
        client_for(cs_user),
        "/api/v1/complaints",
        complaint_data(patient_details="患者王某, 65岁"),
    )
    fid = r.json()["id"]
    tech = make_user("tech", "technical", department="technical")
    out = client_for(tech).get(f"/api/v1/complaints/{fid}").json()
    assert out["complainant_phone"] == "***" and out["complainant_name"] == "***"
    assert out["patient_details"] == "***"
    assert out["description"]  # the complaint itself is readable
