"""SVC-10: stock movements through one service. Every kind moves the levels as it should;
stock never goes negative; every movement is numbered, audited once and immutable; a
correction is a reversal; the engineer's van rule; a resent request is harmless."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from medvigil.core.audit.models import RegulatedDeleteError
from medvigil.core.models import AuditEntry, ConflictError
from medvigil.parts import services
from medvigil.parts.models import MovementKind, StockLevel, StockMovement

pytestmark = [pytest.mark.django_db, pytest.mark.req("SVC-10")]


def level(stock, location, part=None):
    return services.on_hand(part or stock.part, location)


def test_every_kind_moves_the_levels(stock):
    s = stock
    s.receive(10)
    services.move(
        kind=MovementKind.TRANSFER,
        part=s.part,
        quantity=4,
        by=s.keeper,
        from_location=s.warehouse,
        to_location=s.van,
    )
    services.issue_for_work_order(s.part, s.van, 2, "WO-1", s.engineer)
    services.return_from_work_order(s.part, s.van, 1, "WO-1", s.engineer)
    services.move(
        kind=MovementKind.SCRAP,
        part=s.part,
        quantity=1,
        by=s.keeper,
        from_location=s.warehouse,
        reason="cracked case",
    )
    services.move(
        kind=MovementKind.ADJUSTMENT,
        part=s.part,
        quantity=2,
        by=s.keeper,
        to_location=s.warehouse,
        reason="found in returns shelf",
    )
    assert (level(s, s.warehouse), level(s, s.van)) == (10 - 4 - 1 + 2, 4 - 2 + 1)
    assert services.on_hand(s.part) == 10
    assert services.verify_levels() == []
    assert StockMovement.objects.count() == 6
    numbers = list(StockMovement.objects.order_by("id").values_list("number", flat=True))
    assert all(n.startswith("SM-") for n in numbers) and len(set(numbers)) == 6


def test_stock_never_goes_negative_and_a_refusal_changes_nothing(stock):
    s = stock
    s.receive(2)
    before = (AuditEntry.objects.count(), StockMovement.objects.count())
    with pytest.raises(ValidationError) as exc:
        services.move(
            kind=MovementKind.TRANSFER,
            part=s.part,
            quantity=3,
            by=s.keeper,
            from_location=s.warehouse,
            to_location=s.van,
        )
    assert "Only 2 of BAT-1" in str(exc.value) and "below zero" in str(exc.value)
    with pytest.raises(ValidationError):
        services.issue_for_work_order(s.part, s.van, 1, "WO-9", s.engineer)  # van is empty
    assert (AuditEntry.objects.count(), StockMovement.objects.count()) == before
    assert level(s, s.warehouse) == 2 and level(s, s.van) == 0
    # the last two go, then nothing more
    services.move(
        kind=MovementKind.SCRAP,
        part=s.part,
        quantity=2,
        by=s.keeper,
        from_location=s.warehouse,
        reason="water damage",
    )
    with pytest.raises(ValidationError):
        services.move(
            kind=MovementKind.SCRAP,
            part=s.part,
            quantity=1,
            by=s.keeper,
            from_location=s.warehouse,
            reason="again",
        )
    assert StockLevel.objects.filter(quantity__lt=0).count() == 0


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"kind": "receipt", "from_location": "wh", "to_location": "van"}, "from_location"),
        ({"kind": "receipt"}, "to_location"),
        ({"kind": "transfer", "from_location": "wh"}, "to_location"),
        ({"kind": "transfer", "from_location": "wh", "to_location": "wh"}, "to_location"),
        ({"kind": "issue", "from_location": "wh"}, "reference"),
        ({"kind": "scrap", "from_location": "wh"}, "reason"),
        ({"kind": "adjustment", "to_location": "wh"}, "reason"),
        ({"kind": "adjustment", "from_location": "wh", "to_location": "van", "reason": "x"}, None),
        ({"kind": "reversal", "to_location": "wh", "reason": "x"}, "kind"),
        ({"kind": "teleport", "to_location": "wh"}, "kind"),
    ],
)
def test_each_kind_has_its_shape_and_needs(stock, kwargs, field):
    s = stock
    s.receive(5)
    places = {"wh": s.warehouse, "van": s.van}
    args = {k: places[v] if k.endswith("location") else v for k, v in kwargs.items()}
    with pytest.raises(ValidationError) as exc:
        services.move(part=s.part, quantity=1, by=s.keeper, **args)
    if field:
        assert field in exc.value.message_dict, exc.value
    assert StockMovement.objects.count() == 1


@pytest.mark.parametrize("bad", [0, -1, 1_000_001, "x", None, True, "1e9", 2.5, "\x00"])
def test_a_bad_quantity_is_a_clear_message(stock, bad):
    with pytest.raises(ValidationError) as exc:
        stock.receive(bad)
    assert "whole number of parts" in str(exc.value)


def test_one_audit_entry_per_movement_and_the_ledger_is_immutable(stock):
    s = stock
    before = AuditEntry.objects.count()
    m = s.receive(5)
    ct = ContentType.objects.get_for_model(StockMovement)
    assert AuditEntry.objects.filter(content_type=ct, object_id=str(m.pk)).count() == 1
    assert AuditEntry.objects.count() == before + 1  # levels and reorder figures are derived
    m.quantity = 50
    with pytest.raises(ConflictError):
        m.save()
    with pytest.raises(ConflictError):
        StockMovement.objects.filter(pk=m.pk).update(quantity=50)
    with pytest.raises(RegulatedDeleteError):
        m.delete()
    assert StockMovement.objects.get(pk=m.pk).quantity == 5


def test_a_correction_is_a_reversal_once(stock):
    s = stock
    wrong = s.receive(7)
    reversal = services.reverse_movement(wrong, by=s.keeper, reason="typed 7 for 1")
    assert reversal.kind == MovementKind.REVERSAL and reversal.reverses_id == wrong.pk
    assert (reversal.from_location, reversal.to_location) == (s.warehouse, None)
    assert level(s, s.warehouse) == 0
    with pytest.raises(ValidationError, match="reversed already"):
        services.reverse_movement(wrong, by=s.keeper, reason="again")
    with pytest.raises(ValidationError, match="cannot be reversed"):
        services.reverse_movement(reversal, by=s.keeper, reason="undo the undo")
    with pytest.raises(ValidationError, match="Give the reason"):
        services.reverse_movement(s.receive(1), by=s.keeper, reason=" ")


def test_a_reversal_cannot_take_parts_that_are_gone(stock):
    s = stock
    receipt = s.receive(3)
    services.move(
        kind=MovementKind.TRANSFER,
        part=s.part,
        quantity=2,
        by=s.keeper,
        from_location=s.warehouse,
        to_location=s.van,
    )
    with pytest.raises(ValidationError, match="Only 1 of"):
        services.reverse_movement(receipt, by=s.keeper, reason="wrong delivery")
    assert level(s, s.warehouse) == 1


def test_an_engineer_issues_and_returns_at_their_own_van_only(stock):
    s = stock
    s.receive(4, at=s.van)
    s.receive(4, at=s.van2)
    services.issue_for_work_order(s.part, s.van, 1, "WO-7", s.engineer)
    with pytest.raises(ValidationError, match="only at your own van"):
        services.issue_for_work_order(s.part, s.van2, 1, "WO-7", s.engineer)
    with pytest.raises(ValidationError, match="only at your own van"):
        services.issue_for_work_order(s.part, s.warehouse, 1, "WO-7", s.engineer)
    with pytest.raises(PermissionDenied):  # a transfer is the stock keeper's
        services.move(
            kind=MovementKind.TRANSFER,
            part=s.part,
            quantity=1,
            by=s.engineer,
            from_location=s.van,
            to_location=s.van2,
        )
    with pytest.raises(PermissionDenied):
        services.reverse_movement(
            StockMovement.objects.filter(kind="issue").get(), by=s.engineer, reason="x"
        )
    assert (level(s, s.van), level(s, s.van2)) == (3, 4)


def test_issue_for_a_work_order_keeps_the_record_it_was_for(stock, keeper):
    """The service app's work orders link by content type and id (any saved record: a
    customer stands in for the work order here)."""
    from medvigil.trace.tests.conftest import hospital

    s = stock
    s.receive(2, at=s.van)
    record = hospital("H-WO")
    m = services.issue_for_work_order(s.part, s.van, 1, record, s.engineer)
    assert m.reference_type == ContentType.objects.get_for_model(record)
    assert m.reference_id == str(record.pk)
    assert m.reference_label == str(record)
    assert m.created_by == s.engineer
    assert (
        StockMovement.objects.filter(
            reference_type=m.reference_type, reference_id=str(record.pk)
        ).count()
        == 1
    )


def test_a_resent_request_gives_the_first_movement_back(stock):
    """A phone that lost its connection resends the issue: one movement, one part."""
    s = stock
    s.receive(3, at=s.van)
    first = services.issue_for_work_order(s.part, s.van, 1, "WO-3", s.engineer, request_key="k1")
    again = services.issue_for_work_order(s.part, s.van, 1, "WO-3", s.engineer, request_key="k1")
    assert again.pk == first.pk and level(s, s.van) == 2
    with pytest.raises(ValidationError, match="used for another movement"):
        services.issue_for_work_order(s.part, s.van, 2, "WO-3", s.engineer, request_key="k1")


def test_a_stock_count_adjusts_to_what_was_counted(stock):
    s = stock
    s.receive(5)
    down = services.adjust_to_count(s.part, s.warehouse, 3, by=s.keeper, reason="count")
    assert down.kind == MovementKind.ADJUSTMENT and down.from_location == s.warehouse
    up = services.adjust_to_count(s.part, s.warehouse, 6, by=s.keeper, reason="count")
    assert up.to_location == s.warehouse and up.quantity == 3
    assert services.adjust_to_count(s.part, s.warehouse, 6, by=s.keeper, reason="c") is None
    with pytest.raises(ValidationError):
        services.adjust_to_count(s.part, s.warehouse, -1, by=s.keeper, reason="count")
    assert level(s, s.warehouse) == 6


def test_inactive_location_and_part_take_no_stock_in(stock):
    s = stock
    s.receive(1)
    loc = services.create_location(by=s.keeper, code="WH-OLD", name="Old store")
    loc = services.update_location(loc, by=s.keeper, version=loc.version, active=False)
    with pytest.raises(ValidationError, match="inactive"):
        s.receive(1, at=loc)
    part = services.update_part(s.part, by=s.keeper, version=s.part.version, active=False)
    with pytest.raises(ValidationError, match="inactive"):
        s.receive(1, part=part)
    # a location with stock cannot be switched off
    with pytest.raises(ValidationError, match="still holds parts"):
        services.update_location(
            s.warehouse, by=s.keeper, version=s.warehouse.version, active=False
        )


def test_a_van_belongs_to_an_engineer(stock, make_user):
    s = stock
    with pytest.raises(ValidationError) as exc:
        services.create_location(by=s.keeper, code="VAN-X", name="x", kind="van")
    assert "engineer" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.create_location(
            by=s.keeper, code="WH-X", name="x", kind="warehouse", engineer=s.engineer
        )
    assert "engineer" in exc.value.message_dict
    clerk = make_user("clerk", "finance")
    with pytest.raises(ValidationError, match="may not use van stock"):
        services.create_location(by=s.keeper, code="VAN-Y", name="y", kind="van", engineer=clerk)


def test_only_stock_keepers_change_the_catalogue_and_locations(stock):
    s = stock
    with pytest.raises(PermissionDenied):
        services.create_part(by=s.engineer, code="X-1", name="x")
    with pytest.raises(PermissionDenied):
        services.create_location(by=s.engineer, code="WH-9", name="x")
    with pytest.raises(PermissionDenied):
        services.move(
            kind=MovementKind.RECEIPT,
            part=s.part,
            quantity=1,
            by=s.engineer,
            to_location=s.van,
            reference="PO",
        )
