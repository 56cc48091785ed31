"""SVC-5: warranty status of a unit, and what trace knows about it for a service request.

The warranty runs from the acceptance date (验收, seed 003 四 1: 自产品验收合格之日起) for the
product's agreed months (trace Product.warranty_months); trace stores the end on the
installation when acceptance is recorded. Before acceptance the installation date, and
before installation our sale date, stand in (what the agent can tell the caller). The end day
itself is still inside the warranty.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medvigil.trace.models import Installation, SaleLine, SaleStatus, Unit
from medvigil.trace.services import warranty_end_for
from medvigil.trace.udi import UdiError, find_unit, looks_like_udi

BASIS_LABELS = {
    "acceptance": gettext_lazy("from acceptance"),
    "installation": gettext_lazy("from installation (not yet accepted)"),
    "sale": gettext_lazy("from our sale (not yet installed)"),
    "": gettext_lazy("unknown"),
}


@dataclass(frozen=True)
class Warranty:
    start: dt.date | None
    end: dt.date | None
    basis: str  # acceptance, installation, sale, ""
    under: bool | None  # None: unknown

    @property
    def basis_label(self) -> Any:
        return BASIS_LABELS.get(self.basis, "")


def warranty_status(unit: Unit, *, on: dt.date | None = None) -> Warranty:
    """The warranty of `unit` on day `on` (default today in the company zone)."""
    on = on or timezone.localdate()
    inst = (
        Installation.objects.filter(unit=unit).order_by("-current", "-installed_on", "-id").first()
    )
    start, basis = None, ""
    if inst is not None and inst.accepted_on:
        start, basis = inst.accepted_on, "acceptance"
    elif inst is not None:
        start, basis = inst.installed_on, "installation"
    else:
        line = (
            SaleLine.objects.filter(unit=unit, sale__seller__isnull=True)
            .exclude(sale__status=SaleStatus.VOIDED)
            .select_related("sale")
            .order_by("sale__sale_date")
            .first()
        )
        if line is not None:
            start, basis = line.sale.sale_date, "sale"
    if start is None:
        return Warranty(None, None, "", None)
    end = (
        inst.warranty_end
        if basis == "acceptance" and inst is not None and inst.warranty_end
        else warranty_end_for(unit.product, start)
    )
    return Warranty(start, end, basis, start <= on <= end)


def device_facts(unit: Unit) -> dict[str, Any]:
    """The unit's product, customer (end user where installed, else the last buyer), dealer
    on the way, site contact and warranty."""
    from medvigil.trace.models import CustomerKind

    lines = list(
        SaleLine.objects.filter(unit=unit)
        .exclude(sale__status=SaleStatus.VOIDED)
        .select_related("buyer", "sale")
        .order_by("sale__sale_date", "id")
    )
    buyers = [ln.buyer for ln in lines]
    dealers = [b for b in buyers if b.kind == CustomerKind.DEALER]
    inst = Installation.objects.filter(unit=unit, current=True).select_related("customer").first()
    customer = inst.customer if inst else (buyers[-1] if buyers else unit.holder)
    w = warranty_status(unit)
    facts: dict[str, Any] = {
        "unit": unit,
        "product": unit.product,
        "customer": customer,
        "dealer": dealers[0] if dealers else None,
        "warranty": w,
        "warranty_end": w.end,
        "under_warranty": w.under,
        "installation": inst,
    }
    if inst is not None:
        facts.update(
            contact_name=inst.contact_person,
            contact_phone=inst.contact_phone,
            site_address=inst.address or (inst.customer.address if inst.customer_id else ""),
        )
    return facts


def find_device(text: str, *, user: Any) -> dict[str, Any]:
    """A scanned UDI or a typed serial → the unit's facts (among the units the user may see),
    or {"error": reason}."""
    text = (text or "").strip()
    if not text:
        return {"error": _("Scan a UDI or type a serial number.")}
    try:
        unit = find_unit(text, user)
    except PermissionDenied:
        return {"error": _("You may not look units up.")}
    except UdiError as exc:
        return {"error": str(exc)}
    facts = device_facts(unit)
    facts["udi_text"] = text if looks_like_udi(text) else ""
    return facts
