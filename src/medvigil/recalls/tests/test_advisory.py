"""RCL-6: an advisory notice is issued by the management representative to the affected
consignees and tracked like a recall (the same scope, notices, acknowledgements, outcomes and
effectiveness), without the recall clocks of the 办法."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from .. import services
from ..models import DocumentKind, Kind, RecallClock, RecallConsignee
from .conftest import decide, issue, new_recall

pytestmark = [pytest.mark.django_db, pytest.mark.req("RCL-6")]


def test_an_advisory_notice_is_issued_by_the_management_rep_and_tracked_like_a_recall(
    world: Any,
    quality_user: Any,
    gm: Any,
    rep: Any,
    cs: Any,
    logistics: Any,
    settings: Any,
    tmp_path: Any,
):
    settings.MEDIA_ROOT = str(tmp_path)
    notice = new_recall(quality_user, kind=Kind.ADVISORY, level=None, title="清洁方法忠告性通知")
    assert notice.number.startswith("AN-") and notice.approve_perm == "recalls.issue_advisory"
    notice = services.resolve_scope(notice, by=quality_user)
    assert notice.consignee_count == 2
    with pytest.raises(PermissionDenied):
        decide(notice, gm)
    notice = decide(notice, rep)
    assert notice.status == "open" and notice.decided_by == rep
    assert not RecallClock.objects.filter(recall=notice).exists()
    issue(notice, quality_user, rep, DocumentKind.NOTICE)
    for row in RecallConsignee.objects.filter(recall=notice):
        services.record_notice(row, by=cs, channel="letter")
        services.record_acknowledgement(row, by=cs)
    services.record_outcome(
        notice, by=logistics, outcome="corrected", serials=["A1", "A2"], evidence="已告知使用者"
    )
    eff = services.effectiveness(notice)
    assert (eff["acknowledged_percent"], eff["percent"]) == (Decimal("100.00"), Decimal("50.00"))
