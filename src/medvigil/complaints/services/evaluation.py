"""FBK-5: quality's evaluation of a complaint (a required step for complaints about the device,
Feedback.is_quality_relevant). Models: Evaluation (questions, outcome, hand-offs, approval)."""

from __future__ import annotations

from typing import Any

from ..models import Evaluation, Feedback
from ._skeleton import todo


def start_evaluation(feedback: Feedback, *, by: Any, version: Any) -> Evaluation:
    """Move a routed complaint to "in evaluation" (guard Feedback.can_start_evaluation) and
    create its Evaluation; record `quality_received_at` when not yet set. Perm:
    complaints.evaluate_feedback."""
    raise todo("start_evaluation")


def record_evaluation(
    evaluation: Evaluation, *, by: Any, version: Any, complete: bool = False, **answers: Any
) -> Evaluation:
    """Save the answers to the FBK-5 questions (Evaluation.QUESTIONS), notes, summary and the
    outcome (adverse_event, capa_needed, investigate, justifications, same_as). With
    complete=True: every question answered, justifications present
    (Evaluation.missing_justifications), evaluated_by/at and decided_at set; hand-offs for an
    adverse event or a CAPA set to Handoff.PENDING (the vigilance and CAPA apps take them)."""
    raise todo("record_evaluation")


def approve_evaluation(
    evaluation: Evaluation, *, by: Any, password: str, comment: str = ""
) -> Evaluation:
    """The management representative's e-signature on "no CAPA" / "not investigated"
    (Evaluation.needs_approval): signs through core.signatures, sets approved_by/at. Perm:
    complaints.approve_feedback."""
    raise todo("approve_evaluation")


def complete_handoff(evaluation: Evaluation, *, kind: str, reference: str, by: Any) -> Evaluation:
    """Called by the vigilance / CAPA app when it has taken the hand-off ("adverse_event" or
    "capa"): sets the *_handoff to Handoff.DONE and stores the reference."""
    raise todo("complete_handoff")
