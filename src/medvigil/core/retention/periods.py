"""How long a record is kept (PLAT-5, TRC-9): retention rules, dates and decisions.

How long a record is kept
-------------------------
Each record type may have a :class:`~medvigil.core.models.RetentionRule` (data, edited by an
administrator, with the citation it comes from). :func:`retention_until` returns the last
day a record must be kept, or ``None`` when it is kept permanently. Destruction is possible
from the *next* day on.

==========  ==========================================================================
basis       last day kept
==========  ==========================================================================
created     start + ``years``
expiry      ``expiry`` + ``years``, but never before start + ``minimum_years``; without an
            expiry date: start + ``minimum_years`` (TRC-9: expiry + 2 years, not less than
            5 years where there is no expiry)
lifetime    ``lifetime_end`` + ``years``, but never before start + ``minimum_years``
            (ISO 13485 4.2.5: the device lifetime, not less than 2 years from release);
            without a lifetime end: start + max(``years``, ``minimum_years``)
permanent   kept permanently (``None``)
==========  ==========================================================================

With ``permanent_if_implantable`` a record whose dates say ``implantable`` is permanent,
whatever the basis. A record type with no rule uses settings.RETENTION_DEFAULT_YEARS
(default 10) years from creation.

The ``retention_dates()`` protocol
----------------------------------
A model tells the rule its dates by overriding the record hook ``retention_dates(self) ->
RetentionDates`` (declared in core/records/hooks.py; a dict, every key optional)::

    def retention_dates(self):
        return {
            "created": self.sold_on,                 # date the period starts from
            "expiry": self.unit.lot.expiry_date,      # product expiry, or None
            "lifetime_end": None,                     # end of the expected device lifetime
            "implantable": self.unit.product.implantable,
        }

Missing ``created`` falls back to the record's ``created_at``/``created`` field, then to the
time of its first audit entry (when it entered the system), then today. Datetimes are
converted to dates in the company time zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from ..audit import audit_context
from ..models import AuditEntry, RetentionRule
from ..records.hooks import RetentionDates, hook

Basis = RetentionRule.Basis


def default_years() -> int:
    return int(getattr(settings, "RETENTION_DEFAULT_YEARS", 10))


def company_today() -> dt.date:
    return timezone.localdate()


def _as_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"retention date must be a date or datetime, not {type(value).__name__}")


def add_years(d: dt.date, years: int) -> dt.date:
    """Same day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def _first_audit_date(record: models.Model) -> dt.date | None:
    ct = ContentType.objects.get_for_model(record, for_concrete_model=True)
    ts = (
        AuditEntry.objects.filter(content_type=ct, object_id=str(record.pk))
        .order_by("seq")
        .values_list("timestamp", flat=True)
        .first()
    )
    return _as_date(ts)


def _dates_of(record: models.Model) -> RetentionDates:
    dates: RetentionDates = dict(hook(record, "retention_dates")())  # type: ignore[assignment]
    if dates.get("created") is None:
        for name in ("created_at", "created"):
            value = getattr(record, name, None)
            if isinstance(value, dt.date):
                dates["created"] = value
                break
    if dates.get("created") is None:
        dates["created"] = _first_audit_date(record) or company_today()
    return dates


@dataclass(frozen=True)
class RetentionDecision:
    until: dt.date | None  # last day kept; None = permanent
    rule: RetentionRule | None  # None: the default rule
    basis: str
    start: dt.date
    explanation: str

    @property
    def permanent(self) -> bool:
        return self.until is None

    @property
    def destroyable_from(self) -> dt.date | None:
        return None if self.until is None else self.until + dt.timedelta(days=1)

    def expired(self, today: dt.date | None = None) -> bool:
        return self.until is not None and (today or company_today()) > self.until


def rule_for(model_or_record: Any) -> RetentionRule | None:
    ct = ContentType.objects.get_for_model(model_or_record, for_concrete_model=True)
    return RetentionRule.objects.filter(content_type=ct).first()


def explain_retention(record: models.Model) -> RetentionDecision:
    """The retention date of `record` with the rule and dates it comes from."""
    rule = rule_for(record)
    dates = _dates_of(record)
    start = _as_date(dates.get("created")) or company_today()
    if rule is None:
        years = default_years()
        return RetentionDecision(
            add_years(start, years),
            None,
            Basis.CREATED,
            start,
            _("default rule: %(years)s years from %(start)s (no rule for this record type)")
            % {"years": years, "start": start.isoformat()},
        )
    citation = f" [{rule.citation}]" if rule.citation else ""
    if rule.basis == Basis.PERMANENT:
        return RetentionDecision(None, rule, rule.basis, start, _("permanent") + citation)
    if rule.permanent_if_implantable and dates.get("implantable"):
        return RetentionDecision(
            None, rule, rule.basis, start, _("permanent: implantable device") + citation
        )
    floor = add_years(start, rule.minimum_years)
    if rule.basis == Basis.CREATED:
        until = add_years(start, rule.years)
        text = _("%(years)s years from %(start)s") % {"years": rule.years, "start": start}
    elif rule.basis == Basis.EXPIRY:
        expiry = _as_date(dates.get("expiry"))
        if expiry is None:
            until = floor
            text = _("no expiry date: %(years)s years from %(start)s") % {
                "years": rule.minimum_years,
                "start": start,
            }
        else:
            until = max(add_years(expiry, rule.years), floor)
            text = _(
                "%(years)s years after expiry %(expiry)s, at least %(minimum)s years from %(start)s"
            ) % {
                "years": rule.years,
                "expiry": expiry,
                "minimum": rule.minimum_years,
                "start": start,
            }
    else:  # lifetime
        end = _as_date(dates.get("lifetime_end"))
        if end is None:
            years = max(rule.years, rule.minimum_years)
            until = add_years(start, years)
            text = _("no device lifetime known: %(years)s years from %(start)s") % {
                "years": years,
                "start": start,
            }
        else:
            until = max(add_years(end, rule.years), floor)
            text = _(
                "device lifetime to %(end)s + %(years)s years, at least %(minimum)s years from "
                "%(start)s"
            ) % {"end": end, "years": rule.years, "minimum": rule.minimum_years, "start": start}
    return RetentionDecision(until, rule, rule.basis, start, text + citation)


def retention_until(record: models.Model) -> dt.date | None:
    """The last day `record` must be kept; None when it is kept permanently."""
    return explain_retention(record).until


def ensure_retention_rules(app_label: str, rules: Any) -> None:
    """Create the retention rules an app declares (core.records.domain.RetentionRuleSpec)
    for record types that have none — through the audited model, so the rule's creation is
    in the trail. Rules that exist (e.g. edited by an administrator) are kept as they are."""
    from django.apps import apps

    with audit_context(source="defaults"):
        for spec in rules:
            ct = ContentType.objects.get_for_model(apps.get_model(app_label, spec.model))
            if not RetentionRule.objects.filter(content_type=ct).exists():
                RetentionRule.objects.create(
                    content_type=ct,
                    basis=spec.basis,
                    years=spec.years,
                    minimum_years=spec.minimum_years,
                    permanent_if_implantable=spec.permanent_if_implantable,
                    citation=spec.citation[:300],
                )
