"""Background jobs of the complaints app (Huey, found by autodiscovery of `tasks` modules)."""

from __future__ import annotations

import logging

from django.conf import settings
from huey import crontab

from medvigil.core.tasks import audited_task

logger = logging.getLogger(__name__)


@audited_task(periodic=crontab(minute=f"*/{max(1, int(settings.MAILBOX_IMAP_MINUTES))}"))
def read_feedback_mailbox() -> int:
    """FBK-1: every MAILBOX_IMAP_MINUTES minutes, new e-mails in the feedback mailbox become
    feedback records or thread onto theirs (complaints.services.mailbox). Nothing to do when
    MAILBOX_IMAP_HOST is empty."""
    from .services.mailbox import MailboxError, fetch_mailbox

    try:
        return fetch_mailbox()
    except MailboxError:
        logger.exception("feedback mailbox could not be read")
        return 0
