"""FBK-10 pages: the quarterly analysis and the year-end summary with bar charts (SVG drawn
on the server: no chart library, nothing loaded from elsewhere), their PDF in Chinese or
English, and the early warnings raised."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from medvigil.core.documents import pdf_response, render_pdf
from medvigil.core.permissions import permission_required

from ..models import EarlyWarning
from ..services import analysis

PERM = "complaints.view_feedback"
BAR_HEIGHT = 22
CHART_WIDTH = 640
LABEL_WIDTH = 220
PDF_BAR_CHARS = 40


def chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Geometry of a horizontal bar chart (one bar per row), drawn by _bar_chart.html."""
    top = max((r["count"] for r in rows), default=0) or 1
    span = CHART_WIDTH - LABEL_WIDTH - 60
    bars = [
        {
            **r,
            "y": i * BAR_HEIGHT,
            "text_y": i * BAR_HEIGHT + BAR_HEIGHT - 7,
            "width": max(1, round(span * r["count"] / top)) if r["count"] else 0,
        }
        for i, r in enumerate(rows)
    ]
    for b in bars:
        b["count_x"] = LABEL_WIDTH + b["width"] + 6
        # the PDF's bar: a run of letters coloured as their background (the PDF engine draws
        # no SVG, and nested tables break its layout)
        b["pdf_bar"] = "x" * (round(PDF_BAR_CHARS * b["count"] / top) if b["count"] else 0)
    return {
        "bars": bars,
        "height": max(1, len(bars)) * BAR_HEIGHT,
        "width": CHART_WIDTH,
        "label_width": LABEL_WIDTH,
        "label_x": LABEL_WIDTH - 6,
    }


class PeriodError(ValueError):
    pass


def _int(value: str | None, default: int, low: int, high: int, what: str) -> int:
    if value in (None, ""):
        return default
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise PeriodError(what) from None
    if not low <= n <= high:
        raise PeriodError(what)
    return n


def _period(request: HttpRequest) -> tuple[int, int]:
    """(year, quarter) from the query; quarter 0 is the whole year (the year-end summary)."""
    today = timezone.localdate()
    year = _int(
        request.GET.get("year"), today.year, 2000, 2100, _("Give a year from 2000 to 2100.")
    )
    quarter = _int(
        request.GET.get("quarter"),
        (today.month - 1) // 3 + 1,
        0,
        4,
        _("Give a quarter from 1 to 4, or the whole year."),
    )
    return year, quarter


def _analysis(user: Any, year: int, quarter: int) -> dict[str, Any]:
    if quarter == 0:
        data = analysis.year_end_summary(year=year, user=user)
        data["quarter_chart"] = chart(
            [{**q, "label": q["label"], "percent": q["percent"]} for q in data["quarters"]]
        )
    else:
        start, end = analysis.quarter_bounds(year, quarter)
        data = analysis.period_analysis(start=start, end=end, user=user)
    for d in data["dimensions"]:
        d["chart"] = chart(d["rows"])
    data["year"], data["quarter"] = year, quarter
    return data


@permission_required(PERM)
@require_GET
def analysis_page(request: HttpRequest) -> HttpResponse:
    errors: list[str] = []
    try:
        year, quarter = _period(request)
    except PeriodError as exc:
        errors.append(str(exc))
        today = timezone.localdate()
        year, quarter = today.year, (today.month - 1) // 3 + 1
    data = _analysis(request.user, year, quarter)
    warnings = EarlyWarning.objects.select_related("product").order_by("-window_end", "-id")[:20]
    shown = None
    wid = request.GET.get("warning")
    if wid and wid.isdigit():
        shown = EarlyWarning.objects.select_related("product").filter(pk=int(wid)).first()
    return render(
        request,
        "complaints/analysis.html",
        {
            **data,
            "errors": errors,
            "years": list(range(timezone.localdate().year, timezone.localdate().year - 6, -1)),
            "warnings": warnings,
            "shown": shown,
            "shown_complaints": (
                analysis.warning_complaints(shown, request.user).order_by("-received_at")[:50]
                if shown
                else []
            ),
            "threshold": analysis.warning_count(),
            "days": analysis.warning_days(),
        },
        status=400 if errors else 200,
    )


@permission_required(PERM)
@require_GET
def analysis_pdf(request: HttpRequest) -> HttpResponse:
    """The analysis as a PDF, in Chinese (lang=zh-hans) or English (lang=en)."""
    try:
        year, quarter = _period(request)
    except PeriodError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    lang = request.GET.get("lang") or ""
    if lang not in ("", "en", "zh-hans"):
        return HttpResponse(
            _("Language must be zh-hans or en."),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    data = _analysis(request.user, year, quarter)
    name = f"complaints-{year}" + (f"-Q{quarter}" if quarter else "-year")
    from django.utils import translation

    with translation.override(lang or translation.get_language()):
        title = (
            _("Complaint analysis %(year)s Q%(quarter)s") % {"year": year, "quarter": quarter}
            if quarter
            else _("Complaint year-end summary %(year)s") % {"year": year}
        )
    pdf = render_pdf(
        "complaints/documents/analysis.html",
        data,
        title=title,
        number=name,
        language=lang or None,
        user=request.user,
    )
    return pdf_response(pdf, name)
