"""Trace queries (TRC-7): set-based, a few queries per trace whatever the number of units.

forward_trace: from lots, serials, UDIs, a UDI-DI or a production date range to every unit,
its chain of sales (consignees), its end user and location, with contacts.
backward_trace: from a unit to its lot, production record, sales chain, installations and
returns.

Contacts are returned as stored; the pages, exports and API mask them for users without
trace.view_contact_data (see trace.privacy).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from medvigil.core.records.probes import rows_of, with_panel_probes, with_row_probes
from medvigil.core.registry import with_timeline_probe

from .models import (
    Customer,
    CustomerKind,
    Installation,
    Lot,
    Product,
    ReturnRecord,
    Sale,
    SaleLine,
    SaleStatus,
    Unit,
    UnitStatus,
    located_share,
)

CHUNK = 2000  # ids per IN (...) list: far below SQLite's variable limit
DEFAULT_LIMIT = 100_000


def _chunks(ids: Sequence[int], size: int = CHUNK) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def _cache(obj: Any, name: str, value: Any) -> None:
    """Set a foreign key's cached object without the descriptor (ids already match)."""
    obj._state.fields_cache[name] = value


def _in_bulk(model: Any, ids: set[int]) -> dict[int, Any]:
    """Rows by primary key, CHUNK ids per query (index lookups only)."""
    out: dict[int, Any] = {}
    ordered = sorted(ids)
    for chunk in _chunks(ordered):
        out.update((obj.pk, obj) for obj in model.objects.filter(pk__in=chunk))
    return out


@dataclass
class UnitTrace:
    unit: Unit
    lines: list[SaleLine] = field(default_factory=list)  # chronological, voided sales left out
    installation: Installation | None = None

    @property
    def open_lines(self) -> list[SaleLine]:
        return [line for line in self.lines if line.open]

    @property
    def consignee(self) -> Customer | None:
        """The first buyer: our direct customer (dealer or hospital)."""
        first = next((ln for ln in self.open_lines if ln.seller_id is None), None)
        return first.buyer if first else None

    @property
    def first_line(self) -> SaleLine | None:
        return next((ln for ln in self.open_lines if ln.seller_id is None), None)

    @property
    def onward_line(self) -> SaleLine | None:
        return next((ln for ln in self.open_lines if ln.seller_id is not None), None)

    @property
    def end_user(self) -> Customer | None:
        if self.installation is not None:
            return self.installation.customer
        holder = self.unit.holder
        if holder is not None and holder.kind != CustomerKind.DEALER:
            return holder
        return None

    @property
    def address(self) -> str:
        if self.installation is not None and self.installation.address:
            return self.installation.address
        end = self.end_user
        return end.address if end is not None else ""

    @property
    def contact_person(self) -> str:
        if self.installation is not None and self.installation.contact_person:
            return self.installation.contact_person
        end = self.end_user
        return end.contact_person if end is not None else ""

    @property
    def contact_phone(self) -> str:
        if self.installation is not None and self.installation.contact_phone:
            return self.installation.contact_phone
        end = self.end_user
        return end.phone if end is not None else ""

    @property
    def located(self) -> bool:
        """Known location: installed; or held by an end user whose address we have; or never
        shipped / back with us (our own premises) or scrapped. A unit at a dealer, or at an
        end user without an address, is not located."""
        unit = self.unit
        if self.installation is not None:
            return True
        if unit.holder_id is None:
            return unit.status in (UnitStatus.IN_STOCK, UnitStatus.RETURNED, UnitStatus.SCRAPPED)
        return self.end_user is not None and bool(self.address.strip())

    @property
    def location_parts(self) -> tuple[str, str]:
        """(kind, name) of where the unit is, language-neutral (drills keep these):
        installed, stock, scrapped, dealer or holder."""
        unit = self.unit
        if self.installation is not None:
            inst = self.installation
            return "installed", " · ".join(p for p in (inst.customer.name, inst.department) if p)
        if unit.holder_id is None:
            return ("scrapped", "") if unit.status == UnitStatus.SCRAPPED else ("stock", "")
        assert unit.holder is not None
        if unit.holder.kind == CustomerKind.DEALER:
            return "dealer", unit.holder.name
        return "holder", unit.holder.name

    @property
    def location(self) -> str:
        return location_text(*self.location_parts)


def location_text(kind: str, name: str) -> str:
    """Where a unit is, in the active language (see UnitTrace.location_parts)."""
    from django.utils.translation import gettext as _

    if kind == "scrapped":
        return _("scrapped")
    if kind == "stock":
        return _("our stock")
    if kind == "dealer":
        return _("at dealer %(name)s") % {"name": name}
    return name


