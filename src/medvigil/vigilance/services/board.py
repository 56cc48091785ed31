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
from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from medvigil.core.calendar.deadlines import Deadline
from medvigil.core.calendar.rules import get_rule
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


def _event_scope(user: Any) -> QuerySet | None:
    """The events `user` may see, or None when that is every event (no filter to add: the
    board's queries then read their partial indexes alone)."""
    if user is None:
        return None
    scope: QuerySet = scope_for_user(user, AdverseEvent)
    return scope if scope.query.where else None


def _clocks(user: Any, market: str, event: AdverseEvent | None) -> tuple[QuerySet, QuerySet]:
    """The two kinds of running clock as querysets, most urgent first (stored due times:
    reports' due_at, reportable proposals' due_at — services.decisions.proposal_due). The open
    events' clocks are those with ``event_open`` (copied from the event by services.events):
    each kind is one partial index (vig_decision_running, vig_report_running) in this order,
    so a page of the most urgent is read without joining the open events first."""
    order = (F("due_at").asc(nulls_last=True), "event_id", "id")
    decisions = ReportabilityDecision.objects.filter(
        status=ReportabilityDecision.Status.PROPOSED,
        proposed_reportable=True,
        event_open=True,
    ).exclude(deadline_rules=[])
    reports = VigilanceReport.objects.filter(status=VigilanceReport.Status.DRAFT, event_open=True)
    scope = _event_scope(user)
    if scope is not None:
        decisions = decisions.filter(event__in=scope)
        reports = reports.filter(event__in=scope)
    if event is not None:
        decisions = decisions.filter(event=event)
        reports = reports.filter(event=event)
    if market:
        decisions = decisions.filter(market=market)
        reports = reports.filter(market=market)
    related = ("event", "event__owner")
    return (
        decisions.select_related(*related).order_by(*order),
        reports.select_related(*related).order_by(*order),
    )


# The fields of a row's event and its owner that the board, the event page, "My work" and the
# API read (board_rows loads only these).
ROW_EVENT_FIELDS = ("number", "title", "status", "aware_at", "owner_id")
ROW_OWNER_FIELDS = ("username", "first_name", "last_name", "display_name")


def _decision_row(d: ReportabilityDecision) -> Row:
    e = d.event
    return Row(e, d.market, "decision", d, d.deadline_rules[0], e.aware_at, d.due_at)


def _report_row(r: VigilanceReport) -> Row:
    return Row(r.event, r.market, "report", r, r.deadline_rule, r.clock_started_at, r.due_at)


def board_rows(
    user: Any = None,
    *,
    now: dt.datetime | None = None,
    market: str = "",
    event: AdverseEvent | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Row]:
    """Every running clock of the open events the user may see, most urgent first: draft
    reports (their deadline) and undecided proposals that would be reportable (the proposed
    rule's deadline, counted from awareness). `limit`/`offset`: one page of them, read from
    the database in order (the due times are stored)."""
    now = now or timezone.now()
    decisions, reports = _clocks(user, market, event)
    # what a row shows (the rest of the clock, its event and owner stays unread: a page builds
    # a few hundred instances)
    shown = [f"event__{f}" for f in ROW_EVENT_FIELDS] + [
        f"event__owner__{f}" for f in ROW_OWNER_FIELDS
    ]
    decisions = decisions.only("event_id", "market", "deadline_rules", "due_at", *shown)
    reports = reports.only(
        "event_id", "market", "deadline_rule", "clock_started_at", "due_at", *shown
    )
    if limit is not None:
        decisions, reports = decisions[: offset + limit], reports[: offset + limit]
    rows = [_decision_row(d) for d in decisions] + [_report_row(r) for r in reports]
    far = now + dt.timedelta(days=36500)
    rows.sort(key=lambda r: (r.due_at or far, r.event.pk, r.kind, r.obj.pk))
    if limit is not None:
        rows = rows[offset : offset + limit]
    return rows


def board_count(user: Any = None, *, market: str = "") -> int:
    """How many clocks the board has in all (for its pages)."""
    decisions, reports = _clocks(user, market, None)
    return (
        decisions.order_by()
        .values_list("pk")
        .union(reports.order_by().values_list("pk"), all=True)
        .count()
    )


