"""FBK-10: quarterly analysis, year-end summary, early warning.

The analysis counts complaints (kind "complaint", not voided) received in a period, by
department, product, category, severity and root cause (the cause factor of the complaint's
newest investigation), each as one GROUP BY over the `received_at` index, so the cost follows
the period's rows, not the table's (docs/benchmarks.md). Whoever reads it sees only the
complaints they may see (Feedback.visible_to).

The early warning counts the same problem within the rolling period (setting
COMPLAINTS_WARNING_DAYS, default 90) — the same product and category, or the same root cause
— and when a cluster reaches COMPLAINTS_WARNING_COUNT (default 3) makes one EarlyWarning per
cluster per period and notifies quality (role COMPLAINTS_WARNING_ROLES). Periods are numbered
from the epoch in steps of the rolling period, so the periodic job may run as often as it
likes: the unique (cluster, period) key keeps it to one warning.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import ExtractMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from medvigil.core.i18n import gettext_msg
from medvigil.core.notifications.services import notify
from medvigil.core.permissions import scope_for_user

from ..models import Category, EarlyWarning, Feedback, Investigation, Kind, Severity

DEFAULT_WARNING_COUNT = 3
DEFAULT_WARNING_DAYS = 90
DEFAULT_WARNING_ROLES = ("quality",)

DIMENSIONS = ("department", "product", "category", "severity", "root_cause")
DIMENSION_LABELS = {
    "department": _("By department"),
    "product": _("By product"),
    "category": _("By category"),
    "severity": _("By severity"),
    "root_cause": _("By root cause"),
}
NONE_LABEL = _("not given")


def warning_count() -> int:
    return max(1, int(getattr(settings, "COMPLAINTS_WARNING_COUNT", DEFAULT_WARNING_COUNT)))


def warning_days() -> int:
    return max(1, int(getattr(settings, "COMPLAINTS_WARNING_DAYS", DEFAULT_WARNING_DAYS)))


def quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    """First day of the quarter and first day of the next one (end exclusive)."""
    if quarter not in (1, 2, 3, 4):
        raise ValueError("quarter must be 1..4")
    start = dt.date(year, 3 * (quarter - 1) + 1, 1)
    end = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return start, end


def _aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def complaints_in(start: dt.date, end: dt.date, user: Any = None) -> QuerySet:
    """Complaints received from `start` (inclusive) to `end` (exclusive), not voided; only
    those `user` may see when a user is given."""
    qs = Feedback.objects.all() if user is None else scope_for_user(user, Feedback)
    return qs.exclude(status=Feedback.Status.VOIDED).filter(
        kind=Kind.COMPLAINT,
        received_at__gte=_aware(start),
        received_at__lt=_aware(end),
    )


def _latest_investigations(feedback_qs: QuerySet) -> QuerySet:
    """The newest investigation of each complaint in `feedback_qs`: one GROUP BY over the
    investigations of those complaints (index on feedback_id), not a subquery per row."""
    return Investigation.objects.filter(
        pk__in=Investigation.objects.filter(feedback__in=feedback_qs.order_by().values("pk"))
        .order_by()
        .values("feedback_id")
        .annotate(last=Max("pk"))
        .values("last")
    ).order_by()


def _by_root_cause(qs: QuerySet, total: int) -> list[tuple[Any, int]]:
    """(factor or None, count): the newest investigation's cause factor; complaints without
    an investigation, or without a factor, count as None."""
    counted = {
        r["factor"]: r["n"]
        for r in _latest_investigations(qs).values("factor").annotate(n=Count("pk"))
    }
    pairs: list[tuple[Any, int]] = [(k, n) for k, n in counted.items() if k]
    missing = total - sum(n for _k, n in pairs)
    if missing:
        pairs.append((None, missing))
    return pairs


def _rows(pairs: list[tuple[Any, int]], labels: dict[Any, Any]) -> list[dict[str, Any]]:
    total = sum(n for _k, n in pairs) or 1
    rows: list[dict[str, Any]] = [
        {
            "key": "" if key is None else str(key),
            "label": str(labels.get(key) or NONE_LABEL),
            "count": n,
            "percent": round(100 * n / total, 1),
        }
        for key, n in pairs
    ]
    rows.sort(key=lambda r: (-r["count"], r["label"]))
    return rows


def period_analysis(*, start: dt.date, end: dt.date, user: Any) -> dict[str, Any]:
    """Counts by department, product, category, severity and root cause for the period
    (`end` exclusive), each a list of {key, label, count, percent}, biggest first."""
    from medvigil.accounts.models import Department
    from medvigil.trace.models import Product

    if end <= start:
        raise ValueError("the period must end after it starts")
    qs = complaints_in(start, end, user)
    # One scan of the period: counts per combination, summed per dimension here.
    sums: dict[str, dict[Any, int]] = {
        f: {} for f in ("department_id", "product_id", "category", "severity")
    }
    total = 0
    for r in (
        qs.order_by()
        .values("department_id", "product_id", "category", "severity")
        .annotate(n=Count("pk"))
    ):
        total += r["n"]
        for f, acc in sums.items():
            acc[r[f]] = acc.get(r[f], 0) + r["n"]
    dept = list(sums["department_id"].items())
    prod = list(sums["product_id"].items())
    depts = {d.pk: str(d) for d in Department.objects.filter(pk__in=[k for k, _n in dept if k])}
    prods = {
        p.pk: f"{p.code} {p.name}"
        for p in Product.objects.filter(pk__in=[k for k, _n in prod if k])
    }
    causes = _by_root_cause(qs, total)
    serious = sums["severity"].get(Severity.SERIOUS, 0)
    return {
        "start": start,
        "end": end,
        "last_day": end - dt.timedelta(days=1),
        "total": total,
        "serious": serious,
        "dimensions": [
            {
                "key": "department",
                "label": DIMENSION_LABELS["department"],
                "rows": _rows(dept, depts),
            },
            {"key": "product", "label": DIMENSION_LABELS["product"], "rows": _rows(prod, prods)},
            {
                "key": "category",
                "label": DIMENSION_LABELS["category"],
                "rows": _rows(list(sums["category"].items()), dict(Category.choices)),
            },
            {
                "key": "severity",
                "label": DIMENSION_LABELS["severity"],
                "rows": _rows(list(sums["severity"].items()), dict(Severity.choices)),
            },
            {
                "key": "root_cause",
                "label": DIMENSION_LABELS["root_cause"],
                "rows": _rows(causes, dict(Investigation.Factor.choices)),
            },
        ],
    }


def year_end_summary(*, year: int, user: Any) -> dict[str, Any]:
    """The year-end summary feeding management review (seed 003 4.2.5): the year's analysis,
    the count per quarter, and the early warnings raised in the year."""
    start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    summary = period_analysis(start=start, end=end, user=user)
    # one scan: the month of each complaint (in the company's zone), summed per quarter
    by_month = (
        complaints_in(start, end, user)
        .order_by()
        .annotate(month=ExtractMonth("received_at"))
        .values("month")
        .annotate(n=Count("pk"), closed=Count("pk", filter=Q(status=Feedback.Status.CLOSED)))
    )
    quarters: list[dict[str, Any]] = [
        {"key": str(q), "label": f"Q{q}", "count": 0, "closed": 0} for q in (1, 2, 3, 4)
    ]
    for r in by_month:
        q = quarters[(r["month"] - 1) // 3]
        q["count"] += r["n"]
        q["closed"] += r["closed"]
    top = max((q["count"] for q in quarters), default=0) or 1
    for q in quarters:
        q["percent"] = round(100 * q["count"] / top, 1)
    summary["year"] = year
    summary["quarters"] = quarters
    summary["warnings"] = list(
        EarlyWarning.objects.filter(window_end__gte=_aware(start), window_end__lt=_aware(end))
        .select_related("product")
        .order_by("window_end")
    )
    return summary


# --- early warning ------------------------------------------------------------------------


def _period_number(now: dt.datetime, days: int) -> int:
    return int(now.timestamp() // (days * 86400))


def clusters(now: dt.datetime) -> list[dict[str, Any]]:
    """The clusters at or above the threshold in the rolling period ending at `now`."""
    from medvigil.trace.models import Product

    days, threshold = warning_days(), warning_count()
    since = now - dt.timedelta(days=days)
    qs = (
        Feedback.objects.exclude(status=Feedback.Status.VOIDED)
        .filter(
            kind=Kind.COMPLAINT,
            received_at__gt=since,
            received_at__lte=now,
        )
        .order_by()
    )
    found: list[dict[str, Any]] = []
    for r in (
        qs.exclude(product__isnull=True)
        .exclude(category="")
        .values("product_id", "category")
        .annotate(n=Count("pk"))
        .filter(n__gte=threshold)
    ):
        found.append(
            {
                "basis": EarlyWarning.Basis.PRODUCT_CATEGORY,
                "cluster": f"pc:{r['product_id']}:{r['category']}",
                "product_id": r["product_id"],
                "category": r["category"],
                "factor": "",
                "count": r["n"],
            }
        )
    for r in (
        _latest_investigations(qs)
        .exclude(factor="")
        .values("factor")
        .annotate(n=Count("pk"))
        .filter(n__gte=threshold)
    ):
        found.append(
            {
                "basis": EarlyWarning.Basis.ROOT_CAUSE,
                "cluster": f"rc:{r['factor']}",
                "product_id": None,
                "category": "",
                "factor": r["factor"],
                "count": r["n"],
            }
        )
    products = {
        p.pk: p
        for p in Product.objects.filter(pk__in={c["product_id"] for c in found if c["product_id"]})
    }
    for c in found:
        c["product"] = products.get(c["product_id"])
    return found


def _recipients() -> list[Any]:
    from medvigil.accounts.models import User

    roles = getattr(settings, "COMPLAINTS_WARNING_ROLES", DEFAULT_WARNING_ROLES)
    return list(User.objects.filter(is_active=True, roles__code__in=roles).distinct())


def warning_text(w: EarlyWarning) -> Any:
    if w.basis == EarlyWarning.Basis.ROOT_CAUSE:
        return gettext_msg(
            gettext_noop("Early warning: %(count)s complaints with root cause “%(cause)s”")
        ) % {"count": w.count, "cause": w.get_factor_display()}
    return gettext_msg(
        gettext_noop("Early warning: %(count)s complaints on %(product)s, %(category)s")
    ) % {
        "count": w.count,
        "product": f"{w.product.code}" if w.product else "",
        "category": w.get_category_display(),
    }


def early_warnings(now: dt.datetime) -> list[dict[str, Any]]:
    """The same problem (product + category, or root cause) above the configured count within
    the rolling period; sent to quality. Returns the warnings made by this call (a cluster
    already warned in this period is skipped)."""
    from django.urls import reverse

    days, threshold = warning_days(), warning_count()
    period = _period_number(now, days)
    since = now - dt.timedelta(days=days)
    made: list[dict[str, Any]] = []
    for c in clusters(now):
        if EarlyWarning.objects.filter(cluster=c["cluster"], period=period).exists():
            continue
        try:
            with transaction.atomic():
                w = EarlyWarning.objects.create(
                    basis=c["basis"],
                    cluster=c["cluster"],
                    product=c["product"],
                    category=c["category"],
                    factor=c["factor"],
                    period=period,
                    window_start=since,
                    window_end=now,
                    count=c["count"],
                    threshold=threshold,
                )
        except IntegrityError:  # another run made it first
            continue
        url = reverse("complaints:analysis") + f"?warning={w.pk}"
        notify(
            _recipients(),
            warning_text(w),
            gettext_msg(gettext_noop("within the last %(days)s days (threshold %(count)s)"))
            % {"days": days, "count": threshold},
            url=url,
            level="warning",
        )
        made.append({**c, "warning": w})
    return made


def warning_complaints(w: EarlyWarning, user: Any) -> QuerySet:
    """The complaints a warning counted (those `user` may see)."""
    qs = (
        scope_for_user(user, Feedback)
        .exclude(status=Feedback.Status.VOIDED)
        .filter(
            kind=Kind.COMPLAINT,
            received_at__gt=w.window_start,
            received_at__lte=w.window_end,
        )
    )
    if w.basis == EarlyWarning.Basis.ROOT_CAUSE:
        return qs.filter(
            pk__in=_latest_investigations(qs).filter(factor=w.factor).values("feedback_id")
        )
    return qs.filter(Q(product_id=w.product_id) & Q(category=w.category))
