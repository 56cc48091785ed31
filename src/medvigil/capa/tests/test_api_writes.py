"""The CAPA-2 and CAPA-3 steps the pages offer, through the API too: segregation before a
disposition, and the supplier corrective-action request with its response and verification
(issue #12). Same services as the pages; bad input is a 422 with nothing changed, a stale
version a 409, another role a 403."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from medvigil.complaints.tests.flow_builders import People
from medvigil.core.audit.models import AuditEntry
from medvigil.trace.tests.conftest import World

from ..models import Nonconformity, Scar
from ..services import suppliers as sup_svc
from .builders import fresh
from .test_nonconformity import incoming

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
JSON = "application/json"


@pytest.mark.req("CAPA-2")
def test_the_api_segregates_then_decides_the_disposition(
    people: People, world: World, client_for: Any
) -> None:
    nc = incoming(people.quality, world)
    client = client_for(people.quality)
    base = f"/api/v1/capa/nonconformities/{nc.pk}"
    r = client.post(
        f"{base}/disposition",
        {"version": nc.version, "disposition": "scrap", "reason": "beyond repair"},
        content_type=JSON,
    )
    assert r.status_code == 422  # segregate first
    r = client.post(f"{base}/segregation", {"version": nc.version, "location": ""}, JSON)
    assert r.status_code == 422 and fresh(nc).segregated is False
    r = client.post(f"{base}/segregation", {"version": nc.version - 1, "location": "Cage"}, JSON)
    assert r.status_code == 409
    r = client_for(people.cs).post(
        f"{base}/segregation", {"version": nc.version, "location": "Cage"}, JSON
    )
    assert r.status_code == 403
    before = AuditEntry.objects.count()
    r = client.post(f"{base}/segregation", {"version": nc.version, "location": "Cage 3"}, JSON)
    assert r.status_code == 200, r.content
    assert r.json()["segregated"] and r.json()["segregation_location"] == "Cage 3"
    assert AuditEntry.objects.count() == before + 1
    r = client.post(
        f"{base}/disposition",
        {"version": r.json()["version"], "disposition": "scrap", "reason": "beyond repair"},
        content_type=JSON,
    )
    assert r.status_code == 200, r.content
    assert fresh(nc).disposition == Nonconformity.Disposition.SCRAP


@pytest.mark.req("CAPA-3")
def test_the_api_requests_a_supplier_action_takes_its_response_and_verifies_it(
    people: People, world: World, client_for: Any
) -> None:
    supplier = sup_svc.create_supplier(by=people.quality, code="S-9", name="Valve Co")
    nc = incoming(people.quality, world, supplier=supplier)
    client = client_for(people.quality)
    due = str(timezone.localdate() + dt.timedelta(days=10))
    past = str(timezone.localdate() - dt.timedelta(days=1))
    # bad input: no supplier, a past due date, a nonconformity that does not exist
    for payload in (
        {"title": "x", "problem": "y", "due_date": due},
        {"nonconformity_id": nc.pk, "due_date": past},
        {"nonconformity_id": 999999, "due_date": due},
    ):
        r = client.post("/api/v1/capa/scars", payload, JSON)
        assert r.status_code == 422, (payload, r.content)
    assert not Scar.objects.exists()
    r = client_for(people.cs).post(
        "/api/v1/capa/scars", {"nonconformity_id": nc.pk, "due_date": due}, JSON
    )
    assert r.status_code == 403
    # from the nonconformity: its supplier, its number in the problem
    r = client.post("/api/v1/capa/scars", {"nonconformity_id": nc.pk, "due_date": due}, JSON)
    assert r.status_code == 201, r.content
    scar = r.json()
    assert scar["supplier_id"] == supplier.pk and scar["nonconformity_id"] == nc.pk
    assert nc.number in scar["problem"] and scar["status"] == "requested"
    url = f"/api/v1/capa/scars/{scar['id']}"
    r = client.post(
        f"{url}/verification",
        {"version": scar["version"], "effective": True, "verification": "ok"},
        JSON,
    )
    assert r.status_code == 422  # nothing to verify before the supplier answers
    r = client.post(f"{url}/response", {"version": scar["version"] + 5, "response": "x"}, JSON)
    assert r.status_code == 409
    r = client.post(
        f"{url}/response",
        {
            "version": scar["version"],
            "response": "Polishing step added.",
            "supplier_root_cause": "Worn fixture.",
        },
        JSON,
    )
    assert r.status_code == 200, r.content
    scar = r.json()
    assert scar["status"] == "responded" and scar["response"] == "Polishing step added."
    r = client.post(
        f"{url}/verification",
        {"version": scar["version"], "effective": False, "verification": "still scratched"},
        JSON,
    )
    assert r.status_code == 422 and "new_due_date" in r.content.decode()
    r = client.post(
        f"{url}/verification",
        {"version": scar["version"], "effective": True, "verification": "3 lots clean"},
        JSON,
    )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "closed" and r.json()["verified_on"]
    # a supplier's request made directly, naming the supplier
    r = client.post(
        "/api/v1/capa/scars",
        {
            "supplier_id": supplier.pk,
            "title": "Late CoC",
            "problem": "No certificate.",
            "due_date": due,
        },
        JSON,
    )
    assert r.status_code == 201 and r.json()["nonconformity_id"] is None
