"""The recall demo (issue #12 item 9): a level 2 recall half executed — decided, its plan and
field safety notice issued with the general manager's signature, some consignees told and
some acknowledging, about half the units accounted for — and an advisory notice issued by the
management representative; loaded once however often the demo runs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from medvigil.core.signatures.services import signatures_for

from .. import services
from ..models import Kind, Recall, RecallConsignee, RecallDocument
from ..services.records import source_record


@pytest.mark.req("RCL-1", "RCL-4", "RCL-5", "RCL-6")
def test_the_demo_has_a_half_executed_level_2_recall_and_an_advisory_notice(db):
    from medvigil.accounts.demo import load_all
    from medvigil.core.audit import audit_context

    with audit_context(source="test:demo"):
        load_all()
        load_all()
    recall = Recall.objects.get(kind=Kind.RECALL)
    assert recall.level == 2 and recall.status == Recall.Status.OPEN
    assert recall.decided_by.username == "gm" and recall.unit_count > 0
    assert recall.source_kind == "complaint" and source_record(recall) is not None
    docs = RecallDocument.objects.filter(recall=recall, status=RecallDocument.Status.ISSUED)
    assert {d.kind for d in docs} == {"plan", "notice"}
    assert all(d.issued_by.username == "gm" and signatures_for(d) for d in docs)
    assert recall.clocks.filter(deadline_rule="cn.recall_notify_l2").exists()
    eff = services.effectiveness(recall)
    assert Decimal("0") < Decimal(str(eff["percent"])) < Decimal("100")
    assert 0 < eff["notified"] < eff["consignees"]
    assert 0 < eff["acknowledged"] <= eff["notified"]
    assert recall.completed_at is None

    advisory = Recall.objects.get(kind=Kind.ADVISORY)
    assert advisory.number.startswith("AN-") and advisory.status == Recall.Status.OPEN
    assert advisory.decided_by.username == "mgmtrep" and advisory.level is None
    assert not advisory.clocks.exists()  # an advisory notice starts no statutory clock
    notice = RecallDocument.objects.get(recall=advisory)
    assert notice.status == RecallDocument.Status.ISSUED and notice.issued_by.username == "mgmtrep"
    told = RecallConsignee.objects.filter(recall=advisory, notice_sent_at__isnull=False)
    assert told.count() == 1 and told.get().notice_channel == "letter"
