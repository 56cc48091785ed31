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


def test_an_advisory_notice_on_the_pages_is_signed_by_the_management_representative(
    world: Any, quality_user: Any, gm: Any, rep: Any, client_for: Any
):
    """RCL-6 on the pages: quality opens an advisory notice (no level asked), resolves its
    scope; the general manager is offered no decision and is refused one; the management
    representative signs it; the page says no statutory clock runs."""
    from django.urls import reverse

    from medvigil.conftest import PASSWORD

    from ..models import Recall

    q = client_for(quality_user)
    new = reverse("recalls:recall_create") + "?kind=advisory"
    form = q.get(new).content.decode()
    assert "New advisory notice" in form
    resp = q.post(
        new,
        {
            "title": "清洁方法",
            "reason": "酒精清洁剂损坏屏幕",
            "source_kind": "direct",
            "scope_lots": "LA-001",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    notice = Recall.objects.get(title="清洁方法")
    assert notice.kind == Kind.ADVISORY and notice.number.startswith("AN-")
    assert notice.level is None
    assert q.post(reverse("recalls:recall_resolve", args=[notice.pk])).status_code == 302
    notice.refresh_from_db()
    decide_url = reverse("recalls:recall_decide", args=[notice.pk])
    signed = {"password": PASSWORD, "version": notice.version, "meaning": "approved"}
    assert "recall-decide" not in client_for(gm).get(notice.get_absolute_url()).content.decode()
    assert client_for(gm).post(decide_url, signed).status_code == 403
    assert Recall.objects.get(pk=notice.pk).status == "draft"
    assert "recall-decide" in client_for(rep).get(notice.get_absolute_url()).content.decode()
    assert client_for(rep).post(decide_url, signed).status_code == 302
    notice.refresh_from_db()
    assert notice.status == "open" and notice.decided_by == rep
    page = q.get(notice.get_absolute_url()).content.decode()
    assert "An advisory notice starts no statutory clock." in page
