"""RCL-2: a recall's scope from traceability (TRC-7). The criteria (lots, serials or UDIs, a
UDI-DI, a product, a production date range) go through the forward trace's one validator and
its set-based query (trace.services.validate_trace_criteria, trace.queries.forward_trace, the
functions behind /api/v1/trace/lots/{id}/forward); every affected unit becomes a RecallUnit
row and every customer reached — each sale level's buyer (dealers, hospitals) and every end
user — a RecallConsignee row with its contacts, written in bulk through the platform's
audited bulk path (AuditedQuerySet.bulk_create: COPY on PostgreSQL, one audit entry each).

Resolving again while the recall is a draft adds what the criteria now reach and is not yet
in the scope (units and customers are never dropped: a scope row is a regulated record)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.permissions import require
from medvigil.core.types import Actor
from medvigil.trace.models import Customer, CustomerKind
from medvigil.trace.queries import ForwardTrace, forward_trace
from medvigil.trace.services import validate_trace_criteria

from ..models import Recall, RecallConsignee, RecallUnit
from .records import CHANGE_PERM, lock

# the trace validator's field → the recall's field (errors shown on the recall form)
_FIELD = {
    "lots": "scope_lots",
    "serials": "scope_serials",
    "gtin": "scope_gtin",
    "product": "product",
    "produced_to": "produced_to",
}


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in (text or "").replace(",", "\n").splitlines() if ln.strip()]


def scope_criteria(recall: Recall, user: Any) -> dict[str, Any]:
    """The forward-trace arguments of the recall's scope (ValidationError on the recall's
    own field names when a lot, serial or UDI is unknown or the criteria are empty)."""
    try:
        return validate_trace_criteria(
            user=user,
            lot_numbers=_lines(recall.scope_lots),
            serials=_lines(recall.scope_serials),
            gtin=recall.scope_gtin,
            product=recall.product,
            produced_from=recall.produced_from,
            produced_to=recall.produced_to,
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise ValidationError({_FIELD.get(k, k): v for k, v in exc.error_dict.items()}) from exc
        raise


@dataclass
class _Reached:
    customer: Customer
    sale_level: int | None = None
    is_end_user: bool = False
    units: int = 0
    quantity: int = 0
    contact_person: str = ""
    phone: str = ""
    address: str = ""

    def level(self, n: int) -> None:
        self.sale_level = n if self.sale_level is None else min(self.sale_level, n)


@dataclass
class Scope:
    trace: ForwardTrace
    units: list[dict[str, Any]] = field(default_factory=list)
    reached: dict[int, _Reached] = field(default_factory=dict)


def build_scope(trace: ForwardTrace) -> Scope:
    """From a forward trace: per unit its consignee (first buyer), holder (last buyer), end
    user and location; per customer its lowest sale level, whether it is an end user, and its
    contacts (the installation's for an installed unit's end user)."""
    scope = Scope(trace=trace)

    def reach(c: Customer) -> _Reached:
        r = scope.reached.get(c.pk)
        if r is None:
            r = scope.reached[c.pk] = _Reached(
                c, contact_person=c.contact_person, phone=c.phone, address=c.address
            )
        return r

    for ut in trace.units:
        lines = ut.open_lines
        for n, line in enumerate(lines, start=1):
            r = reach(line.buyer)
            r.level(n)
            r.units += 1
        end = ut.end_user
        if end is not None:
            r = reach(end)
            r.is_end_user = True
            if ut.installation is not None and end.pk not in {ln.buyer_id for ln in lines}:
                r.units += 1
            inst = ut.installation
            if inst is not None:
                r.contact_person = inst.contact_person or r.contact_person
                r.phone = inst.contact_phone or r.phone
                r.address = inst.address or r.address
        kind, name = ut.location_parts
        scope.units.append(
            {
                "unit": ut.unit,
                "consignee": ut.consignee,
                "holder": ut.unit.holder if ut.unit.holder_id else None,
                "end_user": end,
                "location": f"{kind}: {name}" if name else kind,
            }
        )
    for line in trace.lot_lines:
        if not line.open:
            continue
        r = reach(line.buyer)
        r.level(1 if line.seller_id is None else 2)
        r.quantity += line.quantity
        if line.buyer.kind != CustomerKind.DEALER:
            r.is_end_user = True
    return scope


def preview_scope(recall: Recall, *, by: Actor) -> dict[str, Any]:
    """What resolving would reach now (counts only; nothing written)."""
    criteria = scope_criteria(recall, by)
    trace = forward_trace(**criteria, limit=None)
    scope = build_scope(trace)
    return {
        "units": len(scope.units),
        "consignees": sum(1 for r in scope.reached.values() if r.sale_level is not None),
        "end_users": sum(1 for r in scope.reached.values() if r.is_end_user),
        "customers": len(scope.reached),
        "lots": [lot.lot_number for lot in trace.lots],
    }


def resolve_scope(recall: Recall, *, by: Actor) -> Recall:
    """RCL-2: write the scope as rows, in bulk (only what is not yet in it)."""
    require(by, CHANGE_PERM)
    if not recall.can_edit_scope():
        raise ValidationError(_("The scope is frozen once the recall is decided."))
    criteria = scope_criteria(recall, by)
    with transaction.atomic(), audit_context(actor=by, reason=_("Recall scope resolved")):
        recall = lock(recall.pk)
        if not recall.can_edit_scope():
            raise ValidationError(_("The scope is frozen once the recall is decided."))
        trace = forward_trace(**criteria, limit=None)
        scope = build_scope(trace)
        have_units = set(RecallUnit.objects.filter(recall=recall).values_list("unit_id", flat=True))
        new_units = [
            RecallUnit(
                recall=recall,
                unit=u["unit"],
                lot_id=u["unit"].lot_id,
                serial=u["unit"].serial,
                consignee=u["consignee"],
                holder=u["holder"],
                end_user=u["end_user"],
                location=u["location"][:300],
            )
            for u in scope.units
            if u["unit"].pk not in have_units
        ]
        have_customers = set(
            RecallConsignee.objects.filter(recall=recall).values_list("customer_id", flat=True)
        )
        new_customers = [
            RecallConsignee(
                recall=recall,
                customer=r.customer,
                name=r.customer.name[:200],
                customer_kind=r.customer.kind,
                sale_level=r.sale_level,
                is_end_user=r.is_end_user,
                unit_count=r.units,
                quantity=r.quantity or r.units,
                contact_person=r.contact_person[:100],
                phone=r.phone[:60],
                email=r.customer.email[:254],
                address=r.address[:300],
            )
            for cid, r in scope.reached.items()
            if cid not in have_customers
        ]
        RecallUnit.objects.bulk_create(new_units, batch_size=2000)
        RecallConsignee.objects.bulk_create(new_customers, batch_size=2000)
        counts = RecallUnit.objects.filter(recall=recall).aggregate(n=Count("id"))
        recall.unit_count = counts["n"]
        recall.consignee_count = RecallConsignee.objects.filter(recall=recall).count()
        if recall.unit_count == 0 and recall.consignee_count == 0:
            raise ValidationError(_("The criteria reach no unit and no customer."))
        recall.scope_resolved_at = timezone.now()
        recall.save()
    return recall