@dataclass
class ForwardTrace:
    criteria: dict[str, Any]
    units: list[UnitTrace]
    lot_lines: list[SaleLine]
    lots: list[Lot]
    truncated: bool = False

    @property
    def unit_count(self) -> int:
        return len(self.units)

    def consignees(self) -> list[tuple[Customer, int]]:
        """Every customer that received goods (any level), with the number of units/items."""
        counts: dict[int, int] = defaultdict(int)
        people: dict[int, Customer] = {}
        for ut in self.units:
            for line in ut.open_lines:
                counts[line.buyer_id] += 1
                people[line.buyer_id] = line.buyer
        for line in self.lot_lines:
            if line.open:
                counts[line.buyer_id] += line.quantity
                people[line.buyer_id] = line.buyer
        return sorted(((people[k], v) for k, v in counts.items()), key=lambda cv: cv[0].name)

    def end_users(self) -> list[tuple[Customer, int]]:
        counts: dict[int, int] = defaultdict(int)
        people: dict[int, Customer] = {}
        for ut in self.units:
            end = ut.end_user
            if end is not None:
                counts[end.pk] += 1
                people[end.pk] = end
        for line in self.lot_lines:
            if line.open and line.buyer.kind != CustomerKind.DEALER:
                counts[line.buyer_id] += line.quantity
                people[line.buyer_id] = line.buyer
        return sorted(((people[k], v) for k, v in counts.items()), key=lambda cv: cv[0].name)


def unit_filter(
    *,
    lots: Iterable[Lot | int] | None = None,
    serials: Iterable[str] | None = None,
    udis: Iterable[tuple[str, str]] | None = None,
    gtin: str | None = None,
    product: Any = None,
    produced_from: dt.date | None = None,
    produced_to: dt.date | None = None,
) -> Q | None:
    """The Q selecting the units of the criteria (None: no criterion given)."""
    parts: list[Q] = []
    if lots:
        parts.append(Q(lot_id__in=[lot.pk if isinstance(lot, Lot) else int(lot) for lot in lots]))
    ids: list[Q] = []
    serial_list = [s.strip() for s in (serials or []) if s and s.strip()]
    if serial_list:
        ids.append(Q(serial__in=serial_list))
    for g, s in udis or []:
        ids.append(Q(udi_di=g, serial=s))
    if ids:
        any_id = ids[0]
        for q in ids[1:]:
            any_id |= q
        parts.append(any_id)
    if gtin:
        parts.append(Q(udi_di=gtin))
    if produced_from or produced_to:
        if produced_from:
            parts.append(Q(production_date__gte=produced_from))
        if produced_to:
            parts.append(Q(production_date__lte=produced_to))
    if not parts:
        return None
    if product is not None:
        parts.append(Q(product=product))
    q = parts[0]
    for p in parts[1:]:
        q &= p
    return q


