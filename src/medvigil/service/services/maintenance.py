"""SVC-8: preventive maintenance and call-backs from the installed base, generated ahead by the
periodic job. Seed 003 医疗器械售后服务管理程序 四 6: 在保修期内按每3个月定期上门回访一次;
在保修期满后
按每6个月定期上门回访一次; 每月电话回访和质量跟踪回访一次. Settings per product
(``SERVICE_MAINTENANCE`` = {product code: {"in_warranty": 3, "after": 6, "call": 1}}), default the
seed's months. The schedule counts from acceptance (else installation): visits at start + 3, +6 …
months while inside the warranty, then every 6 months after its end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from medvigil.core.audit import audit_context
from medvigil.core.audit.batch import record_batch_create
from medvigil.core.types import Actor
from medvigil.trace.models import Installation, add_months

from ..models import MaintenanceVisit


@dataclass(frozen=True)
class Intervals:
    in_warranty: int = 3
    after: int = 6
    call: int = 1


def intervals_for(product_code: str) -> Intervals:
    table = getattr(settings, "SERVICE_MAINTENANCE", None) or {}
    raw = table.get(product_code) or table.get("*") or {}
    try:
        return Intervals(
            int(raw.get("in_warranty", 3)), int(raw.get("after", 6)), int(raw.get("call", 1))
        )
    except (TypeError, ValueError, AttributeError):
        return Intervals()


_VISIT, _CALL = MaintenanceVisit.Kind.VISIT.value, MaintenanceVisit.Kind.CALL.value  # plain str
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _series(
    base: dt.date, step: int, low: dt.date, high: dt.date, since: dt.date | None
) -> list[dt.date]:
    """base + k*step months (k = 1, 2, …; clamped to the month's last day, as add_months)
    from `low` to `high` inclusive — computed from near `since`, not from k = 1: the plan of
    a unit installed years ago costs what a new unit's costs."""
    if step <= 0 or high < low:
        return []
    origin = base.year * 12 + base.month - 1
    k = 1
    if since is not None:
        k = max(1, (since.year * 12 + since.month - 1 - origin - 1) // step)
    out = []
    day0 = base.day
    while True:
        year, month0 = divmod(origin + k * step, 12)
        last = _DAYS_IN_MONTH[month0]
        if month0 == 1 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
            last = 29
        day = dt.date(year, month0 + 1, day0 if day0 <= last else last)
        if day > high:
            return out
        if day >= low:
            out.append(day)
        k += 1


def schedule(
    start: dt.date,
    warranty_end: dt.date | None,
    until: dt.date,
    iv: Intervals,
    since: dt.date | None = None,
) -> list[tuple[str, dt.date, bool]]:
    """(kind, due day, inside the warranty) from `start` up to `until` — only those on or
    after `since` when it is given (the same days, computed from near `since`)."""
    end = warranty_end or start
    low = since or start
    visit, call = _VISIT, _CALL
    # onsite visits: every iv.in_warranty months inside, then every iv.after months after;
    # the last inside is on or before the warranty's end, so those after count from the end
    # (from the start without a warranty, or with one ending before the start)
    out = [(visit, d, True) for d in _series(start, iv.in_warranty, low, min(end, until), since)]
    base = max(start, end) if warranty_end else start
    out += [(visit, d, False) for d in _series(base, iv.after, low, until, since)]
    out += [(call, d, d <= end) for d in _series(start, iv.call, low, until, since)]
    return out


CHUNK = 5000  # installations read (and their existing visits) per round


def horizon_days() -> int:
    return int(getattr(settings, "SERVICE_MAINTENANCE_HORIZON_DAYS", 60))


PLAN_FIELDS = ("unit_id", "kind", "due_on", "in_warranty")


def _planned(today: dt.date, until: dt.date) -> Iterator[tuple[Any, ...]]:
    """(unit, kind, due day, inside the warranty) of every visit and call-back due from
    `today` to `until` that does not exist yet: installations read in rounds by unit, each
    round with the visits its units already have in the period (bounded memory; a year of
    200,000 units is ~3 M rows)."""
    per_product: dict[str, Intervals] = {}
    last = None
    while True:
        qs = Installation.objects.filter(current=True)
        if last is not None:
            qs = qs.filter(unit_id__gt=last)
        rows = list(
            qs.order_by("unit_id").values_list(
                "unit_id",
                "accepted_on",
                "installed_on",
                "warranty_end",
                "unit__product__code",
                "unit__product__warranty_months",
            )[:CHUNK]
        )
        if not rows:
            return
        last = rows[-1][0]
        existing = set(
            MaintenanceVisit.objects.filter(
                unit_id__gte=rows[0][0], unit_id__lte=last, due_on__gte=today, due_on__lte=until
            ).values_list("unit_id", "kind", "due_on")
        )
        previous, previous_plan = None, []
        for unit_id, accepted_on, installed_on, warranty_end, code, months in rows:
            start = accepted_on or installed_on
            end = warranty_end or add_months(start, months)
            iv = per_product.get(code) or per_product.setdefault(code, intervals_for(code))
            plan = schedule(start, end, until, iv, since=today)
            if unit_id == previous:  # a unit with two current installations: planned once
                existing.update((unit_id, p[0], p[1]) for p in previous_plan)
            if existing:
                plan = [p for p in plan if (unit_id, p[0], p[1]) not in existing]
            previous, previous_plan = unit_id, plan
            for kind, day, inside in plan:
                yield (unit_id, kind, day, inside)


def generate_visits(
    *, today: dt.date | None = None, by: Actor = None, days: int | None = None
) -> int:
    """Create the visits and call-backs due within the horizon (default 60 days ahead) for every
    current installation of the installed base; existing ones are kept (idempotent). Returns the
    number created. Run daily by the periodic job (service/tasks.py).

    Planned visits are system-generated: each run that creates any is audited by ONE batch
    record (core.audit.batch: who or what ran it, when, how many, a digest of the rows);
    their later changes (assignment, completion) are audited per visit."""
    today = today or timezone.localdate()
    until = today + dt.timedelta(days=horizon_days() if days is None else days)
    with transaction.atomic(), audit_context(actor=by, source=None if by else "task:maintenance"):
        batch = record_batch_create(
            MaintenanceVisit,
            PLAN_FIELDS,
            _planned(today, until),
            note="maintenance plan (SVC-8)",
            period=(today, until),
        )
    return batch.count if batch is not None else 0


def complete_visit(
    visit: MaintenanceVisit, *, by: Actor, version: Any, notes: str = ""
) -> MaintenanceVisit:
    """The visit made or the call-back done (SVC-8), with what was found."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from medvigil.core.permissions import require

    require(by, "service.change_maintenancevisit")
    if "\x00" in (notes or ""):
        raise ValidationError({"notes": _("The text contains a NUL character.")})
    with transaction.atomic(), audit_context(actor=by):
        obj = MaintenanceVisit.objects.select_for_update().get(pk=visit.pk)
        obj.check_version(version)
        if obj.status == MaintenanceVisit.Status.DONE:
            raise ValidationError(_("This visit is already done."))
        obj.status = MaintenanceVisit.Status.DONE
        obj.done_at = timezone.now()
        obj.assigned_to = obj.assigned_to or by
        obj.notes = notes or obj.notes
        obj.save()
    return obj


def missed_visits(today: dt.date | None = None) -> Any:
    """Planned visits whose day has passed (shown and alerted)."""
    today = today or timezone.localdate()
    return MaintenanceVisit.objects.filter(status=MaintenanceVisit.Status.PLANNED, due_on__lt=today)


def deadline_source(now: dt.datetime) -> Any:
    """PLAT-8: planned visits due within a week alert their engineer (or the service managers)
    before the day; missed ones escalate."""
    from django.utils.translation import gettext_noop

    from medvigil.core.calendar.deadlines import Deadline
    from medvigil.core.calendar.rules import end_of_day
    from medvigil.core.i18n import gettext_msg

    from .clocks import managers

    zone = timezone.get_current_timezone()
    soon = timezone.localdate(now) + dt.timedelta(days=7)
    mgrs: list[Any] | None = None
    for v in (
        MaintenanceVisit.objects.filter(status=MaintenanceVisit.Status.PLANNED, due_on__lte=soon)
        .select_related("unit", "assigned_to")
        .iterator(chunk_size=1000)
    ):
        if mgrs is None:
            mgrs = managers()
        yield Deadline(
            key=f"service-visit:{v.pk}:{v.due_on:%Y%m%d}",
            title=gettext_msg(gettext_noop("%(kind)s of %(unit)s"))
            % {"kind": v.get_kind_display(), "unit": v.unit.serial},
            url=v.get_absolute_url(),
            due_at=end_of_day(v.due_on, zone),
            users=[v.assigned_to] if v.assigned_to_id else mgrs,
            escalate_to=mgrs,
        )
