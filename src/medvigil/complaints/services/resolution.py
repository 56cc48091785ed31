"""FBK-7: resolution, internal agreement, reply, confirmation, call-back, closure, reopening.
Models: Resolution, ResolutionApproval, Correspondence."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.models import Signature
from medvigil.core.permissions import require

from ..models import Channel, Correspondence, Feedback, Remedy, Resolution, ResolutionApproval
from ._stage import lock, lock_feedback, only_fields, require_status

EDITABLE = (
    "remedies",
    "remedy_detail",
    "compensation_amount",
    "corrective_action",
    "reply_text",
)
CLOSE_PERM = "complaints.evaluate_feedback"  # quality closes (seed 003 3.2)


def _editable_resolution(fb: Feedback) -> Resolution | None:
    """The resolution still being worked on: the newest one not yet replied."""
    res = fb.current_resolution
    return res if res is not None and not res.is_replied else None


def propose_resolution(feedback: Feedback, *, by: Any, version: Any, **fields: Any) -> Resolution:
    """Create or edit the current Resolution (remedies, detail, amount, corrective action, reply
    text) while the complaint is in resolution; creates the ResolutionApproval rows the remedies
    need (division head "general_manager" for Resolution.needs_division_head, seed 003 3.4;
    "management_rep" for serious complaints, seed 003 顾客反馈控制程序 4.3.1).

    A complaint that may go to resolution (Feedback.can_start_resolution: evaluation approved
    as "not investigated", investigation completed, or no quality evaluation needed) moves
    there with its first proposal. Changing agreed remedies withdraws the agreement and the
    approvals given (they were given for other remedies)."""
    require(by, "complaints.change_resolution")
    only_fields(fields, EDITABLE)
    if "remedies" in fields:
        remedies = fields["remedies"]
        if not isinstance(remedies, list) or any(r not in Remedy.values for r in remedies):
            raise ValidationError({"remedies": _("Choose from the list.")})
        fields["remedies"] = sorted(set(remedies))
    with transaction.atomic(), audit_context(actor=by, reason=_("Resolution proposed")):
        fb = lock_feedback(feedback.pk)
        fb.check_version(version)
        if fb.status != Feedback.Status.RESOLUTION:
            if not fb.can_start_resolution() or fb.status == Feedback.Status.REPLIED:
                raise ValidationError(_("The complaint cannot go to resolution now."))
            fb.status = Feedback.Status.RESOLUTION
            fb.save()
        res = _editable_resolution(fb)
        res = Resolution(feedback=fb) if res is None else lock(Resolution, res.pk)
        before = list(res.remedies)
        for name, value in fields.items():
            setattr(res, name, value)
        res.full_clean(exclude=["feedback"])
        if not res.remedies:
            raise ValidationError({"remedies": _("Choose at least one remedy.")})
        if Remedy.COMPENSATION in res.remedies and res.compensation_amount is None:
            raise ValidationError({"compensation_amount": _("Give the compensation amount.")})
        changed = res.pk is not None and before != res.remedies
        if changed:
            res.agreed_at = None
            res.agreed_by = None
        res.save()
        _sync_approvals(res, reset=changed)
        return res


def _sync_approvals(res: Resolution, *, reset: bool) -> None:
    existing = {a.role: a for a in res.approvals.all()}
    for role in res.required_roles():
        if role not in existing:
            ResolutionApproval.objects.create(resolution=res, role=role)
        elif reset and existing[role].decision:
            a = existing[role]
            a.decision = ResolutionApproval.Decision.PENDING
            a.decided_by = None
            a.decided_at = None
            a.comment = ""
            a.save()


def decide_approval(
    approval: ResolutionApproval,
    *,
    by: Any,
    decision: str,
    password: str,
    comment: str = "",
    request: Any = None,
) -> ResolutionApproval:
    """An approver of the asked role approves or rejects, with an e-signature."""
    from medvigil.core.signatures.services import apply_signature, check_signer

    require(by, "complaints.change_resolutionapproval")
    if decision not in (ResolutionApproval.Decision.APPROVED, ResolutionApproval.Decision.REJECTED):
        raise ValidationError({"decision": _("Approve or reject.")})
    if decision == ResolutionApproval.Decision.REJECTED and not comment.strip():
        raise ValidationError({"comment": _("Say why the resolution is rejected.")})
    _check_decidable(approval, by)
    meaning = (
        Signature.Meaning.APPROVED
        if decision == ResolutionApproval.Decision.APPROVED
        else Signature.Meaning.REVIEWED
    )
    check = check_signer(
        approval, user=by, password=password or "", request=request, meaning=meaning
    )
    with transaction.atomic(), audit_context(actor=by, reason=comment or None):
        a = lock(ResolutionApproval, approval.pk)
        _check_decidable(a, by)
        a.decision = decision
        a.decided_by = by
        a.decided_at = timezone.now()
        a.comment = comment
        a.save()
        apply_signature(a, check, reason=comment)
        return a


def _check_decidable(a: ResolutionApproval, by: Any) -> None:
    if a.role not in by.role_codes():
        raise ValidationError(_("This approval is for another role."))
    res = a.resolution
    if res.feedback.status != Feedback.Status.RESOLUTION or res.is_replied:
        raise ValidationError(_("The resolution is no longer open for approval."))
    if a.role not in res.required_roles():
        raise ValidationError(_("The remedies no longer need this approval."))
    if a.decision:
        raise ValidationError(_("This approval is already decided."))


def agreement_errors(res: Resolution) -> list[str]:
    errors = []
    if not res.remedies:
        errors.append(_("Choose at least one remedy."))
    decided = {a.role: a for a in res.approvals.all()}
    for role in res.required_roles():
        a = decided.get(role)
        if a is None or a.decision != ResolutionApproval.Decision.APPROVED:
            errors.append(_("Waiting for the approval of: %(r)s") % {"r": role_label(role)})
    return errors


def role_label(code: str) -> str:
    from medvigil.accounts.models import Role

    role = Role.objects.filter(code=code).first()
    return str(role) if role else code


def agree_resolution(resolution: Resolution, *, by: Any, version: Any) -> Resolution:
    """Record the internal agreement (agreed_by/at) once every approval is given; required
    before the reply (FBK-7); sets Feedback.resolved_at."""
    require(by, "complaints.change_resolution")
    with transaction.atomic(), audit_context(actor=by, reason=_("Resolution agreed")):
        res = lock(Resolution, resolution.pk)
        res.check_version(version)
        fb = lock_feedback(res.feedback_id)
        require_status(fb, Feedback.Status.RESOLUTION)
        if res.agreed_at is not None:
            raise ValidationError(_("The resolution is already agreed."))
        errors = agreement_errors(res)
        if errors:
            raise ValidationError(errors)
        now = timezone.now()
        res.agreed_at = now
        res.agreed_by = by
        res.save()
        fb.resolved_at = now
        fb.save()
        return res


def send_reply(resolution: Resolution, *, by: Any, version: Any, channel: str) -> Resolution:
    """Keep the reply text, send it by e-mail when there is an address (a Correspondence "out"),
    set reply_sent_at/by and Feedback.first_response_at when unset; the complaint → replied."""
    require(by, "complaints.change_resolution")
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Choose from the list.")})
    with transaction.atomic(), audit_context(actor=by, reason=_("Reply sent")):
        res = lock(Resolution, resolution.pk)
        res.check_version(version)
        fb = lock_feedback(res.feedback_id)
        if res.is_replied:
            raise ValidationError(_("The reply is already sent."))
        if not res.is_agreed:
            raise ValidationError(_("Record the internal agreement before the reply."))
        if not res.reply_text.strip():
            raise ValidationError({"reply_text": _("Write the reply to the customer.")})
        if not fb.can_reply():
            raise ValidationError(_("The complaint cannot be replied to now."))
        address = fb.complainant_email.strip()
        if channel == Channel.EMAIL and not address:
            raise ValidationError(
                {"channel": _("The complainant has no e-mail address; choose another channel.")}
            )
        now = timezone.now()
        with translation.override(fb.language):
            subject = _("Re: your feedback %(n)s — %(t)s") % {"n": fb.number, "t": fb.title}
        message_id = ""
        if channel == Channel.EMAIL:
            message = EmailMessage(
                subject=subject,
                body=res.reply_text,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[address],
            )
            message.extra_headers["Message-ID"] = message_id = _message_id(fb, now)
            try:
                message.send(fail_silently=False)
            except Exception as exc:  # an SMTP error must not be a 500; nothing is saved
                raise ValidationError(
                    _("The e-mail could not be sent: %(e)s") % {"e": exc}
                ) from exc
        Correspondence.objects.create(
            feedback=fb,
            direction=Correspondence.Direction.OUT,
            channel=channel,
            at=now,
            address=address if channel == Channel.EMAIL else "",
            subject=subject[:300],
            body=res.reply_text,
            message_id=message_id,
        )
        res.reply_channel = channel
        res.reply_sent_at = now
        res.reply_sent_by = by
        res.save()
        fb.check_transition(Feedback.Status.REPLIED)
        fb.status = Feedback.Status.REPLIED
        if fb.first_response_at is None:
            fb.first_response_at = now
        fb.save()
        return res


def _message_id(fb: Feedback, now: dt.datetime) -> str:
    from django.core.mail import make_msgid

    return make_msgid(idstring=f"{fb.number}.{now:%Y%m%d%H%M%S}")


def record_confirmation(
    resolution: Resolution, *, by: Any, version: Any, confirmation: str, note: str = ""
) -> Resolution:
    """The customer's confirmation; "rejected" sends the complaint back to resolution."""
    require(by, "complaints.change_resolution")
    values = [v for v in Resolution.Confirmation.values if v]
    if confirmation not in values:
        raise ValidationError({"confirmation": _("Choose from the list.")})
    if confirmation == Resolution.Confirmation.REJECTED and not note.strip():
        raise ValidationError({"note": _("Write what the customer does not accept.")})
    with transaction.atomic(), audit_context(actor=by, reason=_("Customer's confirmation")):
        res = lock(Resolution, resolution.pk)
        res.check_version(version)
        fb = lock_feedback(res.feedback_id)
        require_status(fb, Feedback.Status.REPLIED)
        if not res.is_replied or res.confirmation:
            raise ValidationError(_("Nothing waits for the customer's confirmation."))
        res.confirmation = confirmation
        res.confirmed_at = timezone.now()
        res.confirmation_note = note
        res.save()
        if confirmation == Resolution.Confirmation.REJECTED:
            fb.check_transition(Feedback.Status.RESOLUTION)
            fb.status = Feedback.Status.RESOLUTION
            fb.save()
        return res


