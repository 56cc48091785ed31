"""The unit's life timeline (TRC-7): service requests and the closed work orders (the unit's
service-archive entries, SVC-4), as the user may see them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from medvigil.core.permissions import can, scope_for_user
from medvigil.core.registry import TimelineEvent, rows_of, timeline_sources

from .models import ServiceRequest, WorkOrder


# work orders show only under a request of the unit: no request, nothing to show
@timeline_sources(rows_of(ServiceRequest, "unit"))
def service_events(unit: Any, user: Any) -> Iterable[TimelineEvent]:
    requests: list[ServiceRequest] = []
    if can(user, ServiceRequest, "view"):
        requests = list(
            scope_for_user(user, ServiceRequest).filter(unit=unit).order_by("received_at")
        )
        for sr in requests:
            yield TimelineEvent(
                date=sr.received_at,
                kind=_("service request"),
                title=f"{sr.number} {sr.title}",
                url=sr.get_absolute_url(),
                detail=f"{sr.get_fault_level_display()} · {sr.get_status_display()}",
                style="primary",
            )
    if requests and can(user, WorkOrder, "view"):  # no request, no work order: no query
        closed = (
            scope_for_user(user, WorkOrder)
            .filter(request__unit=unit, status=WorkOrder.Status.CLOSED)
            .select_related("engineer")
            .order_by("closed_at")
        )
        for wo in closed:
            yield TimelineEvent(
                date=wo.arrived_at or wo.closed_at,
                kind=_("service archive"),
                title=f"{wo.number} {wo.archive.get('content', '')[:80]}",
                url=wo.get_absolute_url(),
                detail=f"{wo.engineer.printed_name} · {wo.get_result_display()}",
                style="success",
            )
