"""FBK-7: resolution, internal agreement, reply, confirmation, call-back, closure, reopening.
Models: Resolution, ResolutionApproval, Correspondence."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..models import Feedback, Resolution, ResolutionApproval
from ._skeleton import todo


def propose_resolution(feedback: Feedback, *, by: Any, version: Any, **fields: Any) -> Resolution:
    """Create or edit the current Resolution (remedies, detail, amount, corrective action, reply
    text) while the complaint is in resolution; creates the ResolutionApproval rows the remedies
    need (division head "general_manager" for Resolution.needs_division_head, seed 003 3.4;
    "management_rep" for serious complaints, seed 003 顾客反馈控制程序 4.3.1)."""
    raise todo("propose_resolution")


def decide_approval(
    approval: ResolutionApproval, *, by: Any, decision: str, password: str, comment: str = ""
) -> ResolutionApproval:
    """An approver of the asked role approves or rejects, with an e-signature."""
    raise todo("decide_approval")


def agree_resolution(resolution: Resolution, *, by: Any, version: Any) -> Resolution:
    """Record the internal agreement (agreed_by/at) once every approval is given; required
    before the reply (FBK-7); sets Feedback.resolved_at."""
    raise todo("agree_resolution")


def send_reply(resolution: Resolution, *, by: Any, version: Any, channel: str) -> Resolution:
    """Keep the reply text, send it by e-mail when there is an address (a Correspondence "out"),
    set reply_sent_at/by and Feedback.first_response_at when unset; the complaint → replied."""
    raise todo("send_reply")


def record_confirmation(
    resolution: Resolution, *, by: Any, version: Any, confirmation: str, note: str = ""
) -> Resolution:
    """The customer's confirmation; "rejected" sends the complaint back to resolution."""
    raise todo("record_confirmation")


def schedule_callback(resolution: Resolution, *, by: Any, version: Any, due: dt.date) -> Resolution:
    """Plan the follow-up call-back (shown in "My work" when due)."""
    raise todo("schedule_callback")


def record_callback(resolution: Resolution, *, by: Any, version: Any, note: str) -> Resolution:
    """The call-back done: callback_done_at/by, note."""
    raise todo("record_callback")


def close_feedback(feedback: Feedback, *, by: Any, password: str, comment: str = "") -> Feedback:
    """Close a replied complaint with quality's e-signature (guard Feedback.can_close); sets
    closed_at. Inquiries, suggestions and praise close through intake.answer_and_close."""
    raise todo("close_feedback")


def reopen_feedback(feedback: Feedback, *, by: Any, version: Any, reason: str) -> Feedback:
    """Reopen a closed record with a reason (reopen_reason, reopened_at, reopen_count + 1);
    complaints go back to routed, other kinds to received."""
    raise todo("reopen_feedback")
