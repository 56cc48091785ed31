"""CAPA-1: the CAPA record and its actions, from any source or directly; verification of
effectiveness; closure with the closer's e-signature; the complaint hand-off and the "no CAPA
needed" decisions that arrive from complaint evaluations (FBK-5)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.models import Signature
from medvigil.core.permissions import require

from ..models import Capa, CapaAction, SourceKind
from ._common import clean_text, lock, only_fields

ADD_PERM = "capa.add_capa"
CHANGE_PERM = "capa.change_capa"
CLOSE_PERM = "capa.close_capa"
ACTION_PERM = "capa.change_capaaction"

EDITABLE = (
    "title",
    "kind",
    "source_kind",
    "problem",
    "risk",
    "risk_assessment",
    "containment",
    "method",
    "factor",
    "whys",
    "analysis",
    "root_cause",
    "due_date",
    "owner",
)
ACTION_EDITABLE = ("kind", "description", "owner", "due_date")


def _check_fields(obj: Any, fields: dict[str, Any]) -> None:
    for name in ("title", "problem"):
        if name in fields:
            fields[name] = clean_text(fields[name], name, required=True)
    for name in ("risk_assessment", "containment", "analysis", "root_cause", "description"):
        if name in fields:
            fields[name] = clean_text(fields[name], name, required=name == "description")
    for name, value in fields.items():
        setattr(obj, name, value)


def create_capa(
    *,
    by: Any,
    title: str,
    problem: str,
    source_kind: str = SourceKind.DIRECT,
    source: Any = None,
    owner: Any = None,
    **fields: Any,
) -> Capa:
    """CAPA-1: open a CAPA from a source (a kind, and optionally the source record itself,
    linked generically) or directly. Perm: capa.add_capa."""
    require(by, ADD_PERM)
    only_fields(fields, set(EDITABLE) - {"title", "problem", "source_kind", "owner"})
    with transaction.atomic(), audit_context(actor=by, reason=_("CAPA opened")):
        capa = Capa(source_kind=source_kind, owner=owner or by)
        _check_fields(capa, {"title": title, "problem": problem, **fields})
        if source is not None:
            capa.link_source(source)
        capa.assign_number()
        capa.full_clean(exclude=["evaluation"])
        capa.save()
    return capa


def update_capa(capa: Capa, *, by: Any, version: Any, **fields: Any) -> Capa:
    """Edit an open CAPA (problem, risk, containment, root cause, target date, owner) as read
    (a stale version: ConflictError). Perm: capa.change_capa."""
    require(by, CHANGE_PERM)
    only_fields(fields, EDITABLE)
    with transaction.atomic(), audit_context(actor=by):
        obj = lock(Capa, capa.pk)
        obj.check_version(version)
        if not obj.is_open:
            raise ValidationError(_("Only an open CAPA can be changed."))
        _check_fields(obj, dict(fields))
        obj.full_clean(exclude=["evaluation"])
        obj.save()
    return obj


def void_capa(capa: Capa, *, by: Any, reason: str) -> Capa:
    require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by, reason=reason):
        obj = lock(Capa, capa.pk)
        obj.mark_voided(reason)
        obj.save()
    return obj


# --- actions -------------------------------------------------------------------------------


def _check_due(due_date: Any) -> None:
    if not isinstance(due_date, dt.date):
        raise ValidationError({"due_date": _("Enter a valid date.")})
    if due_date < timezone.localdate():
        raise ValidationError({"due_date": _("The due date cannot be in the past.")})


def add_action(
    capa: Capa,
    *,
    by: Any,
    description: str,
    owner: Any,
    due_date: dt.date,
    kind: str = CapaAction.Kind.CORRECTIVE,
) -> CapaAction:
    """CAPA-1: an action with its owner and due date (tracked on "My work", alerted and
    escalated by the deadline checker). Only on an open CAPA. Perm: capa.change_capa."""
    require(by, CHANGE_PERM)
    if owner is None:
        raise ValidationError({"owner": _("Name the owner of the action.")})
    _check_due(due_date)
    with transaction.atomic(), audit_context(actor=by, reason=_("CAPA action planned")):
        obj = lock(Capa, capa.pk)
        if not obj.is_open:
            raise ValidationError(_("Actions can only be added to an open CAPA."))
        action = CapaAction(capa=obj, owner=owner, due_date=due_date, kind=kind)
        action.description = clean_text(description, "description", required=True)
        action.full_clean()
        action.save()
    return action


def may_act(action: CapaAction, by: Any) -> bool:
    """The action's owner updates it; quality (capa.change_capa) any action."""
    if by.has_perm(CHANGE_PERM):
        return True
    return bool(by.has_perm(ACTION_PERM) and action.owner_id == by.pk)


