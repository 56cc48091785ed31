"""FBK-10: quarterly analysis, year-end summary, early warning."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ._skeleton import todo


def period_analysis(*, start: dt.date, end: dt.date, user: Any) -> dict[str, Any]:
    """Counts by department, product, category, severity and root cause for the period."""
    raise todo("period_analysis")


def year_end_summary(*, year: int, user: Any) -> dict[str, Any]:
    """The year-end summary feeding management review (seed 003 4.2.5)."""
    raise todo("year_end_summary")


def early_warnings(now: dt.datetime) -> list[dict[str, Any]]:
    """The same problem (product + category, or root cause) above the configured count within
    the rolling period; sent to quality."""
    raise todo("early_warnings")
