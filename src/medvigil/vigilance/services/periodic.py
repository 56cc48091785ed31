"""VIG-7: periodic reports due from each product's registration date and class — China's
periodic risk evaluation (cn.periodic_risk: within 60 days after each full year from first
registration, for the first 5 years) and the EU PSUR (eu.psur: yearly for class IIb/III,
every 2 years for IIa, due at the end of the period)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.calendar.rules import compute, get_rule
from medvigil.core.calendar.working import get_calendar
from medvigil.core.permissions import require

from ..models import EuClass, Market, PeriodicObligation

ADD_PERM = "vigilance.add_periodicobligation"
CHANGE_PERM = "vigilance.change_periodicobligation"
CN_YEARS = 5


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class PeriodDue:
    obligation: PeriodicObligation
    period_end: dt.date
    due_at: dt.datetime | None
    rule: str

    @property
    def title(self) -> Any:
        return get_rule(self.rule).title


def period_ends(ob: PeriodicObligation, until: dt.date) -> list[dt.date]:
    """The ends of the reporting periods from the registration date up to `until`."""
    if ob.market == Market.CN:
        return [_add_years(ob.registered_on, k) for k in range(1, CN_YEARS + 1)]
    step = 2 if ob.eu_class == EuClass.IIA else 1
    out = []
    k = step
    while True:
        end = _add_years(ob.registered_on, k)
        out.append(end)
        if end > until:
            return out
        k += step


def next_due(ob: PeriodicObligation, *, today: dt.date | None = None) -> PeriodDue | None:
    """The first period not reported yet, with its deadline (None when China's 5 years are
    done)."""
    today = today or timezone.localdate()
    rule = "cn.periodic_risk" if ob.market == Market.CN else "eu.psur"
    zone = get_calendar(ob.market).zone
    for end in period_ends(ob, today + dt.timedelta(days=800)):
        if ob.last_period_end and end <= ob.last_period_end:
            continue
        start = dt.datetime.combine(end, dt.time(0, 0), tzinfo=zone)
        return PeriodDue(ob, end, compute(rule, start).due_at, rule)
    return None


def create_obligation(*, by: Any, **fields: Any) -> PeriodicObligation:
    require(by, ADD_PERM)
    unknown = set(fields) - {"product", "market", "registered_on", "eu_class", "last_period_end"}
    if unknown:
        raise ValidationError(_("Unknown field: %(f)s") % {"f": ", ".join(sorted(unknown))})
    with transaction.atomic(), audit_context(actor=by):
        ob = PeriodicObligation(**fields)
        ob.full_clean()
        ob.save()
    return ob


def record_period_reported(ob: PeriodicObligation, *, by: Any, period_end: dt.date) -> Any:
    """The periodic report of the period ending `period_end` was completed (and submitted)."""
    require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by, reason=_("Periodic report completed")):
        obj = PeriodicObligation.objects.select_for_update().get(pk=ob.pk)
        if period_end not in period_ends(obj, period_end):
            raise ValidationError({"period_end": _("This is not the end of a reporting period.")})
        if obj.last_period_end and period_end <= obj.last_period_end:
            raise ValidationError({"period_end": _("This period is already reported.")})
        obj.last_period_end = period_end
        obj.save()
    return obj


def due_list(*, today: dt.date | None = None) -> list[PeriodDue]:
    out = []
    for ob in PeriodicObligation.objects.select_related("product").order_by("pk"):
        due = next_due(ob, today=today)
        if due is not None:
            out.append(due)
    far = timezone.now() + dt.timedelta(days=36500)
    out.sort(key=lambda d: d.due_at or far)
    return out