def forward_trace(
    *,
    lots: Iterable[Lot | int] | None = None,
    serials: Iterable[str] | None = None,
    udis: Iterable[tuple[str, str]] | None = None,
    gtin: str | None = None,
    product: Any = None,
    produced_from: dt.date | None = None,
    produced_to: dt.date | None = None,
    limit: int | None = DEFAULT_LIMIT,
    units_qs: QuerySet[Unit] | None = None,
) -> ForwardTrace:
    """Every unit of the criteria with its sales chain and installation.

    Queries: units (1), sale lines of those units (1 per 2,000 units), current installations
    (1 per 2,000 units), lots and lot-tracked sale lines (2). `units_qs` narrows the units to
    what a user may see."""
    lot_list = list(lots or [])
    criteria = {
        "lots": [lot.lot_number if isinstance(lot, Lot) else lot for lot in lot_list],
        "serials": list(serials or []),
        "udis": [f"{g}/{s}" for g, s in udis or []],
        "gtin": gtin or "",
        "product": str(product) if product is not None else "",
        "produced_from": produced_from.isoformat() if produced_from else "",
        "produced_to": produced_to.isoformat() if produced_to else "",
    }
    q = unit_filter(
        lots=lot_list,
        serials=serials,
        udis=udis,
        gtin=gtin,
        product=product,
        produced_from=produced_from,
        produced_to=produced_to,
    )
    if q is None:
        return ForwardTrace(criteria=criteria, units=[], lot_lines=[], lots=[])
    base = units_qs if units_qs is not None else Unit.objects.all()
    qs = base.filter(q).order_by("product_id", "lot_id", "serial")
    units = list(qs[: limit + 1] if limit else qs)
    truncated = bool(limit) and len(units) > (limit or 0)
    if truncated:
        units = units[:limit]
    products = _in_bulk(Product, {u.product_id for u in units})
    unit_lots = _in_bulk(Lot, {u.lot_id for u in units if u.lot_id})
    holders = _in_bulk(Customer, {u.holder_id for u in units if u.holder_id})
    for u in units:
        _cache(u, "product", products[u.product_id])
        _cache(u, "lot", unit_lots.get(u.lot_id) if u.lot_id else None)
        _cache(u, "holder", holders.get(u.holder_id) if u.holder_id else None)
    traces = {u.pk: UnitTrace(unit=u) for u in units}
    ids = list(traces)
    # Plain index lookups, joined here in Python: SQL joins to the sale and customer tables
    # let the planner hash whole tables, a cost that grows with the company, not the trace.
    unit_lines: list[SaleLine] = []
    installs: list[Installation] = []
    for chunk in _chunks(ids):
        unit_lines.extend(SaleLine.objects.filter(unit_id__in=chunk))
        installs.extend(Installation.objects.filter(unit_id__in=chunk, current=True))
    lot_pks = sorted({lot.pk if isinstance(lot, Lot) else int(lot) for lot in lot_list})
    lot_lines: list[SaleLine] = (
        list(SaleLine.objects.filter(lot_id__in=lot_pks, unit__isnull=True)) if lot_pks else []
    )
    missing_lots = set(lot_pks) - set(unit_lots)
    unit_lots.update(_in_bulk(Lot, missing_lots))
    missing_products = {lot.product_id for lot in unit_lots.values()} | {
        ln.product_id for ln in lot_lines
    }
    products.update(_in_bulk(Product, missing_products - set(products)))
    for lot in unit_lots.values():
        _cache(lot, "product", products[lot.product_id])
    sales = _in_bulk(Sale, {ln.sale_id for ln in unit_lines} | {ln.sale_id for ln in lot_lines})
    people = _in_bulk(
        Customer,
        {ln.buyer_id for ln in unit_lines + lot_lines}
        | {ln.seller_id for ln in unit_lines + lot_lines if ln.seller_id}
        | {inst.customer_id for inst in installs},
    )

    def attach(line: SaleLine) -> bool:
        sale = sales[line.sale_id]
        if sale.status != SaleStatus.CONFIRMED:
            return False  # voided sales are not part of the chain
        _cache(sale, "seller", people.get(sale.seller_id) if sale.seller_id else None)
        _cache(sale, "buyer", people[line.buyer_id])  # the line's buyer is the sale's (copied)
        _cache(line, "sale", sale)
        _cache(line, "buyer", people[line.buyer_id])
        _cache(line, "seller", people.get(line.seller_id) if line.seller_id else None)
        _cache(line, "product", products[line.product_id])
        if line.lot_id:
            _cache(line, "lot", unit_lots.get(line.lot_id))
        return True

    for line in unit_lines:
        if attach(line):
            traces[line.unit_id].lines.append(line)  # type: ignore[index]
    for ut in traces.values():
        ut.lines.sort(key=lambda ln: (ln.sale.sale_date, ln.pk))
    for inst in installs:
        _cache(inst, "customer", people[inst.customer_id])
        traces[inst.unit_id].installation = inst
    lot_lines = sorted(
        (ln for ln in lot_lines if attach(ln)), key=lambda ln: (ln.sale.sale_date, ln.pk)
    )
    lot_objs = [unit_lots[pk] for pk in sorted(unit_lots)]
    return ForwardTrace(
        criteria=criteria,
        units=list(traces.values()),
        lot_lines=lot_lines,
        lots=lot_objs,
        truncated=truncated,
    )


@dataclass
class BackwardTrace:
    unit: Unit
    lot: Lot | None
    lines: list[SaleLine]
    installations: list[Installation]
    returns: list[ReturnRecord]

    @property
    def production_record(self) -> str:
        return self.unit.production_record or (self.lot.production_record if self.lot else "")


BACKWARD_RELATED = ("product", "lot__product", "holder")
# Whether the unit has sale lines, installations, returns: read with the unit itself (one
# EXISTS each, core.registry.with_row_probes), so that backward_trace skips the query of what
# the unit has none of (#13: a unit in stock has no sale, most have no return).
BACKWARD_PROBES = {
    "probe_sale_lines": (rows_of(SaleLine, "unit"),),
    "probe_installations": (rows_of(Installation, "unit"),),
    "probe_returns": (rows_of(ReturnRecord, "unit"),),
}


