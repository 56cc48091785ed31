"""The unit's life timeline (TRC-7): adverse events on the unit, as the user may see them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from medvigil.core.permissions import can, scope_for_user
from medvigil.core.registry import TimelineEvent, rows_of, timeline_sources

from .models import AdverseEvent


@timeline_sources(rows_of(AdverseEvent, "unit"))
def event_entries(unit: Any, user: Any) -> Iterable[TimelineEvent]:
    if not can(user, AdverseEvent, "view"):
        return
    for e in scope_for_user(user, AdverseEvent).filter(unit=unit).order_by("aware_at"):
        yield TimelineEvent(
            date=e.aware_at,
            kind=_("adverse event"),
            title=f"{e.number} {e.title}",
            url=e.get_absolute_url(),
            detail=e.get_outcome_display(),
            style="danger",
        )
