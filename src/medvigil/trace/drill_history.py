"""The history of a traceability drill (TRC-8) with its frozen result readable.

The shared history panel shows a JSON field as JSON; a drill's `result` (every traced unit,
its status, consignee, location…) would read as a wall of English keys and raw values. Here
the panel is the shared one (core/_history.html, same entries, same paging), except that the
`result` values are rendered as a small translated table: the basis, the counts, consignees
and end users, and the units or quantities not located.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString

from medvigil.core.templatetags.records import history_context

from .models import TraceDrill, UnitStatus
from .queries import location_text

SHOWN_ROWS = 20  # rows not located listed per version of the result (then "and N more")


def readable_rows(rows: Any) -> list[dict[str, Any]]:
    """A drill result's rows in the reader's language: status and location from their
    language-neutral codes (results recorded before the codes were kept: the text as
    recorded)."""
    statuses = dict(UnitStatus.choices)
    out = []
    for r in rows if isinstance(rows, list) else []:
        if not isinstance(r, dict):
            continue
        kind = r.get("location_kind")
        out.append(
            {
                **r,
                "what": r.get("serial")
                or f"{r.get('lot', '')} × {r.get('quantity', '')}".strip(" ×"),
                "status_label": statuses.get(r.get("status", ""), r.get("status", "")),
                "holder_name": r.get("consignee") or r.get("holder") or "",
                "location": location_text(kind, r.get("location_name", ""))
                if kind
                else r.get("location", ""),
            }
        )
    return out


def result_table(value: Any) -> str:
    """One version of a drill's result as HTML (the empty result of a new drill: "—")."""
    if not isinstance(value, dict) or not value:
        return "—"
    rows = readable_rows(value.get("rows"))
    missing = [r for r in rows if not r.get("located")]
    shown = missing[:SHOWN_ROWS]

    def parties(key: str) -> list[dict[str, Any]]:
        items = value.get(key)
        return [p for p in items if isinstance(p, dict)] if isinstance(items, list) else []

    return render_to_string(
        "trace/_drill_result.html",
        {
            "basis": value.get("basis", ""),
            "traced": len(rows),
            "not_located": value.get("not_located", len(missing)),
            "truncated": bool(value.get("truncated")),
            "consignees": parties("consignees"),
            "end_users": parties("end_users"),
            "missing": shown,
            "more": max(len(missing) - len(shown), 0),
        },
    )


def drill_history_context(request: HttpRequest, drill: TraceDrill, page: Any = None) -> Any:
    """The shared history panel's context for `drill`, its result values as tables."""
    ct = ContentType.objects.get_for_model(TraceDrill)
    ctx = history_context(request, ct, drill.pk, page)
    label = str(TraceDrill._meta.get_field("result").verbose_name)
    for item in ctx["items"]:
        pair = (item["entry"].changes or {}).get("result")
        if pair is None:
            continue
        old, new = (list(pair) + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        for row in item["rows"]:
            if row["field"] == label:
                row["old"] = SafeString(result_table(old))
                row["new"] = SafeString(result_table(new))
                row["old_empty"] = not old
    ctx["fragment_url"] = reverse("trace:drill_history", args=[drill.pk])
    return ctx