def schedule_callback(
    resolution: Resolution, *, by: Any, version: Any, due: dt.date, assignee: Any = None
) -> Resolution:
    """Plan the follow-up call-back (shown in "My work" of `assignee`, default the one who
    plans it; `callback_by` holds who is to call, then who called)."""
    require(by, "complaints.change_resolution")
    if not isinstance(due, dt.date):
        raise ValidationError({"due": _("Enter a date.")})
    if due < timezone.localdate():
        raise ValidationError({"due": _("The call-back cannot be due in the past.")})
    with transaction.atomic(), audit_context(actor=by, reason=_("Call-back scheduled")):
        res = lock(Resolution, resolution.pk)
        res.check_version(version)
        fb = lock_feedback(res.feedback_id)
        require_status(fb, Feedback.Status.REPLIED)
        if not res.is_replied:
            raise ValidationError(_("Schedule the call-back after the reply."))
        if res.callback_done_at is not None:
            raise ValidationError(_("The call-back is already done."))
        res.callback_due = due
        res.callback_by = assignee or by
        res.save()
        return res


def record_callback(resolution: Resolution, *, by: Any, version: Any, note: str) -> Resolution:
    """The call-back done: callback_done_at/by, note."""
    require(by, "complaints.change_resolution")
    if not (note or "").strip():
        raise ValidationError({"note": _("Write what the customer said.")})
    with transaction.atomic(), audit_context(actor=by, reason=_("Call-back done")):
        res = lock(Resolution, resolution.pk)
        res.check_version(version)
        if res.callback_due is None:
            raise ValidationError(_("No call-back is scheduled."))
        if res.callback_done_at is not None:
            raise ValidationError(_("The call-back is already done."))
        res.callback_done_at = timezone.now()
        res.callback_by = by
        res.callback_note = note
        res.save()
        return res


