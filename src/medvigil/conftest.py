"""Shared test fixtures: one user per role, an outsider, logged-in clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

PASSWORD = "Corr3ct-Horse-Battery"


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "req(*ids): requirement IDs proven by the test")


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_truncate_guard() -> Any:
    """On PostgreSQL a trigger refuses TRUNCATE of the audit tables (core migration 0007),
    and Django empties the database after each transactional test with TRUNCATE. The test
    database user is a superuser: the flush runs with triggers off, in its own transaction
    (SET LOCAL), and nothing else does."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self: Any, *args: Any, **kwargs: Any) -> list[str]:
        statements = original(self, *args, **kwargs)
        if statements:
            statements = ["SET LOCAL session_replication_role = replica", *statements]
        return statements

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]
    yield
    DatabaseOperations.sql_flush = original  # type: ignore[method-assign]


@pytest.fixture
def english(settings: Any) -> Any:
    """Messages in English (the msgids), whatever translations are compiled: tests that read
    the text of pages and errors use it (the trace tests all do, through their conftest)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


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
def _no_language_from_an_earlier_test() -> Any:
    """Each test starts in the settings' language: a request through the middleware (the
    user's language, the language switch) leaves its language active in the thread, and a
    later test of the same worker that calls views or services directly would read it."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _empty_cache() -> Any:
    """Each test starts with an empty cache: what is cached under a stamp of record keys
    (vigilance's on-time rates) must not meet a later test's records, which a rolled-back
    test's database gives the same keys again."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _fresh_market_calendars() -> Any:
    """Each test reads the market calendars of its own database state (PLAT-7): the
    per-process calendar cache would otherwise outlive a rolled-back test."""
    from medvigil.core.calendar.working import invalidate

    invalidate()
    yield
    invalidate()
