"""Master data: products (TRC-1), customers and their licences (TRC-2), and the licence
check of a sale."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from medvigil.core.i18n import gettext_msg as _
from medvigil.core.models import ANY_VERSION
from medvigil.core.types import Actor

from ..models import (
    Customer,
    CustomerKind,
    Licence,
    Product,
)
from ..rules import licence_rule
from .common import _acting, _build, _d, _update
from .contacts import check_contact_write

if TYPE_CHECKING:
    pass


# Products (TRC-1)


def build_product(**fields: Any) -> Product:
    """A validated, unsaved product (GTIN normalised to 14 digits, check digit verified)."""
    return _build(Product, fields)


def create_product(*, by: Actor = None, **fields: Any) -> Product:
    with transaction.atomic(), _acting(by):
        product = build_product(**fields)
        product.save()
        return product


def update_product(
    product: Product, *, by: Actor = None, version: Any = None, reason: str | None = None, **fields
) -> Product:
    return _update(product, fields, by=by, version=version, reason=reason)


# Customers and licences (TRC-2)


def build_customer(**fields: Any) -> Customer:
    return _build(Customer, fields)


def create_customer(*, by: Actor = None, **fields: Any) -> Customer:
    """Record a customer; contact fields only by a user allowed to (check_contact_write)."""
    check_contact_write(by, Customer, fields)
    with transaction.atomic(), _acting(by):
        customer = build_customer(**fields)
        customer.save()
        return customer


def update_customer(
    customer: Customer,
    *,
    by: Actor = None,
    version: Any = None,
    reason: str | None = None,
    **fields: Any,
) -> Customer:
    check_contact_write(by, Customer, fields, instance=customer)
    return _update(customer, fields, by=by, version=version, reason=reason)


def build_licence(**fields: Any) -> Licence:
    licence = _build(Licence, fields)
    if licence.issued_on and licence.expires_on and licence.expires_on < licence.issued_on:
        raise ValidationError({"expires_on": _("The licence expires before it was issued.")})
    return licence


def add_licence(*, by: Actor = None, **fields: Any) -> Licence:
    with transaction.atomic(), _acting(by):
        licence = build_licence(**fields)
        licence.save()
        return licence


def update_licence(
    licence: Licence, *, by: Actor = None, version: Any = None, reason: str | None = None, **fields
) -> Licence:
    return _update(licence, fields, by=by, version=version, reason=reason)


def withdraw_licence(licence: Licence, *, by: Actor = None, reason: str) -> Licence:
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for withdrawing the licence.")})
    return _update(
        licence,
        {"withdrawn": True, "withdrawn_reason": reason},
        by=by,
        version=ANY_VERSION,  # a withdrawal changes no field the user edited
        reason=reason,
    )


# --- licence check (TRC-2) -------------------------------------------------------------------


def licence_problems(customer: Customer, product: Product, on: dt.date) -> list[str]:
    """Why `customer` may not buy `product` on `on` (empty list: allowed). Each message names
    the licence that is missing, expired or withdrawn."""
    if not customer.active:
        return [_("%(customer)s is inactive.") % {"customer": customer.name}]
    if customer.kind == CustomerKind.INDIVIDUAL:
        if product.sale_to_individuals:
            return []
        return [
            _(
                "%(product)s may not be sold to an individual (%(customer)s): the product does "
                "not allow sales to private persons."
            )
            % {"product": product, "customer": customer.name}
        ]
    rule = licence_rule(customer.kind, product.risk_class)
    if rule is None:
        return [_("No licence rule for customer type %(kind)s.") % {"kind": customer.kind}]
    licences = list(customer.licences.all())  # uses prefetch_related("licences") if done
    problems = []
    for alternatives in rule.requirements:
        of_kind = [lic for lic in licences if lic.kind in alternatives]
        if any(lic.valid_on(on) for lic in of_kind):
            continue
        names = _(" or ").join(str(Licence(kind=k).get_kind_display()) for k in alternatives)
        params = {
            "customer": customer.name,
            "licence": names,
            "class": product.get_risk_class_display(),
            "date": _d(on),
        }
        if not of_kind:
            problems.append(
                _(
                    "%(customer)s has no %(licence)s on file; it is required to buy "
                    "%(class)s devices."
                )
                % params
            )
            continue
        latest = max(of_kind, key=lambda lic: lic.expires_on or dt.date.max)
        if latest.withdrawn:
            params["number"] = latest.number
            problems.append(
                _("The %(licence)s No. %(number)s of %(customer)s was withdrawn.") % params
            )
        elif latest.issued_on and latest.issued_on > on:
            params.update(number=latest.number, issued=_d(latest.issued_on))
            problems.append(
                _(
                    "The %(licence)s No. %(number)s of %(customer)s is valid only from "
                    "%(issued)s; the sale date is %(date)s."
                )
                % params
            )
        else:
            params.update(number=latest.number, expired=_d(latest.expires_on))
            problems.append(
                _(
                    "The %(licence)s No. %(number)s of %(customer)s expired on %(expired)s "
                    "(sale date %(date)s)."
                )
                % params
            )
    return problems


def check_customer_may_buy(customer: Customer, product: Product, on: dt.date) -> None:
    problems = licence_problems(customer, product, on)
    if problems:
        raise ValidationError(
            {"buyer": [_("Sale refused: %(why)s") % {"why": p} for p in problems]}
        )
