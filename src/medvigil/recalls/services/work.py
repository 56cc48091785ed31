"""What the platform reads from the recalls app: "My work" (open recall deadlines and
notices to send), the deadline source (alerts and escalation, PLAT-8) and the unit timeline
(TRC-7: a unit's recalls)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from medvigil.core.calendar.deadlines import Deadline
from medvigil.core.permissions import can, scope_for_user
from medvigil.core.registry import TimelineEvent, WorkItem, rows_of, timeline_sources

from ..models import Recall, RecallClock, RecallUnit


def _title(clock: RecallClock) -> str:
    rule = clock.rule
    return str(rule.title) if rule is not None else clock.deadline_rule


def my_work(user: Any) -> list[WorkItem]:
    """Open deadlines of the recalls the user owns; drafts waiting for the user's decision."""
    if not can(user, Recall, "view"):
        return []
    items = []
    clocks = (
        RecallClock.objects.filter(
            recall__owner=user, recall__status=Recall.Status.OPEN, met_at__isnull=True
        )
        .select_related("recall")
        .order_by("due_at")[:50]
    )
    for c in clocks:
        items.append(
            WorkItem(
                title=f"{c.recall.number} · {_title(c)}",
                url=c.get_absolute_url(),
                kind=_("recall"),
                due=c.due_at,
            )
        )
    perms = [p for p in ("recalls.approve_recall", "recalls.issue_advisory") if user.has_perm(p)]
    if perms:
        kinds = ["recall"] if perms == ["recalls.approve_recall"] else ["advisory"]
        if len(perms) == 2:
            kinds = ["recall", "advisory"]
        for r in scope_for_user(user, Recall).filter(
            status=Recall.Status.DRAFT, kind__in=kinds, scope_resolved_at__isnull=False
        )[:20]:
            items.append(
                WorkItem(
                    title=f"{r.number} · {_('decision awaited')}",
                    url=r.get_absolute_url(),
                    kind=_("recall"),
                )
            )
    return items


def deadline_source(now: dt.datetime) -> Iterable[Deadline]:
    for c in (
        RecallClock.objects.filter(
            recall__status=Recall.Status.OPEN, met_at__isnull=True, due_at__isnull=False
        )
        .select_related("recall", "recall__owner")
        .order_by("due_at")
    ):
        assert c.due_at is not None
        yield Deadline(
            key=f"recalls:clock:{c.pk}",
            title=f"{c.recall.number} {_title(c)}",
            url=c.get_absolute_url(),
            due_at=c.due_at,
            users=[c.recall.owner] if c.recall.owner else [],
            started_at=c.clock_started_at,
        )


@timeline_sources(rows_of(RecallUnit, "unit"))
def unit_events(unit: Any, user: Any) -> Iterable[TimelineEvent]:
    if not can(user, Recall, "view"):
        return
    rows = (
        RecallUnit.objects.filter(unit=unit)
        .select_related("recall")
        .exclude(recall__status=Recall.Status.VOIDED)
        .order_by("recall__created_at")
    )
    for row in rows:
        r = row.recall
        yield TimelineEvent(
            date=r.decided_at or r.created_at,
            kind=r.get_kind_display(),
            title=f"{r.number} {r.title}",
            url=r.get_absolute_url(),
            detail=row.get_outcome_display(),
            style="danger" if r.kind == "recall" else "warning",
        )
