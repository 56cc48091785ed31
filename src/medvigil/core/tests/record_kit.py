"""The regulated-record test kit: what a domain app registers to get the shared tests of
core/tests/test_record_kit.py (access of owner / another role / outsider / auditor on pages
and API, one audit entry per write, the version conflict, list-page query counts).

An app registers its models in `<app>.tests.record_cases` (a module with `CASES`, a list of
RecordCase): plain data, no base classes. See docs/development/domain-app.md."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models
from django.urls import reverse


@dataclass(frozen=True)
class ApiWrite:
    """One write endpoint. `path` and `payload` take the case's record (made for the owner);
    a `versioned` write sends the record's version and must answer 409 to a stale one."""

    method: str  # "post", "put", "patch"
    path: Callable[[Any], str]
    payload: Callable[[Any], dict[str, Any]]
    versioned: bool = False
    ok: int = 200  # the owner's success status (201 for a create)


@dataclass(frozen=True)
class RecordCase:
    """One regulated model as the kit tests it.

    `make(user)` saves a new record owned (or made) by `user`, a distinct one on each call.
    `owner_role` may view and change it; `other_role` is another role, which sees it when
    `other_sees` and never changes it; an outsider (no role) sees nothing; the auditor reads
    and never writes. URL names are reversed with the record's pk."""

    id: str
    model: type[models.Model]
    make: Callable[[Any], models.Model]
    owner_role: str
    other_role: str
    list_url: str  # URL name of the list page
    detail_url: str | None = None  # URL name (args=[pk]); None: get_absolute_url()
    other_sees: bool = True
    # the edit page (a form with a hidden `version`), and the fields the kit changes there
    edit_url: str | None = None
    edit_changes: Callable[[Any], dict[str, Any]] | None = None
    api_list: str | None = None  # path, e.g. "/api/v1/trace/products"
    api_detail: Callable[[Any], str] | None = None
    api_write: ApiWrite | None = None
    reqs: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def detail(self, obj: Any) -> str:
        if self.detail_url:
            return reverse(self.detail_url, args=[obj.pk])
        return str(obj.get_absolute_url())

    def edit(self, obj: Any) -> str:
        assert self.edit_url
        return reverse(self.edit_url, args=[obj.pk])


CASES_MODULE = "tests.record_cases"


def registered_cases() -> list[RecordCase]:
    """Every installed app's `<app>.tests.record_cases.CASES`, in app order."""
    cases: list[RecordCase] = []
    for config in apps.get_app_configs():
        if not config.name.startswith("medvigil."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.{CASES_MODULE}")
        except ModuleNotFoundError as exc:
            if exc.name and (exc.name.endswith(CASES_MODULE) or exc.name.endswith(".tests")):
                continue
            raise
        cases.extend(module.CASES)
    ids = [c.id for c in cases]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, f"record cases registered twice: {duplicates}"
    return cases