def closure_errors(fb: Feedback) -> list[str]:
    """Why the complaint cannot close yet (FBK-7; the guard is Feedback.can_close)."""
    if fb.status == Feedback.Status.CLOSED:
        return [_("The complaint is already closed.")]
    res = fb.current_resolution
    errors = []
    if fb.is_quality_relevant:
        ev = fb.current_evaluation
        if ev is None or not ev.is_complete or not ev.is_approved:
            errors.append(_("Quality's evaluation is not completed and approved."))
    if res is None or not res.is_agreed:
        errors.append(_("The resolution is not agreed internally."))
    elif not res.is_replied:
        errors.append(_("The customer has not been replied to."))
    elif res.confirmation not in Resolution.CLOSING_CONFIRMATIONS:
        errors.append(_("Record the customer's confirmation."))
    elif res.callback_due is not None and res.callback_done_at is None:
        errors.append(_("The scheduled call-back is not done."))
    if not errors and not fb.can_close():
        errors.append(_("The complaint cannot be closed now."))
    return errors


def close_feedback(
    feedback: Feedback, *, by: Any, password: str, comment: str = "", request: Any = None
) -> Feedback:
    """Close a replied complaint with quality's e-signature (guard Feedback.can_close); sets
    closed_at. Inquiries, suggestions and praise close through intake.answer_and_close."""
    from medvigil.core.signatures.services import apply_signature, check_signer

    require(by, CLOSE_PERM)
    if not feedback.is_complaint:
        raise ValidationError(_("Only complaints are closed here."))
    errors = closure_errors(feedback)
    if errors:
        raise ValidationError(errors)
    check = check_signer(
        feedback,
        user=by,
        password=password or "",
        request=request,
        meaning=Signature.Meaning.CLOSED,
    )
    with transaction.atomic(), audit_context(actor=by, reason=comment or _("Complaint closed")):
        fb = lock_feedback(feedback.pk)
        errors = closure_errors(fb)
        if errors:
            raise ValidationError(errors)
        fb.status = Feedback.Status.CLOSED
        fb.closed_at = timezone.now()
        fb.save()
        apply_signature(fb, check, reason=comment)
        return fb


def reopen_feedback(feedback: Feedback, *, by: Any, version: Any, reason: str) -> Feedback:
    """Reopen a closed record with a reason (reopen_reason, reopened_at, reopen_count + 1);
    complaints go back to routed, other kinds to received."""
    require(by, CLOSE_PERM)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for reopening.")})
    with transaction.atomic(), audit_context(actor=by, reason=reason):
        fb = lock_feedback(feedback.pk)
        fb.check_version(version)
        if not fb.can_reopen():
            raise ValidationError(_("Only a closed record can be reopened."))
        target = Feedback.Status.ROUTED if fb.is_complaint else Feedback.Status.RECEIVED
        fb.check_transition(target)
        fb.status = target
        fb.reopen_reason = reason
        fb.reopened_at = timezone.now()
        fb.reopen_count += 1
        fb.closed_at = None
        fb.save()
        return fb