def _may_act(action: CapaAction, by: Any) -> None:
    if not may_act(action, by):
        raise PermissionDenied


def update_action(action: CapaAction, *, by: Any, version: Any, **fields: Any) -> CapaAction:
    """Change an open action's description, owner, due date or kind. Perm: capa.change_capa."""
    require(by, CHANGE_PERM)
    only_fields(fields, ACTION_EDITABLE)
    if "owner" in fields and fields["owner"] is None:
        raise ValidationError({"owner": _("Name the owner of the action.")})
    with transaction.atomic(), audit_context(actor=by):
        obj = lock(CapaAction, action.pk)
        obj.check_version(version)
        if not obj.is_open:
            raise ValidationError(_("Only an open action can be changed."))
        if "due_date" in fields and fields["due_date"] != obj.due_date:
            _check_due(fields["due_date"])  # an overdue action keeps its date unless moved
        _check_fields(obj, dict(fields))
        obj.full_clean()
        obj.save()
    return obj


def complete_action(action: CapaAction, *, by: Any, version: Any, result: str) -> CapaAction:
    """The owner (or quality) records the action as done with its result."""
    _may_act(action, by)
    result = clean_text(result, "result", required=True)
    with transaction.atomic(), audit_context(actor=by, reason=_("CAPA action done")):
        obj = lock(CapaAction, action.pk)
        obj.check_version(version)
        if not obj.is_open:
            raise ValidationError(_("The action is not open."))
        obj.status = CapaAction.Status.DONE
        obj.result = result
        obj.done_at = timezone.now()
        obj.save()
    return obj


def cancel_action(action: CapaAction, *, by: Any, version: Any, reason: str) -> CapaAction:
    """Cancel an action that is no longer needed, with the reason. Perm: capa.change_capa."""
    require(by, CHANGE_PERM)
    reason = clean_text(reason, "reason", required=True)
    with transaction.atomic(), audit_context(actor=by, reason=reason):
        obj = lock(CapaAction, action.pk)
        obj.check_version(version)
        if not obj.is_open:
            raise ValidationError(_("The action is not open."))
        obj.status = CapaAction.Status.CANCELLED
        obj.result = reason
        obj.save()
    return obj


# --- effectiveness and closure ---------------------------------------------------------------


def verify_effectiveness(
    capa: Capa,
    *,
    by: Any,
    version: Any,
    effective: bool,
    evidence: str,
    verified_on: dt.date | None = None,
) -> Capa:
    """CAPA-1 (seed 000 8.2.3 (5) 跟踪验证): record whether the actions were effective, with
    the evidence (documents go on the CAPA as attachments) and the date. Only once every
    action is done or cancelled. "Not effective" leaves the CAPA open for new actions.
    Perm: capa.change_capa."""
    require(by, CHANGE_PERM)
    evidence = clean_text(evidence, "effectiveness_evidence", required=True)
    if not isinstance(effective, bool):
        raise ValidationError({"effective": _("Say whether the actions were effective.")})
    verified_on = verified_on or timezone.localdate()
    if not isinstance(verified_on, dt.date) or verified_on > timezone.localdate():
        raise ValidationError(
            {"effectiveness_verified_on": _("The verification date cannot be in the future.")}
        )
    with transaction.atomic(), audit_context(actor=by, reason=_("Effectiveness verified")):
        obj = lock(Capa, capa.pk)
        obj.check_version(version)
        if not obj.is_open:
            raise ValidationError(_("Only an open CAPA can be verified."))
        still_open = obj.open_actions()
        if still_open:
            raise ValidationError(
                _("Verify the effectiveness once every action is done: %(list)s still open.")
                % {"list": ", ".join(a.label for a in still_open)}
            )
        obj.effective = effective
        obj.effectiveness_evidence = evidence
        obj.effectiveness_verified_on = verified_on
        obj.effectiveness_verified_by = by
        obj.save()
    return obj


def close_capa(
    capa: Capa, *, by: Any, password: str, comment: str = "", request: Any = None
) -> Capa:
    """CAPA-1: close with the closer's e-signature (meaning "closed"). Refused with the reasons
    (Capa.close_errors) while an action is open or the effectiveness is not verified as
    effective. Perm: capa.close_capa."""
    from medvigil.core.signatures.services import apply_signature, check_signer

    require(by, CLOSE_PERM)
    errors = capa.close_errors()
    if errors:
        raise ValidationError(errors)
    check = check_signer(
        capa, user=by, password=password or "", request=request, meaning=Signature.Meaning.CLOSED
    )
    with transaction.atomic(), audit_context(actor=by, reason=comment or _("CAPA closed")):
        obj = lock(Capa, capa.pk)
        errors = obj.close_errors()
        if errors:
            raise ValidationError(errors)
        obj.status = Capa.Status.CLOSED
        obj.closed_at = timezone.now()
        obj.closed_by = by
        obj.save()
        apply_signature(obj, check, reason=comment)
    return obj


