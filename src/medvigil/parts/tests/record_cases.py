"""Spare-parts records registered with the record test kit (core/tests/record_kit.py):
core/tests/test_record_kit.py runs the shared access (PLAT-1), audit (PLAT-2), version
conflict and list query-count tests on each of them."""

from __future__ import annotations

import itertools
from typing import Any

from medvigil.core.tests.record_kit import ApiWrite, RecordCase
from medvigil.parts import services
from medvigil.parts.models import MovementKind, Part, StockLocation, StockMovement

_n = itertools.count(500)


def make_part(user: Any) -> Part:
    n = next(_n)
    return services.create_part(by=user, code=f"KIT-P-{n}", name=f"Kit part {n}")


def make_location(user: Any) -> StockLocation:
    n = next(_n)
    return services.create_location(by=user, code=f"KIT-WH-{n}", name=f"Kit warehouse {n}")


def make_movement(user: Any) -> StockMovement:
    return services.move(
        kind=MovementKind.RECEIPT,
        part=make_part(user),
        quantity=3,
        by=user,
        to_location=make_location(user),
        reference="PO-KIT",
    )


CASES = [
    RecordCase(
        id="parts.part",
        model=Part,
        make=make_part,
        owner_role="logistics",
        other_role="service_engineer",  # reads the catalogue, never changes it
        list_url="parts:part_list",
        edit_url="parts:part_edit",
        edit_changes=lambda p: {"name": f"{p.name} (page)"},
        api_list="/api/v1/parts",
        api_detail=lambda p: f"/api/v1/parts/{p.pk}",
        api_write=ApiWrite(
            "patch",
            lambda p: f"/api/v1/parts/{p.pk}",
            lambda p: {"name": f"{p.name} (api)"},
            versioned=True,
        ),
        reqs=("SVC-10",),
    ),
    RecordCase(
        id="parts.stocklocation",
        model=StockLocation,
        make=make_location,
        owner_role="logistics",
        other_role="service_engineer",  # sees the warehouses (and only their own van)
        list_url="parts:stocklocation_list",
        edit_url="parts:stocklocation_edit",
        edit_changes=lambda o: {"name": f"{o.name} (page)"},
        api_list="/api/v1/parts/locations",
        api_detail=lambda o: f"/api/v1/parts/locations/{o.pk}",
        api_write=ApiWrite(
            "patch",
            lambda o: f"/api/v1/parts/locations/{o.pk}",
            lambda o: {"name": f"{o.name} (api)"},
            versioned=True,
        ),
        reqs=("SVC-10",),
    ),
    RecordCase(
        id="parts.stockmovement",
        model=StockMovement,
        make=make_movement,
        owner_role="logistics",
        other_role="customer_service",  # sees the stock, never the ledger
        other_sees=False,
        list_url="parts:stockmovement_list",
        api_list="/api/v1/parts/movements",
        api_detail=lambda m: f"/api/v1/parts/movements/{m.pk}",
        reqs=("SVC-10",),
    ),
]
