"""Builders of the spare-parts tests: a product with an installed base, the people of the
stock (a stock keeper, two engineers with their vans), a warehouse."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from medvigil.parts import services
from medvigil.parts.models import MovementKind, Part, StockLocation
from medvigil.trace import services as trace
from medvigil.trace.models import Installation, Product
from medvigil.trace.tests.conftest import hospital, product, units

_serials = itertools.count(1)


@pytest.fixture(autouse=True)
def _english(english: Any) -> None:
    """The parts tests read messages in English."""


def install(prod: Product, n: int, at: Any = None) -> list[Installation]:
    """`n` installed units of `prod` (the installed base, TRC-5), built directly: the sale
    rules are trace's business, not this app's."""
    site = at or hospital(f"H-{next(_serials)}")
    made = units(prod, None, [f"S{next(_serials):05d}" for _ in range(n)])
    return trace.save_installations(
        [Installation(unit=u, customer=site, installed_on=dt.date(2026, 1, 5)) for u in made]
    )


@dataclass
class Stock:
    keeper: Any
    engineer: Any
    engineer2: Any
    warehouse: StockLocation
    van: StockLocation
    van2: StockLocation
    pump: Product
    part: Part

    def receive(self, qty: int, part: Part | None = None, at: StockLocation | None = None) -> Any:
        return services.move(
            kind=MovementKind.RECEIPT,
            part=part or self.part,
            quantity=qty,
            by=self.keeper,
            to_location=at or self.warehouse,
            reference="PO-1",
        )


@pytest.fixture
def keeper(make_user: Callable[..., Any]) -> Any:
    return make_user("keeper", "logistics", department="logistics")


@pytest.fixture
def engineer(make_user: Callable[..., Any]) -> Any:
    return make_user("eng1", "service_engineer", department="service")


@pytest.fixture
def engineer2(make_user: Callable[..., Any]) -> Any:
    return make_user("eng2", "service_engineer", department="service")


@pytest.fixture
def stock(db: Any, keeper: Any, engineer: Any, engineer2: Any) -> Stock:
    pump = product("P-1")
    warehouse = services.create_location(by=keeper, code="WH-1", name="Central store")
    van = services.create_location(
        by=keeper, code="VAN-1", name="Van 1", kind="van", engineer=engineer
    )
    van2 = services.create_location(
        by=keeper, code="VAN-2", name="Van 2", kind="van", engineer=engineer2
    )
    part = services.create_part(
        by=keeper,
        products=[pump],
        code="BAT-1",
        name="泵电池",
        name_en="Pump battery",
        unit_cost=Decimal("85.00"),
        lead_time_days=30,
        failure_rate=Decimal("0.3650"),
    )
    return Stock(keeper, engineer, engineer2, warehouse, van, van2, pump, part)
