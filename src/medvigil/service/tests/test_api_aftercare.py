"""The API of quotes (SVC-5/6), loaners (SVC-7) and maintenance visits (SVC-8): list, read and
the transitions of the pages, through the same services, permission-checked; bad input is a
4xx with a clear message, never a 500."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from medvigil.service.models import Loan, MaintenanceVisit, Quote
from medvigil.service.services import maintenance

from .conftest import new_request
from .test_aftercare import logistics  # noqa: F401  (fixture)
from .test_quotes import LINES, PASSWORD, gm, price_list  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
JSON = "application/json"


def _error(r: Any) -> str:
    body = r.json()["error"]
    return body["message"] + " " + " ".join(m for ms in body["fields"].values() for m in ms)


@pytest.mark.req("SVC-5")
@pytest.mark.req("SVC-6")
def test_quotes_through_the_api(
    world: Any,
    cs_user: Any,
    engineer: Any,
    gm: Any,  # noqa: F811
    price_list: None,  # noqa: F811
    client_for: Any,
) -> None:
    gm.set_password(PASSWORD)
    gm.save()
    sr = new_request(cs_user, world, warranty_exclusion="misuse", exclusion_reason="跌落")
    c = client_for(cs_user)
    url = f"/api/v1/service-requests/{sr.pk}/quotes"
    r = c.post(url, {"lines": LINES}, content_type=JSON)
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "approved" and r.json()["list_total"] == "1350.00"
    r = c.post(
        url,
        {"lines": LINES, "discount_percent": "15", "discount_reason": "老客户"},
        content_type=JSON,
    )
    assert r.status_code == 201 and r.json()["status"] == "awaiting_approval"
    qid, version = r.json()["id"], r.json()["version"]
    assert r.json()["total"] == "1147.50" and r.json()["needs_approval"] is True
    # bad input: a clear 422, nothing made
    count = Quote.objects.count()
    for body, word in (
        ({"lines": [{"item": "NOPE"}]}, "NOPE"),
        ({"lines": []}, "lines"),
        ({"lines": LINES, "discount_percent": "5"}, "discount"),
        ({"lines": LINES, "discount_percent": "150", "discount_reason": "x"}, "discount"),
        ({"lines": [{"item": "PS-01", "quantity": "NaN"}]}, "quantity"),
    ):
        r = c.post(url, body, content_type=JSON)
        assert r.status_code == 422, (body, r.content)
        assert word.lower() in (_error(r) + str(r.json())).lower()
    assert Quote.objects.count() == count
    assert (
        c.post(
            "/api/v1/service-requests/999999/quotes", {"lines": LINES}, content_type=JSON
        ).status_code
        == 404
    )
    # the engineer may read but not quote; customer service may not approve
    assert client_for(engineer).post(url, {"lines": LINES}, content_type=JSON).status_code == 403
    approve = f"/api/v1/service-quotes/{qid}/approve"
    body = {"version": version, "password": PASSWORD}
    assert c.post(approve, body, content_type=JSON).status_code == 403
    # customer's answer before the approval: refused with the reason
    answer = f"/api/v1/service-quotes/{qid}/answer"
    r = c.post(
        answer, {"version": version, "accepted": True, "customer_name": "李"}, content_type=JSON
    )
    assert r.status_code == 422 and "general manager" in _error(r)
    # the general manager signs: a wrong password changes nothing
    g = client_for(gm)
    r = g.post(approve, {"version": version, "password": "wrong"}, content_type=JSON)
    assert r.status_code == 422, r.content
    assert Quote.objects.get(pk=qid).status == "awaiting_approval"
    r = g.post(approve, body, content_type=JSON)
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "approved" and r.json()["approved_by"] == "gm"
    version = r.json()["version"]
    r = c.post(
        answer, {"version": version, "accepted": True, "customer_name": ""}, content_type=JSON
    )
    assert r.status_code == 422
    r = c.post(
        answer, {"version": version, "accepted": True, "customer_name": "李"}, content_type=JSON
    )
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    r = c.post(
        answer, {"version": version, "accepted": False, "customer_name": "李"}, content_type=JSON
    )
    assert r.status_code == 409
    # list and read
    r = c.get("/api/v1/service-quotes", {"request_id": sr.pk})
    assert r.status_code == 200 and r.json()["count"] == 2
    assert c.get("/api/v1/service-quotes", {"status": "bogus"}).status_code == 422
    assert c.get(f"/api/v1/service-quotes/{qid}").json()["customer_name"] == "李"
    assert c.get("/api/v1/service-quotes/999999").status_code == 404


@pytest.mark.req("SVC-7")
def test_loaners_through_the_api(
    world: Any,
    cs_user: Any,
    logistics: Any,  # noqa: F811
    client_for: Any,
) -> None:
    sr = new_request(cs_user, world)
    c = client_for(logistics)
    due = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    body = {
        "unit": world.a_units[3].serial,
        "customer_id": world.hospital.pk,
        "due_back_on": due,
        "request_id": sr.pk,
    }
    # bad input first: nothing issued
    for bad, field in (
        ({"unit": ""}, "unit"),
        ({"unit": "NO-SUCH-SERIAL"}, "unit"),
        ({"unit": world.a_units[0].serial}, "unit"),  # sold: not ours to lend
        ({"customer_id": 999999}, "customer_id"),
        ({"due_back_on": "2001-01-01"}, "due_back_on"),
        ({"due_back_on": "not a date"}, "due_back_on"),
        ({"request_id": 999999}, "request_id"),
    ):
        r = c.post("/api/v1/service-loans", {**body, **bad}, content_type=JSON)
        assert r.status_code == 422, (bad, r.content)
        assert field in str(r.json()["error"]["fields"]), (bad, r.json())
    assert Loan.objects.count() == 0
    # customer service may not issue loaners
    assert (
        client_for(cs_user).post("/api/v1/service-loans", body, content_type=JSON).status_code
        == 403
    )
    r = c.post("/api/v1/service-loans", body, content_type=JSON)
    assert r.status_code == 201, r.content
    loan = r.json()
    assert loan["number"].startswith("LN-") and loan["status"] == "out" and not loan["overdue"]
    sr.refresh_from_db()
    assert sr.loaner_provided_at is not None  # the SVC-2 loaner clock stops
    r = c.post("/api/v1/service-loans", body, content_type=JSON)
    assert r.status_code == 422 and "already out on loan" in _error(r)
    r = c.get("/api/v1/service-loans", {"status": "out"})
    assert r.status_code == 200 and r.json()["count"] == 1
    assert c.get("/api/v1/service-loans", {"overdue": "true"}).json()["count"] == 0
    assert c.get("/api/v1/service-loans", {"status": "lost"}).status_code == 422
    ret = f"/api/v1/service-loans/{loan['id']}/return"
    assert c.post(ret, {"version": loan["version"] - 1}, content_type=JSON).status_code == 409
    r = c.post(ret, {"version": loan["version"], "notes": "完好"}, content_type=JSON)
    assert r.status_code == 200 and r.json()["status"] == "returned" and r.json()["returned_at"]
    r = c.post(ret, {"version": r.json()["version"]}, content_type=JSON)
    assert r.status_code == 422  # already returned
    assert c.get(f"/api/v1/service-loans/{loan['id']}").json()["notes"] == "完好"


@pytest.mark.req("SVC-8")
def test_maintenance_visits_through_the_api(
    world: Any, cs_user: Any, auditor: Any, client_for: Any
) -> None:
    maintenance.generate_visits(today=dt.date.today(), days=70)
    assert MaintenanceVisit.objects.exists()
    c = client_for(cs_user)
    r = c.get("/api/v1/service-maintenance-visits", {"kind": "call", "limit": 5})
    assert r.status_code == 200, r.content
    assert r.json()["count"] >= 1 and all(v["kind"] == "call" for v in r.json()["items"])
    for bad in ({"kind": "party"}, {"limit": 0}, {"due_from": "x"}):
        assert c.get("/api/v1/service-maintenance-visits", bad).status_code == 422
    r = c.get(
        "/api/v1/service-maintenance-visits",
        {"due_from": "2026-05-01", "due_to": "2026-04-01"},
    )
    assert r.status_code == 422 and "before the start" in _error(r)
    visit = MaintenanceVisit.objects.order_by("due_on").first()
    assert visit is not None
    MaintenanceVisit.objects.filter(pk=visit.pk).update(due_on=dt.date.today() - dt.timedelta(1))
    visit.refresh_from_db()
    r = c.get("/api/v1/service-maintenance-visits", {"missed": "true"})
    assert [v["id"] for v in r.json()["items"]] == [visit.pk] and r.json()["items"][0]["missed"]
    url = f"/api/v1/service-maintenance-visits/{visit.pk}/done"
    # an auditor reads but may not record
    assert (
        client_for(auditor).get(f"/api/v1/service-maintenance-visits/{visit.pk}").status_code == 200
    )
    assert (
        client_for(auditor).post(url, {"version": visit.version}, content_type=JSON).status_code
        == 403
    )
    assert c.post(url, {"version": None}, content_type=JSON).status_code == 409
    r = c.post(url, {"version": visit.version, "notes": "电话回访: 正常"}, content_type=JSON)
    assert r.status_code == 200, r.content
    assert (
        r.json()["status"] == "done" and r.json()["assigned_to"] == "cs" and not r.json()["missed"]
    )
    r = c.post(url, {"version": r.json()["version"]}, content_type=JSON)
    assert r.status_code == 422 and "already done" in _error(r)
    assert c.get("/api/v1/service-maintenance-visits/999999").status_code == 404
