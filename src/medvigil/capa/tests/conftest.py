"""Fixtures of the CAPA tests: trace's small world, the people of the complaint flow (plus a
technical engineer and a logistics clerk), and a CAPA builder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from medvigil.complaints.tests.flow_builders import People, people  # noqa: F401  (fixture)
from medvigil.trace.tests.conftest import World, _english, world  # noqa: F401  (fixtures)


@pytest.fixture
def tech(make_user: Callable[..., Any]) -> Any:
    return make_user("tech", "technical", department="technical")


@pytest.fixture
def logistics(make_user: Callable[..., Any]) -> Any:
    return make_user("wh", "logistics", department="logistics")


@pytest.fixture
def qmgr(make_user: Callable[..., Any]) -> Any:
    """The quality manager (质量经理): closes CAPAs with the e-signature (issue #12)."""
    return make_user("qmgr", "quality_manager", department="quality")
