"""PDF documents of the trace app: the forward-trace report (TRC-7) and the traceability drill
report (TRC-8), both made by the platform's document service (core/documents). Contacts are
masked for users without trace.view_contact_data, exactly as on the page and in the CSV."""

from __future__ import annotations

from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from medvigil.core.documents import render_pdf, table_chunks

from .models import TraceDrill
from .privacy import can_view_contacts, mask
from .queries import ForwardTrace

# A PDF is for reading and filing; the complete list of a large trace is the CSV/XLSX export.
PDF_UNIT_LIMIT = 1000
PDF_DRILL_ROWS = 1000


def criteria_lines(criteria: dict[str, Any]) -> list[tuple[Any, str]]:
    """The criteria of a trace as (label, value) lines, the empty ones left out (the labels
    lazy: they are translated in the document's language)."""
    labels = [
        ("lots", _("Lots")),
        ("serials", _("Serial numbers")),
        ("udis", _("UDIs")),
        ("gtin", _("UDI-DI")),
        ("product", _("Product")),
        ("produced_from", _("Produced from")),
        ("produced_to", _("Produced to")),
    ]
    lines = []
    for key, label in labels:
        value = criteria.get(key)
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        if value:
            lines.append((label, str(value)))
    return lines


def forward_reference(trace: ForwardTrace) -> str:
    """What the header names the trace by: its lots, serials or UDI-DI (shortened)."""
    c = trace.criteria
    parts = c.get("lots") or c.get("serials") or c.get("udis") or []
    text = ", ".join(str(p) for p in parts) or c.get("gtin") or c.get("product") or ""
    return text if len(text) <= 60 else text[:57] + "…"


def forward_trace_pdf(trace: ForwardTrace, user: Any, *, language: str | None = None) -> bytes:
    """The forward-trace report: criteria, summary, consignees, end users, every unit (up to
    PDF_UNIT_LIMIT) with its chain and location, and the lot-tracked goods."""
    allowed = can_view_contacts(user)
    units = trace.units[:PDF_UNIT_LIMIT]
    rows = [
        {
            "t": ut,
            "address": mask(ut.address, allowed),
            "contact": " ".join(
                p for p in (mask(ut.contact_person, allowed), mask(ut.contact_phone, allowed)) if p
            ),
        }
        for ut in units
    ]
    lot_rows = [
        {
            "line": line,
            "address": mask(line.buyer.address, allowed),
            "phone": mask(line.buyer.phone, allowed),
        }
        for line in trace.lot_lines
    ]
    context = {
        "criteria": criteria_lines(trace.criteria),
        "unit_count": len(trace.units),
        "located": sum(1 for ut in trace.units if ut.located),
        "consignees": trace.consignees(),
        "end_users": trace.end_users(),
        "rows": rows,
        "row_chunks": table_chunks(rows),
        "lot_rows": lot_rows,
        "shown": len(units),
        "cut": trace.truncated or len(trace.units) > len(units),
        "can_view_contacts": allowed,
    }
    return render_pdf(
        "trace/documents/forward_trace.html",
        context,
        title=_("Forward trace"),
        number=forward_reference(trace),
        language=language,
        user=user,
    )


def forward_trace_filename(trace: ForwardTrace) -> str:
    ref = forward_reference(trace) or timezone.localdate().isoformat()
    return f"forward-trace-{ref}"


def drill_pdf(drill: TraceDrill, user: Any, *, language: str | None = None) -> bytes:
    """The drill report: the lot, the result against the target, who ran it, what was not
    located, consignees and end users, every traced row (up to PDF_DRILL_ROWS), the conclusion
    and the electronic signatures."""
    from .drill_history import readable_rows

    result = drill.result if isinstance(drill.result, dict) else {}
    # Status and location in the document's language (from the rows' language-neutral codes).
    with translation.override(language or translation.get_language()):
        rows = readable_rows(result.get("rows", []))
    context = {
        "drill": drill,
        "result": result,
        "missing": [r for r in rows if not r.get("located")][:PDF_DRILL_ROWS],
        "rows": rows[:PDF_DRILL_ROWS],
        "row_chunks": table_chunks(rows[:PDF_DRILL_ROWS]),
        "rows_cut": len(rows) > PDF_DRILL_ROWS or bool(result.get("truncated")),
        "consignees": result.get("consignees", []),
        "end_users": result.get("end_users", []),
    }
    return render_pdf(
        "trace/documents/drill_report.html",
        context,
        record=drill,
        title=_("Traceability drill report"),
        language=language,
        user=user,
    )
