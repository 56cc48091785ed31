"""SVC-10 / SVC-4: parts used on a work order leave stock through the parts app
(`issue_for_work_order`) — from the engineer's van or a chosen location, refused with a clear
message and nothing changed when the stock is short, resent requests harmless, audited; the
phone page picks them from the catalogue."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.urls import reverse

from medvigil.core.audit.models import AuditEntry
from medvigil.parts.models import StockMovement
from medvigil.parts.services import on_hand, verify_levels
from medvigil.service.models import WorkOrder
from medvigil.service.services import return_part, use_part

from .test_workorders import on_site

pytestmark = pytest.mark.django_db


def _movements(wo: WorkOrder) -> Any:
    ct = ContentType.objects.get_for_model(WorkOrder)
    return StockMovement.objects.filter(reference_type=ct, reference_id=str(wo.pk))


@pytest.mark.req("SVC-10")
@pytest.mark.req("SVC-4")
def test_parts_used_leave_the_engineers_van(
    world: Any, cs_user: Any, manager: Any, engineer: Any, qualified: Any, spares: Any
) -> None:
    wo = on_site(world, cs_user, manager, engineer)
    wo = use_part(wo, by=engineer, version=wo.version, part=spares.part, quantity=2)
    assert on_hand(spares.part, spares.van) == 1 and on_hand(spares.part, spares.store) == 5
    (line,) = wo.parts_used
    assert line["code"] == "PS-01" and line["quantity"] == "2" and line["location"] == spares.van.pk
    (m,) = _movements(wo)
    assert m.kind == "issue" and m.quantity == 2 and m.reference_label == wo.number
    assert m.created_by == engineer and line["movement"] == m.number
    # audited: the movement (a regulated record) and the work order's line
    assert (
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(WorkOrder), object_id=str(wo.pk)
        )
        .filter(changes__has_key="parts_used")
        .exists()
    )
    assert AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(StockMovement), object_id=str(m.pk)
    ).exists()
    # short stock: a clear message, nothing changed (neither stock nor the work order)
    version = wo.version
    with pytest.raises(ValidationError) as exc:
        use_part(wo, by=engineer, version=version, part=spares.part, quantity=2)
    assert "Only 1 of" in " ".join(exc.value.messages)
    wo.refresh_from_db()
    assert wo.version == version and len(wo.parts_used) == 1
    assert on_hand(spares.part, spares.van) == 1 and _movements(wo).count() == 1
    # an engineer may not take from the central store (the stock keeper's)
    with pytest.raises(ValidationError) as exc:
        use_part(
            wo, by=engineer, version=version, part=spares.part, quantity=1, location=spares.store
        )
    assert on_hand(spares.part, spares.store) == 5
    # bad input
    for bad in ({"part": 999999}, {"part": "x"}, {"quantity": 0}, {"quantity": "2.5"}):
        args = {"part": spares.part, "quantity": 1, **bad}
        with pytest.raises(ValidationError):
            use_part(wo, by=engineer, version=version, **args)
    assert on_hand(spares.part, spares.van) == 1 and verify_levels() == []
    # removing the line takes the parts back to the van, once
    wo = return_part(wo, by=engineer, version=version, movement_id=line["movement_id"])
    assert wo.parts_used == [] and on_hand(spares.part, spares.van) == 3
    assert sorted(_movements(wo).values_list("kind", flat=True)) == ["issue", "return"]
    again = return_part(wo, by=engineer, version=version, movement_id=line["movement_id"])
    assert again.parts_used == [] and on_hand(spares.part, spares.van) == 3
    with pytest.raises(ValidationError):
        return_part(wo, by=engineer, version=wo.version, movement_id=12345)


@pytest.mark.req("SVC-10")
def test_a_resent_request_issues_once_and_the_stock_keeper_chooses_the_store(
    world: Any, cs_user: Any, manager: Any, engineer: Any, qualified: Any, spares: Any
) -> None:
    wo = on_site(world, cs_user, manager, engineer)
    v = wo.version
    first = use_part(wo, by=engineer, version=v, part=spares.part, quantity=1, request_key="k1")
    # the phone lost the answer and sends the same request (with the old version) again
    again = use_part(wo, by=engineer, version=v, part=spares.part, quantity=1, request_key="k1")
    assert again.parts_used == first.parts_used and len(first.parts_used) == 1
    assert on_hand(spares.part, spares.van) == 2 and _movements(wo).count() == 1
    # the stock keeper (a dispatcher too here) takes from the central store for the engineer
    spares.keeper.roles.add(*manager.roles.all())
    from medvigil.accounts.models import User

    keeper = User.objects.get(pk=spares.keeper.pk)
    wo = use_part(
        first,
        by=keeper,
        version=first.version,
        part=spares.part,
        quantity=4,
        location=spares.store.pk,
    )
    assert on_hand(spares.part, spares.store) == 1
    assert [p["location"] for p in wo.parts_used] == [spares.van.pk, spares.store.pk]
    # signed off: no more parts
    wo.status = "signed"
    wo.save()
    with pytest.raises(ValidationError):
        use_part(wo, by=engineer, version=wo.version, part=spares.part, quantity=1)


@pytest.mark.req("SVC-10")
@pytest.mark.req("SVC-4")
def test_phone_page_picks_parts_from_the_catalogue(
    world: Any,
    cs_user: Any,
    manager: Any,
    engineer: Any,
    qualified: Any,
    spares: Any,
    client_for: Any,
) -> None:
    wo = on_site(world, cs_user, manager, engineer)
    c = client_for(engineer)
    html = c.get(wo.get_absolute_url()).content.decode()
    assert 'id="part-form"' in html and "★ PS-01" in html and "Van 1" in html
    assert "Central store" not in html  # not the engineer's to take from
    url = reverse("service:workorder_part_use", args=[wo.pk])
    r = c.post(url, {"version": wo.version, "part": spares.part.pk, "quantity": "5"}, follow=True)
    assert "Only 3 of" in r.content.decode()
    wo.refresh_from_db()
    assert wo.parts_used == [] and on_hand(spares.part, spares.van) == 3
    r = c.post(
        url,
        {
            "version": wo.version,
            "part": spares.part.pk,
            "quantity": "1",
            "location": spares.van.pk,
            "request_key": f"wo-{wo.pk}-abc",
        },
    )
    assert r.status_code == 302
    wo.refresh_from_db()
    assert len(wo.parts_used) == 1 and on_hand(spares.part, spares.van) == 2
    html = c.get(wo.get_absolute_url()).content.decode()
    assert wo.parts_used[0]["movement"] in html
    r = c.post(
        reverse("service:workorder_part_return", args=[wo.pk]),
        {"version": wo.version, "movement_id": wo.parts_used[0]["movement_id"]},
    )
    wo.refresh_from_db()
    assert r.status_code == 302 and wo.parts_used == [] and on_hand(spares.part, spares.van) == 3
    r = c.post(url, {"version": wo.version, "part": "nonsense", "quantity": "x"}, follow=True)
    assert r.status_code == 200 and "Choose a part of the catalogue" in r.content.decode()
