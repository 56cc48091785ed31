"""Trend reporting (EU MDR Art. 88; VIG-7's periodic side): non-serious incidents and expected
undesirable side-effects counted per product and period against the baseline the company sets
(TrendBaseline: expected count per month or quarter, significance level), with a signal when
the rise is statistically significant.

The test: the events of one period are taken as a Poisson count with the baseline as its mean;
the p-value is P(X >= observed) = ``scipy.stats.poisson.sf(observed - 1, expected)`` (one-sided:
only a rise is a signal). A signal is a p-value below the baseline's significance level with
more events than expected. The periodic job (tasks.vigilance_trends) keeps each signal once
(TrendSignal, unique per product and period) and tells quality once; a signal becomes a trend
report (TrendReport: draft, then submitted — frozen and signed, like the incident reports).

Counted: events that are not voided, aware in the period (the company's time zone), whose
outcome is "other" (not a serious incident) or that are flagged an expected side-effect."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth, TruncQuarter
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from medvigil.core.audit import audit_context
from medvigil.core.i18n import gettext_msg
from medvigil.core.models import Signature
from medvigil.core.permissions import require

from ..models import (
    AdverseEvent,
    Outcome,
    TrendBaseline,
    TrendPeriod,
    TrendReport,
    TrendSignal,
    check_narrative,
)

VIEW_PERM = "vigilance.view_trendsignal"
BASELINE_PERM = "vigilance.change_trendbaseline"
REPORT_PERM = "vigilance.add_trendreport"
CHANGE_REPORT_PERM = "vigilance.change_trendreport"
SUBMIT_PERM = "vigilance.submit_vigilancereport"
DEFAULT_TREND_ROLES = ("quality",)
MAX_PERIODS = 24


def trend_q() -> Q:
    """The events Art. 88 counts: not voided; not serious, or an expected side-effect."""
    return ~Q(status=AdverseEvent.Status.VOIDED) & (
        Q(outcome=Outcome.OTHER) | Q(expected_side_effect=True)
    )


# --- periods ------------------------------------------------------------------------------------


def period_start(day: dt.date, period: str) -> dt.date:
    if period == TrendPeriod.QUARTER:
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(day=1)


def next_start(start: dt.date, period: str) -> dt.date:
    months = 3 if period == TrendPeriod.QUARTER else 1
    m = start.month - 1 + months
    return dt.date(start.year + m // 12, m % 12 + 1, 1)


def periods(today: dt.date, period: str, count: int) -> list[tuple[dt.date, dt.date]]:
    """The last `count` periods up to the one containing `today`, oldest first, each as
    (first day, last day)."""
    start = period_start(today, period)
    out = []
    for _i in range(count):
        out.append((start, next_start(start, period) - dt.timedelta(days=1)))
        start = period_start(start - dt.timedelta(days=1), period)
    return list(reversed(out))


# --- the statistics ----------------------------------------------------------------------------


def p_value(observed: int, expected: float | Decimal) -> float:
    """P(X >= observed) for X ~ Poisson(expected): how likely this many events (or more) are
    if the baseline holds (scipy.stats.poisson)."""
    from scipy.stats import poisson

    if observed <= 0:
        return 1.0
    return float(poisson.sf(observed - 1, float(expected)))


def is_signal(observed: int, expected: float | Decimal, p: float, alpha: float | Decimal) -> bool:
    return observed > float(expected) and p < float(alpha)


@dataclass
class TrendRow:
    product: Any
    baseline: TrendBaseline
    start: dt.date
    end: dt.date
    observed: int
    expected: Decimal
    p_value: float
    signal: bool
    complete: bool
    signal_record: TrendSignal | None = None

    @property
    def report(self) -> TrendReport | None:
        rec = self.signal_record
        return getattr(rec, "report", None) if rec is not None else None


def _counts(
    baselines: list[TrendBaseline], since: dt.date, until: dt.date
) -> dict[tuple[int, str, dt.date], int]:
    """{(product id, period, period start): count} in two grouped queries (month, quarter)."""
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
    hi = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    out: dict[tuple[int, str, dt.date], int] = {}
    for period, trunc in ((TrendPeriod.MONTH, TruncMonth), (TrendPeriod.QUARTER, TruncQuarter)):
        ids = [b.product_id for b in baselines if b.period == period]
        if not ids:
            continue
        rows = (
            AdverseEvent.objects.filter(trend_q(), product_id__in=ids, aware_at__gte=lo)
            .filter(aware_at__lt=hi)
            .annotate(p=trunc("aware_at", tzinfo=tz))
            .values("product_id", "p")
            .annotate(n=Count("id"))
        )
        for row in rows:
            start = row["p"].date() if isinstance(row["p"], dt.datetime) else row["p"]
            out[(row["product_id"], period, start)] = row["n"]
    return out


def trend_rows(
    *,
    user: Any = None,
    today: dt.date | None = None,
    count: int = 6,
    product: Any = None,
) -> list[TrendRow]:
    """Every product with a baseline (those `user` may see) × its last `count` periods:
    observed vs expected, the p-value and the signal flag; newest period first, signals on
    top within it."""
    from medvigil.core.permissions import scope_for_user
    from medvigil.trace.models import Product

    today = today or timezone.localdate()
    count = max(1, min(int(count), MAX_PERIODS))
    qs = TrendBaseline.objects.select_related("product")
    if user is not None:
        qs = qs.filter(product__in=scope_for_user(user, Product))
    if product is not None:
        qs = qs.filter(product=product)
    baselines = list(qs)
    if not baselines:
        return []
    windows = {b.period: periods(today, b.period, count) for b in baselines}
    since = min(w[0][0] for w in windows.values())
    counts = _counts(baselines, since, today)
    signals = {
        (s.product_id, s.period, s.period_start): s
        for s in TrendSignal.objects.filter(
            product_id__in=[b.product_id for b in baselines], period_start__gte=since
        ).select_related("report")
    }
    rows = []
    for b in baselines:
        for start, end in windows[b.period]:
            n = counts.get((b.product_id, b.period, start), 0)
            p = p_value(n, b.expected_count)
            rows.append(
                TrendRow(
                    product=b.product,
                    baseline=b,
                    start=start,
                    end=end,
                    observed=n,
                    expected=b.expected_count,
                    p_value=p,
                    signal=is_signal(n, b.expected_count, p, b.alpha),
                    complete=end < today,
                    signal_record=signals.get((b.product_id, b.period, start)),
                )
            )
    rows.sort(key=lambda r: (-r.start.toordinal(), not r.signal, r.product.code))
    return rows


# --- the baseline ------------------------------------------------------------------------------


def _decimal(value: Any, field: str) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field: _("Give a number.")}) from None
    if not number.is_finite():
        raise ValidationError({field: _("Give a number.")})
    return number


def set_baseline(
    *,
    by: Any,
    product: Any,
    expected_count: Any,
    period: str = TrendPeriod.MONTH,
    alpha: Any = "0.05",
    basis: str = "",
) -> TrendBaseline:
    """Set (or change) a product's trend baseline; audited (the old figures in the history)."""
    require(by, BASELINE_PERM)
    if period not in TrendPeriod.values:
        raise ValidationError({"period": _("Choose from the list.")})
    expected = _decimal(expected_count, "expected_count")
    level = _decimal(alpha, "alpha")
    with transaction.atomic(), audit_context(actor=by, reason=_("Trend baseline set")):
        obj = TrendBaseline.objects.select_for_update().filter(product=product).first()
        if obj is None:
            obj = TrendBaseline(product=product)
        obj.period = period
        obj.expected_count = expected
        obj.alpha = level
        obj.basis = (basis or "").strip()
        obj.full_clean()
        obj.save()
    return obj


