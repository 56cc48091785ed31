"""FBK-4: the complaint clocks.

Each target is a deadline rule of the registry (core.calendar.regulatory, with the seed clause
as citation and a company setting that may tighten it):

| clock | rule | started by | stopped by | applies to |
|---|---|---|---|---|
| route | FBK-ROUTE (30 min) | receipt | `routed_at` | complaints |
| quality | FBK-QUALITY-ROUTE (2 h) | receipt | `quality_received_at` | product-quality complaints |
| response | FBK-FIRST-RESPONSE (24 h) | receipt | `first_response_at` | every kind |
| resolution | FBK-RESOLUTION (48 h) | receipt | `resolved_at` | complaints |
| visit | FBK-VISIT (2 working days) | receipt | `visit_done_at` | when a visit is needed |

Business time by default (core.clock: working hours on the working days of the company
calendar); a serious complaint counts in calendar time (seed 003: urgent complaints go to
management at once, out of hours by phone) and alerts the managers on call at once. While the
clock is paused (waiting for the customer, ClockPause with a reason) the time does not count:
each pause moves the due time by its length, measured on the same clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from medvigil.core.audit import audit_context
from medvigil.core.calendar.clock import (
    Clock,
    add_business_time,
    add_calendar,
    business_time_between,
)
from medvigil.core.calendar.deadlines import Deadline, escalation_moment, settled_keys
from medvigil.core.calendar.rules import DeadlineRule, Unit, end_of_day, get_rule
from medvigil.core.calendar.working import YearNotLoaded, get_calendar
from medvigil.core.i18n import gettext_msg
from medvigil.core.notifications.services import notify_each
from medvigil.core.permissions import require, scope_for_user
from medvigil.core.records.render import pk_url
from medvigil.core.registry import WorkItem

from ..models import ClockPause, Feedback, ProblemNotice
from ..rules import INTAKE_DEPARTMENT

PAUSE_PERM = "complaints.add_clockpause"
RESUME_PERM = "complaints.change_clockpause"
CHANGE_PERM = "complaints.change_feedback"
# Roles alerted at once for a serious complaint (seed 003: 紧急投诉 → 管理层); a setting.
DEFAULT_ON_CALL_ROLES = ("management_rep", "general_manager")


@dataclass(frozen=True)
class ClockSpec:
    code: str
    rule: str
    done_field: str
    title: Any

    def applies(self, f: Feedback) -> bool:
        if self.code == "route" or self.code == "resolution":
            return f.is_complaint
        if self.code == "quality":
            return f.is_quality_complaint
        if self.code == "visit":
            return f.visit_needed
        return True


CLOCKS: tuple[ClockSpec, ...] = (
    ClockSpec("route", "FBK-ROUTE", "routed_at", gettext_lazy("Registered and routed")),
    ClockSpec(
        "quality",
        "FBK-QUALITY-ROUTE",
        "quality_received_at",
        gettext_lazy("With the quality department"),
    ),
    ClockSpec(
        "response", "FBK-FIRST-RESPONSE", "first_response_at", gettext_lazy("First response")
    ),
    ClockSpec("resolution", "FBK-RESOLUTION", "resolved_at", gettext_lazy("Resolved")),
    ClockSpec("visit", "FBK-VISIT", "visit_done_at", gettext_lazy("Visit to the customer")),
)
CLOCK_TITLES = {c.code: c.title for c in CLOCKS}
MILESTONES = {c.code: c.done_field for c in CLOCKS if c.code in ("response", "visit")}


@dataclass(frozen=True)
class ClockState:
    """One clock of a record at `now`."""

    code: str
    title: Any
    rule: DeadlineRule
    clock: str  # core.clock.Clock value
    started_at: dt.datetime
    due_at: dt.datetime | None  # None: a calendar year is not loaded (flagged, never guessed)
    done_at: dt.datetime | None
    paused: dt.timedelta
    running_pause: bool

    @property
    def met(self) -> bool:
        return self.done_at is not None and self.due_at is not None and self.done_at <= self.due_at

    @property
    def late(self) -> bool:
        return self.done_at is not None and self.due_at is not None and self.done_at > self.due_at

    def overdue(self, now: dt.datetime) -> bool:
        return self.done_at is None and self.due_at is not None and now > self.due_at

    @property
    def is_open(self) -> bool:
        return self.done_at is None

    def state(self, now: dt.datetime) -> str:
        if self.due_at is None:
            return "flagged"
        if self.done_at is not None:
            return "met" if self.met else "late"
        if self.running_pause:
            return "paused"
        return "overdue" if now > self.due_at else "open"


def clock_kind(feedback: Feedback) -> str:
    """Business time by default; serious complaints in calendar time (FBK-4)."""
    return Clock.CALENDAR if feedback.is_serious else Clock.BUSINESS


def _add(start: dt.datetime, delta: dt.timedelta, clock: str) -> dt.datetime:
    return (
        add_calendar(start, delta) if clock == Clock.CALENDAR else add_business_time(start, delta)
    )


def _length(a: dt.datetime, b: dt.datetime, clock: str) -> dt.timedelta:
    return b - a if clock == Clock.CALENDAR else max(business_time_between(a, b), dt.timedelta())


def _base_due(rule: DeadlineRule, start: dt.datetime, clock: str) -> dt.datetime:
    amount = rule.effective_amount()
    if rule.unit == Unit.MINUTES:
        return _add(start, dt.timedelta(minutes=amount), clock)
    if rule.unit == Unit.HOURS:
        return _add(start, dt.timedelta(hours=amount), clock)
    cal = get_calendar(rule.market)
    day = start.astimezone(cal.zone).date()
    if rule.unit == Unit.CALENDAR_DAYS or clock == Clock.CALENDAR:
        return end_of_day(day + dt.timedelta(days=amount), cal.zone).astimezone(dt.UTC)
    return end_of_day(cal.add_working_days(day, amount), cal.zone).astimezone(dt.UTC)


def _due_with_pauses(
    rule: DeadlineRule,
    start: dt.datetime,
    clock: str,
    pauses: list[ClockPause],
    now: dt.datetime,
    done: dt.datetime | None,
) -> tuple[dt.datetime, dt.timedelta, bool]:
    """The due time moved by every pause that began before it (a running pause counts up to
    `now`, or to the clock's stop), the paused time, and whether a pause is running."""
    due = _base_due(rule, start, clock)
    paused = dt.timedelta()
    running = False
    for p in sorted(pauses, key=lambda p: p.started_at):
        if p.started_at >= due or (done is not None and p.started_at >= done):
            continue
        begin = max(p.started_at, start)
        end = p.ended_at or (done if done is not None else now)
        if p.ended_at is None and done is None:
            running = True
        if end <= begin:
            continue
        length = _length(begin, end, clock)
        paused += length
        due = (
            _add(due, length, Clock.CALENDAR)
            if clock == Clock.CALENDAR
            else add_business_time(due, length)
        )
    return due, paused, running


def clocks_for(
    feedback: Feedback,
    *,
    now: dt.datetime | None = None,
    pauses: Iterable[ClockPause] | None = None,
) -> list[ClockState]:
    """Every FBK-4 clock that applies to the record, with its due time, stop time and paused
    time. Reads `feedback.pauses` (prefetch it for lists) unless `pauses` are given."""
    now = now or timezone.now()
    clock = clock_kind(feedback)
    pauses = list(feedback.pauses.all() if pauses is None else pauses)
    out = []
    for spec in CLOCKS:
        if not spec.applies(feedback):
            continue
        rule = get_rule(spec.rule)
        done = getattr(feedback, spec.done_field)
        try:
            due, paused, running = _due_with_pauses(
                rule, feedback.received_at, clock, pauses, now, done
            )
        except YearNotLoaded:
            due, paused, running = None, dt.timedelta(), False  # type: ignore[assignment]
        out.append(
            ClockState(
                code=spec.code,
                title=spec.title,
                rule=rule,
                clock=clock
                if rule.unit != Unit.WORKING_DAYS or clock == Clock.CALENDAR
                else Clock.WORKING_DAYS,
                started_at=feedback.received_at,
                due_at=due,
                done_at=done,
                paused=paused,
                running_pause=running and done is None,
            )
        )
    return out


def next_due(feedback: Feedback, *, now: dt.datetime | None = None) -> ClockState | None:
    """The open clock due first (for the list and "My work")."""
    open_ = [c for c in clocks_for(feedback, now=now) if c.is_open and c.due_at is not None]
    return min(open_, key=lambda c: c.due_at, default=None)  # type: ignore[arg-type, return-value]


# --- the stored due times ("My work", the list, the deadline alerts) --------------------------


def due_values(
    feedback: Feedback,
    *,
    pauses: Iterable[ClockPause] | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """What the record stores of its clocks (Feedback.DUE_FIELDS): the due time of every
    running clock — open, not paused, computed — by code (`clock_dues`, ISO in UTC), the
    earliest of them (`next_due_at`), and whether a clock could not be computed because a
    calendar year is not loaded (`clocks_flagged`). Nothing runs on a closed or voided
    record. A paused clock has no stored due time: it moves until the pause ends."""
    if not feedback.is_open:
        return {"next_due_at": None, "clock_dues": {}, "clocks_flagged": False}
    if pauses is None and feedback.pk is None:
        pauses = ()
    try:
        states = clocks_for(feedback, now=now, pauses=pauses)
    except LookupError:  # the market calendar is not set up: flagged, never guessed
        return {"next_due_at": None, "clock_dues": {}, "clocks_flagged": True}
    dues = {
        c.code: c.due_at.astimezone(dt.UTC)
        for c in states
        if c.is_open and c.due_at is not None and not c.running_pause
    }
    return {
        "next_due_at": min(dues.values(), default=None),
        "clock_dues": {code: due.isoformat() for code, due in dues.items()},
        "clocks_flagged": any(c.due_at is None for c in states),
    }


def store_due_times(
    feedback: Feedback, *, save: bool = True, pauses: Iterable[ClockPause] | None = None
) -> bool:
    """The one way the stored due times are set (FBK-4): recompute them from the record and
    its pauses. Feedback.save() calls it with save=False (the values go into the same
    statement); pausing, resuming and a calendar change call it with save=True, which writes
    only these derived columns (no audit entry, no new version: they are a function of
    audited fields and pauses). Returns whether anything changed."""
    values = due_values(feedback, pauses=pauses)
    changed = any(getattr(feedback, k) != v for k, v in values.items())
    for k, v in values.items():
        setattr(feedback, k, v)
    if save and changed and feedback.pk is not None:
        Feedback._base_manager.filter(pk=feedback.pk).update(**values)
    return changed


def stored_dues(feedback: Feedback) -> dict[str, dt.datetime]:
    """The stored due times of the running clocks by code, as aware datetimes."""
    return {code: dt.datetime.fromisoformat(v) for code, v in (feedback.clock_dues or {}).items()}


@dataclass(frozen=True)
class StoredDue:
    """The running clock due first, from the stored due times (what lists show)."""

    code: str
    title: Any
    due_at: dt.datetime

    def state(self, now: dt.datetime) -> str:
        return "overdue" if now > self.due_at else "open"


def next_due_stored(
    feedback: Feedback, *, now: dt.datetime | None = None
) -> StoredDue | ClockState | None:
    """`next_due` for lists: read from the stored due times; computed only for an open record
    without a running clock there (paused, or a calendar year not loaded)."""
    if not feedback.is_open:
        return None
    dues = stored_dues(feedback)
    if not dues:
        return next_due(feedback, now=now)
    code = min(dues, key=lambda k: dues[k])
    return StoredDue(code, CLOCK_TITLES[code], dues[code])


def refresh_due_times(qs: Any = None) -> int:
    """Recompute the stored due times of the open records in `qs` (default: every open
    record), writing the changed ones in batches (no audit entry: derived values). For rows
    written outside the ORM (imports, the benchmark's generator) and for calendar changes.
    Returns how many changed."""
    if qs is None:
        qs = Feedback.objects.all()
    qs = _with_pauses(qs.filter(status__in=Feedback.OPEN_STATUSES)).order_by("pk")
    changed: list[Feedback] = []
    total = 0
    for f in qs.iterator(chunk_size=500):
        if store_due_times(f, save=False):
            changed.append(f)
        if len(changed) >= 500:
            total += _write_due_times(changed)
            changed = []
    return total + _write_due_times(changed)


def _write_due_times(rows: list[Feedback]) -> int:
    if rows:
        Feedback._base_manager.bulk_update(rows, list(Feedback.DUE_FIELDS), batch_size=500)
    return len(rows)


def recompute_calendar_deadlines(code: str, *, now: dt.datetime | None = None) -> int:
    """After a change of market calendar `code` (core.calendar.services.enter_year): recompute
    the stored due times of the open records with a running or flagged clock. Returns how many
    changed."""
    markets = {str(settings.BUSINESS_CALENDAR or "").upper()}
    markets |= {get_rule(spec.rule).market.upper() for spec in CLOCKS}
    if code.upper() not in markets:
        return 0
    return refresh_due_times(
        Feedback.objects.filter(Q(next_due_at__isnull=False) | Q(clocks_flagged=True))
    )


# --- pausing (FBK-4: waiting for the customer, with a reason, audited) ------------------------


def pause_clock(feedback: Feedback, *, by: Any, reason: str) -> ClockPause:
    """Pause the clocks while waiting for the customer; the reason is required and kept in the
    pause and its audit entry."""
    require(by, PAUSE_PERM)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the clock is paused.")})
    with transaction.atomic(), audit_context(actor=by, reason=reason):
        obj = Feedback.objects.select_for_update().get(pk=feedback.pk)
        if not obj.is_open:
            raise ValidationError(_("Only an open record's clock can be paused."))
        if ClockPause.objects.filter(feedback=obj, ended_at__isnull=True).exists():
            raise ValidationError(_("The clock is already paused."))
        pause = ClockPause(feedback=obj, started_at=timezone.now(), reason=reason, started_by=by)
        pause.full_clean()
        pause.save()
        store_due_times(obj)
    return pause


def resume_clock(feedback: Feedback, *, by: Any) -> ClockPause:
    """End the running pause."""
    require(by, RESUME_PERM)
    with transaction.atomic(), audit_context(actor=by):
        obj = Feedback.objects.select_for_update().get(pk=feedback.pk)
        pause = (
            ClockPause.objects.select_for_update()
            .filter(feedback_id=feedback.pk, ended_at__isnull=True)
            .first()
        )
        if pause is None:
            raise ValidationError(_("The clock is not paused."))
        pause.ended_at = timezone.now()
        pause.ended_by = by
        pause.full_clean()
        pause.save()
        store_due_times(obj)
    return pause


def record_milestone(
    feedback: Feedback, *, by: Any, version: Any, milestone: str, at: dt.datetime | None = None
) -> Feedback:
    """Record the first response to the customer ("response") or the visit done ("visit")
    when it happened outside the system (a phone call, the visit report)."""
    require(by, CHANGE_PERM)
    if milestone not in MILESTONES:
        raise ValidationError({"milestone": _("Unknown milestone.")})
    at = at or timezone.now()
    with transaction.atomic(), audit_context(actor=by):
        obj = Feedback.objects.select_for_update().get(pk=feedback.pk)
        obj.check_version(version)
        if at < obj.received_at or at > timezone.now() + dt.timedelta(minutes=5):
            raise ValidationError({"at": _("The time must lie between receipt and now.")})
        if milestone == "visit" and not obj.visit_needed:
            obj.visit_needed = True
        setattr(obj, MILESTONES[milestone], at)
        obj.save()
    return obj


# --- serious complaints: the managers on call at once -------------------------------------


def on_call_managers() -> list[Any]:
    from medvigil.accounts.models import User

    roles = getattr(settings, "COMPLAINTS_ON_CALL_ROLES", DEFAULT_ON_CALL_ROLES)
    return list(User.objects.filter(is_active=True, roles__code__in=roles).distinct())


def alert_message(feedback: Feedback, users: list[Any]) -> tuple[Any, Any, Any, str, str]:
    """The serious-complaint alert to the managers on call, as notify_each takes it."""
    return (
        users,
        gettext_msg(gettext_noop("Serious complaint %(number)s: act now"))
        % {"number": feedback.number},
        feedback.title,
        feedback.get_absolute_url(),
        "danger",
    )


def alert_on_call(feedback: Feedback, *, save: bool = True) -> int:
    """Serious complaint: alert the managers on call at once, in and out of hours (seed 003:
    urgent complaints go to management by phone; the form follows at the next opening), once
    per record, and stamp `on_call_alerted_at` (saved unless the caller saves). Returns the
    number of people alerted."""
    if not feedback.is_serious or feedback.on_call_alerted_at is not None:
        return 0
    users = on_call_managers()
    notify_each([alert_message(feedback, users)])
    feedback.on_call_alerted_at = timezone.now()
    if save:
        feedback.save()
    return len(users)


# --- "My work" and the deadline source --------------------------------------------------------


def _with_pauses(qs: Any) -> Any:
    return qs.prefetch_related(
        Prefetch("pauses", queryset=ClockPause.objects.order_by("started_at"))
    )


def routes_intake(user: Any) -> bool:
    """Whether `user` routes the feedback that came in by itself (public form, mailbox) and
    has no owner yet: who may route (change_feedback) in the intake department
    (rules.INTAKE_DEPARTMENT, seed 003: customer service registers and routes). From the
    user's cached permissions and department: no query."""
    if not user.has_perm(CHANGE_PERM):
        return False
    dept = getattr(user, "department", None)
    return getattr(dept, "code", None) == INTAKE_DEPARTMENT


# What "My work" reads of a feedback record and of a problem notice's (the rest of the wide
# rows is not read: fewer columns to compile, send and build).
WORK_FIELDS = (
    "id",
    "number",
    "title",
    "kind",
    "channel",
    "status",
    "owner_id",
    "received_at",
    "next_due_at",
    "clock_dues",
)


def my_work(user: Any) -> list[WorkItem]:
    """The user's open feedback, the clock due first (the stored due times: no business-time
    arithmetic for the list), and the problem notices waiting for their department's
    acknowledgement. For who routes intake (routes_intake), the same query also brings the
    received records nobody owns yet (public form, mailbox: FBK-1), to route (FBK-4: within
    30 minutes); routing makes the router their owner. The owner's open records are read in
    the order of the partial index cmp_fb_owner_open_due (no sort of all of them)."""
    items: list[WorkItem] = []
    if not user.has_perm("complaints.view_feedback"):
        return items
    now = timezone.now()
    mine = Q(owner=user, status__in=Feedback.OPEN_STATUSES)
    if routes_intake(user):
        mine |= Q(owner__isnull=True, status=Feedback.Status.RECEIVED)
    rows = list(
        scope_for_user(user, Feedback)
        .filter(mine)
        .only(*WORK_FIELDS)
        .order_by(F("next_due_at").asc(nulls_last=True), "received_at", "pk")[:50]
    )
    # an open record without a stored due time (paused, or a calendar year not loaded): its
    # clocks are computed, from the whole record (one query for all of them)
    unstored = [f.pk for f in rows if not f.clock_dues]
    full = Feedback.objects.in_bulk(unstored) if unstored else {}
    complaint, channels = _("complaint"), dict(Feedback._meta.get_field("channel").flatchoices)
    kinds = dict(Feedback._meta.get_field("kind").flatchoices)
    statuses = dict(Feedback._meta.get_field("status").flatchoices)
    for f in rows:
        nxt = next_due_stored(full.get(f.pk, f), now=now)
        unowned = f.owner_id is None
        items.append(
            WorkItem(
                title=f"{f.number} {f.title}",
                url=pk_url("complaints:feedback_detail", f.pk),
                kind=(
                    _("received by %(channel)s, to route")
                    % {"channel": channels.get(f.channel, f.channel)}
                    if unowned
                    else complaint
                    if f.is_complaint
                    else str(kinds.get(f.kind, f.kind))
                ),
                due=nxt.due_at if nxt else None,
                detail=str(nxt.title) if nxt else str(statuses.get(f.status, f.status)),
            )
        )
    dept = getattr(user, "department_id", None)
    if dept and user.has_perm("complaints.change_problemnotice"):
        notices = (
            ProblemNotice.objects.filter(department_id=dept, status=ProblemNotice.Status.SENT)
            .select_related("feedback")
            .only("id", "number", "feedback_id", "feedback__number", "feedback__title")[:50]
        )
        kind, detail = _("customer problem notice"), _("Acknowledge")
        for n in notices:
            items.append(
                WorkItem(
                    title=f"{n.number} · {n.feedback.number} {n.feedback.title}",
                    url=pk_url("complaints:feedback_detail", n.feedback_id) + "#notices",
                    kind=kind,
                    detail=detail,
                )
            )
    return items


def deadline_source(now: dt.datetime) -> Iterable[Deadline]:
    """The running FBK-4 clocks inside the alert horizon (the stored due times, indexed):
    "due soon" to the owner before the breach, "overdue" at it and escalation to the managers
    on call (core.deadlines). Clocks due later than DEADLINE_DUE_SOON_HOURS from now raise no
    alert yet and are not read; paused clocks are not due; a clock past its escalation whose
    overdue and escalation alerts were both sent has nothing left to send and is left out
    (deadlines.settled_keys, one query per 500 records)."""
    horizon = now + dt.timedelta(hours=float(getattr(settings, "DEADLINE_DUE_SOON_HOURS", 24)))
    managers: list[Any] | None = None
    qs = (
        Feedback.objects.filter(status__in=Feedback.OPEN_STATUSES, next_due_at__lte=horizon)
        .select_related("owner")
        .only("pk", "number", "received_at", "status", "clock_dues", "owner")
        .order_by("pk")
    )
    batch: list[tuple[Feedback, str, dt.datetime, str]] = []
    for f in qs.iterator(chunk_size=500):
        for code, due in stored_dues(f).items():
            if due <= horizon and code in CLOCK_TITLES:
                batch.append((f, code, due, f"complaints:{f.pk}:{code}:{due:%Y%m%d%H%M}"))
        if len(batch) < 500:
            continue
        if managers is None:
            managers = on_call_managers()
        yield from _deadlines(batch, now, managers)
        batch = []
    if batch:
        yield from _deadlines(batch, now, managers or on_call_managers())


def _deadlines(
    batch: list[tuple[Feedback, str, dt.datetime, str]], now: dt.datetime, managers: list[Any]
) -> Iterable[Deadline]:
    settled = settled_keys(k for _f, _c, due, k in batch if now >= escalation_moment(due))
    for f, code, due, key in batch:
        if key in settled:
            continue
        yield Deadline(
            key=key,
            title=format_title(CLOCK_TITLES[code], f),
            url=pk_url("complaints:feedback_detail", f.pk),
            due_at=due,
            users=[f.owner] if f.owner_id else [],
            escalate_to=managers,
            started_at=f.received_at,
        )


def format_title(title: Any, f: Feedback) -> Any:
    return gettext_msg(gettext_noop("%(number)s: %(clock)s")) % {
        "number": f.number,
        "clock": title,
    }
