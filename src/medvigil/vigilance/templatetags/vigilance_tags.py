"""Template filters of the vigilance pages: the remaining time of a clock in words."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils.translation import gettext as _

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
