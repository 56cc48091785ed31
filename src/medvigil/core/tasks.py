"""Background jobs (PLAT-8). `medvigil run_huey` finds this module by Django's
autodiscovery of `tasks` modules; domain apps put their jobs in their own `tasks.py`.

Every job is declared with :func:`audited_task`, so whatever it changes is attributed in
the audit trail to a named system actor ("system:task:<name>") with the Huey task id as the
request id, never to the user whose request happened to queue it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .audit import audit_context
from .audit.context import _current

logger = logging.getLogger(__name__)


def audited_task(
    *task_args: Any, periodic: Any = None, name: str | None = None, **task_kwargs: Any
) -> Any:
    """Declare a Huey task (db_task, or db_periodic_task when `periodic` is a crontab)
    whose database changes are audited as `system:task:<name>`.

    Other arguments go to Huey (retries, retry_delay, priority, expires...). Use it as
    `@audited_task` or `@audited_task(retries=3)`."""
    if len(task_args) == 1 and callable(task_args[0]) and periodic is None and not task_kwargs:
        return audited_task(name=name)(task_args[0])

    def decorator(fn: Callable[..., Any]) -> Any:
        task_name = name or fn.__name__

        @wraps(fn)
        def run(*args: Any, task: Any = None, **kwargs: Any) -> Any:
            request_id = str(getattr(task, "id", "") or uuid.uuid4().hex)
            # Start from a clean context: in immediate mode (tests, a worker-less install)
            # the task runs inside the request that queued it, whose user did not run it.
            token = _current.set(None)
            try:
                with audit_context(
                    source=f"task:{task_name}",
                    actor_name=f"system:task:{task_name}",
                    request_id=request_id,
                ):
                    return fn(*args, **kwargs)
            finally:
                _current.reset(token)

        if periodic is not None:
            wrapper = db_periodic_task(periodic, *task_args, context=True, name=name, **task_kwargs)
        else:
            wrapper = db_task(*task_args, context=True, name=name, **task_kwargs)
        return wrapper(run)

    return decorator


def _absolute(path: str) -> str:
    from django.conf import settings

    if not path or "://" in path:
        return path
    return str(getattr(settings, "SITE_URL", "")).rstrip("/") + path


@audited_task(retries=3, retry_delay=60)
def send_notification_email(notification_id: int) -> None:
    """E-mail one notification to its user, once (a retry after a failure sends again)."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.urls import reverse
    from django.utils import timezone, translation
    from django.utils.translation import gettext as _

    from .models import Notification
    from .notifications.services import user_language

    n = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if n is None or n.emailed_at is not None or not n.user.email or not n.user.is_active:
        return
    # Claim by compare-and-set: a duplicate delivery of this task finds it already claimed.
    now = timezone.now()
    if not Notification.objects.filter(pk=n.pk, emailed_at__isnull=True).update(emailed_at=now):
        return
    try:
        with translation.override(user_language(n.user)):
            lines = [n.body_text] if n.body else []
            if n.url:
                link = _absolute(reverse("notification_open", args=[n.pk]))
                lines.append(_("Open: %(link)s") % {"link": link})
            lines.append("")
            lines.append("-- ")
            lines.append(
                _("MedVigil notification. All your notifications: %(link)s")
                % {"link": _absolute(reverse("notifications"))}
            )
            send_mail(
                subject=f"[MedVigil] {n.title_text}",
                message="\n".join(lines),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[n.user.email],
            )
    except Exception:
        Notification.objects.filter(pk=n.pk).update(emailed_at=None)  # let the retry send it
        raise


@audited_task(periodic=crontab(minute="*/5"))
def check_deadlines() -> None:
    """Every 5 minutes: due-soon, overdue and escalation alerts (core.calendar.deadlines)."""
    from .calendar.deadlines import check_deadlines as run_checks

    result = run_checks()
    if result.total_sent or result.failed_sources:
        logger.info(
            "Deadline alerts: %s sent (%s), %s already sent, sources failed: %s",
            result.total_sent,
            result.sent,
            result.skipped,
            result.failed_sources or "none",
        )


@audited_task(periodic=crontab(minute="*"))
def fail_lost_imports() -> None:
    """Every minute: an import whose process died (its lease expired) is marked failed, so
    that nobody waits for it forever (core.imports.fail_lost_imports)."""
    from .imports import fail_lost_imports as fail_lost

    failed = fail_lost()
    if failed:
        logger.warning("Lost imports marked failed: %s", ", ".join(failed))


def every_minutes(n: int) -> Callable[[Any], bool]:
    """A Huey schedule: at minutes of the day divisible by n (n=60: on the hour)."""
    n = max(1, n)
    return lambda when: (when.hour * 60 + when.minute) % n == 0


@audited_task(periodic=every_minutes(settings.AUDIT_SEAL_MINUTES))
def seal_audit_trail() -> None:
    """Every AUDIT_SEAL_MINUTES: a sealed checkpoint of every chain head (PLAT-2,
    core.audit.seal). Refused, loudly, if the trail was rolled back since the last seal."""
    from .audit.seal import SealRefused, seal

    try:
        item = seal(kind="periodic")
    except SealRefused as exc:
        logger.error("AUDIT TRAIL NOT SEALED: it does not match its latest seal: %s", exc)
        return
    logger.info("Audit trail sealed: seal #%s, %s chains", item.pk, item.chains)