# --- the periodic check -------------------------------------------------------------------------


def _trend_users() -> list[Any]:
    from medvigil.accounts.models import User

    roles = getattr(settings, "VIG_TREND_ROLES", DEFAULT_TREND_ROLES)
    return list(User.objects.filter(is_active=True, roles__code__in=roles).distinct())


def check_trends(today: dt.date | None = None) -> list[TrendSignal]:
    """The periodic job: for every baseline, the last full period and the current one; a new
    signal is kept (once per product and period) and quality is told once. Returns the new
    signals (none on a second run)."""
    from medvigil.core.notifications.services import notify

    today = today or timezone.localdate()
    made: list[TrendSignal] = []
    for row in trend_rows(today=today, count=2):
        if not row.signal or row.signal_record is not None:
            continue
        try:
            with transaction.atomic(), audit_context(reason=_("Trend signal (MDR Art. 88)")):
                sig = TrendSignal.objects.create(
                    product=row.product,
                    period=row.baseline.period,
                    period_start=row.start,
                    period_end=row.end,
                    observed=row.observed,
                    expected=row.expected,
                    p_value=row.p_value,
                    alpha=row.baseline.alpha,
                    found_at=timezone.now(),
                )
                notify(
                    _trend_users(),
                    gettext_msg(gettext_noop("Trend signal: %(product)s, %(start)s to %(end)s"))
                    % {
                        "product": row.product.code,
                        "start": row.start.isoformat(),
                        "end": row.end.isoformat(),
                    },
                    gettext_msg(
                        gettext_noop(
                            "%(observed)s non-serious incidents or expected side-effects against "
                            "%(expected)s expected (p = %(p)s). Decide whether to open a trend "
                            "report (MDR Art. 88)."
                        )
                    )
                    % {
                        "observed": row.observed,
                        "expected": str(row.expected),
                        "p": f"{row.p_value:.4f}",
                    },
                    url=reverse("vigilance:trends"),
                    level="warning",
                )
        except IntegrityError:
            continue  # another run kept it first
        made.append(sig)
    return made


# --- the trend report --------------------------------------------------------------------------


