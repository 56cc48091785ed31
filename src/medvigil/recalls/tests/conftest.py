"""Recall test builders: the trace tests' small world (two lots, a dealer → hospital chain),
people per seed role, and a recall of lot A ready to run."""

from __future__ import annotations

from typing import Any

import pytest

from medvigil.conftest import PASSWORD
from medvigil.trace.tests.conftest import World, world  # noqa: F401  (the fixture)

from .. import services
from ..models import DocumentKind, Kind, Recall


@pytest.fixture(autouse=True)
def _english(english: Any) -> None:
    """Messages in English (the msgids)."""


@pytest.fixture
def gm(make_user: Any) -> Any:
    return make_user("gm", "general_manager", department="management")


@pytest.fixture
def rep(make_user: Any) -> Any:
    return make_user("rep", "management_rep", department="management")


@pytest.fixture
def cs(make_user: Any) -> Any:
    return make_user("cs", "customer_service", department="customer-service")


@pytest.fixture
def logistics(make_user: Any) -> Any:
    return make_user("wh", "logistics", department="logistics")


def new_recall(by: Any, *, lots: str = "LA-001", kind: str = Kind.RECALL, **extra: Any) -> Recall:
    fields = {
        "title": "输液泵报警失灵召回",
        "title_en": "Infusion pump alarm failure recall",
        "reason": "报警模块在低电量时可能不响",
        "reason_en": "The alarm may stay silent at low battery",
        "action": "请停止使用并联系我司更换报警模块",
        "action_en": "Stop using the pump and call us to replace the alarm module",
        "scope_lots": lots,
    }
    if kind == Kind.RECALL:
        fields["level"] = 2
    fields.update(extra)
    return services.create_recall(by=by, kind=kind, **fields)


def decide(recall: Recall, signer: Any) -> Recall:
    return services.decide_recall(recall, by=signer, password=PASSWORD, comment="decided")


def issue(recall: Recall, author: Any, signer: Any, kind: str = DocumentKind.NOTICE) -> Any:
    doc = services.draft_document(recall, by=author, kind=kind)
    return services.issue_document(doc, by=signer, password=PASSWORD)


@pytest.fixture
def running(world: Any, quality_user: Any, gm: Any, settings: Any, tmp_path: Any) -> Recall:  # noqa: F811
    """Lot A recalled (level 2): scope resolved, decided by the general manager, its field
    safety notice issued."""
    settings.MEDIA_ROOT = str(tmp_path)
    recall = services.resolve_scope(new_recall(quality_user), by=quality_user)
    recall = decide(recall, gm)
    issue(recall, quality_user, gm)
    return Recall.objects.get(pk=recall.pk)
