"""FBK-7: remedy, internal agreement with the approvals the seeds require, the reply kept and
e-mailed, the customer's confirmation, the call-back in "My work", closure with quality's
e-signature and its guards, reopening with a reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from medvigil.conftest import PASSWORD
from medvigil.core.models import AuditEntry
from medvigil.core.registry import work_for
from medvigil.core.signatures.services import signatures_for

from ..models import Category, Correspondence, Feedback, Severity
from ..services import resolution as res_svc
from .flow_builders import People, evaluated, fresh, investigated, people, replied, routed_complaint

__all__ = ["people"]

pytestmark = [pytest.mark.django_db, pytest.mark.req("FBK-7")]


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Any:
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def in_resolution(people: People, **extra: Any) -> Feedback:
    fb = routed_complaint(people.cs, **extra)
    evaluated(fb, people)
    investigated(fb, people)
    return fresh(fb)


def test_returns_and_exchanges_need_the_division_heads_approval(people: People) -> None:
    fb = in_resolution(people)
    res = res_svc.propose_resolution(
        fb, by=people.cs, version=fb.version, remedies=["replace"], reply_text="A new pump."
    )
    assert [a.role for a in res.approvals.all()] == ["general_manager"]
    with pytest.raises(ValidationError) as exc:
        res_svc.agree_resolution(res, by=people.cs, version=res.version)
    assert "Waiting for the approval of" in exc.value.messages[0]
    assert fresh(res).agreed_at is None
    approval = res.approvals.get()
    # another role cannot decide it; a rejection needs a reason
    with pytest.raises(ValidationError):
        res_svc.decide_approval(approval, by=people.mr, decision="approved", password=PASSWORD)
    with pytest.raises(ValidationError):
        res_svc.decide_approval(approval, by=people.gm, decision="rejected", password=PASSWORD)
    res_svc.decide_approval(approval, by=people.gm, decision="approved", password=PASSWORD)
    assert signatures_for(fresh(approval)).get().signer == people.gm
    res = res_svc.agree_resolution(fresh(res), by=people.cs, version=fresh(res).version)
    assert res.agreed_by == people.cs and fresh(fb).resolved_at is not None


def test_serious_complaints_need_the_management_representative(people: People) -> None:
    fb = in_resolution(people, severity=Severity.SERIOUS, severity_proposed=Severity.SERIOUS)
    res = res_svc.propose_resolution(fb, by=people.cs, version=fb.version, remedies=["apology"])
    assert [a.role for a in res.approvals.all()] == ["management_rep"]


def test_a_repair_needs_no_approval_and_changing_remedies_withdraws_the_agreement(
    people: People,
) -> None:
    fb = in_resolution(people)
    res = res_svc.propose_resolution(fb, by=people.cs, version=fb.version, remedies=["repair"])
    assert not res.approvals.exists()
    res = res_svc.agree_resolution(res, by=people.cs, version=res.version)
    fb = fresh(fb)
    res = res_svc.propose_resolution(fb, by=people.cs, version=fb.version, remedies=["refund"])
    assert res.agreed_at is None and not res.is_agreed
    with pytest.raises(ValidationError):
        res_svc.propose_resolution(fb, by=people.cs, version=fresh(fb).version, remedies=["x"])
    with pytest.raises(ValidationError):
        res_svc.propose_resolution(
            fresh(fb), by=people.cs, version=fresh(fb).version, remedies=["compensation"]
        )


def test_reply_only_after_the_agreement_and_mailed_where_there_is_an_address(
    people: People, mailoutbox: list[Any]
) -> None:
    fb = in_resolution(people)
    res = res_svc.propose_resolution(
        fb, by=people.cs, version=fb.version, remedies=["repair"], reply_text="We repair it."
    )
    with pytest.raises(ValidationError) as exc:
        res_svc.send_reply(res, by=people.cs, version=res.version, channel="email")
    assert exc.value.messages == ["Record the internal agreement before the reply."]
    assert mailoutbox == []
    res = res_svc.agree_resolution(res, by=people.cs, version=res.version)
    res = res_svc.send_reply(res, by=people.cs, version=res.version, channel="email")
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["wang@hospital.example"] and mail.body == "We repair it."
    assert fb.number in mail.subject
    msg = Correspondence.objects.get(feedback=fb)
    assert (msg.direction, msg.channel, msg.body) == ("out", "email", "We repair it.")
    fb = fresh(fb)
    assert fb.status == Feedback.Status.REPLIED and fb.first_response_at == res.reply_sent_at


def test_no_address_no_email(people: People, mailoutbox: list[Any]) -> None:
    fb = in_resolution(people, complainant_email="")
    res = res_svc.propose_resolution(
        fb, by=people.cs, version=fb.version, remedies=["repair"], reply_text="We call you."
    )
    res = res_svc.agree_resolution(res, by=people.cs, version=res.version)
    with pytest.raises(ValidationError):
        res_svc.send_reply(res, by=people.cs, version=res.version, channel="email")
    res = res_svc.send_reply(fresh(res), by=people.cs, version=fresh(res).version, channel="phone")
    assert mailoutbox == [] and res.reply_channel == "phone"


def test_rejected_confirmation_sends_it_back_to_resolution(people: People) -> None:
    fb = in_resolution(people)
    res = replied(fb, people)
    with pytest.raises(ValidationError):
        res_svc.record_confirmation(res, by=people.cs, version=res.version, confirmation="rejected")
    res = res_svc.record_confirmation(
        res, by=people.cs, version=res.version, confirmation="rejected", note="Wants a new one."
    )
    fb = fresh(fb)
    assert fb.status == Feedback.Status.RESOLUTION
    new = res_svc.propose_resolution(fb, by=people.cs, version=fb.version, remedies=["replace"])
    assert new.pk != res.pk and fresh(fb).current_resolution == new


def test_callback_is_a_my_work_item_until_done(people: People) -> None:
    fb = in_resolution(people)
    res = replied(fb, people)
    due = timezone.localdate() + dt.timedelta(days=7)
    with pytest.raises(ValidationError):
        res_svc.schedule_callback(
            res, by=people.cs, version=res.version, due=timezone.localdate() - dt.timedelta(days=1)
        )
    res = res_svc.schedule_callback(res, by=people.cs, version=res.version, due=due)
    items = [w for w in work_for(people.cs) if f"Call back the customer: {fb.number}" in w.title]
    assert len(items) == 1 and items[0].url.endswith("#resolution")
    assert not [w for w in work_for(people.quality) if "Call back" in w.title]
    with pytest.raises(ValidationError):
        res_svc.record_callback(res, by=people.cs, version=res.version, note="")
    res_svc.record_callback(res, by=people.cs, version=res.version, note="Pump works well.")
    assert not [w for w in work_for(people.cs) if f"Call back the customer: {fb.number}" in w.title]


def test_closure_guards_and_quality_signature(people: People) -> None:
    fb = in_resolution(people)
    # not before the agreement and the reply
    with pytest.raises(ValidationError) as exc:
        res_svc.close_feedback(fb, by=people.quality, password=PASSWORD)
    assert "The resolution is not agreed internally." in exc.value.messages
    res = replied(fb, people)
    with pytest.raises(ValidationError) as exc:
        res_svc.close_feedback(fresh(fb), by=people.quality, password=PASSWORD)
    assert exc.value.messages == ["Record the customer's confirmation."]
    res = res_svc.record_confirmation(
        res, by=people.cs, version=res.version, confirmation="accepted"
    )
    res = res_svc.schedule_callback(
        res, by=people.cs, version=res.version, due=timezone.localdate()
    )
    with pytest.raises(ValidationError) as exc:
        res_svc.close_feedback(fresh(fb), by=people.quality, password=PASSWORD)
    assert exc.value.messages == ["The scheduled call-back is not done."]
    res_svc.record_callback(res, by=people.cs, version=res.version, note="Satisfied.")
    with pytest.raises(PermissionDenied):
        res_svc.close_feedback(fresh(fb), by=people.cs, password=PASSWORD)
    entries = AuditEntry.objects.count()
    fb = res_svc.close_feedback(fresh(fb), by=people.quality, password=PASSWORD, comment="OK")
    assert fb.status == Feedback.Status.CLOSED and fb.closed_at is not None
    sig = signatures_for(fb).get()
    assert (sig.signer, sig.meaning) == (people.quality, "closed")
    assert AuditEntry.objects.count() > entries


def test_not_quality_relevant_complaint_goes_straight_to_resolution(people: People) -> None:
    fb = routed_complaint(people.cs, category=Category.SERVICE_ATTITUDE)
    res_svc.propose_resolution(fb, by=people.cs, version=fb.version, remedies=["apology"])
    assert fresh(fb).status == Feedback.Status.RESOLUTION


def test_reopen_needs_a_reason(people: People) -> None:
    fb = routed_complaint(people.cs, category=Category.SERVICE_ATTITUDE)
    res = replied(fb, people, remedies=["apology"])
    res_svc.record_confirmation(res, by=people.cs, version=res.version, confirmation="no_answer")
    fb = res_svc.close_feedback(fresh(fb), by=people.quality, password=PASSWORD)
    with pytest.raises(ValidationError):
        res_svc.reopen_feedback(fb, by=people.quality, version=fb.version, reason=" ")
    assert fresh(fb).status == Feedback.Status.CLOSED
    fb = res_svc.reopen_feedback(
        fb, by=people.quality, version=fb.version, reason="The customer called again."
    )
    assert fb.status == Feedback.Status.ROUTED and fb.reopen_count == 1 and fb.closed_at is None
    assert fb.reopen_reason == "The customer called again."
