"""Fixtures of the IMDRF tests. The shipped release is in every test database (loaded on
migrate); these build newer releases from it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from medvigil.imdrf import services


@pytest.fixture(autouse=True)
def _english(english: Any) -> Any:
    yield


def shipped_entries() -> dict[str, list[dict[str, Any]]]:
    """{file name: the list of terms} of the shipped release."""
    return {name: json.loads(data) for name, data in services.shipped_files()}


@pytest.fixture
def release_files() -> Callable[..., list[tuple[str, bytes]]]:
    """Files of a newer release: the shipped one with `drop` codes removed, `change`
    ({code: new term}) applied and `add` (extra rows) appended to their annex's file."""

    def make(
        drop: tuple[str, ...] = (),
        change: dict[str, str] | None = None,
        add: tuple[dict[str, Any], ...] = (),
        annexes: str = "ABCDEFG",
    ) -> list[tuple[str, bytes]]:
        files = []
        for name, rows in shipped_entries().items():
            rows = copy.deepcopy(rows)
            annex = rows[0]["code"][0]
            if annex not in annexes:
                continue
            rows = [r for r in rows if r["code"] not in drop]
            for r in rows:
                if change and r["code"] in change:
                    r["term"] = change[r["code"]]
            rows.extend(a for a in add if a["code"][0] == annex)
            files.append((name, json.dumps(rows).encode()))
        return files

    return make


@pytest.fixture
def admin(make_user: Callable[..., Any]) -> Any:
    return make_user("imdrf-admin", "admin")


@pytest.fixture
def cs_user(make_user: Callable[..., Any]) -> Any:
    return make_user("imdrf-cs", "customer_service")
