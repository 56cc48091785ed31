"""Safety stock and reorder point of a spare part (SVC-10), with their sources.

Seed 004 §一.5 (构建高效的备件管理系统): "根据产品销量、故障率、备件生命周期等因素，合理设定备件的
安全库存量和补货周期" — set each part's safety stock and replenishment from the installed
base, the failure rate and the part's life. DOMAIN.md SVC-10: "safety stock and reorder point
from the installed base, failure rates and lead times".

The arithmetic (one function, :func:`reorder_figures`; docs/parts.md has a worked example):

    installed   = current installations of the products the part fits (trace, TRC-5)
    demand/day  d = installed × annual failure rate / 365             (rate source "setting")
                d = parts used in the last 12 months / 365              (rate source "history")
                d = the larger of the two                               (rate source "higher")
    lead-time demand  D_L = d × L              (L = the part's lead time in days)
    safety stock      ss  = z × σ_L, σ_L = √(d × L)                     (method "service level")
                      ss  = d × cover days                              (method "cover days")
                      ss  = max(ss, minimum safety stock)
    reorder point     ROP = ⌈D_L + ss⌉
    order-up-to       S   = ⌈D_L + ss + d × order cycle days⌉
    suggested order   Q   = S − on hand, rounded up to the order multiple, when on hand ≤ ROP

Sources:
- ROP = D_L + ss and ss = F⁻¹(CSL) × σ_L with σ_L = √L × σ_D: Chopra & Meindl, *Supply
  Chain Management: Strategy, Planning, and Operation*, the chapter "Managing Uncertainty in
  a Supply Chain: Safety Inventory" (continuous review, cycle service level CSL, z = the
  standard normal quantile of CSL, computed here with ``statistics.NormalDist``).
- Demand for a spare part is a count of independent failures over the installed base, a
  Poisson process, so the variance of the lead-time demand equals its mean (σ_L² = d × L):
  Sherbrooke, *Optimal Inventory Modeling of Systems: Multi-Echelon Techniques* (2nd ed.,
  2004), ch. 2. So z × σ_D × √L with σ_D = √d.
- The cover-days rule (safety stock = days of demand) is the simple rule for parts whose
  demand history is too thin for a distribution; the minimum safety stock keeps critical,
  slow parts (a main board) on the shelf even when the formula says zero.

Company settings (settings.py / environment): PARTS_HISTORY_DAYS (the window of "used in
the last 12 months", default 365).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from statistics import NormalDist

from django.conf import settings

DAYS_PER_YEAR = 365

CITATION = (
    "Seed 004 §一.5 (备件安全库存量和补货周期 from 销量、故障率、备件生命周期); "
    "Chopra & Meindl, Supply Chain Management, 'Safety Inventory' (ROP = D_L + z·σ_L); "
    "Sherbrooke, Optimal Inventory Modeling of Systems, ch. 2 (Poisson demand: σ² = mean)"
)


def history_days() -> int:
    """The window of the failure rate computed from issues ("the last 12 months")."""
    return max(1, int(getattr(settings, "PARTS_HISTORY_DAYS", DAYS_PER_YEAR)))


@dataclass(frozen=True)
class ReorderInput:
    installed_units: int
    failure_rate: Decimal  # parts per installed unit per year (the part's setting)
    used_in_window: int  # parts used (issued less returned) in the history window
    rate_source: str  # "setting", "history", "higher"
    lead_time_days: int
    safety_method: str  # "service_level", "cover_days"
    service_level: Decimal  # per cent, 50..99.99
    cover_days: int
    min_stock: int
    order_cycle_days: int
    order_multiple: int
    on_hand: int
    window_days: int = DAYS_PER_YEAR


@dataclass(frozen=True)
class ReorderFigures:
    rate_used: Decimal  # parts per installed unit per year
    demand_per_day: Decimal
    lead_time_demand: Decimal
    z: Decimal  # 0 for the cover-days method
    safety_stock: int
    reorder_point: int
    order_up_to: int
    suggested_quantity: int
    below: bool


def _q(value: float, places: str) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(places), ROUND_HALF_UP)


def z_value(service_level_percent: Decimal) -> float:
    """The standard normal quantile of the service level (95 % → 1.6449)."""
    p = min(max(float(service_level_percent) / 100.0, 0.5), 0.9999)
    return NormalDist().inv_cdf(p)


def _ceil(value: float) -> int:
    # 17.0000000001 from float noise is 17, not 18
    return max(0, math.ceil(round(value, 9)))


def reorder_figures(i: ReorderInput) -> ReorderFigures:
    """The figures of one part (see the module docstring for the formula and its sources)."""
    window = max(1, i.window_days)
    demand_setting = i.installed_units * float(i.failure_rate) / DAYS_PER_YEAR
    demand_history = i.used_in_window / window
    if i.rate_source == "history":
        d = demand_history
    elif i.rate_source == "higher":
        d = max(demand_setting, demand_history)
    else:
        d = demand_setting
    rate = d * DAYS_PER_YEAR / i.installed_units if i.installed_units else float(i.failure_rate)
    lead = max(0, i.lead_time_days)
    lead_demand = d * lead
    if i.safety_method == "cover_days":
        z = 0.0
        ss = d * i.cover_days
    else:
        z = z_value(i.service_level)
        ss = z * math.sqrt(lead_demand)
    ss = max(ss, float(i.min_stock))
    rop = _ceil(lead_demand + ss)
    up_to = max(rop, _ceil(lead_demand + ss + d * i.order_cycle_days))
    suggested = 0
    if i.on_hand <= rop:
        suggested = max(0, up_to - i.on_hand)
        multiple = max(1, i.order_multiple)
        suggested = -(-suggested // multiple) * multiple
    return ReorderFigures(
        rate_used=_q(rate, "0.0001"),
        demand_per_day=_q(d, "0.0001"),
        lead_time_demand=_q(lead_demand, "0.01"),
        z=_q(z, "0.0001"),
        safety_stock=_ceil(ss),
        reorder_point=rop,
        order_up_to=up_to,
        suggested_quantity=suggested,
        below=i.on_hand <= rop and suggested > 0,
    )