# --- on-time reporting rate ------------------------------------------------------------------


def _rate_counts(qs: QuerySet, now: dt.datetime) -> dict[str, dict[str, int]]:
    """Per market: total, on_time, late (submitted) and overdue (draft) among `qs`."""
    submitted = Q(status=VigilanceReport.Status.SUBMITTED)
    return {
        row["market"]: row
        for row in qs.order_by()
        .values("market")
        .annotate(
            # due_at, not the key: the counts read only the index vig_report_rate
            total=Count("due_at"),
            on_time=Count("due_at", filter=submitted & Q(submitted_at__lte=F("due_at"))),
            late=Count("due_at", filter=submitted & Q(submitted_at__gt=F("due_at"))),
            overdue=Count("due_at", filter=Q(status=VigilanceReport.Status.DRAFT, due_at__lt=now)),
        )
    }


# How long the submitted reports' counts of a period stay in the cache at most (they are
# found again by their stamp; this only bounds what an old stamp could keep).
RATE_CACHE_SECONDS = 3600


def _rate_counts_cached(
    lo: dt.datetime, hi: dt.datetime, now: dt.datetime
) -> dict[str, dict[str, int]]:
    """_rate_counts over every report, the submitted ones' counts from the cache (issue #10:
    the 38,000 reports of a year took a third of the board's SQL time). A submitted report
    never changes again (submitted is final, content and moments frozen), and the set of them
    grows only when a draft is submitted (the drafts' count falls) or a report is created
    (the highest key rises): the drafts' count and the highest key, read before the submitted
    counts, are the stamp the counts are cached under. The drafts (a few thousand, their due
    moments may change) are counted on every request."""
    draft = VigilanceReport.Status.DRAFT
    in_period = Q(due_at__gte=lo, due_at__lte=hi)
    live = {
        row["market"]: row
        for row in VigilanceReport.objects.filter(status=draft)
        .order_by()
        .values("market")
        .annotate(
            drafts=Count("pk"),
            total=Count("due_at", filter=in_period),
            overdue=Count("due_at", filter=in_period & Q(due_at__lt=now)),
        )
    }
    last = VigilanceReport.objects.order_by("-pk").values_list("pk", flat=True).first()
    stamp = f"{last}:{sum(row['drafts'] for row in live.values())}"
    key = f"vigilance:rates:{lo.isoformat()}:{hi.isoformat()}:{stamp}"
    done: dict[str, dict[str, int]] | None = cache.get(key)
    if done is None:
        submitted = VigilanceReport.objects.filter(
            in_period, status=VigilanceReport.Status.SUBMITTED
        )
        done = {
            m: {"total": c["total"], "on_time": c["on_time"], "late": c["late"]}
            for m, c in _rate_counts(submitted, now).items()
        }
        cache.set(key, done, RATE_CACHE_SECONDS)
    out: dict[str, dict[str, int]] = {}
    for m in {*live, *done}:
        d, s = live.get(m, {}), done.get(m, {})
        out[m] = {
            "total": d.get("total", 0) + s.get("total", 0),
            "on_time": s.get("on_time", 0),
            "late": s.get("late", 0),
            "overdue": d.get("overdue", 0),
        }
    return out


