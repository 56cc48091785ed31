"""Deadline alerts (PLAT-8): domain apps say which deadlines are open; the periodic job
`core.tasks.check_deadlines` turns them into "due soon", "overdue" and escalation alerts.

A domain app registers a source in its AppConfig.ready()::

    from medvigil.core.calendar.deadlines import Deadline, register_deadline_source

    @register_deadline_source
    def complaint_deadlines(now):
        for c in Complaint.objects.open().filter(due_at__lte=now + timedelta(days=2)):
            yield Deadline(
                key=f"complaint:{c.pk}:ack",          # stable; change it to alert again
                title=c.number, url=c.get_absolute_url(), due_at=c.due_at,
                users=[c.owner], escalate_to=quality_managers(), started_at=c.received_at,
            )

A source may yield every open deadline; only those inside their alert window cost anything.
Each (key, level) is alerted at most once, ever: the alert is claimed by inserting a
`DeadlineAlert` row under its unique constraint, in the same transaction as the
notifications, so two workers running the job at the same moment never both send it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

DUE_SOON = "due_soon"
OVERDUE = "overdue"
ESCALATED = "escalated"
LEVELS = (DUE_SOON, OVERDUE, ESCALATED)

DeadlineSource = Callable[[dt.datetime], Iterable["Deadline"]]


@dataclass(frozen=True)
class Deadline:
    """One open deadline of a record.

    key: stable and unique per deadline (e.g. "complaint:42:ack"); at most 200 characters.
    title: what is due (a string or a lazy translation; it is rendered in each recipient's
        language).
    url: where the recipient acts (a path such as "/feedback/42/").
    due_at: aware datetime (UTC stored); computed by the domain app with its clock.
    users: who must act; escalate_to: who is told when it is overdue.
    started_at: start of the clock, so that a short clock's "due soon" comes at
        DEADLINE_DUE_SOON_FRACTION of it rather than a day ahead.
    lead: explicit "due soon" lead time, overriding the settings.
    escalate_after: time after due_at before escalating (default
        DEADLINE_ESCALATE_AFTER_HOURS).
    """

    key: str
    title: Any
    url: str
    due_at: dt.datetime
    users: Iterable[Any] = ()
    escalate_to: Iterable[Any] = ()
    started_at: dt.datetime | None = None
    lead: dt.timedelta | None = None
    escalate_after: dt.timedelta | None = None
    detail: Any = field(default="", compare=False)

    def __post_init__(self) -> None:
        # Accept querysets and generators; they are read more than once.
        object.__setattr__(self, "users", tuple(self.users or ()))
        object.__setattr__(self, "escalate_to", tuple(self.escalate_to or ()))

    def due_soon_lead(self) -> dt.timedelta:
        """How long before due_at the "due soon" alert goes out."""
        if self.lead is not None:
            return self.lead
        lead = dt.timedelta(hours=getattr(settings, "DEADLINE_DUE_SOON_HOURS", 24))
        fraction = float(getattr(settings, "DEADLINE_DUE_SOON_FRACTION", 0.2))
        if self.started_at is not None and fraction > 0 and self.due_at > self.started_at:
            lead = min(lead, (self.due_at - self.started_at) * fraction)
        return lead

    def escalation_delay(self) -> dt.timedelta:
        if self.escalate_after is not None:
            return self.escalate_after
        return dt.timedelta(hours=getattr(settings, "DEADLINE_ESCALATE_AFTER_HOURS", 0))

    def levels_due(self, now: dt.datetime) -> list[str]:
        """The alert levels this deadline has reached at `now` (before de-duplication)."""
        if now >= self.due_at:
            levels = [OVERDUE]
            if now >= self.due_at + self.escalation_delay():
                levels.append(ESCALATED)
            return levels
        if now >= self.due_at - self.due_soon_lead():
            return [DUE_SOON]
        return []


_sources: list[DeadlineSource] = []


def register_deadline_source(fn: DeadlineSource) -> DeadlineSource:
    """Register fn(now) -> iterable of Deadline (usable as a decorator)."""
    if fn not in _sources:
        _sources.append(fn)
    return fn


def unregister_deadline_source(fn: DeadlineSource) -> None:
    if fn in _sources:
        _sources.remove(fn)


def deadline_sources() -> list[DeadlineSource]:
    return list(_sources)


@dataclass
class CheckResult:
    checked: int = 0
    sent: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    skipped: int = 0  # already alerted (by an earlier run or another worker)
    failed_sources: list[str] = field(default_factory=list)

    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())


def _recipients(users: Iterable[Any]) -> list[Any]:
    seen: dict[Any, Any] = {}
    for u in users or ():
        if u is not None and getattr(u, "is_active", True) and u.pk not in seen:
            seen[u.pk] = u
    return list(seen.values())


def _message(deadline: Deadline, level: str) -> tuple[Any, Any, str]:
    """Title, body and notification level of one alert (lazy: rendered per recipient)."""
    when = date_format(timezone.localtime(deadline.due_at), "Y-m-d H:i")
    if level == DUE_SOON:
        title = format_lazy(_("Due soon: {title}"), title=deadline.title)
        body = format_lazy(_("Due {when}. {detail}"), when=when, detail=deadline.detail)
        return title, body, "warning"
    if level == OVERDUE:
        title = format_lazy(_("Overdue: {title}"), title=deadline.title)
        body = format_lazy(_("It was due {when}. {detail}"), when=when, detail=deadline.detail)
        return title, body, "danger"
    title = format_lazy(_("Escalation, overdue: {title}"), title=deadline.title)
    names = ", ".join(str(u) for u in _recipients(deadline.users)) or "—"
    body = format_lazy(
        _("It was due {when} and is not done. Responsible: {names}. {detail}"),
        when=when,
        names=names,
        detail=deadline.detail,
    )
    return title, body, "danger"


def claim(key: str, level: str) -> bool:
    """Insert the (key, level) row; False if it exists (another run or worker sent it).

    Call inside the transaction that sends the alert: if that transaction rolls back, the
    claim goes with it and the next run tries again."""
    from ..models import DeadlineAlert

    try:
        with transaction.atomic():  # a savepoint, so the IntegrityError leaves the outer intact
            DeadlineAlert.objects.create(key=key, level=level)
    except IntegrityError:
        return False
    return True


def send_alert(deadline: Deadline, level: str) -> bool | None:
    """Claim and send one alert in one transaction. True if this call sent it, False if it
    was already sent, None if there is nobody to tell (then nothing is claimed, so a user
    assigned later still hears)."""
    from ..notifications.services import notify

    users = _recipients(deadline.escalate_to if level == ESCALATED else deadline.users)
    if not users:
        return None
    title, body, css = _message(deadline, level)
    with transaction.atomic():
        if not claim(deadline.key, level):
            return False
        notify(users, title, body=body, url=deadline.url, level=css)
    return True


def _already_alerted(keys: list[str]) -> set[tuple[str, str]]:
    from ..models import DeadlineAlert

    done: set[tuple[str, str]] = set()
    for i in range(0, len(keys), 500):
        done.update(
            DeadlineAlert.objects.filter(key__in=keys[i : i + 500]).values_list("key", "level")
        )
    return done


def escalation_moment(due_at: dt.datetime) -> dt.datetime:
    """When a deadline of the default escalation delay (DEADLINE_ESCALATE_AFTER_HOURS) has
    reached every alert level it will ever reach (overdue and escalated)."""
    return due_at + dt.timedelta(hours=getattr(settings, "DEADLINE_ESCALATE_AFTER_HOURS", 0))


def settled_keys(keys: Iterable[str]) -> set[str]:
    """Of `keys`, those whose "overdue" and "escalated" alerts were both sent: nothing is left
    to send for them, ever (a key's due time is part of it, so a new due time is a new key).
    A source may leave out such a deadline once past its escalation moment, instead of
    building it for check_deadlines to skip (an overdue alert nobody received — no owner —
    is not sent, so that deadline is offered again). One query per 500 keys."""
    from ..models import DeadlineAlert

    keys = list(keys)
    levels: dict[str, set[str]] = {}
    for i in range(0, len(keys), 500):
        for key, level in DeadlineAlert.objects.filter(
            key__in=keys[i : i + 500], level__in=(OVERDUE, ESCALATED)
        ).values_list("key", "level"):
            levels.setdefault(key, set()).add(level)
    return {key for key, sent in levels.items() if len(sent) == 2}


def check_deadlines(now: dt.datetime | None = None) -> CheckResult:
    """Ask every registered source for its open deadlines and send the alerts now due."""
    now = now or timezone.now()
    result = CheckResult()
    pending: list[tuple[Deadline, str]] = []
    for source in deadline_sources():
        name = getattr(source, "__qualname__", repr(source))
        try:
            for deadline in source(now):
                result.checked += 1
                if len(deadline.key) > 200:
                    logger.error("Deadline key longer than 200 characters: %s", deadline.key)
                    continue
                pending.extend((deadline, level) for level in deadline.levels_due(now))
        except Exception:  # one app's bug must not silence every other app's alerts
            logger.exception("Deadline source %s failed", name)
            result.failed_sources.append(name)
    done = _already_alerted(sorted({d.key for d, _level in pending}))
    for deadline, level in pending:
        if (deadline.key, level) in done:
            result.skipped += 1
            continue
        try:
            sent = send_alert(deadline, level)
            if sent:
                result.sent[level] += 1
            elif sent is False:
                result.skipped += 1
        except Exception:
            logger.exception("Alert %s/%s failed", deadline.key, level)
    return result
