"""Shared test fixtures: one user per role, an outsider, logged-in clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

PASSWORD = "Corr3ct-Horse-Battery"


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "req(*ids): requirement IDs proven by the test")


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    from medvigil.accounts.models import Department, Role, User

    def make(username: str, *roles: str, department: str | None = None, **extra: Any) -> Any:
        user = User.objects.create_user(
            username=username, password=PASSWORD, email=f"{username}@example.com", **extra
        )
        if roles:
            user.roles.set(Role.objects.filter(code__in=roles))
        if department:
            user.department = Department.objects.get(code=department)
            user.save()
        return User.objects.get(pk=user.pk)

    return make


@pytest.fixture
def quality_user(make_user: Callable[..., Any]) -> Any:
    return make_user("qe", "quality", department="quality", first_name="Li", last_name="Wei")


@pytest.fixture
def auditor(make_user: Callable[..., Any]) -> Any:
    return make_user("auditor", "auditor", department="audit")


@pytest.fixture
def outsider(make_user: Callable[..., Any]) -> Any:
    return make_user("outsider")


@pytest.fixture
def admin_user(make_user: Callable[..., Any]) -> Any:
    return make_user("root", is_superuser=True, is_staff=True)


@pytest.fixture
def client_for(client: Any) -> Callable[[Any], Any]:
    from django.test import Client

    def make(user: Any) -> Any:
        c = Client()
        c.force_login(user)
        return c

    return make


@pytest.fixture(autouse=True)
def _fresh_market_calendars() -> Any:
    """Each test reads the market calendars of its own database state (PLAT-7): the
    per-process calendar cache would otherwise outlive a rolled-back test."""
    from medvigil.core.calendar.working import invalidate

    invalidate()
    yield
    invalidate()
