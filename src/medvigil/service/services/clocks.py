"""SVC-2: the service-level clocks of a request — response, arrival, fix and the free loaner —
computed from the policy's rules (service.rules) on the business clock or the calendar, shown,
alerted and escalated (core.calendar.deadlines), and arrival compliance measured.

| clock | rule (default) | stopped by |
|---|---|---|
| response | SVC-RESPONSE (60 min) | `responded_at` (dispatch or a recorded call-back counts) |
| arrival | SVC-ARRIVE-CITY 3 h / -SUBURB 7 h / -MAX 8 h, never after -MAX | `arrived_at` |
| fix | SVC-FIX (12 h) | `fixed_at` |
| loaner | SVC-LOANER (24 h), owed only when not fixed by the fix target | `loaner_provided_at` |
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from medvigil.core.calendar.deadlines import Deadline
from medvigil.core.calendar.working import YearNotLoaded
from medvigil.core.i18n import gettext_msg

from .. import rules
from ..models import ServiceRequest

CLOCK_TITLES = {
    "response": _("Response"),
    "arrival": _("Arrival on site"),
    "fix": _("Fixed"),
    "loaner": _("Free loaner"),
}
DONE_FIELDS = {
    "response": "responded_at",
    "arrival": "arrived_at",
    "fix": "fixed_at",
    "loaner": "loaner_provided_at",
}
DUE_FIELDS = {
    "response": "response_due_at",
    "arrival": "arrival_due_at",
    "fix": "fix_due_at",
    "loaner": "loaner_due_at",
}


def apply_policy(sr: ServiceRequest) -> None:
    """Compute the request's targets from the policy cell of its zone and fault level, counted
    from receipt. Does not save. A calendar year not loaded leaves the due times empty and says
    so in `sla_problem` (never guessed)."""
    table = rules.policy()
    if (sr.zone, sr.fault_level) not in table:  # invalid input: the service's full_clean says so
        sr.sla_rules = {}
        return
    cell = table[(sr.zone, sr.fault_level)]
    clock = rules.clock_for(cell)
    start = sr.received_at
    codes: dict[str, str] = {}
    for target in rules.TARGETS:
        code = getattr(cell, target)
        if code:
            codes[target] = code
    if codes.get("fix"):
        codes["loaner"] = "SVC-LOANER"
    if codes.get("arrival"):
        codes["arrival_cap"] = "SVC-ARRIVE-MAX"
    sr.sla_clock = clock
    sr.sla_rules = codes
    sr.sla_year_missing = None
    try:
        dues = {t: rules.due(code, start, clock) for t, code in codes.items()}
    except YearNotLoaded as exc:
        for field in DUE_FIELDS.values():
            setattr(sr, field, None)
        sr.sla_year_missing = exc.year
        return
    if "arrival" in dues:
        # seed 003 四 4: 不得逾上班时间内8小时 — the cap, counted on working hours
        try:
            cap = rules.due("SVC-ARRIVE-MAX", start, "business")
        except YearNotLoaded:
            cap = dues["arrival_cap"]
        dues["arrival"] = min(dues["arrival"], cap)
    for target, field in DUE_FIELDS.items():
        setattr(sr, field, dues.get(target))


@dataclass(frozen=True)
class ClockState:
    code: str
    title: Any
    rule: str
    due_at: dt.datetime | None
    done_at: dt.datetime | None
    applies: bool = True

    @property
    def met(self) -> bool:
        return self.done_at is not None and self.due_at is not None and self.done_at <= self.due_at

    def state(self, now: dt.datetime) -> str:
        if self.due_at is None:
            return "flagged"
        if self.done_at is not None:
            return "met" if self.met else "late"
        return "overdue" if now > self.due_at else "open"


def clocks_for(sr: ServiceRequest, *, now: dt.datetime | None = None) -> list[ClockState]:
    """The request's clocks that apply (the loaner one only once it is owed)."""
    now = now or timezone.now()
    out = []
    for code, due_field in DUE_FIELDS.items():
        rule = (sr.sla_rules or {}).get(code)
        if not rule:
            continue
        if code == "loaner" and not (sr.loaner_needed(now) or sr.loaner_provided_at):
            continue
        out.append(
            ClockState(
                code,
                CLOCK_TITLES[code],
                rule,
                getattr(sr, due_field),
                getattr(sr, DONE_FIELDS[code]),
            )
        )
    return out


def next_due(sr: ServiceRequest, *, now: dt.datetime | None = None) -> ClockState | None:
    open_ = [c for c in clocks_for(sr, now=now) if c.done_at is None and c.due_at is not None]
    return min(open_, key=lambda c: c.due_at, default=None)  # type: ignore[arg-type, return-value]


def arrival_compliance(qs: QuerySet | None = None) -> dict[str, Any]:
    """SVC-2 / KPI-2: of the requests with an arrival target where the engineer has arrived,
    how many arrived in time; plus those still waiting past their target."""
    qs = ServiceRequest.objects.all() if qs is None else qs
    qs = qs.exclude(status=ServiceRequest.Status.VOIDED).filter(arrival_due_at__isnull=False)
    arrived = list(qs.filter(arrived_at__isnull=False).values_list("arrived_at", "arrival_due_at"))
    met = sum(1 for a, d in arrived if a <= d)
    waiting_late = qs.filter(arrived_at__isnull=True, arrival_due_at__lt=timezone.now()).count()
    total = len(arrived)
    return {
        "arrived": total,
        "met": met,
        "late": total - met,
        "waiting_late": waiting_late,
        "percent": round(100.0 * met / total, 1) if total else None,
    }


# --- alerts and escalation (PLAT-8) -------------------------------------------------------------


def managers() -> list[Any]:
    """Who is told when a service clock is breached: holders of the dispatch permission."""
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    from medvigil.accounts.models import User

    perm = Permission.objects.filter(
        content_type__app_label="service", codename="dispatch_servicerequest"
    ).first()
    if perm is None:
        return []
    return list(
        User.objects.filter(is_active=True)
        .filter(Q(roles__permissions=perm) | Q(user_permissions=perm))
        .distinct()
    )


def deadline_source(now: dt.datetime) -> Iterable[Deadline]:
    """Every open service clock: "due soon" to the engineer (or the request's owner), overdue
    and escalation to the service managers."""
    mgrs: list[Any] | None = None
    qs = (
        ServiceRequest.objects.filter(status__in=ServiceRequest.OPEN_STATUSES)
        .select_related("engineer", "owner")
        .iterator(chunk_size=500)
    )
    for sr in qs:
        for c in clocks_for(sr, now=now):
            if c.done_at is not None or c.due_at is None:
                continue
            if mgrs is None:
                mgrs = managers()
            who = sr.engineer or sr.owner
            yield Deadline(
                key=f"service:{sr.pk}:{c.code}:{c.due_at:%Y%m%d%H%M}",
                title=gettext_msg(gettext_noop("%(number)s: %(clock)s"))
                % {"number": sr.number, "clock": c.title},
                url=sr.get_absolute_url(),
                due_at=c.due_at,
                users=[who] if who else [],
                escalate_to=mgrs,
                started_at=sr.received_at,
            )


def describe(sr: ServiceRequest) -> str:
    """One line for lists: the next clock and when."""
    c = next_due(sr)
    if c is None or c.due_at is None:
        return ""
    local = timezone.localtime(c.due_at)
    return gettext("%(clock)s by %(when)s") % {"clock": c.title, "when": f"{local:%m-%d %H:%M}"}
