"""SVC-1 requests from the page and the API, the unit by serial or UDI scan; SVC-5 warranty
shown at once (boundary days), exclusions with a reason; dealers see only their customers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from medvigil.service.models import ServiceRequest
from medvigil.service.services import (
    create_service_request,
    device_facts,
    find_device,
    update_service_request,
    warranty_status,
)
from medvigil.trace import services as trace

from .conftest import new_request

pytestmark = pytest.mark.django_db


@pytest.mark.req("SVC-1")
def test_request_from_a_serial_fills_unit_customer_and_warranty(world: Any, cs_user: Any) -> None:
    sr = new_request(cs_user, world)
    assert sr.number.startswith("SR-")
    assert sr.unit == world.a_units[0]
    assert sr.product == world.pump
    assert sr.customer == world.hospital  # installed at H1
    assert sr.dealer == world.dealer
    assert sr.under_warranty is True
    assert sr.status == ServiceRequest.Status.NEW
    assert sr.arrival_due_at is not None  # SVC-2 clocks set at intake


@pytest.mark.req("SVC-1")
def test_find_device_by_udi_scan(world: Any, cs_user: Any) -> None:
    unit = world.a_units[0]
    facts = find_device(unit.udi_hri, user=cs_user)
    assert facts["unit"] == unit
    assert facts["udi_text"] == unit.udi_hri
    assert facts["warranty"].under is True
    assert "error" in find_device("NO-SUCH-SERIAL", user=cs_user)
    assert "error" in find_device("", user=cs_user)


@pytest.mark.req("SVC-5")
def test_warranty_boundary_days_from_acceptance(world: Any, quality_user: Any) -> None:
    unit = world.a_units[0]
    inst = unit.installations.get()
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0), tick=False):
        trace.accept_installation(
            inst, accepted_on=dt.date(2026, 3, 1), by=quality_user, version=inst.version
        )
    # 24 months from acceptance on 1 Mar 2026: the end day 1 Mar 2028 is still covered
    w = warranty_status(unit, on=dt.date(2028, 3, 1))
    assert (w.basis, w.start, w.end, w.under) == (
        "acceptance",
        dt.date(2026, 3, 1),
        dt.date(2028, 3, 1),
        True,
    )
    assert warranty_status(unit, on=dt.date(2028, 3, 2)).under is False
    assert warranty_status(unit, on=dt.date(2026, 3, 1)).under is True


@pytest.mark.req("SVC-5")
def test_warranty_before_installation_runs_from_our_sale(world: Any) -> None:
    b1 = world.b_units[0]  # sold direct to H2 on 1 Feb 2026, not installed
    w = warranty_status(b1, on=dt.date(2028, 2, 1))
    assert (w.basis, w.end, w.under) == ("sale", dt.date(2028, 2, 1), True)
    assert warranty_status(b1, on=dt.date(2028, 2, 2)).under is False
    unsold = world.a_units[3]
    assert warranty_status(unsold).under is None
    assert device_facts(b1)["customer"] == world.hospital2


@pytest.mark.req("SVC-5")
def test_exclusion_needs_a_reason(world: Any, cs_user: Any) -> None:
    with pytest.raises(ValidationError) as e:
        new_request(cs_user, world, warranty_exclusion="misuse")
    assert "exclusion_reason" in e.value.message_dict
    sr = new_request(
        cs_user, world, warranty_exclusion="force_majeure", exclusion_reason="雷击损坏电源"
    )
    assert sr.get_warranty_exclusion_display()
    sr = update_service_request(
        sr, by=cs_user, version=sr.version, warranty_exclusion="", exclusion_reason="x"
    )
    assert sr.exclusion_reason == ""


@pytest.mark.req("SVC-1")
def test_bad_input_is_refused_with_a_message(world: Any, cs_user: Any) -> None:
    for bad in ({"fault_level": "broken"}, {"zone": "moon"}, {"unit": 10**12}, {"title": "a\x00b"}):
        with pytest.raises(ValidationError):
            create_service_request(by=cs_user, **{"fault_level": "down", "description": "x", **bad})
    assert not ServiceRequest.objects.exists()


@pytest.mark.req("SVC-1")
def test_intake_page_and_device_lookup(world: Any, cs_user: Any, client_for: Any) -> None:
    c = client_for(cs_user)
    page = c.get(reverse("service:device_lookup"), {"device": world.a_units[0].serial})
    assert page.status_code == 200
    assert "under warranty" in page.content.decode()
    r = c.post(
        reverse("service:request_new"),
        {
            "device": world.a_units[0].serial,
            "fault_level": "down",
            "zone": "suburb",
            "channel": "phone",
            "description": "设备报警后停机",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    sr = ServiceRequest.objects.get()
    assert sr.unit == world.a_units[0] and sr.zone == "suburb"
    assert sr.contact_name == "护士长 李"  # from the installation
    detail = c.get(sr.get_absolute_url())
    assert detail.status_code == 200
    assert "SVC-ARRIVE-SUBURB" in detail.content.decode()
    # bad input: a clear message, nothing stored
    r = c.post(reverse("service:request_new"), {"fault_level": "nope", "description": ""})
    assert r.status_code == 200
    assert ServiceRequest.objects.count() == 1


@pytest.mark.req("SVC-1")
def test_api_create_list_read_and_transitions(
    world: Any, cs_user: Any, engineer: Any, qualified: Any, client_for: Any
) -> None:
    c = client_for(cs_user)
    r = c.post(
        "/api/v1/service-requests",
        {"device": world.a_units[0].udi_hri, "fault_level": "down", "zone": "city"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["unit_id"] == world.a_units[0].pk
    assert body["under_warranty"] is True
    assert {c["code"] for c in body["clocks"]} >= {"response", "arrival", "fix"}
    pk = body["id"]
    assert c.get("/api/v1/service-requests").json()["count"] == 1
    assert c.get(f"/api/v1/service-requests/{pk}").json()["number"] == body["number"]
    r = c.post(
        f"/api/v1/service-requests/{pk}/transitions",
        {"action": "dispatch", "engineer_id": engineer.pk, "version": body["version"]},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "dispatched"
    assert len(r.json()["work_orders"]) == 1
    # stale version: 409, nothing changes
    r = c.post(
        f"/api/v1/service-requests/{pk}/transitions",
        {"action": "void", "reason": "x", "version": body["version"]},
        content_type="application/json",
    )
    assert r.status_code == 409
    # bad input: 4xx with a message, never a 500
    for payload in (
        {"device": "NOPE", "fault_level": "down"},
        {"fault_level": "exploded"},
        {"fault_level": "down", "unit_id": 10**30},
        {"fault_level": "down", "description": "a\u0000b"},
    ):
        r = c.post("/api/v1/service-requests", payload, content_type="application/json")
        assert 400 <= r.status_code < 500, (payload, r.status_code)


@pytest.mark.req("SVC-1")
@pytest.mark.req("PLAT-11")
def test_dealer_sees_only_own_customers(
    world: Any, cs_user: Any, make_user: Any, client_for: Any
) -> None:
    from medvigil.trace.models import Customer

    dealer_user = make_user("dealer1", "sales", department="sales")
    Customer.objects.filter(pk=world.hospital.pk).update(owner=dealer_user)
    mine = new_request(cs_user, world)
    other = new_request(cs_user, world, unit=world.b_units[0])  # at H2, not the dealer's
    c = client_for(dealer_user)
    assert c.get(mine.get_absolute_url()).status_code == 200
    assert c.get(other.get_absolute_url()).status_code in (403, 404)
    ids = [i["id"] for i in c.get("/api/v1/service-requests").json()["items"]]
    assert ids == [mine.pk]