def on_time_rates(
    start: dt.date, end: dt.date, *, user: Any = None, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Per market: the reports due in [start, end] (in the company zone's days) — submitted on
    time, submitted late, still open past due — and the on-time rate (KPI-2). For a user who
    sees every event, the submitted reports' counts come from the cache
    (_rate_counts_cached)."""
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    hi = dt.datetime.combine(end, dt.time.max, tzinfo=zone)
    scope = _event_scope(user)
    if scope is None:
        counts = _rate_counts_cached(lo, hi, now)
    else:
        qs = VigilanceReport.objects.exclude(status=VigilanceReport.Status.VOIDED).filter(
            due_at__gte=lo, due_at__lte=hi, event__in=scope
        )
        counts = _rate_counts(qs, now)
    out = []
    for m in Market.values:
        c = counts.get(m, {})
        on_time, late, overdue = c.get("on_time", 0), c.get("late", 0), c.get("overdue", 0)
        counted = on_time + late + overdue
        out.append(
            {
                "market": m,
                "label": Market(m).label,
                "on_time": on_time,
                "late": late,
                "overdue": overdue,
                "pending": c.get("total", 0) - counted,
                "rate": (on_time / counted) if counted else None,
            }
        )
    return out


# --- alerts (core.calendar.deadlines) and "My work" ------------------------------------------


def _escalation_users() -> list[Any]:
    from medvigil.accounts.models import User

    roles = getattr(settings, "VIG_ESCALATION_ROLES", DEFAULT_ESCALATION_ROLES)
    return list(User.objects.filter(is_active=True, roles__code__in=roles).distinct())


def _running_clocks() -> Iterable[tuple[str, int, int, str, str, Any, Any, str, int | None]]:
    """Every running clock as plain values (kind, pk, event pk, market, rule, started, due,
    event number, owner pk): the deadline check reads thousands of them on every run, so no
    model instances are built for clocks that have nothing to alert."""
    decisions, reports = _clocks(None, "", None)
    for pk, event_id, market, rules, started, due, number, owner in decisions.values_list(
        "pk",
        "event_id",
        "market",
        "deadline_rules",
        "event__aware_at",
        "due_at",
        "event__number",
        "event__owner_id",
    ):
        yield "decision", pk, event_id, market, rules[0], started, due, number, owner
    for pk, event_id, market, rule, started, due, number, owner in reports.values_list(
        "pk",
        "event_id",
        "market",
        "deadline_rule",
        "clock_started_at",
        "due_at",
        "event__number",
        "event__owner_id",
    ):
        yield "report", pk, event_id, market, rule, started, due, number, owner


def deadline_source(now: dt.datetime) -> Iterable[Deadline]:
    """Every running clock: "due soon" at each alert point (50 %, 80 % by default), "overdue"
    at the due moment to the responsible people and escalation to the management
    representative at the breach. Only the alerts whose moment has come are yielded (the
    check would find nothing to send for the others), from plain values: thousands of open
    clocks stay cheap."""
    from django.urls import reverse

    from medvigil.accounts.models import User

    points = alert_points()
    due_now = []
    for clock in _running_clocks():
        started, due = clock[5], clock[6]
        if due is None:
            continue
        span = due - started if started is not None else None
        reached = [
            p for p in points if span is not None and now < due and now >= due - span * (1 - p)
        ]
        if reached or now >= due:
            due_now.append((clock, span, reached))
    managers = _escalation_users()
    owners = User.objects.in_bulk({c[8] for c, _s, _r in due_now if c[8] is not None})
    # one reverse() per kind of page, not per clock
    event_url = reverse("vigilance:event_detail", args=[0]).removesuffix("0/")
    report_url = reverse("vigilance:report_detail", args=[0]).removesuffix("0/")
    for (kind, pk, event_id, market, rule, started, due, number, owner), span, reached in due_now:
        url = (
            f"{event_url}{event_id}/#decision-{pk}" if kind == "decision" else f"{report_url}{pk}/"
        )
        base = f"vigilance:{kind}:{pk}:{rule}:{due:%Y%m%d%H%M}"
        title = gettext_msg(gettext_noop("%(number)s %(market)s: %(rule)s")) % {
            "number": number,
            "market": market,
            "rule": rule,
        }
        users = [owners[owner]] if owner in owners else []
        for p in reached:
            yield Deadline(
                key=f"{base}:p{int(p * 100)}",
                title=title,
                url=url,
                due_at=due,
                users=users,
                lead=span * (1 - p) if span is not None else None,
            )
        if now >= due:
            yield Deadline(
                key=base,
                title=title,
                url=url,
                due_at=due,
                users=users,
                escalate_to=managers,
                started_at=started,
                lead=dt.timedelta(0),
                escalate_after=dt.timedelta(0),
            )
    yield from periodic_deadlines(now, managers)


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
    for row in board_rows(user, limit=200):
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
