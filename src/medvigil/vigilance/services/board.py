"""VIG-7: the countdown board — every open event's clocks per market (undecided decisions
count from awareness already, with the rule the proposal names; reports have their own
deadline), sorted by urgency, coloured before the breach; alerts at configurable points of the
clock (VIG_ALERT_POINTS, default 50 % and 80 %) and at the due moment, escalation at the breach
(core.calendar.deadlines); the on-time reporting rate per market and period; "My work"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from medvigil.core.calendar.deadlines import Deadline
from medvigil.core.calendar.rules import compute, get_rule
from medvigil.core.i18n import gettext_msg
from medvigil.core.permissions import scope_for_user
from medvigil.core.registry import WorkItem

from ..models import AdverseEvent, Market, ReportabilityDecision, VigilanceReport

DEFAULT_ALERT_POINTS = (0.5, 0.8)
DEFAULT_ESCALATION_ROLES = ("management_rep",)


def alert_points() -> tuple[float, ...]:
    """The fractions of a clock at which the responsible people are alerted before the due
    moment (a setting; the due moment and the breach are always alerted)."""
    raw = getattr(settings, "VIG_ALERT_POINTS", DEFAULT_ALERT_POINTS)
    out = []
    for p in raw or ():
        try:
            f = float(p)
        except (TypeError, ValueError):
            continue
        if 0 < f < 1:
            out.append(f)
    return tuple(sorted(set(out)))


@dataclass
class Row:
    """One running clock on the board."""

    event: AdverseEvent
    market: str
    kind: str  # "decision" or "report"
    obj: Any
    rule: str
    started_at: dt.datetime | None
    due_at: dt.datetime | None

    @property
    def title(self) -> str:
        try:
            return str(get_rule(self.rule).title)
        except LookupError:
            return self.rule

    def remaining(self, now: dt.datetime) -> dt.timedelta | None:
        return None if self.due_at is None else self.due_at - now

    def elapsed(self, now: dt.datetime) -> float | None:
        """The share of the clock used (0 … 1+)."""
        if self.due_at is None or self.started_at is None or self.due_at <= self.started_at:
            return None
        return (now - self.started_at) / (self.due_at - self.started_at)

    def state(self, now: dt.datetime) -> str:
        """ok, soon (past the first alert point), urgent (past the last), due (breached)."""
        if self.due_at is None:
            return "flagged"
        if now >= self.due_at:
            return "breached"
        share = self.elapsed(now) or 0.0
        points = alert_points() or DEFAULT_ALERT_POINTS
        if share >= points[-1]:
            return "urgent"
        if share >= points[0]:
            return "soon"
        return "ok"

    @property
    def url(self) -> str:
        return self.obj.get_absolute_url()


def _decision_rows(events: dict[int, AdverseEvent]) -> list[Row]:
    rows = []
    decisions = ReportabilityDecision.objects.filter(
        event_id__in=list(events),
        status=ReportabilityDecision.Status.PROPOSED,
        proposed_reportable=True,
    )
    for d in decisions:
        e = events[d.event_id]
        if not d.deadline_rules:
            continue
        code = d.deadline_rules[0]
        try:
            due = compute(code, e.aware_at).due_at
        except LookupError:
            continue
        rows.append(Row(e, d.market, "decision", d, code, e.aware_at, due))
    return rows


def board_rows(
    user: Any = None,
    *,
    now: dt.datetime | None = None,
    market: str = "",
    event: AdverseEvent | None = None,
) -> list[Row]:
    """Every running clock of the open events the user may see, most urgent first: draft
    reports (their deadline) and undecided proposals that would be reportable (the proposed
    rule's deadline, counted from awareness)."""
    now = now or timezone.now()
    qs: QuerySet = AdverseEvent.objects.filter(status=AdverseEvent.Status.OPEN)
    if user is not None:
        qs = scope_for_user(user, qs)
    if event is not None:
        qs = qs.filter(pk=event.pk)
    events = {e.pk: e for e in qs.select_related("product", "owner")}
    if not events:
        return []
    rows = _decision_rows(events)
    reports = VigilanceReport.objects.filter(
        event_id__in=list(events), status=VigilanceReport.Status.DRAFT
    )
    for r in reports:
        rows.append(
            Row(
                events[r.event_id],
                r.market,
                "report",
                r,
                r.deadline_rule,
                r.clock_started_at,
                r.due_at,
            )
        )
    if market:
        rows = [r for r in rows if r.market == market]
    far = now + dt.timedelta(days=36500)
    rows.sort(key=lambda r: (r.due_at or far, r.event.pk))
    return rows


# --- on-time reporting rate ------------------------------------------------------------------


def on_time_rates(
    start: dt.date, end: dt.date, *, user: Any = None, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Per market: the reports due in [start, end] (in the company zone's days) — submitted on
    time, submitted late, still open past due — and the on-time rate (KPI-2)."""
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    hi = dt.datetime.combine(end, dt.time.max, tzinfo=zone)
    qs = VigilanceReport.objects.exclude(status=VigilanceReport.Status.VOIDED).filter(
        due_at__gte=lo, due_at__lte=hi
    )
    if user is not None:
        qs = qs.filter(event__in=scope_for_user(user, AdverseEvent))
    out = []
    rows = list(qs.values_list("market", "status", "submitted_at", "due_at"))
    for m in Market.values:
        mine = [r for r in rows if r[0] == m]
        on_time = sum(1 for _m, s, sub, due in mine if s == "submitted" and sub <= due)
        late = sum(1 for _m, s, sub, due in mine if s == "submitted" and sub > due)
        overdue = sum(1 for _m, s, _sub, due in mine if s == "draft" and due < now)
        counted = on_time + late + overdue
        out.append(
            {
                "market": m,
                "label": Market(m).label,
                "on_time": on_time,
                "late": late,
                "overdue": overdue,
                "pending": len(mine) - counted,
                "rate": (on_time / counted) if counted else None,
            }
        )
    return out


# --- alerts (core.calendar.deadlines) and "My work" ------------------------------------------


def _escalation_users() -> list[Any]:
    from medvigil.accounts.models import User

    roles = getattr(settings, "VIG_ESCALATION_ROLES", DEFAULT_ESCALATION_ROLES)
    return list(User.objects.filter(is_active=True, roles__code__in=roles).distinct())


def _responsible(row: Row) -> list[Any]:
    return [row.event.owner] if row.event.owner_id else []


def deadline_source(now: dt.datetime) -> Iterable[Deadline]:
    """Every running clock: "due soon" at each alert point (50 %, 80 % by default), "overdue"
    at the due moment to the responsible people and escalation to the management
    representative at the breach."""
    managers: list[Any] | None = None
    points = alert_points()
    for row in board_rows(None, now=now):
        if row.due_at is None:
            continue
        if managers is None:
            managers = _escalation_users()
        base = f"vigilance:{row.kind}:{row.obj.pk}:{row.rule}:{row.due_at:%Y%m%d%H%M}"
        title = gettext_msg(gettext_noop("%(number)s %(market)s: %(rule)s")) % {
            "number": row.event.number,
            "market": row.market,
            "rule": row.rule,
        }
        users = _responsible(row)
        if row.started_at is not None and now < row.due_at:
            span = row.due_at - row.started_at
            for p in points:
                yield Deadline(
                    key=f"{base}:p{int(p * 100)}",
                    title=title,
                    url=row.url,
                    due_at=row.due_at,
                    users=users,
                    lead=span * (1 - p),
                )
        yield Deadline(
            key=base,
            title=title,
            url=row.url,
            due_at=row.due_at,
            users=users,
            escalate_to=managers,
            started_at=row.started_at,
            lead=dt.timedelta(0),
            escalate_after=dt.timedelta(0),
        )
    yield from periodic_deadlines(now, managers if managers is not None else _escalation_users())


def periodic_deadlines(now: dt.datetime, managers: list[Any]) -> Iterable[Deadline]:
    from .periodic import due_list

    for due in due_list(today=timezone.localdate(now)):
        if due.due_at is None:
            continue
        ob = due.obligation
        yield Deadline(
            key=f"vigilance:periodic:{ob.pk}:{due.period_end:%Y%m%d}",
            title=gettext_msg(gettext_noop("%(product)s %(market)s: %(rule)s"))
            % {"product": ob.product.code, "market": ob.market, "rule": due.rule},
            url=ob.get_absolute_url(),
            due_at=due.due_at,
            users=[ob.created_by] if ob.created_by_id else [],
            escalate_to=managers,
            lead=dt.timedelta(days=14),
        )


def my_work(user: Any) -> list[WorkItem]:
    """The user's running vigilance clocks: the events they own; for a qualified person,
    every undecided proposal."""
    if not user.has_perm("vigilance.view_adverseevent"):
        return []
    decide = user.has_perm("vigilance.decide_reportability")
    items = []
    for row in board_rows(user)[:200]:
        mine = row.event.owner_id == user.pk or (decide and row.kind == "decision")
        if not mine:
            continue
        items.append(
            WorkItem(
                title=f"{row.event.number} {row.market} · {row.event.title}",
                url=row.url,
                kind=_("adverse event"),
                due=row.due_at,
                detail=_("Decide reportability") if row.kind == "decision" else row.title,
            )
        )
        if len(items) >= 50:
            break
    return items


def open_events_q() -> Q:
    return Q(status=AdverseEvent.Status.OPEN)