def counted_events(signal: TrendSignal) -> list[AdverseEvent]:
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(signal.period_start, dt.time.min, tzinfo=tz)
    hi = dt.datetime.combine(signal.period_end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return list(
        AdverseEvent.objects.filter(trend_q(), product=signal.product, aware_at__gte=lo)
        .filter(aware_at__lt=hi)
        .order_by("aware_at")
    )


def open_trend_report(signal: TrendSignal, *, by: Any) -> TrendReport:
    """A signal becomes a draft trend report (one per signal)."""
    require(by, REPORT_PERM)
    with transaction.atomic(), audit_context(actor=by, reason=_("Trend report opened")):
        sig = TrendSignal.objects.select_for_update().get(pk=signal.pk)
        if TrendReport.objects.filter(signal=sig).exists():
            raise ValidationError(_("This signal has a trend report already."))
        report = TrendReport(
            signal=sig,
            product=sig.product,
            narrative=_(
                "%(observed)s non-serious incidents and expected side-effects from %(start)s to "
                "%(end)s against %(expected)s expected (Poisson p = %(p)s)."
            )
            % {
                "observed": sig.observed,
                "start": sig.period_start,
                "end": sig.period_end,
                "expected": sig.expected,
                "p": f"{sig.p_value:.4f}",
            },
        )
        report.assign_number()
        report.full_clean(exclude=["number"])
        report.save()
    return report


def update_trend_report(
    report: TrendReport, *, by: Any, version: Any, **fields: Any
) -> TrendReport:
    require(by, CHANGE_REPORT_PERM)
    unknown = set(fields) - {"narrative", "measures", "regulator_reference"}
    if unknown:
        raise ValidationError(_("Unknown field: %(f)s") % {"f": ", ".join(sorted(unknown))})
    with transaction.atomic(), audit_context(actor=by):
        obj = TrendReport.objects.select_for_update().get(pk=report.pk)
        obj.check_version(version)
        if obj.status != TrendReport.Status.DRAFT:
            raise ValidationError(_("A submitted report is frozen."))
        for k, v in fields.items():
            setattr(obj, k, (v or "").strip() if k != "narrative" else (v or ""))
        obj.full_clean(exclude=["number"])
        obj.save()
    return obj


def trend_snapshot(report: TrendReport) -> dict[str, Any]:
    """What the trend report says (frozen on submission)."""
    sig = report.signal
    p = report.product
    return {
        "report": {
            "number": report.number,
            "narrative": report.narrative,
            "measures": report.measures,
            "regulator_reference": report.regulator_reference,
        },
        "device": {
            "product_code": p.code,
            "name": p.name,
            "name_en": p.name_en,
            "model": p.model_spec,
            "udi_di": p.gtin or "",
            "risk_class": p.risk_class,
        },
        "trend": {
            "period": sig.period,
            "period_start": sig.period_start.isoformat(),
            "period_end": sig.period_end.isoformat(),
            "observed": sig.observed,
            "expected": str(sig.expected),
            "p_value": sig.p_value,
            "alpha": str(sig.alpha),
            "method": "Poisson, one-sided: P(X >= observed | expected) (scipy.stats.poisson)",
        },
        "events": [
            {
                "number": e.number,
                "aware_at": e.aware_at.isoformat(),
                "outcome": e.outcome,
                "expected_side_effect": e.expected_side_effect,
                "imdrf_codes": list(e.imdrf_codes),
            }
            for e in counted_events(sig)
        ],
    }


def submit_trend_report(
    report: TrendReport,
    *,
    by: Any,
    password: str = "",
    regulator_reference: str = "",
    submitted_at: dt.datetime | None = None,
    comment: str = "",
    request: Any = None,
    check: Any = None,
) -> TrendReport:
    """Mark the trend report submitted: frozen, signed (PLAT-3), with the moment and the
    regulator's reference. `check`: a signer check made by the caller (the demo)."""
    from medvigil.core.signatures.services import apply_signature, check_signer

    require(by, SUBMIT_PERM)
    reference = (regulator_reference or report.regulator_reference or "").strip()
    if not reference:
        raise ValidationError(
            {"regulator_reference": _("Give the regulator's reference number before submitting.")}
        )
    if len(reference) > 100:
        raise ValidationError({"regulator_reference": _("At most 100 characters.")})
    now = timezone.now()
    when = submitted_at or now
    if when > now + dt.timedelta(minutes=5):
        raise ValidationError({"submitted_at": _("The submission cannot be in the future.")})
    if report.status != TrendReport.Status.DRAFT:
        raise ValidationError(_("Only a draft report can be submitted."))
    check_narrative(report.narrative)
    if not report.narrative.strip():
        raise ValidationError({"narrative": _("Write the narrative before submitting.")})
    if check is None:
        check = check_signer(
            report,
            user=by,
            password=password or "",
            request=request,
            meaning=Signature.Meaning.APPROVED,
        )
    with transaction.atomic(), audit_context(actor=by, reason=comment or _("Report submitted")):
        obj = TrendReport.objects.select_for_update().get(pk=report.pk)
        if obj.status != TrendReport.Status.DRAFT:
            raise ValidationError(_("Only a draft report can be submitted."))
        obj.status = TrendReport.Status.SUBMITTED
        obj.submitted_at = when
        obj.submitted_by = by
        obj.regulator_reference = reference
        obj.content = trend_snapshot(obj)
        obj.save()
        apply_signature(obj, check, reason=comment)
    return obj
