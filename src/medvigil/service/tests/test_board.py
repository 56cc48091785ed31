"""SVC-3: the dispatch board shows the most urgent open requests (a bounded number, rendered
fast: docs/benchmarks.md) and says how many are open in all."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from medvigil.service.views import dispatch

from .conftest import at, new_request

pytestmark = pytest.mark.django_db


@pytest.mark.req("SVC-3")
def test_board_shows_the_most_urgent_and_counts_all(
    world: Any, cs_user: Any, manager: Any, monkeypatch: Any
) -> None:
    late = new_request(cs_user, world, received_at=at(2026, 3, 2, 9), title="早的")
    later = new_request(cs_user, world, received_at=at(2026, 3, 3, 9), title="晚的")
    monkeypatch.setattr(dispatch, "BOARD_ROWS", 1)
    c = Client()
    c.force_login(manager)
    html = c.get(reverse("service:dispatch_board")).content.decode()
    assert "2 open requests" in html and "the 1 most urgent shown" in html
    assert late.number in html  # the earlier arrival target comes first
    assert later.number not in html
