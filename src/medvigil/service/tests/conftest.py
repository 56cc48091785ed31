"""Fixtures of the service tests: trace's small world (a pump, a dealer → hospital chain, one
installed unit) and the people of seed 003's service department."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from medvigil.trace.tests.conftest import World, _english, world  # noqa: F401  (fixtures)

CST = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CST)


@pytest.fixture
def manager(make_user: Callable[..., Any]) -> Any:
    return make_user("svcmgr", "service_manager", department="service")


@pytest.fixture
def engineer(make_user: Callable[..., Any]) -> Any:
    return make_user("eng1", "service_engineer", department="service", display_name="张伟")


@pytest.fixture
def engineer2(make_user: Callable[..., Any]) -> Any:
    return make_user("eng2", "service_engineer", department="service", display_name="黄磊")


@pytest.fixture
def cs_user(make_user: Callable[..., Any]) -> Any:
    return make_user("cs", "customer_service", department="customer-service")


@pytest.fixture
def qualified(world: Any, manager: Any, engineer: Any) -> Any:  # noqa: F811
    """`engineer` trained and passed for the world's pump, valid for a year."""
    from medvigil.service.services import add_qualification

    today = dt.date.today()
    return add_qualification(
        by=manager,
        engineer=engineer,
        product=world.pump,
        trained_on=today - dt.timedelta(days=30),
        passed_on=today - dt.timedelta(days=20),
        score=90,
        expires_on=today + dt.timedelta(days=365),
    )


def new_request(user: Any, w: Any, **extra: Any) -> Any:
    from medvigil.service.services import create_service_request

    data: dict[str, Any] = {
        "channel": "phone",
        "unit": w.a_units[0],
        "fault_level": "down",
        "zone": "city",
        "title": "设备无法开机",
        "description": "开机无反应",
        "contact_name": "护士长 李",
        "contact_phone": "13800000001",
    }
    data.update(extra)
    return create_service_request(by=user, **data)


class Spares:
    """SVC-10 for the work-order tests: a stock keeper, the engineer's van holding 3 pressure
    sensors (a part that fits the world's pump), a central store holding 5."""

    def __init__(self, keeper: Any, van: Any, store: Any, part: Any) -> None:
        self.keeper, self.van, self.store, self.part = keeper, van, store, part


@pytest.fixture
def spares(world: Any, engineer: Any, make_user: Callable[..., Any]) -> Spares:  # noqa: F811
    from decimal import Decimal

    from medvigil.parts import services as parts
    from medvigil.parts.models import MovementKind

    keeper = make_user("keeper", "logistics", department="logistics")
    store = parts.create_location(by=keeper, code="WH-1", name="Central store")
    van = parts.create_location(
        by=keeper, code="VAN-1", name="Van 1", kind="van", engineer=engineer
    )
    part = parts.create_part(
        by=keeper,
        products=[world.pump],
        code="PS-01",
        name="压力传感器",
        name_en="Pressure sensor",
        unit_cost=Decimal("120.00"),
        lead_time_days=30,
        failure_rate=Decimal("0.1000"),
    )
    for qty, loc in ((3, van), (5, store)):
        parts.move(
            kind=MovementKind.RECEIPT,
            part=part,
            quantity=qty,
            by=keeper,
            to_location=loc,
            reference="PO-1",
        )
    return Spares(keeper, van, store, part)
