"""SVC-10: the reorder arithmetic of rules.reorder_figures, with numbers (docs/parts.md has
the same worked example). Sources: seed 004 §一.5; Chopra & Meindl, 'Safety Inventory'
(ROP = D_L + z·σ_L); Sherbrooke ch. 2 (Poisson demand, σ² = mean)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medvigil.parts.rules import ReorderInput, reorder_figures, z_value

pytestmark = pytest.mark.req("SVC-10")


def inputs(**over):
    base = {
        "installed_units": 400,
        "failure_rate": Decimal("0.365"),
        "used_in_window": 0,
        "rate_source": "setting",
        "lead_time_days": 30,
        "safety_method": "service_level",
        "service_level": Decimal("95"),
        "cover_days": 14,
        "min_stock": 0,
        "order_cycle_days": 90,
        "order_multiple": 1,
        "on_hand": 10,
    }
    base.update(over)
    return ReorderInput(**base)


def test_the_worked_example_service_level_method():
    """400 installed units × 0.365 a year ÷ 365 = 0.4 parts a day; lead time 30 days →
    lead-time demand 12; σ_L = √12 = 3.4641; z(95 %) = 1.6449 → safety stock 5.698 → 6;
    reorder point ⌈12 + 5.698⌉ = 18; order-up-to ⌈17.698 + 0.4 × 90⌉ = 54; 10 on hand →
    order 44."""
    f = reorder_figures(inputs())
    assert f.demand_per_day == Decimal("0.4000")
    assert f.lead_time_demand == Decimal("12.00")
    assert f.z == Decimal("1.6449")
    assert f.safety_stock == 6
    assert f.reorder_point == 18
    assert f.order_up_to == 54
    assert f.suggested_quantity == 44
    assert f.below is True
    assert f.rate_used == Decimal("0.3650")


def test_order_multiple_rounds_the_order_up():
    assert reorder_figures(inputs(order_multiple=5)).suggested_quantity == 45
    assert reorder_figures(inputs(order_multiple=4)).suggested_quantity == 44


def test_at_the_reorder_point_is_reordered_above_it_is_not():
    at = reorder_figures(inputs(on_hand=18))
    assert at.below and at.suggested_quantity == 54 - 18
    above = reorder_figures(inputs(on_hand=19))
    assert not above.below and above.suggested_quantity == 0


def test_cover_days_method():
    """0.4 a day × 14 cover days = 5.6 → safety stock 6; reorder point ⌈12 + 5.6⌉ = 18."""
    f = reorder_figures(inputs(safety_method="cover_days"))
    assert f.z == 0
    assert f.safety_stock == 6
    assert f.reorder_point == 18


def test_higher_service_level_means_more_safety_stock():
    """z(99 %) = 2.3263 → 2.3263 × 3.4641 = 8.06 → 9; reorder point ⌈20.06⌉ = 21."""
    assert round(z_value(Decimal("99")), 4) == 2.3263
    f = reorder_figures(inputs(service_level=Decimal("99")))
    assert (f.safety_stock, f.reorder_point) == (9, 21)


def test_history_rate_from_parts_used_in_12_months():
    """73 parts used in a year = 0.2 a day whatever the setting; per installed unit
    73 / 400 = 0.1825 a year."""
    f = reorder_figures(inputs(rate_source="history", used_in_window=73))
    assert f.demand_per_day == Decimal("0.2000")
    assert f.rate_used == Decimal("0.1825")
    assert f.lead_time_demand == Decimal("6.00")
    # z × √6 = 1.6449 × 2.4495 = 4.03 → safety 5, reorder point ⌈10.03⌉ = 11
    assert (f.safety_stock, f.reorder_point) == (5, 11)


def test_higher_takes_the_larger_demand():
    low_history = reorder_figures(inputs(rate_source="higher", used_in_window=73))
    assert low_history.demand_per_day == Decimal("0.4000")
    high_history = reorder_figures(inputs(rate_source="higher", used_in_window=365))
    assert high_history.demand_per_day == Decimal("1.0000")


def test_minimum_safety_stock_keeps_a_slow_critical_part_on_the_shelf():
    """No installed base, no history: the formula says 0; the minimum keeps 2."""
    none = reorder_figures(inputs(installed_units=0, on_hand=0))
    assert (none.safety_stock, none.reorder_point, none.suggested_quantity) == (0, 0, 0)
    assert none.below is False  # nothing to order is not a reorder
    kept = reorder_figures(inputs(installed_units=0, on_hand=1, min_stock=2))
    assert (kept.safety_stock, kept.reorder_point, kept.order_up_to) == (2, 2, 2)
    assert kept.below and kept.suggested_quantity == 1


@given(
    installed=st.integers(0, 200_000),
    rate=st.decimals(0, 100, places=4),
    lead=st.integers(0, 730),
    level=st.decimals(50, "99.99", places=2),
    on_hand=st.integers(0, 10_000_000),
    multiple=st.integers(1, 1000),
)
def test_figures_are_consistent_for_any_input(installed, rate, lead, level, on_hand, multiple):
    f = reorder_figures(
        inputs(
            installed_units=installed,
            failure_rate=rate,
            lead_time_days=lead,
            service_level=level,
            on_hand=on_hand,
            order_multiple=multiple,
        )
    )
    assert 0 <= f.safety_stock <= f.reorder_point <= f.order_up_to
    assert f.reorder_point >= f.lead_time_demand
    assert f.suggested_quantity % multiple == 0
    if f.below:
        assert on_hand <= f.reorder_point and on_hand + f.suggested_quantity >= f.order_up_to
    else:
        assert f.suggested_quantity == 0
