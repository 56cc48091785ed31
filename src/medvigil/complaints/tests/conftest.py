"""Fixtures of the complaint tests: trace's small world (a pump, two lots, a dealer → hospital
chain, one installed unit) and the people of seed 003's flow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from medvigil.trace.tests.conftest import World, _english, world  # noqa: F401  (fixtures)


@pytest.fixture
def cs_user(make_user: Callable[..., Any]) -> Any:
    return make_user("cs", "customer_service", department="customer-service")


@pytest.fixture
def mgmt_rep(make_user: Callable[..., Any]) -> Any:
    return make_user("mr", "management_rep", department="management")


@pytest.fixture
def sales_user(make_user: Callable[..., Any]) -> Any:
    return make_user("sales1", "sales", department="sales")


def complaint_data(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "complaint",
        "channel": "phone",
        "title": "输液泵报警失灵",
        "description": "输液泵在输液过程中堵塞报警未响。",
        "complainant_name": "张护士",
        "complainant_organisation": "上海第一人民医院",
        "complainant_phone": "13800000009",
        "category": "product_quality",
    }
    data.update(extra)
    return data
