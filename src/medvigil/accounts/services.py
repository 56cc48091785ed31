"""Account state changes that are not plain admin edits (ARCHITECTURE rule 1): the lock-out
after too many failed sign-ins is kept by django-axes; unlocking is an audited event."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from medvigil.core.audit import audit_context
from medvigil.core.audit.recorder import record_event


def is_locked_out(user: Any) -> bool:
    """True while `user` is locked out (the same count axes makes: failures recorded within
    the cool-off period reach LOGIN_FAILURE_LIMIT)."""
    from axes.helpers import get_cool_off
    from axes.models import AccessAttempt

    attempts = AccessAttempt.objects.filter(username=user.get_username())
    cool_off = get_cool_off()
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    failures = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
    return failures >= settings.AXES_FAILURE_LIMIT


def unlock_user(user: Any, *, by: Any = None, reason: str = "") -> int:
    """Clear the failed-login record of `user` (an administrator's unlock) and record the
    event on the user. Returns the number of attempt records removed."""
    from axes.utils import reset

    with transaction.atomic():
        count = reset(username=user.get_username())
        with audit_context(actor=by, reason=reason or None):
            record_event(user, "unlocked", {"attempt records removed": count})
    return count
