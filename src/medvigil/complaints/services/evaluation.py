"""FBK-5: quality's evaluation of a complaint (a required step for complaints about the device,
Feedback.is_quality_relevant). Models: Evaluation (questions, outcome, hand-offs, approval)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.models import Signature
from medvigil.core.permissions import require

from ..models import Answer, Evaluation, Feedback, Handoff
from ._stage import lock, lock_feedback, only_fields, require_status

EVALUATE_PERM = "complaints.evaluate_feedback"
APPROVE_PERM = "complaints.approve_feedback"

# What record_evaluation edits besides the questions.
OUTCOME_FIELDS = (
    "question_notes",
    "summary",
    "adverse_event",
    "capa_needed",
    "no_capa_justification",
    "investigate",
    "not_investigated_justification",
    "same_as",
)
EDITABLE = (*Evaluation.QUESTIONS, *OUTCOME_FIELDS)


def _justification_message(field: str) -> str:
    if field == "no_capa_justification":
        return _("Write why no CAPA is needed.")
    return _("Write why the complaint is not investigated.")


def start_evaluation(feedback: Feedback, *, by: Any, version: Any) -> Evaluation:
    """Move a routed complaint to "in evaluation" (guard Feedback.can_start_evaluation) and
    create its Evaluation; record `quality_received_at` when not yet set. Perm:
    complaints.evaluate_feedback."""
    require(by, EVALUATE_PERM)
    with transaction.atomic(), audit_context(actor=by, reason=_("Evaluation started")):
        fb = lock_feedback(feedback.pk)
        fb.check_version(version)
        if not fb.can_start_evaluation():
            raise ValidationError(_("The complaint cannot go to evaluation now."))
        fb.status = Feedback.Status.EVALUATION
        if fb.quality_received_at is None:
            fb.quality_received_at = timezone.now()
        fb.save()
        return Evaluation.objects.create(feedback=fb)


def check_same_as(evaluation: Evaluation, same_as: Feedback | None) -> None:
    """FBK-5: "not investigated" names the complaint where the same problem was investigated;
    that complaint must have a completed investigation."""
    if same_as is None:
        return
    if same_as.pk == evaluation.feedback_id:
        raise ValidationError({"same_as": _("Link another complaint, not this one.")})
    if not same_as.investigations.filter(completed_at__isnull=False).exists():
        raise ValidationError(
            {"same_as": _("%(n)s has no completed investigation.") % {"n": same_as.number}}
        )


def completion_errors(ev: Evaluation) -> dict[str, list[str]]:
    """What keeps the evaluation from being complete (FBK-5): every question answered, the
    justifications of "no CAPA" and "not investigated", the complaint already investigated."""
    errors: dict[str, list[str]] = {}
    for q in Evaluation.QUESTIONS:
        if not getattr(ev, q):
            errors[q] = [_("Answer this question.")]
    for field in ev.missing_justifications():
        errors[field] = [_justification_message(field)]
    if not ev.investigate and ev.same_as_id is None:
        errors["same_as"] = [_("Name the complaint in which the same problem was investigated.")]
    return errors


def record_evaluation(
    evaluation: Evaluation, *, by: Any, version: Any, complete: bool = False, **answers: Any
) -> Evaluation:
    """Save the answers to the FBK-5 questions (Evaluation.QUESTIONS), notes, summary and the
    outcome (adverse_event, capa_needed, investigate, justifications, same_as). With
    complete=True: every question answered, justifications present
    (Evaluation.missing_justifications), evaluated_by/at and decided_at set; hand-offs for an
    adverse event or a CAPA set to Handoff.PENDING (the vigilance and CAPA apps take them)."""
    require(by, EVALUATE_PERM)
    only_fields(answers, EDITABLE)
    with transaction.atomic(), audit_context(actor=by, reason=_("Evaluation recorded")):
        ev = lock(Evaluation, evaluation.pk)
        ev.check_version(version)
        fb = lock_feedback(ev.feedback_id)
        require_status(fb, Feedback.Status.EVALUATION)
        if ev.evaluated_at is not None:
            raise ValidationError(_("The evaluation is completed; it cannot be changed."))
        for q in Evaluation.QUESTIONS:
            if q in answers and answers[q] not in ("", *Answer.values):
                raise ValidationError({q: _("Choose from the list.")})
        if "same_as" in answers:
            check_same_as(ev, answers["same_as"])
        for name, value in answers.items():
            setattr(ev, name, value)
        if ev.capa_needed:
            ev.no_capa_justification = ""
        if ev.investigate:
            ev.not_investigated_justification = ""
            ev.same_as = None
        ev.full_clean(exclude=["feedback"])
        if complete:
            errors = completion_errors(ev)
            if errors:
                raise ValidationError(errors)
            now = timezone.now()
            ev.evaluated_by = by
            ev.evaluated_at = now
            ev.decided_at = now
            ev.adverse_event_handoff = Handoff.PENDING if ev.adverse_event else Handoff.NOT_NEEDED
            ev.capa_handoff = Handoff.PENDING if ev.capa_needed else Handoff.NOT_NEEDED
        ev.save()
        return ev


def approve_evaluation(
    evaluation: Evaluation,
    *,
    by: Any,
    password: str,
    comment: str = "",
    request: Any = None,
) -> Evaluation:
    """The management representative's e-signature on "no CAPA" / "not investigated"
    (Evaluation.needs_approval): signs through core.signatures, sets approved_by/at. Perm:
    complaints.approve_feedback."""
    from medvigil.core.signatures.services import apply_signature, check_signer

    require(by, APPROVE_PERM)
    _check_approvable(evaluation)
    # Phase 1 of the signature outside our transaction: a refused attempt stays in the trail.
    check = check_signer(
        evaluation,
        user=by,
        password=password or "",
        request=request,
        meaning=Signature.Meaning.APPROVED,
    )
    with transaction.atomic(), audit_context(actor=by, reason=comment or _("Evaluation approved")):
        ev = lock(Evaluation, evaluation.pk)
        _check_approvable(ev)
        ev.approved_by = by
        ev.approved_at = timezone.now()
        ev.save()
        apply_signature(ev, check, reason=comment)
        return ev


def _check_approvable(ev: Evaluation) -> None:
    if ev.evaluated_at is None:
        raise ValidationError(_("Complete the evaluation before it is approved."))
    if not ev.needs_approval:
        raise ValidationError(_("This evaluation needs no approval."))
    if ev.approved_at is not None:
        raise ValidationError(_("The evaluation is already approved."))
    missing = ev.missing_justifications()
    if missing:
        raise ValidationError([_justification_message(f) for f in missing])


def complete_handoff(evaluation: Evaluation, *, kind: str, reference: str, by: Any) -> Evaluation:
    """Called by the vigilance / CAPA app when it has taken the hand-off ("adverse_event" or
    "capa"): sets the *_handoff to Handoff.DONE and stores the reference."""
    if kind not in ("adverse_event", "capa"):
        raise ValidationError(_("Unknown hand-off."))
    if not (reference or "").strip():
        raise ValidationError({"reference": _("Give the reference of the record taking it.")})
    with transaction.atomic(), audit_context(actor=by, reason=_("Hand-off taken")):
        ev = lock(Evaluation, evaluation.pk)
        if getattr(ev, f"{kind}_handoff") != Handoff.PENDING:
            raise ValidationError(_("Nothing is waiting for this hand-off."))
        setattr(ev, f"{kind}_handoff", Handoff.DONE)
        setattr(ev, f"{kind}_reference", reference.strip()[:60])
        ev.save()
        return ev
