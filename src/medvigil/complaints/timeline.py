"""The unit's life timeline (TRC-7): feedback about the unit, as the user may see it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from medvigil.core.permissions import can, scope_for_user
from medvigil.core.registry import TimelineEvent, rows_of, timeline_sources

from .models import Feedback


@timeline_sources(rows_of(Feedback, "unit"))
def feedback_events(unit: Any, user: Any) -> Iterable[TimelineEvent]:
    if not can(user, Feedback, "view"):
        return
    for f in scope_for_user(user, Feedback).filter(unit=unit).order_by("received_at"):
        yield TimelineEvent(
            date=f.received_at,
            kind=_("complaint") if f.is_complaint else _("customer feedback"),
            title=f"{f.number} {f.title}",
            url=f.get_absolute_url(),
            detail=f.get_status_display(),
            style="warning" if f.is_complaint else "info",
        )
