"""Background jobs of the complaints app (PLAT-8; Huey, found by autodiscovery of `tasks`
modules): the feedback mailbox (FBK-1) and the early warning (FBK-10)."""

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


@audited_task(periodic=crontab(minute="15", hour="*/6"), name="complaints_early_warning")
def complaints_early_warning() -> int:
    """Every six hours: the same problem above the configured count in the rolling period
    warns quality, once per cluster per period (services.analysis.early_warnings)."""
    from django.utils import timezone

    from .services.analysis import early_warnings

    return len(early_warnings(timezone.now()))
