"""The installed base (TRC-5): the installation checks, building and saving installations,
installing a unit and accepting an installation."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from medvigil.core.i18n import gettext_msg as _
from medvigil.core.types import Actor

from ..models import (
    Customer,
    Installation,
    Product,
    Unit,
    UnitStatus,
    add_months,
)
from .common import _acting
from .contacts import check_contact_write

if TYPE_CHECKING:
    pass


# --- installed base (TRC-5) ------------------------------------------------------------------


def warranty_end_for(product: Product, accepted_on: dt.date) -> dt.date:
    return add_months(accepted_on, product.warranty_months)


INSTALLABLE = (UnitStatus.SOLD, UnitStatus.SOLD_ON, UnitStatus.INSTALLED)


def check_installation(
    unit: Unit,
    customer: Customer,
    installed_on: dt.date | None,
    accepted_on: dt.date | None = None,
) -> dict[str, list[str]]:
    """The installation checks (TRC-5): a sold unit, held by the end user it is installed
    at, an installation date not in the future, acceptance not before installation.
    Errors by field (unit, customer, installed_on, accepted_on); empty: allowed."""
    errors: dict[str, list[str]] = defaultdict(list)
    if unit.status not in INSTALLABLE:
        errors["unit"].append(
            _("Unit %(serial)s is %(status)s; only a sold unit can be installed.")
            % {"serial": unit.serial, "status": unit.get_status_display()}
        )
    elif unit.holder_id != customer.pk:
        errors["customer"].append(
            _(
                "Unit %(serial)s is held by %(holder)s, not by %(customer)s; record the "
                "sale to %(customer)s first."
            )
            % {
                "serial": unit.serial,
                "holder": unit.holder.name if unit.holder else _("us"),
                "customer": customer.name,
            }
        )
    if installed_on is None:
        errors["installed_on"].append(_("The installation date is required."))
    elif installed_on > timezone.localdate() + dt.timedelta(days=1):
        errors["installed_on"].append(_("The installation date is in the future."))
    if accepted_on is not None and installed_on is not None and accepted_on < installed_on:
        errors["accepted_on"].append(_("Acceptance cannot be before installation."))
    return dict(errors)


def build_installation(
    unit: Unit,
    *,
    customer: Customer,
    installed_on: dt.date,
    by: Actor = None,
    installed_by: Any = None,
    department: str = "",
    address: str = "",
    contact_person: str = "",
    contact_phone: str = "",
    accepted_on: dt.date | None = None,
    notes: str = "",
) -> Installation:
    """A validated, unsaved installation (no query): the contact-data guard for `by`,
    check_installation, the address defaulting to the customer's, the warranty from the
    acceptance date. Raises ContactDataRefused or ValidationError."""
    check_contact_write(
        by,
        Installation,
        {"address": address, "contact_person": contact_person, "contact_phone": contact_phone},
    )
    errors = check_installation(unit, customer, installed_on, accepted_on)
    if errors:
        raise ValidationError(errors)
    inst = Installation(
        unit=unit,
        customer=customer,
        department=department or "",
        address=address or customer.address,
        contact_person=contact_person or "",
        contact_phone=contact_phone or "",
        installed_on=installed_on,
        installed_by=installed_by if installed_by is not None else by,
        accepted_on=accepted_on,
        warranty_end=warranty_end_for(unit.product, accepted_on) if accepted_on else None,
        notes=notes or "",
    )
    # foreign keys are records already loaded
    inst.full_clean(
        exclude=["unit", "customer", "installed_by"],
        validate_unique=False,
        validate_constraints=False,
    )
    return inst


def save_installations(insts: Sequence[Installation], *, by: Actor = None) -> list[Installation]:
    """Save installations built with build_installation, any number at once (install_unit,
    the import): each unit leaves its previous location and becomes installed."""
    from medvigil.core.imports import chunked

    with transaction.atomic(), _acting(by):
        unit_ids = sorted({i.unit_id for i in insts})
        for chunk in chunked(unit_ids, 2000):
            Installation.objects.filter(unit_id__in=chunk, current=True).update(current=False)
        created: list[Installation] = []
        for part in chunked(list(insts), 2000):
            created += Installation.objects.bulk_create(part)
        moving = {i.unit_id: i.unit for i in insts if i.unit.status != UnitStatus.INSTALLED}
        for i in insts:
            i.unit.status = UnitStatus.INSTALLED
        units = [moving[pk] for pk in sorted(moving)]
        for chunk in chunked(units, 2000):
            Unit.objects.bulk_update(chunk, ["status"])
        return created


def install_unit(unit: Unit, *, by: Actor = None, **fields: Any) -> Installation:
    """Record where a sold unit is installed (moving it if it was installed elsewhere);
    with accepted_on, acceptance starts the warranty. `fields`: those of
    build_installation (customer, installed_on, department, address, contact_person,
    contact_phone, accepted_on, installed_by, notes)."""
    with transaction.atomic(), _acting(by):
        unit = (
            Unit.objects.select_for_update(of=("self",))
            .select_related("product", "holder")
            .get(pk=unit.pk)
        )
        [inst] = save_installations([build_installation(unit, by=by, **fields)], by=by)
        return inst


def accept_installation(
    inst: Installation, *, accepted_on: dt.date, by: Actor = None, version: Any = None
) -> Installation:
    """Acceptance (验收) starts the warranty: warranty_end = accepted + product warranty."""
    with transaction.atomic(), _acting(by):
        inst = (
            Installation.objects.select_for_update(of=("self",))
            .select_related("unit__product")
            .get(pk=inst.pk)
        )
        inst.check_version(version)
        if accepted_on is None:
            raise ValidationError({"accepted_on": _("The acceptance date is required.")})
        if accepted_on < inst.installed_on:
            raise ValidationError({"accepted_on": _("Acceptance cannot be before installation.")})
        if accepted_on > timezone.localdate() + dt.timedelta(days=1):
            raise ValidationError({"accepted_on": _("The acceptance date is in the future.")})
        if not inst.current:
            raise ValidationError(_("The unit has left this installation."))
        inst.accepted_on = accepted_on
        inst.warranty_end = warranty_end_for(inst.unit.product, accepted_on)
        inst.save()
        return inst
