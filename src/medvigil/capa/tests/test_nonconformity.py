"""CAPA-2: nonconforming product — found incoming, in process or after delivery; lots and
units affected (through traceability); segregation; disposition (return to supplier, rework,
concession, scrap); a concession approved with an e-signature by someone other than its
proposer (seed 000 6.3.3); after delivery linked to the complaint (and any field action)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from medvigil.complaints.tests.flow_builders import People, routed_complaint
from medvigil.conftest import PASSWORD
from medvigil.core.signatures.services import signatures_for
from medvigil.trace.tests.conftest import World

from ..models import Nonconformity
from ..services import nonconformity as svc
from ..services import suppliers as sup_svc
from .builders import fresh

pytestmark = [pytest.mark.django_db, pytest.mark.req("CAPA-2"), pytest.mark.usefixtures("english")]


def incoming(by: Any, world: World, **extra: Any) -> Nonconformity:
    values = {
        "title": "Scratched housings",
        "stage": "incoming",
        "description": "Scratches on the housing at incoming inspection.",
        "quantity": 4,
        "product": world.pump,
        "lots": [world.lot_a],
        "units": world.a_units[:2],
        **extra,
    }
    return svc.create_nonconformity(by=by, **values)


def test_lots_and_units_affected_are_recorded_and_checked(people: People, world: World) -> None:
    nc = incoming(people.quality, world)
    assert nc.number.startswith("NC-")
    assert list(nc.lots.all()) == [world.lot_a] and nc.units.count() == 2
    with pytest.raises(ValidationError) as exc:
        incoming(people.quality, world, quantity=1)  # fewer than the units named
    assert "quantity" in exc.value.message_dict
    from medvigil.trace.tests.conftest import lot, product

    other = lot(product("P-2"), "LX-9")
    with pytest.raises(ValidationError) as exc:
        incoming(people.quality, world, lots=[other])
    assert "lots" in exc.value.message_dict
    with pytest.raises(ValidationError):
        incoming(people.quality, world, quantity=10**12)
    assert Nonconformity.objects.count() == 1


def test_disposition_needs_segregation_first_and_return_needs_the_supplier(
    people: People, world: World
) -> None:
    nc = incoming(people.quality, world)
    with pytest.raises(ValidationError) as exc:
        svc.decide_disposition(
            nc, by=people.quality, version=nc.version, disposition="scrap", reason="x"
        )
    assert "Segregate" in exc.value.messages[0]
    nc = svc.record_segregation(nc, by=people.quality, version=nc.version, location="MRB A-3")
    with pytest.raises(ValidationError):
        svc.decide_disposition(
            nc, by=people.quality, version=nc.version, disposition="return_to_supplier", reason="x"
        )
    nc = svc.decide_disposition(
        nc, by=people.quality, version=nc.version, disposition="scrap", reason="Not repairable."
    )
    assert nc.status == Nonconformity.Status.DISPOSITIONED and nc.can_close()
    assert svc.close_nonconformity(nc, by=people.quality, version=nc.version).status == "closed"


def test_a_concession_is_approved_with_an_e_signature_by_another_person(
    people: People, world: World
) -> None:
    nc = incoming(people.quality, world)
    nc = svc.record_segregation(nc, by=people.quality, version=nc.version, location="MRB")
    nc = svc.decide_disposition(
        nc,
        by=people.quality,
        version=nc.version,
        disposition="concession",
        reason="Cosmetic only; function and safety unaffected.",
    )
    # the concession waits for approval and the nonconformity cannot close
    assert nc.status == Nonconformity.Status.AWAITING_APPROVAL and nc.needs_concession_approval
    assert not nc.can_close()
    with pytest.raises(ValidationError):
        svc.close_nonconformity(nc, by=people.quality, version=nc.version)
    # quality (the proposer's role) may not approve; a wrong password is refused
    with pytest.raises(PermissionDenied):
        svc.approve_concession(nc, by=people.quality, password=PASSWORD, comment="ok")
    with pytest.raises(ValidationError):
        svc.approve_concession(nc, by=people.mr, password="wrong", comment="ok")
    with pytest.raises(ValidationError):
        svc.approve_concession(nc, by=people.mr, password=PASSWORD, comment="")
    assert fresh(nc).concession_approved_at is None and not signatures_for(nc).exists()
    # the management representative approves with the conditions as the comment
    nc = svc.approve_concession(
        fresh(nc), by=people.mr, password=PASSWORD, comment="This lot only."
    )
    assert nc.status == Nonconformity.Status.DISPOSITIONED
    assert nc.concession_approved_by == people.mr
    sig = signatures_for(nc).get()
    assert (sig.signer, sig.meaning, sig.reason) == (people.mr, "approved", "This lot only.")
    assert nc.can_close()


def test_the_proposer_cannot_approve_their_own_concession(
    people: People, world: World, make_user: Any
) -> None:
    both = make_user("qm", "quality", "management_rep", department="quality")
    nc = incoming(both, world, stage="after_delivery", lots=[], units=[])
    nc = svc.decide_disposition(
        nc, by=both, version=nc.version, disposition="concession", reason="ok"
    )
    with pytest.raises(ValidationError) as exc:
        svc.approve_concession(nc, by=both, password=PASSWORD, comment="ok")
    assert "someone other" in exc.value.messages[0]


def test_a_rejected_concession_opens_the_disposition_again(people: People, world: World) -> None:
    nc = incoming(people.quality, world)
    nc = svc.record_segregation(nc, by=people.quality, version=nc.version, location="MRB")
    nc = svc.decide_disposition(
        nc, by=people.quality, version=nc.version, disposition="concession", reason="ok"
    )
    nc = svc.reject_concession(nc, by=people.gm, version=nc.version, reason="Rework instead.")
    assert nc.status == Nonconformity.Status.OPEN and nc.disposition == ""


def test_after_delivery_links_the_complaint_and_a_field_action(
    people: People, world: World
) -> None:
    fb = routed_complaint(people.quality)
    nc = incoming(people.quality, world, stage="after_delivery", complaint=fb, lots=[], units=[])
    assert nc.complaint == fb
    # no segregation needed for product at the customer
    nc = svc.decide_disposition(
        nc, by=people.quality, version=nc.version, disposition="rework", reason="Field fix."
    )
    nc = svc.link_related(nc, fb, by=people.quality)  # any record: a recall later
    assert nc.related_reference == fb.number and nc.related_type is not None
    other = incoming(people.quality, world)
    with pytest.raises(ValidationError):
        svc.link_related(other, fb, by=people.quality)


def test_the_approve_page_signs_the_concession(
    people: People, world: World, client_for: Any
) -> None:
    nc = incoming(people.quality, world)
    nc = svc.record_segregation(nc, by=people.quality, version=nc.version, location="MRB")
    nc = svc.decide_disposition(
        nc, by=people.quality, version=nc.version, disposition="concession", reason="ok"
    )
    client = client_for(people.mr)
    page = client.get(nc.get_absolute_url())
    assert page.status_code == 200 and "concession-approve" in page.content.decode()
    url = reverse("capa:nc_approve", args=[nc.pk])
    bad = client.post(url, {"password": PASSWORD, "version": nc.version, "meaning": "approved"})
    assert bad.status_code == 400  # the comment (conditions) is required
    ok = client.post(
        url,
        {"password": PASSWORD, "version": nc.version, "meaning": "approved", "comment": "OK"},
    )
    assert ok.status_code == 302 and fresh(nc).status == Nonconformity.Status.DISPOSITIONED
    assert client_for(people.quality).post(url, {}).status_code == 403


def test_the_create_page_finds_lots_and_serials_through_traceability(
    people: People, world: World, client_for: Any
) -> None:
    client = client_for(people.quality)
    data = {
        "title": "Cracked",
        "stage": "in_process",
        "product": world.pump.pk,
        "quantity": 2,
        "description": "Cracked casing.",
        "lot_numbers": "LA-001",
        "serials": "A1, A9",
    }
    r = client.post(reverse("capa:nc_create"), data)
    assert r.status_code == 200 and "Unknown serial: A9" in r.content.decode()
    assert not Nonconformity.objects.exists()
    data["serials"] = "A1, A2"
    r = client.post(reverse("capa:nc_create"), data)
    nc = Nonconformity.objects.get()
    assert r.status_code == 302 and nc.units.count() == 2


@pytest.mark.req("CAPA-3")
def test_a_supplier_caused_nonconformity_becomes_a_request(people: People, world: World) -> None:
    supplier = sup_svc.create_supplier(by=people.quality, code="S-1", name="Sensor Co")
    nc = incoming(people.quality, world, supplier=supplier)
    import datetime as dt

    from django.utils import timezone

    scar = sup_svc.scar_from_nonconformity(
        nc, by=people.quality, due_date=timezone.localdate() + dt.timedelta(days=10)
    )
    assert scar.supplier == supplier and scar.nonconformity == nc and nc.number in scar.problem


@pytest.mark.req("CAPA-1")
def test_a_nonconformity_opens_its_capa_once(people: People, world: World, client_for: Any) -> None:
    nc = incoming(people.quality, world)
    r = client_for(people.quality).post(reverse("capa:nc_capa", args=[nc.pk]))
    nc = fresh(nc)
    assert nc.capa is not None and r["Location"] == nc.capa.get_absolute_url()
    assert nc.capa.source_kind == "nonconformity" and nc.capa.source_record() == nc
    with pytest.raises(ValidationError):
        svc.open_capa(nc, by=people.quality)
    assert client_for(people.mr).post(reverse("capa:nc_capa", args=[nc.pk])).status_code == 403


@pytest.mark.req("CAPA-2", "TRC-7")
def test_the_unit_page_timeline_shows_a_nonconformity_naming_the_unit_or_its_lot(
    people: People, world: World, client_for: Any
) -> None:
    """The unit page skips the nonconformity query for a unit that no nonconformity names,
    by itself or by its lot (#13): a unit of a named lot still shows it."""
    nc = incoming(people.quality, world)  # lot A, units A1 and A2
    c = client_for(people.quality)
    for unit in world.a_units[0], world.a_units[2]:  # named; of the named lot only
        assert nc.number in c.get(unit.get_absolute_url()).content.decode(), unit.serial
    assert nc.number not in c.get(world.b_units[0].get_absolute_url()).content.decode()
