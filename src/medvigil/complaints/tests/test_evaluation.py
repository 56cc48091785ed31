"""FBK-5: quality's evaluation — the questions one by one, the outcome and its hand-offs, and
the management representative's e-signature on "no CAPA" / "not investigated"."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from medvigil.conftest import PASSWORD
from medvigil.core.models import AuditEntry
from medvigil.core.signatures.services import SignatureError, signatures_for

from ..models import Feedback, Handoff
from ..services import evaluation as ev_svc
from ..services import investigation as inv_svc
from ..services import resolution as res_svc
from .flow_builders import ANSWERS, People, evaluated, fresh, investigated, people, routed_complaint

__all__ = ["people"]

pytestmark = [pytest.mark.django_db, pytest.mark.req("FBK-5")]


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Any:
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def test_start_moves_the_complaint_to_evaluation_and_stamps_quality(people: People) -> None:
    fb = routed_complaint(people.cs)
    ev = ev_svc.start_evaluation(fb, by=people.quality, version=fb.version)
    fb = fresh(fb)
    assert fb.status == Feedback.Status.EVALUATION
    assert fb.quality_received_at is not None
    assert ev.feedback_id == fb.pk


def test_only_quality_evaluates(people: People) -> None:
    fb = routed_complaint(people.cs)
    with pytest.raises(PermissionDenied):
        ev_svc.start_evaluation(fb, by=people.cs, version=fb.version)
    assert fresh(fb).status == Feedback.Status.ROUTED


def test_questions_are_recorded_one_by_one(people: People) -> None:
    fb = routed_complaint(people.cs)
    ev = ev_svc.start_evaluation(fb, by=people.quality, version=fb.version)
    ev = ev_svc.record_evaluation(ev, by=people.quality, version=ev.version, nonconforming="yes")
    ev = ev_svc.record_evaluation(
        ev,
        by=people.quality,
        version=ev.version,
        misused="no",
        question_notes={"misused": "Used as in the IFU."},
    )
    ev = fresh(ev)
    assert (ev.nonconforming, ev.misused, ev.ifu_inadequate) == ("yes", "no", "")
    assert ev.evaluated_at is None
    with pytest.raises(ValidationError) as exc:
        ev_svc.record_evaluation(ev, by=people.quality, version=ev.version, complete=True)
    assert "ifu_inadequate" in exc.value.error_dict
    with pytest.raises(ValidationError):
        ev_svc.record_evaluation(ev, by=people.quality, version=ev.version, misused="maybe")


def test_adverse_event_and_capa_are_pending_hand_offs(people: People) -> None:
    fb = routed_complaint(people.cs)
    ev = evaluated(fb, people, adverse_event=True, capa_needed=True)
    assert ev.adverse_event_handoff == Handoff.PENDING
    assert ev.capa_handoff == Handoff.PENDING
    assert ev.decided_at is not None and ev.evaluated_by == people.quality
    assert not ev.needs_approval and ev.is_approved
    ev = ev_svc.complete_handoff(ev, kind="capa", reference="CAPA-2026-001", by=people.quality)
    assert (ev.capa_handoff, ev.capa_reference) == (Handoff.DONE, "CAPA-2026-001")


def test_no_capa_needs_a_justification_refused_without_and_nothing_changed(
    people: People,
) -> None:
    fb = routed_complaint(people.cs)
    ev = ev_svc.start_evaluation(fb, by=people.quality, version=fb.version)
    entries = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        ev_svc.record_evaluation(
            ev, by=people.quality, version=ev.version, complete=True, **ANSWERS, capa_needed=False
        )
    assert exc.value.error_dict["no_capa_justification"][0].messages == [
        "Write why no CAPA is needed."
    ]
    ev = fresh(ev)
    assert ev.evaluated_at is None and ev.nonconforming == ""
    assert AuditEntry.objects.count() == entries


def test_no_capa_needs_the_management_representatives_signature(people: People) -> None:
    fb = routed_complaint(people.cs)
    ev = evaluated(
        fb, people, capa_needed=False, no_capa_justification="A single event, user error."
    )
    assert ev.needs_approval and not ev.is_approved
    # the investigation waits for the signature
    assert not fresh(fb).can_start_investigation()
    with pytest.raises(ValidationError):
        inv_svc.start_investigation(fresh(fb), by=people.engineer, version=fresh(fb).version)
    # quality cannot approve its own decision; a wrong password is refused
    with pytest.raises(PermissionDenied):
        ev_svc.approve_evaluation(ev, by=people.quality, password=PASSWORD)
    with pytest.raises(SignatureError):
        ev_svc.approve_evaluation(ev, by=people.mr, password="wrong")
    ev = fresh(ev)
    assert ev.approved_at is None and not signatures_for(ev).exists()
    ev = ev_svc.approve_evaluation(ev, by=people.mr, password=PASSWORD, comment="Agreed.")
    assert ev.approved_by == people.mr and ev.is_approved
    sig = signatures_for(ev).get()
    assert (sig.signer, sig.meaning) == (people.mr, "approved")
    inv = inv_svc.start_investigation(fresh(fb), by=people.engineer, version=fresh(fb).version)
    assert inv.investigator == people.engineer


def test_not_investigated_links_the_investigated_complaint_and_is_signed(
    people: People,
) -> None:
    earlier = routed_complaint(people.cs)
    evaluated(earlier, people)
    investigated(earlier, people)
    fb = routed_complaint(people.cs)
    ev = ev_svc.start_evaluation(fb, by=people.quality, version=fb.version)
    with pytest.raises(ValidationError) as exc:
        ev_svc.record_evaluation(
            ev,
            by=people.quality,
            version=ev.version,
            complete=True,
            **ANSWERS,
            capa_needed=True,
            investigate=False,
        )
    assert set(exc.value.error_dict) == {"not_investigated_justification", "same_as"}
    # a complaint that was never investigated cannot be the reference
    other = routed_complaint(people.cs)
    with pytest.raises(ValidationError) as exc:
        ev_svc.record_evaluation(
            ev, by=people.quality, version=ev.version, investigate=False, same_as=other
        )
    assert "same_as" in exc.value.error_dict
    ev = ev_svc.record_evaluation(
        fresh(ev),
        by=people.quality,
        version=fresh(ev).version,
        complete=True,
        **ANSWERS,
        capa_needed=True,
        investigate=False,
        same_as=earlier,
        not_investigated_justification=f"Same sensor drift as {earlier.number}.",
    )
    fb = fresh(fb)
    # not approved yet: no way to resolution
    assert not fb.can_start_resolution()
    with pytest.raises(ValidationError):
        res_svc.propose_resolution(fb, by=people.cs, version=fb.version, remedies=["repair"])
    assert fresh(fb).status == Feedback.Status.EVALUATION
    ev_svc.approve_evaluation(ev, by=people.mr, password=PASSWORD)
    fb = fresh(fb)
    assert fb.can_start_resolution() and not fb.can_start_investigation()
    res_svc.propose_resolution(fb, by=people.cs, version=fb.version, remedies=["repair"])
    assert fresh(fb).status == Feedback.Status.RESOLUTION


def test_completed_evaluation_is_frozen(people: People) -> None:
    fb = routed_complaint(people.cs)
    ev = evaluated(fb, people)
    with pytest.raises(ValidationError):
        ev_svc.record_evaluation(ev, by=people.quality, version=ev.version, summary="changed")
    with pytest.raises(ValidationError):
        ev_svc.approve_evaluation(ev, by=people.mr, password=PASSWORD)
