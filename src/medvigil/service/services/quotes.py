"""SVC-5/SVC-6: paid service quoted from the price list (parts, labour, travel). Under
warranty without an exclusion the work is free (seed 003 四 1: 保修、保换、保退); otherwise the
quote is priced from the list; a discount above SERVICE_DISCOUNT_APPROVAL_PERCENT (default 10 %,
seed 003 售后服务(保期外)管理流程 三 2: 报价负偏差超过10%的情况应由总经理审批) waits for the
general manager's e-signed approval; the customer's acceptance (or refusal) is recorded."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.permissions import require
from medvigil.core.signatures.services import apply_signature, check_signer
from medvigil.core.types import Actor

from ..models import PriceListItem, Quote, ServiceRequest

ADD_PERM = "service.add_quote"
CHANGE_PERM = "service.change_quote"
APPROVE_PERM = "service.approve_quote"
CENT = Decimal("0.01")
MAX_LINES = 100


def approval_limit() -> Decimal:
    """The discount (percent of the list price) above which the general manager approves."""
    return Decimal(str(getattr(settings, "SERVICE_DISCOUNT_APPROVAL_PERCENT", 10)))


def _decimal(value: Any, field: str, *, low: Decimal, high: Decimal) -> Decimal:
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("Enter a number.")}) from None
    if not d.is_finite() or d < low or d > high:
        raise ValidationError(
            {field: _("Enter a number between %(low)s and %(high)s.") % {"low": low, "high": high}}
        )
    return d


def price_lines(lines: Any) -> tuple[list[dict[str, str]], Decimal]:
    """Lines {item (code), quantity} priced from the active price list → (frozen lines, list
    total). Unknown or inactive codes are refused."""
    if not isinstance(lines, list) or not lines or len(lines) > MAX_LINES:
        raise ValidationError({"lines": _("Add at least one line from the price list.")})
    codes = {str(ln.get("item", "")).strip() for ln in lines if isinstance(ln, dict)}
    items = {i.code: i for i in PriceListItem.objects.filter(code__in=codes, active=True)}
    out, total = [], Decimal("0")
    for n, ln in enumerate(lines, 1):
        if not isinstance(ln, dict):
            raise ValidationError({"lines": _("Line %(n)d is not a price-list line.") % {"n": n}})
        code = str(ln.get("item", "")).strip()
        item = items.get(code)
        if item is None:
            raise ValidationError(
                {
                    "lines": _("Line %(n)d: %(code)s is not on the price list.")
                    % {"n": n, "code": code[:40]}
                }
            )
        qty = _decimal(ln.get("quantity", 1), "lines", low=Decimal("0.01"), high=Decimal("10000"))
        amount = (item.unit_price * qty).quantize(CENT, ROUND_HALF_UP)
        total += amount
        out.append(
            {
                "item": item.code,
                "name": item.name,
                "kind": item.kind,
                "unit": item.unit,
                "quantity": str(qty.normalize()),
                "unit_price": str(item.unit_price),
                "amount": str(amount),
            }
        )
    return out, total


def create_quote(
    sr: ServiceRequest,
    *,
    by: Actor,
    lines: Any,
    discount_percent: Any = 0,
    discount_reason: str = "",
) -> Quote:
    """Price the work from the list and apply the discount: above the limit the quote waits for
    the general manager's signed approval, else it is ready for the customer at once."""
    require(by, ADD_PERM)
    priced, list_total = price_lines(lines)
    discount = _decimal(
        discount_percent or 0, "discount_percent", low=Decimal(0), high=Decimal(100)
    )
    discount_reason = (discount_reason or "").strip()
    if "\x00" in discount_reason:
        raise ValidationError({"discount_reason": _("The text contains a NUL character.")})
    if discount > 0 and not discount_reason:
        raise ValidationError({"discount_reason": _("Say why the discount is given.")})
    total = (list_total * (Decimal(100) - discount) / Decimal(100)).quantize(CENT, ROUND_HALF_UP)
    with transaction.atomic(), audit_context(actor=by):
        obj = ServiceRequest.objects.select_for_update().get(pk=sr.pk)
        if obj.status == ServiceRequest.Status.VOIDED:
            raise ValidationError(_("The request is voided."))
        q = Quote(
            request=obj,
            lines=priced,
            list_total=list_total,
            discount_percent=discount,
            discount_reason=discount_reason,
            total=total,
        )
        q.status = (
            Quote.Status.AWAITING_APPROVAL if discount > approval_limit() else Quote.Status.APPROVED
        )
        q.assign_number()
        q.full_clean()
        q.save()
    return q


def needs_approval(q: Quote) -> bool:
    return q.status == Quote.Status.AWAITING_APPROVAL


def approve_discount(
    q: Quote,
    *,
    by: Any,
    password: str,
    comment: str = "",
    request: HttpRequest | None = None,
    version: Any = None,
) -> Quote:
    """The general manager approves the discount with an electronic signature (PLAT-3, meaning
    "approved"): the password is re-checked first (outside the transaction), then the status
    changes and the signature binds the quote's content."""
    require(by, APPROVE_PERM)
    if not needs_approval(q):
        raise ValidationError(_("This quote does not wait for a discount approval."))
    check = check_signer(q, user=by, password=password, request=request, meaning="approved")
    with transaction.atomic(), audit_context(actor=by, reason=comment or None):
        obj = Quote.objects.select_for_update().get(pk=q.pk)
        if version is not None:
            obj.check_version(version)
        obj.check_transition(Quote.Status.APPROVED)
        obj.status = Quote.Status.APPROVED
        obj.approved_by = by
        obj.approved_at = timezone.now()
        obj.save()
        apply_signature(obj, check, reason=comment)
    return obj


def record_customer_answer(
    q: Quote, *, by: Actor, version: Any, accepted: Any, customer_name: str
) -> Quote:
    """The customer's acceptance or refusal of an approved quote, with who answered."""
    require(by, CHANGE_PERM)
    if accepted not in (True, False):
        raise ValidationError({"accepted": _("Did the customer accept the quote?")})
    customer_name = (customer_name or "").strip()
    if not customer_name or "\x00" in customer_name or len(customer_name) > 100:
        raise ValidationError({"customer_name": _("Who answered for the customer?")})
    with transaction.atomic(), audit_context(actor=by):
        obj = Quote.objects.select_for_update().get(pk=q.pk)
        obj.check_version(version)
        to = Quote.Status.ACCEPTED if accepted else Quote.Status.DECLINED
        if obj.status == Quote.Status.AWAITING_APPROVAL:
            raise ValidationError(_("The discount waits for the general manager's approval."))
        obj.check_transition(to)
        obj.status = to
        obj.customer_name = customer_name
        obj.answered_at = timezone.now()
        obj.save()
    return obj


PRICE_PERM = "service.add_pricelistitem"


def add_price_item(*, by: Actor, **fields: Any) -> PriceListItem:
    """A line of the service price list (parts, labour, travel)."""
    require(by, PRICE_PERM)
    unknown = set(fields) - {"code", "name", "kind", "unit", "unit_price", "active"}
    if unknown:
        raise ValidationError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    fields["unit_price"] = _decimal(
        fields.get("unit_price"), "unit_price", low=Decimal(0), high=Decimal("9999999999")
    )
    with transaction.atomic(), audit_context(actor=by):
        item = PriceListItem(**fields)
        item.full_clean()
        item.save()
    return item
