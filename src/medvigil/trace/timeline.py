"""The life of a unit on one screen (TRC-7). Every app adds its events with a timeline
provider declared in its AppConfig (``timeline = ("timeline.trace_events",)``, see
core.records.domain); the registry is core.registry::

    def service_events(unit, user):
        for wo in WorkOrder.objects.filter(unit=unit):
            yield TimelineEvent(date=wo.opened_on, kind=_("service"), title=wo.number,
                                url=wo.get_absolute_url())

A provider receives the unit and the user and must yield only what the user may see.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from medvigil.core.registry import (
    TimelineEvent,
    TimelineProvider,
    register_timeline_provider,
    timeline_for,
    unregister_timeline_provider,
)

__all__ = [
    "TimelineEvent",
    "TimelineProvider",
    "register_timeline_provider",
    "trace_events",
    "unit_timeline",
    "unregister_timeline_provider",
]


def unit_timeline(unit: Any, user: Any) -> list[TimelineEvent]:
    return timeline_for(unit, user)


def trace_events(unit: Any, user: Any) -> Iterable[TimelineEvent]:
    """Production, sales, installations, acceptance and returns of the unit."""
    from medvigil.core.permissions import can

    from .models import Installation, ReturnRecord, SaleLine
    from .privacy import can_view_contacts, mask

    if unit.production_date:
        yield TimelineEvent(
            date=unit.production_date,
            kind=_("production"),
            title=_("Produced")
            + (f" · {_('lot')} {unit.lot.lot_number}" if unit.lot_id and unit.lot else ""),
            url=unit.lot.get_absolute_url() if unit.lot_id and unit.lot else "",
            detail=unit.production_record,
            style="info",
        )
    # The unit page has read the unit's sales, installations and returns for its backward
    # trace already (queries.backward_trace, kept on the unit): the same rows, not read again.
    loaded = getattr(unit, "backward_trace", None)
    if can(user, SaleLine, "view") or user.has_perm("trace.view_sale"):
        lines = (
            loaded.lines
            if loaded is not None
            else SaleLine.objects.filter(unit=unit)
            .select_related("sale__seller", "seller", "buyer")
            .order_by("sale__sale_date", "id")
        )
        for line in lines:
            sale = line.sale
            voided = sale.status == "voided"
            yield TimelineEvent(
                date=sale.sale_date,
                kind=_("sale"),
                title=_("%(number)s: %(seller)s → %(buyer)s")
                % {"number": sale.number, "seller": sale.seller_name, "buyer": line.buyer.name},
                url=sale.get_absolute_url(),
                detail=_("voided") if voided else ("" if line.open else _("closed by a return")),
                style="secondary" if voided or not line.open else "primary",
            )
    allowed = can_view_contacts(user)
    if can(user, Installation, "view"):
        installations = (
            loaded.installations
            if loaded is not None
            else Installation.objects.filter(unit=unit).select_related("customer")
        )
        for inst in installations:
            where = " · ".join(
                p for p in (inst.customer.name, inst.department, mask(inst.address, allowed)) if p
            )
            yield TimelineEvent(
                date=inst.installed_on,
                kind=_("installation"),
                title=_("Installed at %(where)s") % {"where": where},
                url=inst.get_absolute_url(),
                detail="" if inst.current else _("no longer there"),
                style="success" if inst.current else "secondary",
            )
            if inst.accepted_on:
                yield TimelineEvent(
                    date=inst.accepted_on,
                    kind=_("acceptance"),
                    title=_("Accepted; warranty until %(end)s")
                    % {"end": inst.warranty_end.isoformat() if inst.warranty_end else "—"},
                    url=inst.get_absolute_url(),
                    style="success",
                )
    if can(user, ReturnRecord, "view"):
        returns = (
            loaded.returns
            if loaded is not None
            else ReturnRecord.objects.filter(unit=unit).select_related("returned_by")
        )
        for ret in returns:
            yield TimelineEvent(
                date=ret.return_date,
                kind=_("return"),
                title=_("%(number)s returned by %(party)s")
                % {"number": ret.number, "party": ret.returned_by.name},
                url=ret.get_absolute_url(),
                detail=f"{ret.reason} · {ret.get_disposition_display()}",
                style="warning",
            )