def backward_queryset(*, timeline: bool = False, panels: bool = False) -> QuerySet[Unit]:
    """Units as backward_trace(unit, loaded=True) takes them: with BACKWARD_RELATED and the
    probes; `timeline`: with the timeline providers' probes too (core.registry); `panels`:
    with those of the record page's signature and attachment panels."""
    qs = with_row_probes(Unit.objects.select_related(*BACKWARD_RELATED), **BACKWARD_PROBES)
    if timeline:
        qs = with_timeline_probe(qs)
    return with_panel_probes(qs) if panels else qs


def backward_trace(unit: Unit, *, loaded: bool = False) -> BackwardTrace:
    """From a unit to its lot, production record and sales chain (4 queries at most; 3 when
    the caller `loaded` the unit with backward_queryset or BACKWARD_RELATED, fewer when the
    probes of backward_queryset say the unit has no sale, installation or return)."""
    if not loaded:
        unit = backward_queryset().get(pk=unit.pk)
    lines = (
        list(
            SaleLine.objects.filter(unit=unit)
            .select_related("sale__seller", "seller", "buyer")
            .order_by("sale__sale_date", "id")
        )
        if getattr(unit, "probe_sale_lines", True)
        else []
    )
    installations = (
        list(Installation.objects.filter(unit=unit).select_related("customer", "installed_by"))
        if getattr(unit, "probe_installations", True)
        else []
    )
    returns = (
        list(ReturnRecord.objects.filter(unit=unit).select_related("returned_by", "returned_to"))
        if getattr(unit, "probe_returns", True)
        else []
    )
    return BackwardTrace(
        unit=unit, lot=unit.lot, lines=lines, installations=installations, returns=returns
    )


# --- drill (TRC-8) ---------------------------------------------------------------------------

RESULT_ROWS = 5000  # rows frozen into a drill record


def _lot_quantities(trace: ForwardTrace) -> tuple[int, int, list[dict[str, Any]]]:
    """Lot-tracked goods, by quantity: what we still hold and what end users with an address
    hold is located; what dealers bought and did not sell on is not."""
    total = located = 0
    rows: list[dict[str, Any]] = []
    for lot in trace.lots:
        lines = [ln for ln in trace.lot_lines if ln.lot_id == lot.pk and ln.open]
        sold_by_us = sum(ln.quantity for ln in lines if ln.seller_id is None)
        lot_total = max(lot.quantity, sold_by_us)
        total += lot_total
        located += lot_total - sold_by_us
        dealer_balance: dict[int, int] = defaultdict(int)
        dealers: dict[int, Customer] = {}
        for ln in lines:
            if ln.buyer.kind == CustomerKind.DEALER:
                dealer_balance[ln.buyer_id] += ln.quantity
                dealers[ln.buyer_id] = ln.buyer
            else:
                ok = bool(ln.buyer.address.strip())
                located += ln.quantity if ok else 0
                rows.append(
                    {
                        "lot": lot.lot_number,
                        "quantity": ln.quantity,
                        "holder": ln.buyer.name,
                        "located": ok,
                    }
                )
            if ln.seller_id is not None:
                dealer_balance[ln.seller_id] -= ln.quantity
        for dealer_id, qty in dealer_balance.items():
            if qty > 0 and dealer_id in dealers:
                rows.append(
                    {
                        "lot": lot.lot_number,
                        "quantity": qty,
                        "holder": dealers[dealer_id].name,
                        "located": False,
                    }
                )
    return total, min(located, total), rows


def drill_summary(trace: ForwardTrace) -> dict[str, Any]:
    """Share of the traced goods whose location is known, and the rows to keep."""
    if trace.units:
        total = len(trace.units)
        located = sum(1 for ut in trace.units if ut.located)
        rows = [
            {
                "serial": ut.unit.serial,
                "status": ut.unit.status,
                "consignee": ut.consignee.name if ut.consignee else "",
                "end_user": ut.end_user.name if ut.end_user else "",
                "location": ut.location,
                "location_kind": ut.location_parts[0],
                "location_name": ut.location_parts[1],
                "located": ut.located,
            }
            for ut in trace.units[:RESULT_ROWS]
        ]
    else:
        total, located, rows = _lot_quantities(trace)
        rows = rows[:RESULT_ROWS]
    missing = [r for r in rows if not r["located"]]
    return {
        "total": total,
        "located": located,
        "percent": located_share(located, total),
        "result": {
            "criteria": trace.criteria,
            "basis": "units" if trace.units else "quantity",
            "consignees": [{"name": c.name, "count": n} for c, n in trace.consignees()],
            "end_users": [{"name": c.name, "count": n} for c, n in trace.end_users()],
            "rows": rows,
            "not_located": len(missing),
            "truncated": trace.truncated or (bool(trace.units) and len(rows) < total),
        },
    }
