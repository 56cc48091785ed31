"""Template filters of the vigilance pages: the remaining time of a clock in words."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from medvigil.core.records.render import esc

register = template.Library()


def _span(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}


@register.filter
def countdown(value: Any) -> str:
    """A timedelta as "2 d 4 h left" or "overdue by 3 h 10 min"."""
    if not isinstance(value, dt.timedelta):
        return ""
    seconds = int(value.total_seconds())
    if seconds < 0:
        return _("overdue by %(t)s") % {"t": _span(-seconds)}
    return _("%(t)s left") % {"t": _span(seconds)}


_CLOCK_CSS = {
    "breached": "text-bg-danger",
    "urgent": "text-bg-danger bg-opacity-75",
    "soon": "text-bg-warning",
    "flagged": "text-bg-secondary",
}


@register.simple_tag
def clock(state: str, remaining: Any) -> SafeString:
    """A running clock's badge: its state's colour and the remaining time (the board builds
    its rows with it in Python, the event page through this tag)."""
    text = _("not computed") if remaining is None else countdown(remaining)
    css = _CLOCK_CSS.get(state, "text-bg-success")
    return mark_safe(f'<span class="badge {css} clock-{esc(state)}">{esc(text)}</span>')  # noqa: S308


@register.filter
def percent(value: Any) -> str:
    if value is None:
        return "—"
    try:
        return f"{float(value) * 100:.0f} %"
    except (TypeError, ValueError):
        return "—"


@register.inclusion_tag("core/_signature_dialog.html")
def dialog(context: dict[str, Any]) -> dict[str, Any]:
    """A signature dialog from a prepared context (core signature_dialog_context)."""
    return context
