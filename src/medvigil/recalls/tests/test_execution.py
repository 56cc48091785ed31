"""RCL-4: per consignee the notice (e-mail from the system, or recorded as sent by phone, fax
or letter) and its acknowledgement; per unit located, corrected, returned, destroyed with the
evidence; the effectiveness percentage as units are accounted for; the periodic chase of
consignees who have not acknowledged."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from medvigil.core.models import AuditEntry, Notification

from .. import services
from ..models import Recall, RecallClock, RecallConsignee, RecallUnit
from .conftest import decide, issue, new_recall

pytestmark = [pytest.mark.django_db, pytest.mark.req("RCL-4")]


def rows(recall: Recall) -> dict[str, RecallConsignee]:
    return {r.name: r for r in RecallConsignee.objects.filter(recall=recall)}


def test_no_notice_before_the_decision_and_the_issued_field_safety_notice(
    world: Any, quality_user: Any, gm: Any, cs: Any
):
    recall = services.resolve_scope(new_recall(quality_user), by=quality_user)
    row = RecallConsignee.objects.filter(recall=recall).first()
    with pytest.raises(ValidationError, match="not in progress"):
        services.record_notice(row, by=cs, channel="phone")
    decide(recall, gm)
    with pytest.raises(ValidationError, match="field safety notice"):
        services.record_notice(row, by=cs, channel="phone")
    assert RecallConsignee.objects.get(pk=row.pk).notice_sent_at is None


def test_notice_by_phone_then_acknowledged_and_the_notify_clock_met(
    running: Recall, cs: Any, world: Any
):
    dealer, hospital = rows(running)[world.dealer.name], rows(running)[world.hospital.name]
    with pytest.raises(ValidationError, match="before its acknowledgement"):
        services.record_acknowledgement(dealer, by=cs)
    services.record_notice(dealer, by=cs, channel="phone", note="电话通知 王经理")
    services.record_acknowledgement(dealer, by=cs, note="回执已收")
    notify = RecallClock.objects.get(recall=running, deadline_rule="cn.recall_notify_l2")
    assert notify.met_at is None  # the hospital is not told yet
    services.record_notice(hospital, by=cs, channel="fax")
    notify.refresh_from_db()
    assert notify.met_at is not None
    eff = services.effectiveness(running)
    assert (eff["notified"], eff["acknowledged"], eff["acknowledged_percent"]) == (
        2,
        1,
        Decimal("50.00"),
    )
    with pytest.raises(ValidationError, match="Already"):
        services.record_acknowledgement(dealer, by=cs)


def test_notice_by_e_mail_from_the_system_carries_the_issued_pdf(
    running: Recall, cs: Any, world: Any
):
    row = rows(running)[world.dealer.name]
    with pytest.raises(ValidationError, match="no e-mail address"):
        services.record_notice(row, by=cs, channel="email")
    row.email = "recall@dealer.example"
    row.save()
    services.record_notice(row, by=cs, channel="email")
    [message] = mail.outbox
    assert message.to == ["recall@dealer.example"] and running.number in message.subject
    assert "报警" in message.body
    assert message.attachments[0][2] == "application/pdf"
    result = services.send_email_notices(running, by=cs)
    assert result == {"sent": 0, "skipped": 1}


def test_the_eu_fsca_is_reported_before_it_is_carried_out_unless_urgent(
    world: Any, quality_user: Any, gm: Any, cs: Any, settings: Any, tmp_path: Any
):
    settings.MEDIA_ROOT = str(tmp_path)
    recall = services.resolve_scope(new_recall(quality_user, eu_fsca=True), by=quality_user)
    decide(recall, gm)
    issue(recall, quality_user, gm)
    row = RecallConsignee.objects.filter(recall=recall).first()
    with pytest.raises(ValidationError, match="Art. 87"):
        services.record_notice(row, by=cs, channel="phone")
    recall.refresh_from_db()
    services.record_eu_report(recall, by=quality_user, version=recall.version)
    services.record_notice(row, by=cs, channel="phone")
    urgent = services.resolve_scope(
        new_recall(quality_user, lots="LB-002", eu_fsca=True, eu_fsca_urgent=True), by=quality_user
    )
    decide(urgent, gm)
    issue(urgent, quality_user, gm)
    services.record_notice(
        RecallConsignee.objects.filter(recall=urgent).first(), by=cs, channel="letter"
    )


def test_effectiveness_arithmetic_as_units_are_accounted_for(
    running: Recall, logistics: Any, world: Any
):
    def percent() -> tuple[Decimal, Decimal]:
        eff = services.effectiveness(running)
        return eff["percent"], eff["located_percent"]

    assert percent() == (Decimal("0.00"), Decimal("0.00"))
    services.record_outcome(
        running, by=logistics, outcome="corrected", serials=["A1"], evidence="WO-1"
    )
    assert percent() == (Decimal("25.00"), Decimal("25.00"))
    services.record_outcome(running, by=logistics, outcome="located", serials=["A2", "A3"])
    assert percent() == (Decimal("25.00"), Decimal("75.00"))
    services.record_outcome(
        running, by=logistics, outcome="returned", serials=["A2"], evidence="RMA-7"
    )
    services.record_outcome(
        running, by=logistics, outcome="destroyed", serials=["A4"], evidence="scrap record 3"
    )
    assert percent() == (Decimal("75.00"), Decimal("100.00"))
    services.record_outcome(
        running, by=logistics, outcome="corrected", serials=["A3"], evidence="WO-2"
    )
    eff = services.effectiveness(running)
    assert (eff["percent"], eff["accounted"], eff["units"]) == (Decimal("100.00"), 4, 4)
    assert eff["by_outcome"] == {
        "open": 0,
        "located": 0,
        "corrected": 2,
        "returned": 1,
        "destroyed": 1,
    }


def test_a_share_short_of_the_whole_never_reads_as_done(
    world: Any, quality_user: Any, gm: Any, logistics: Any, settings: Any, tmp_path: Any
):
    settings.MEDIA_ROOT = str(tmp_path)
    recall = services.resolve_scope(
        new_recall(quality_user, lots="", scope_serials="A1\nA2\nA3"), by=quality_user
    )
    decide(recall, gm)
    services.record_outcome(recall, by=logistics, outcome="corrected", serials=["A1"], evidence="x")
    assert services.effectiveness(recall)["percent"] == Decimal("33.33")
    services.record_outcome(recall, by=logistics, outcome="corrected", serials=["A2"], evidence="x")
    assert services.effectiveness(recall)["percent"] == Decimal("66.67")


def test_outcomes_need_evidence_and_units_of_the_recall_nothing_changed_else(
    running: Recall, logistics: Any, cs: Any
):
    with pytest.raises(ValidationError) as exc:
        services.record_outcome(running, by=logistics, outcome="returned", serials=["A1"])
    assert "evidence" in exc.value.message_dict
    with pytest.raises(ValidationError, match="Not in this recall: B1"):
        services.record_outcome(
            running, by=logistics, outcome="corrected", serials=["A1", "B1"], evidence="x"
        )
    with pytest.raises(ValidationError):
        services.record_outcome(running, by=logistics, outcome="open", serials=["A1"])
    with pytest.raises(PermissionDenied):
        services.record_outcome(running, by=cs, outcome="located", serials=["A1"])
    assert set(RecallUnit.objects.filter(recall=running).values_list("outcome", flat=True)) == {
        "open"
    }


@pytest.mark.req("PLAT-2")
def test_each_unit_outcome_is_one_audit_entry(running: Recall, logistics: Any):
    ct = ContentType.objects.get_for_model(RecallUnit)
    before = AuditEntry.objects.filter(content_type=ct, action="update").count()
    count = services.record_outcome(
        running, by=logistics, outcome="corrected", serials=["A1", "A2"], evidence="WO-9"
    )
    assert count == 2
    entries = AuditEntry.objects.filter(content_type=ct, action="update")
    assert entries.count() == before + 2
    assert {e.actor_id for e in entries} == {logistics.pk}


def test_consignees_that_do_not_acknowledge_are_chased_by_the_periodic_job(
    running: Recall, cs: Any, world: Any, quality_user: Any
):
    from ..tasks import recalls_chase_acknowledgements

    dealer = rows(running)[world.dealer.name]
    sent = timezone.now() - dt.timedelta(days=3)
    services.record_notice(dealer, by=cs, channel="letter", at=sent)
    assert services.chase_unacknowledged(timezone.now() - dt.timedelta(days=2)) == 0
    assert recalls_chase_acknowledgements.call_local() == 1
    dealer.refresh_from_db()
    assert dealer.chase_count == 1 and dealer.last_chased_at is not None
    note = Notification.objects.get(user=quality_user)
    assert running.number in note.title and note.level == "warning"
    assert services.chase_unacknowledged() == 0  # not again before RECALL_CHASE_DAYS
    services.record_acknowledgement(dealer, by=cs)
    assert services.chase_unacknowledged(timezone.now() + dt.timedelta(days=5)) == 0
