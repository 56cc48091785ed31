"""SVC-10: safety stock and reorder point from the installed base (trace's current
installations of the products a part fits), the failure rate and the lead time; the stock
keepers told once when a part falls to or below its reorder point; their "My work"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from medvigil.core.models import Notification
from medvigil.core.registry import work_for
from medvigil.parts import services
from medvigil.parts.models import MovementKind, ReorderLevel
from medvigil.trace.tests.conftest import product

from .conftest import install

pytestmark = [pytest.mark.django_db, pytest.mark.req("SVC-10")]


def test_installed_base_drives_the_figures(stock):
    """40 installed pumps × 0.365 a year = 0.04 a day; 30 days' lead time → 1.2; z(95 %) ×
    √1.2 = 1.80 → safety stock 2, reorder point ⌈1.2 + 1.80⌉ = 4 (by hand: docs/parts.md)."""
    s = stock
    install(s.pump, 40)
    other = product("P-2")
    install(other, 7)  # a product the part does not fit: not counted
    inputs, f = services.figures_for(s.part)
    assert inputs.installed_units == 40
    assert f.demand_per_day == Decimal("0.0400")
    assert f.lead_time_demand == Decimal("1.20")
    assert (f.safety_stock, f.reorder_point) == (2, 4)
    # fitting the second product too adds its installed base
    services.update_part(s.part, by=s.keeper, version=s.part.version, products=[s.pump, other])
    assert services.figures_for(s.part)[0].installed_units == 47


def test_a_returned_unit_leaves_the_installed_base(stock):
    s = stock
    [inst, _other] = install(s.pump, 2)
    from medvigil.trace.models import Installation

    Installation.objects.filter(pk=inst.pk).update(current=False)
    assert services.figures_for(s.part)[0].installed_units == 1


def test_falling_below_the_reorder_point_tells_the_stock_keepers_once(stock, make_user):
    s = stock
    install(s.pump, 40)  # reorder point 4
    other_keeper = make_user("keeper2", "logistics")
    s.receive(5)
    state = ReorderLevel.objects.get(part=s.part)
    assert (state.on_hand, state.reorder_point, state.below) == (5, 4, False)
    assert not Notification.objects.exists()
    s.receive(2, at=s.van)
    services.issue_for_work_order(s.part, s.van, 2, "WO-1", s.engineer)  # 7 → 5
    services.move(
        kind=MovementKind.ISSUE,
        part=s.part,
        quantity=2,
        by=s.keeper,
        from_location=s.warehouse,
        reference="WO-2",
    )  # 5 → 3: below the reorder point
    state.refresh_from_db()
    assert state.below and state.on_hand == 3 and state.below_since is not None
    assert state.suggested_quantity == state.order_up_to - 3
    notes = Notification.objects.order_by("user__username")
    assert [n.user.username for n in notes] == ["keeper", "keeper2"]
    assert "BAT-1" in notes[0].title and "reorder point" in notes[0].title
    assert notes[0].url == s.part.get_absolute_url()
    assert other_keeper.pk in {n.user_id for n in notes}
    # further issues while below: no second notice
    services.move(
        kind=MovementKind.ISSUE,
        part=s.part,
        quantity=1,
        by=s.keeper,
        from_location=s.warehouse,
        reference="WO-3",
    )
    assert Notification.objects.count() == 2
    # back above after a receipt, then below again: told again
    s.receive(10)
    state.refresh_from_db()
    assert not state.below and state.below_since is None
    services.move(
        kind=MovementKind.SCRAP,
        part=s.part,
        quantity=10,
        by=s.keeper,
        from_location=s.warehouse,
        reason="recall of the battery lot",
    )
    assert Notification.objects.count() == 4


def test_the_nightly_recompute_finds_a_part_the_installed_base_outgrew(stock):
    s = stock
    s.receive(3)
    assert not ReorderLevel.objects.get(part=s.part).below  # no installed base: nothing due
    install(s.pump, 100)  # 0.1 a day × 30 = 3 + z√3 = 2.85 → reorder point 6
    assert services.recompute_all() == 1
    state = ReorderLevel.objects.get(part=s.part)
    assert state.installed_units == 100 and state.reorder_point == 6 and state.below
    assert Notification.objects.filter(user=s.keeper).count() == 1


def test_history_rate_counts_issues_of_the_last_12_months_less_returns(stock):
    s = stock
    part = services.update_part(s.part, by=s.keeper, version=s.part.version, rate_source="history")
    s.receive(50, at=s.van)
    long_ago = timezone.now() - dt.timedelta(days=400)
    with time_machine.travel(long_ago, tick=False):
        services.issue_for_work_order(s.part, s.van, 20, "WO-OLD", s.engineer)
    for i in range(5):
        services.issue_for_work_order(s.part, s.van, 2, f"WO-{i}", s.engineer)
    services.return_from_work_order(s.part, s.van, 1, "WO-0", s.engineer)
    wrong = services.issue_for_work_order(s.part, s.van, 3, "WO-X", s.engineer)
    services.reverse_movement(wrong, by=s.keeper, reason="wrong part scanned")
    inputs, f = services.figures_for(part)
    assert inputs.used_in_window == 10 - 1  # the old issue and the reversed one do not count
    assert f.demand_per_day == Decimal(9 / 365).quantize(Decimal("0.0001"))


def test_my_work_of_the_stock_keeper_lists_parts_to_reorder(stock):
    s = stock
    services.update_part(s.part, by=s.keeper, version=s.part.version, min_stock=4)
    s.receive(2)
    items = [w for w in work_for(s.keeper) if "BAT-1" in w.title]
    assert len(items) == 1
    assert items[0].url == s.part.get_absolute_url()
    assert "2 on hand" in items[0].detail and "reorder point 4" in items[0].detail
    assert not [w for w in work_for(s.engineer) if "BAT-1" in w.title]


def test_an_inactive_part_is_not_reordered(stock):
    s = stock
    services.update_part(s.part, by=s.keeper, version=s.part.version, min_stock=4)
    s.part.refresh_from_db()
    assert ReorderLevel.objects.get(part=s.part).below
    services.update_part(s.part, by=s.keeper, version=s.part.version, active=False)
    assert not ReorderLevel.objects.get(part=s.part).below
