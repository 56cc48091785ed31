"""FBK-1: the e-mail mailbox read over IMAP by a periodic job."""

from __future__ import annotations

from typing import Any

from ..models import Feedback
from ._skeleton import todo


def fetch_mailbox() -> int:
    """Read new messages over IMAP (settings), turn each into feedback or thread it; returns the
    number of messages handled."""
    raise todo("fetch_mailbox")


def message_to_feedback(message: Any) -> Feedback:
    """One e-mail → a Correspondence "in" on the record named by its number in the subject, else
    a new record through intake.register_feedback (channel=email, source_reference=Message-ID),
    attachments through core.attachments."""
    raise todo("message_to_feedback")
