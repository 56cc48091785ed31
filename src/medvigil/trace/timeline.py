"""The life of a unit on one screen (TRC-7). Other apps (service, complaints, adverse events,
recalls) add their events by registering a provider in their AppConfig.ready()::

    from medvigil.trace.timeline import TimelineEvent, register_timeline_provider

    @register_timeline_provider
    def service_events(unit, user):
        for wo in WorkOrder.objects.filter(unit=unit):
            yield TimelineEvent(date=wo.opened_on, kind=_("service"), title=wo.number,
                                url=wo.get_absolute_url())

A provider receives the unit and the user and must yield only what the user may see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _


@dataclass
class TimelineEvent:
    date: dt.date | dt.datetime | None
    kind: Any
    title: Any
    url: str = ""
    detail: Any = ""
    style: str = "secondary"  # Bootstrap contextual colour of the badge
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sort_key(self) -> tuple[dt.date, int]:
        if self.date is None:
            return (dt.date.min, 0)
        if isinstance(self.date, dt.datetime):
            return (self.date.date(), 1)
        return (self.date, 0)


TimelineProvider = Callable[[Any, Any], Iterable[TimelineEvent]]
_providers: list[TimelineProvider] = []


def register_timeline_provider(fn: TimelineProvider) -> TimelineProvider:
    if fn not in _providers:
        _providers.append(fn)
    return fn


def unregister_timeline_provider(fn: TimelineProvider) -> None:
    if fn in _providers:
        _providers.remove(fn)


def unit_timeline(unit: Any, user: Any) -> list[TimelineEvent]:
    events: list[TimelineEvent] = []
    for provider in list(_providers):
        events.extend(provider(unit, user))
    return sorted(events, key=lambda e: e.sort_key)


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
    if can(user, SaleLine, "view") or user.has_perm("trace.view_sale"):
        lines = (
            SaleLine.objects.filter(unit=unit)
            .select_related("sale", "seller", "buyer")
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
        for inst in Installation.objects.filter(unit=unit).select_related("customer"):
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
        for ret in ReturnRecord.objects.filter(unit=unit).select_related("returned_by"):
            yield TimelineEvent(
                date=ret.return_date,
                kind=_("return"),
                title=_("%(number)s returned by %(party)s")
                % {"number": ret.number, "party": ret.returned_by.name},
                url=ret.get_absolute_url(),
                detail=f"{ret.reason} · {ret.get_disposition_display()}",
                style="warning",
            )


register_timeline_provider(trace_events)