# --- the complaint hand-off (FBK-5 → CAPA-1) -------------------------------------------------


def complaint_prefill(evaluation: Any) -> dict[str, Any]:
    """What a CAPA opened from a complaint starts with: the complaint's title and description,
    quality's evaluation summary, its root cause when an investigation found one."""
    fb = evaluation.feedback
    parts = [fb.description]
    if evaluation.summary:
        parts.append(_("Evaluation: %(s)s") % {"s": evaluation.summary})
    values: dict[str, Any] = {
        "title": fb.title[:200],
        "problem": "\n\n".join(p for p in parts if p),
        "source_kind": SourceKind.COMPLAINT,
    }
    inv = fb.investigations.filter(completed_at__isnull=False).order_by("-completed_at").first()
    if inv is not None:
        values.update(
            method=inv.method, factor=inv.factor, analysis=inv.analysis, root_cause=inv.root_cause
        )
    return values


def open_capa_from_complaint(evaluation: Any, *, by: Any, **fields: Any) -> Capa:
    """FBK-5 → CAPA-1: take a complaint's pending CAPA hand-off (Evaluation.capa_handoff
    PENDING): a CAPA prefilled from the complaint (complaint_prefill, overridden by `fields`),
    linked to the complaint, and the hand-off completed with the CAPA's number (complaints'
    complete_handoff), in one transaction. Perm: capa.add_capa."""
    from medvigil.complaints.models import Handoff
    from medvigil.complaints.services.evaluation import complete_handoff

    require(by, ADD_PERM)
    if evaluation.capa_handoff != Handoff.PENDING:
        raise ValidationError(_("This complaint is not waiting for a CAPA."))
    values = {**complaint_prefill(evaluation), **fields}
    values["source_kind"] = SourceKind.COMPLAINT
    with transaction.atomic():
        capa = create_capa(by=by, source=evaluation.feedback, **values)
        with audit_context(actor=by, reason=_("CAPA opened from the complaint")):
            capa.evaluation = evaluation
            capa.save()
        complete_handoff(evaluation, kind="capa", reference=capa.number, by=by)
    return capa


def record_no_capa_decision(evaluation: Any) -> Capa | None:
    """FBK-5: a complaint evaluation that decided "no CAPA needed" arrives here as a record
    (status NOT_NEEDED) with its justification, and later its approval by the management
    representative. Called when an evaluation is saved (apps.py connects it); idempotent."""
    if evaluation.capa_needed or evaluation.evaluated_at is None:
        return None
    with transaction.atomic():
        existing = Capa.objects.select_for_update().filter(evaluation=evaluation).first()
        if existing is not None:
            if (
                existing.status == Capa.Status.NOT_NEEDED
                and evaluation.approved_at is not None
                and existing.decision_approved_at is None
            ):
                with audit_context(reason=_("No-CAPA decision approved")):
                    existing.decision_approved_by_id = evaluation.approved_by_id
                    existing.decision_approved_at = evaluation.approved_at
                    existing.save()
            return existing
        fb = evaluation.feedback
        with audit_context(reason=_("No-CAPA decision from the complaint evaluation")):
            capa = Capa(
                title=fb.title[:200],
                problem=fb.description or fb.title,
                source_kind=SourceKind.COMPLAINT,
                status=Capa.Status.NOT_NEEDED,
                evaluation=evaluation,
                justification=evaluation.no_capa_justification,
                owner_id=evaluation.evaluated_by_id,
                decision_approved_by_id=evaluation.approved_by_id,
                decision_approved_at=evaluation.approved_at,
            )
            capa.link_source(fb)
            capa.save()
    return capa


def pending_complaint_handoffs(user: Any) -> Any:
    """The complaint evaluations waiting for a CAPA that the user may see (through the access
    helper on the complaints)."""
    from medvigil.complaints.models import Evaluation, Feedback, Handoff
    from medvigil.core.permissions import scope_for_user

    if not user.has_perm(ADD_PERM):
        return Evaluation.objects.none()
    return (
        Evaluation.objects.filter(
            capa_handoff=Handoff.PENDING,
            feedback__in=scope_for_user(user, Feedback).values("pk"),
        )
        .select_related("feedback")
        .order_by("decided_at")
    )
