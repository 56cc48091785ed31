"""Recall records registered with the record test kit (core/tests/record_kit.py):
core/tests/test_record_kit.py runs the shared access (PLAT-1), audit (PLAT-2), version-conflict
and list query-count tests on each of them."""

from __future__ import annotations

import itertools
from typing import Any

from medvigil.core.tests.record_kit import ApiWrite, RecordCase

from .. import services
from ..models import (
    DocumentKind,
    Recall,
    RecallClock,
    RecallConsignee,
    RecallDocument,
    RecallUnit,
)

_n = itertools.count(1)
KIT_PASSWORD = "x-Kit-pass-1"


def make_recall(user: Any) -> Recall:
    n = next(_n)
    return services.create_recall(
        by=user,
        title=f"Kit recall {n}",
        reason="Kit reason",
        level=3,
        scope_lots=f"KIT-LOT-{n}",
    )


def make_document(user: Any) -> RecallDocument:
    return services.draft_document(make_recall(user), by=user, kind=DocumentKind.NOTICE)


def _quality() -> Any:
    """The quality engineer who scopes the kit's recalls (the row's own role cannot)."""
    from medvigil.accounts.models import Role, User

    user = User.objects.filter(username="kit-recall-quality").first()
    if user is None:
        user = User.objects.create_user(username="kit-recall-quality", password=KIT_PASSWORD)
        user.roles.set(Role.objects.filter(code="quality"))
    return User.objects.get(pk=user.pk)


def _scoped(user: Any) -> Recall:
    """A recall of one unit sold to a dealer, scoped (one unit row, one consignee row)."""
    from medvigil.trace.tests.record_cases import make_sale

    quality = _quality()
    sale = make_sale(quality)
    unit = sale.lines.get().unit
    recall = services.create_recall(
        by=quality,
        title=f"Kit unit recall {next(_n)}",
        reason="Kit reason",
        level=3,
        scope_serials=unit.serial,
        owner=user,
    )
    return services.resolve_scope(recall, by=quality)


def make_unit_row(user: Any) -> RecallUnit:
    return RecallUnit.objects.get(recall=_scoped(user))


def make_consignee_row(user: Any) -> RecallConsignee:
    return RecallConsignee.objects.get(recall=_scoped(user))


def _signer() -> Any:
    """The general manager who decides the kit's recalls (a password to sign with)."""
    from medvigil.accounts.models import Role, User

    user = User.objects.filter(username="kit-recall-gm").first()
    if user is None:
        user = User.objects.create_user(username="kit-recall-gm", password=KIT_PASSWORD)
        user.roles.set(Role.objects.filter(code="general_manager"))
    return User.objects.get(pk=user.pk)


def make_clock(user: Any) -> RecallClock:
    """A deadline of a decided recall (RCL-3): its recall event report clock."""
    recall = services.decide_recall(_scoped(user), by=_signer(), password=KIT_PASSWORD)
    return RecallClock.objects.get(recall=recall, deadline_rule="cn.recall_event_report")


CASES = [
    RecordCase(
        id="recalls.recall",
        model=Recall,
        make=make_recall,
        owner_role="quality",
        other_role="technical",  # view_*: reads every recall, changes none
        list_url="recalls:recall_list",
        detail_url="recalls:recall_detail",
        edit_url="recalls:recall_edit",
        edit_changes=lambda r: {"title": f"{r.title} (page)"},
        api_list="/api/v1/recalls",
        api_detail=lambda r: f"/api/v1/recalls/{r.pk}",
        api_write=ApiWrite(
            "patch",
            lambda r: f"/api/v1/recalls/{r.pk}",
            lambda r: {"title": f"{r.title} (kit)"},
            versioned=True,
        ),
        reqs=("RCL-1",),
    ),
    RecordCase(
        id="recalls.recalldocument",
        model=RecallDocument,
        make=make_document,
        owner_role="quality",
        other_role="technical",
        list_url="recalls:recall_list",
        detail_url="recalls:recalldocument_detail",
        edit_url="recalls:document_edit",
        edit_changes=lambda d: {"body_zh": f"{d.body_zh} (修订)"},
        reqs=("RCL-5",),
    ),
    RecordCase(
        id="recalls.recallunit",
        model=RecallUnit,
        make=make_unit_row,
        owner_role="logistics",  # records outcomes
        other_role="technical",
        list_url="recalls:recall_list",
        reqs=("RCL-2", "RCL-4"),
    ),
    RecordCase(
        id="recalls.recallconsignee",
        model=RecallConsignee,
        make=make_consignee_row,
        owner_role="customer_service",  # records notices and acknowledgements
        other_role="technical",
        list_url="recalls:recall_list",
        reqs=("RCL-2", "RCL-4"),
    ),
    RecordCase(
        id="recalls.recallclock",
        model=RecallClock,
        make=make_clock,
        owner_role="quality",  # marks deadlines done
        other_role="technical",
        list_url="recalls:recall_list",
        reqs=("RCL-3",),
    ),
]
