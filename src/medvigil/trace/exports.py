"""CSV and XLSX exports of trace results (TRC-7, PLAT-10). Contacts are masked for users
without trace.view_contact_data, exactly as on the page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

from .privacy import can_view_contacts, mask
from .queries import BackwardTrace, ForwardTrace

EXPORT_PERM = "trace.export_trace"


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def forward_header() -> list[str]:
    return [
        _("Product code"),
        _("Product name"),
        _("Model / specification"),
        _("Manufacturer"),
        _("UDI-DI"),
        _("Lot"),
        _("Serial number"),
        _("Production date"),
        _("Expiry date"),
        _("Production record"),
        _("Status"),
        _("Consignee"),
        _("Sale number"),
        _("Sale date"),
        _("Sold on to"),
        _("Onward sale number"),
        _("Onward sale date"),
        _("End user"),
        _("Department"),
        _("Address"),
        _("Contact person"),
        _("Contact phone"),
        _("Installed on"),
        _("Accepted on"),
        _("Warranty ends"),
        _("Location known"),
        _("Quantity"),
    ]


def forward_rows(trace: ForwardTrace, user: Any) -> Iterator[list[Any]]:
    allowed = can_view_contacts(user)
    yes, no = _("yes"), _("no")
    for ut in trace.units:
        u = ut.unit
        first, onward, inst = ut.first_line, ut.onward_line, ut.installation
        end = ut.end_user
        yield [
            u.product.code,
            u.product.name,
            u.product.model_spec,
            u.product.manufacturer,
            u.udi_di,
            u.lot.lot_number if u.lot else "",
            u.serial,
            _date(u.production_date),
            _date(u.expiry_date),
            u.production_record or (u.lot.production_record if u.lot else ""),
            u.get_status_display(),
            first.buyer.name if first else "",
            first.sale.number if first else "",
            _date(first.sale.sale_date) if first else "",
            onward.buyer.name if onward else "",
            onward.sale.number if onward else "",
            _date(onward.sale.sale_date) if onward else "",
            end.name if end else "",
            inst.department if inst else "",
            mask(ut.address, allowed),
            mask(ut.contact_person, allowed),
            mask(ut.contact_phone, allowed),
            _date(inst.installed_on) if inst else "",
            _date(inst.accepted_on) if inst else "",
            _date(inst.warranty_end) if inst else "",
            yes if ut.located else no,
            1,
        ]
    for line in trace.lot_lines:
        p = line.product
        buyer = line.buyer
        yield [
            p.code,
            p.name,
            p.model_spec,
            p.manufacturer,
            p.gtin or "",
            line.lot.lot_number if line.lot else "",
            "",
            _date(line.lot.production_date) if line.lot else "",
            _date(line.lot.expiry_date) if line.lot else "",
            line.lot.production_record if line.lot else "",
            _("open") if line.open else _("closed"),
            buyer.name if line.seller_id is None else "",
            line.sale.number if line.seller_id is None else "",
            _date(line.sale.sale_date) if line.seller_id is None else "",
            buyer.name if line.seller_id is not None else "",
            line.sale.number if line.seller_id is not None else "",
            _date(line.sale.sale_date) if line.seller_id is not None else "",
            buyer.name if buyer.kind != "dealer" else "",
            "",
            mask(buyer.address, allowed),
            mask(buyer.contact_person, allowed),
            mask(buyer.phone, allowed),
            "",
            "",
            "",
            "",
            line.quantity,
        ]


def backward_rows(trace: BackwardTrace, user: Any) -> Iterator[list[Any]]:
    """One row per sale of the unit (one row without sale columns if it was never sold),
    each naming the unit: serial number, UDI, product and lot."""
    allowed = can_view_contacts(user)
    u = trace.unit
    unit = [
        u.serial,
        u.udi_hri,
        u.product.code,
        trace.lot.lot_number if trace.lot else "",
    ]
    if not trace.lines:
        yield [*unit, *[""] * (len(backward_header()) - len(unit))]
    for line in trace.lines:
        yield [
            *unit,
            line.sale.number,
            _date(line.sale.sale_date),
            line.sale.seller_name,
            line.buyer.name,
            mask(line.buyer.address, allowed),
            mask(line.buyer.phone, allowed),
            line.quantity,
            line.sale.get_status_display(),
            _("open") if line.open else _("closed"),
        ]


def backward_header() -> list[str]:
    return [
        _("Serial number"),
        _("UDI"),
        _("Product code"),
        _("Lot"),
        _("Sale number"),
        _("Sale date"),
        _("Seller"),
        _("Buyer"),
        _("Address"),
        _("Phone"),
        _("Quantity"),
        _("Sale status"),
        _("Line"),
    ]
