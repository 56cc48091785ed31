"""SVC-2: the service-level policy as data, each target a deadline rule of the registry
(core.calendar.rules) citing the company rulebook.

Seed 003 医疗器械售后服务管理程序 四 4 (the same programme as seed 001's 售后服务档案):
"市区采用3小时, 郊区采用7小时派工制, 即报修时间至抵达服务时间不得逾上班时间内8小时 (特殊情况除外)。
在12小时规定时间内不能修复解决问题的, 保证在24小时内免费提供备用机 (件)"; 四 5: "应立即向用户作出
实质性的响应".

The policy is a table zone × fault level → (response, arrival, fix) rule codes. Company
settings (all optional):

* ``SERVICE_CLOCK`` — "business" (default: working hours on the company calendar, "上班时间内")
  or "calendar" (elapsed hours).
* ``SERVICE_LEVEL_POLICY`` — cells to change, e.g. ``{"remote.minor": {"arrival": "SVC-ARRIVE-MAX",
  "fix": None}, "city.down": {"clock": "calendar"}}`` (a dict in settings, or JSON in the
  environment variable of that name).
* each rule's own setting (``SVC_ARRIVE_CITY_HOURS`` …) tightens its amount.

Whatever a cell says, arrival is never later than SVC-ARRIVE-MAX (the 8 working-hour cap).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from medvigil.core.calendar.clock import Clock, add_business_time, add_calendar
from medvigil.core.calendar.rules import DeadlineRule, Unit, get_rule, register_rule

from .models import FaultLevel, Zone

logger = logging.getLogger(__name__)

SEED_ARRIVAL = (
    "seed 003 医疗器械售后服务管理程序 四 4 (售后服务档案: seed 001 五 1): 市区采用3小时, "
    "郊区采用7小时派工制, 即报修时间至抵达服务时间不得逾上班时间内8小时"
)
SEED_LOANER = (
    "seed 003 医疗器械售后服务管理程序 四 4: 在12小时规定时间内不能修复解决问题的, "
    "保证在24小时内免费提供备用机(件)替代产品服务"
)

RULES = (
    DeadlineRule(
        "SVC-RESPONSE",
        "CN",
        60,
        Unit.MINUTES,
        _("receipt of the service request"),
        "seed 003 医疗器械售后服务管理程序 四 5: 应立即向用户作出实质性的响应; seed 001 "
        "售后服务流程 (1) 接到用户售后服务需求后, 售后服务人员应立即进行响应 "
        "(company default 60 min)",
        _("Service request: substantive response to the customer"),
        "SVC_RESPONSE_MINUTES",
    ),
    DeadlineRule(
        "SVC-ARRIVE-CITY",
        "CN",
        3,
        Unit.HOURS,
        _("receipt of the service request"),
        SEED_ARRIVAL + " (市区 3 小时)",
        _("Engineer on site (city)"),
        "SVC_ARRIVE_CITY_HOURS",
    ),
    DeadlineRule(
        "SVC-ARRIVE-SUBURB",
        "CN",
        7,
        Unit.HOURS,
        _("receipt of the service request"),
        SEED_ARRIVAL + " (郊区 7 小时)",
        _("Engineer on site (suburb)"),
        "SVC_ARRIVE_SUBURB_HOURS",
    ),
    DeadlineRule(
        "SVC-ARRIVE-MAX",
        "CN",
        8,
        Unit.HOURS,
        _("receipt of the service request"),
        SEED_ARRIVAL + " (不得逾上班时间内8小时)",
        _("Engineer on site (any zone, at the latest)"),
        "SVC_ARRIVE_MAX_HOURS",
    ),
    DeadlineRule(
        "SVC-FIX",
        "CN",
        12,
        Unit.HOURS,
        _("receipt of the service request"),
        SEED_LOANER + " (12 小时修复)",
        _("Fault fixed"),
        "SVC_FIX_HOURS",
    ),
    DeadlineRule(
        "SVC-LOANER",
        "CN",
        24,
        Unit.HOURS,
        _("receipt of the service request"),
        SEED_LOANER + " (24 小时内免费备用机)",
        _("Free loaner device provided (not fixed in time)"),
        "SVC_LOANER_HOURS",
    ),
)

TARGETS = ("response", "arrival", "fix")


@dataclass(frozen=True)
class Cell:
    """The targets of one zone × fault level: rule codes (None: no such target)."""

    response: str | None
    arrival: str | None
    fix: str | None
    clock: str = ""  # "" → SERVICE_CLOCK


_ARRIVAL_BY_ZONE: dict[str, str] = {
    Zone.CITY: "SVC-ARRIVE-CITY",
    Zone.SUBURB: "SVC-ARRIVE-SUBURB",
    Zone.REMOTE: "SVC-ARRIVE-MAX",
}


def default_policy() -> dict[tuple[str, str], Cell]:
    """Seed 003 四 4: any fault (不论在保修期内或保修期满后…出现故障的) gets the zone's arrival and
    the 12 h fix; a question is answered (response) without a visit."""
    policy: dict[tuple[str, str], Cell] = {}
    for zone in Zone.values:
        for level in FaultLevel.values:
            if level == FaultLevel.QUESTION:
                policy[(zone, level)] = Cell("SVC-RESPONSE", None, None)
            else:
                policy[(zone, level)] = Cell("SVC-RESPONSE", _ARRIVAL_BY_ZONE[zone], "SVC-FIX")
    return policy


def _overrides() -> dict[str, Any]:
    raw = getattr(settings, "SERVICE_LEVEL_POLICY", None)
    if raw is None:
        raw = os.environ.get("SERVICE_LEVEL_POLICY") or {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            logger.warning("SERVICE_LEVEL_POLICY is not JSON; the default policy is used")
            return {}
    return raw if isinstance(raw, dict) else {}


def default_clock() -> str:
    value = str(getattr(settings, "SERVICE_CLOCK", "") or os.environ.get("SERVICE_CLOCK") or "")
    return value if value in (Clock.BUSINESS, Clock.CALENDAR) else Clock.BUSINESS


def policy() -> dict[tuple[str, str], Cell]:
    """The policy in force: the defaults with the company's overrides (unknown cells, rules or
    clocks are ignored with a warning)."""
    out = default_policy()
    for key, change in _overrides().items():
        zone, _sep, level = str(key).partition(".")
        if (zone, level) not in out or not isinstance(change, dict):
            logger.warning("SERVICE_LEVEL_POLICY: unknown cell %r ignored", key)
            continue
        fields: dict[str, Any] = {}
        for name, value in change.items():
            target = name in TARGETS and (value is None or _known(value))
            if target or (name == "clock" and value in (Clock.BUSINESS, Clock.CALENDAR)):
                fields[name] = value
            else:
                logger.warning("SERVICE_LEVEL_POLICY[%s]: %s=%r ignored", key, name, value)
        out[(zone, level)] = replace(out[(zone, level)], **fields)
    return out


def _known(code: Any) -> bool:
    try:
        get_rule(str(code))
    except LookupError:
        return False
    return True


def cell_for(zone: str, level: str) -> Cell:
    return policy()[(zone, level)]


def clock_for(cell: Cell) -> str:
    return cell.clock or default_clock()


def due(rule_code: str, start: dt.datetime, clock: str) -> dt.datetime:
    """The due moment of an hour/minute rule counted on `clock` (business hours or elapsed).
    Raises YearNotLoaded when the business clock needs a calendar year not loaded."""
    rule = get_rule(rule_code)
    amount = rule.effective_amount()
    delta = (
        dt.timedelta(minutes=amount) if rule.unit == Unit.MINUTES else dt.timedelta(hours=amount)
    )
    if clock == Clock.CALENDAR:
        return add_calendar(start, delta)
    return add_business_time(start, delta)


def register_rules() -> None:
    for rule in RULES:
        register_rule(rule)
