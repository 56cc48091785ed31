"""The unit's life timeline (TRC-7): nonconformities naming the unit or its lot, as the user
may see them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from medvigil.core.permissions import can, scope_for_user
from medvigil.core.registry import TimelineEvent, rows_of, timeline_sources

from .models import Nonconformity


@timeline_sources(
    rows_of(Nonconformity.units.through, "unit"),
    rows_of(Nonconformity.lots.through, "lot", "lot_id"),
)
def nonconformity_events(unit: Any, user: Any) -> Iterable[TimelineEvent]:
    if not can(user, Nonconformity, "view"):
        return
    where = Q(units=unit)
    if getattr(unit, "lot_id", None):
        where |= Q(lots=unit.lot_id)
    for nc in scope_for_user(user, Nonconformity).filter(where).distinct().order_by("created_at"):
        yield TimelineEvent(
            date=nc.created_at,
            kind=_("nonconformity"),
            title=f"{nc.number} {nc.title}",
            url=nc.get_absolute_url(),
            detail=nc.get_status_display(),
            style="danger",
        )
