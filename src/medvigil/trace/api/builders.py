"""The dicts the response schemas are filled from; customers' and installation sites'
contact data are masked here for users without trace.view_contact_data (PLAT-11)."""

from typing import Any

from ..models import Customer, Sale, Unit
from ..privacy import mask
from ..queries import ForwardTrace, UnitTrace

# --- builders (contacts masked here) -------------------------------------------------------


def _customer(c: Customer, allowed: bool) -> dict[str, Any]:
    return {
        "id": c.pk,
        "code": c.code,
        "name": c.name,
        "kind": c.kind,
        "credit_code": c.credit_code,
        "province": c.province,
        "city": c.city,
        "address": mask(c.address, allowed),
        "contact_person": mask(c.contact_person, allowed),
        "phone": mask(c.phone, allowed),
        "email": mask(c.email, allowed),
        "owner_id": c.owner_id,
        "active": c.active,
        "version": c.version,
    }


def _unit(u: Unit) -> dict[str, Any]:
    return {
        "id": u.pk,
        "serial": u.serial,
        "product_id": u.product_id,
        "product_code": u.product.code,
        "product_name": u.product.name,
        "model_spec": u.product.model_spec,
        "manufacturer": u.product.manufacturer,
        "lot_id": u.lot_id,
        "lot_number": u.lot.lot_number if u.lot else "",
        "udi_di": u.udi_di,
        "udi_pi": u.udi_pi,
        "production_date": u.production_date,
        "expiry_date": u.expiry_date,
        "production_record": u.production_record or (u.lot.production_record if u.lot else ""),
        "status": u.status,
        "holder_id": u.holder_id,
        "holder": u.holder.name if u.holder else "",
    }


def _hop(line: Any) -> dict[str, Any]:
    return {
        "sale_id": line.sale_id,
        "sale_number": line.sale.number,
        "sale_date": line.sale.sale_date,
        "seller": line.sale.seller_name,
        "seller_id": line.seller_id,
        "buyer": line.buyer.name,
        "buyer_id": line.buyer_id,
        "quantity": line.quantity,
        "open": line.open,
        "voided": line.sale.status == "voided",
    }


def _installation(inst: Any, allowed: bool) -> dict[str, Any]:
    return {
        "id": inst.pk,
        "customer_id": inst.customer_id,
        "customer": inst.customer.name,
        "department": inst.department,
        "address": mask(inst.address, allowed),
        "contact_person": mask(inst.contact_person, allowed),
        "contact_phone": mask(inst.contact_phone, allowed),
        "installed_on": inst.installed_on,
        "accepted_on": inst.accepted_on,
        "warranty_end": inst.warranty_end,
        "current": inst.current,
    }


def _trace_unit(ut: UnitTrace, allowed: bool) -> dict[str, Any]:
    consignee, end = ut.consignee, ut.end_user
    return {
        "unit": _unit(ut.unit),
        "consignee_id": consignee.pk if consignee else None,
        "consignee": consignee.name if consignee else "",
        "end_user_id": end.pk if end else None,
        "end_user": end.name if end else "",
        "location": ut.location,
        "located": ut.located,
        "address": mask(ut.address, allowed),
        "contact_person": mask(ut.contact_person, allowed),
        "contact_phone": mask(ut.contact_phone, allowed),
        "chain": [_hop(line) for line in ut.lines],
    }


def _party(c: Customer, n: int, allowed: bool) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "kind": c.kind,
        "count": n,
        "address": mask(c.address, allowed),
        "phone": mask(c.phone, allowed),
    }


def _forward(trace: ForwardTrace, allowed: bool) -> dict[str, Any]:
    return {
        "criteria": trace.criteria,
        "unit_count": trace.unit_count,
        "located": sum(1 for ut in trace.units if ut.located),
        "truncated": trace.truncated,
        "consignees": [_party(c, n, allowed) for c, n in trace.consignees()],
        "end_users": [_party(c, n, allowed) for c, n in trace.end_users()],
        "units": [_trace_unit(ut, allowed) for ut in trace.units],
        "lot_lines": [
            {
                **_hop(line),
                "lot_id": line.lot_id,
                "lot_number": line.lot.lot_number if line.lot else "",
                "product_id": line.product_id,
            }
            for line in trace.lot_lines
        ],
    }


def _sale(sale: Sale) -> dict[str, Any]:
    lines = sale.lines.select_related("product", "unit", "lot", "unit__lot").order_by("id")
    return {
        "id": sale.pk,
        "number": sale.number,
        "sale_date": sale.sale_date,
        "seller_id": sale.seller_id,
        "seller": sale.seller_name,
        "buyer_id": sale.buyer_id,
        "buyer": sale.buyer.name,
        "handler": sale.handler_display,
        "reference": sale.reference,
        "status": sale.status,
        "lines": [
            {
                "id": ln.pk,
                "product_id": ln.product_id,
                "product_name": ln.product.name,
                "manufacturer": ln.product.manufacturer,
                "model_spec": ln.product.model_spec,
                "production_date": ln.production_date,
                "unit_id": ln.unit_id,
                "serial": ln.unit.serial if ln.unit else "",
                "lot_id": ln.lot_id,
                "lot_number": ln.lot.lot_number if ln.lot else "",
                "quantity": ln.quantity,
                "open": ln.open,
            }
            for ln in lines
        ],
    }
