"""SVC-7: loaner devices — real units of the catalogue, from our own stock — issued to a
customer (free when a repair overruns the 12 h fix target, seed 003 四 4), tracked at the
customer, returned; overdue loans listed and on "My work"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.permissions import require
from medvigil.core.registry import WorkItem
from medvigil.core.types import Actor
from medvigil.trace.models import Customer, Unit, UnitStatus

from ..models import Loan, ServiceRequest

ISSUE_PERM = "service.add_loan"
RETURN_PERM = "service.change_loan"


def loaner_problem(unit: Unit) -> str:
    """Why `unit` cannot go out as a loaner now ("" when it can): it must be in our stock and
    not already out on loan."""
    if unit.status != UnitStatus.IN_STOCK or unit.holder_id is not None:
        return _("%(unit)s is not in our stock (status: %(status)s).") % {
            "unit": unit,
            "status": unit.get_status_display(),
        }
    if Loan.objects.filter(unit=unit, status=Loan.Status.OUT).exists():
        return _("%(unit)s is already out on loan.") % {"unit": unit}
    return ""


def issue_loan(
    *,
    by: Actor,
    unit: Unit,
    customer: Customer,
    due_back_on: dt.date,
    request: ServiceRequest | None = None,
    free: bool = True,
    notes: str = "",
) -> Loan:
    """Issue `unit` to `customer` until `due_back_on`; for a service request it also records
    the free loaner there (SVC-2 loaner clock)."""
    require(by, ISSUE_PERM)
    if not isinstance(unit, Unit) or not isinstance(customer, Customer):
        raise ValidationError(_("Choose the loaner unit and the customer."))
    if not isinstance(due_back_on, dt.date) or due_back_on < timezone.localdate():
        raise ValidationError({"due_back_on": _("The return date cannot be in the past.")})
    if "\x00" in (notes or ""):
        raise ValidationError({"notes": _("The text contains a NUL character.")})
    with transaction.atomic(), audit_context(actor=by):
        locked = Unit.objects.select_for_update().get(pk=unit.pk)
        problem = loaner_problem(locked)
        if problem:
            raise ValidationError({"unit": problem})
        now = timezone.now()
        loan = Loan(
            unit=locked,
            customer=customer,
            request=request,
            issued_at=now,
            due_back_on=due_back_on,
            free=free,
            notes=notes or "",
        )
        loan.assign_number()
        loan.full_clean()
        loan.save()
        if request is not None:
            sr = ServiceRequest.objects.select_for_update().get(pk=request.pk)
            if sr.loaner_provided_at is None:
                sr.loaner_provided_at = now
                sr.loaner_note = f"{loan.number} {locked.serial}"[:200]
                sr.save()
    return loan


def return_loan(loan: Loan, *, by: Actor, version: Any, notes: str = "") -> Loan:
    require(by, RETURN_PERM)
    with transaction.atomic(), audit_context(actor=by):
        obj = Loan.objects.select_for_update().get(pk=loan.pk)
        obj.check_version(version)
        obj.check_transition(Loan.Status.RETURNED)
        obj.status = Loan.Status.RETURNED
        obj.returned_at = timezone.now()
        if notes:
            obj.notes = (obj.notes + "\n" + notes).strip()
        obj.save()
    return obj


def overdue_loans() -> Any:
    return Loan.objects.filter(status=Loan.Status.OUT, due_back_on__lt=timezone.localdate())


def my_work(user: Any) -> list[WorkItem]:
    if not user.has_perm(RETURN_PERM):
        return []
    return [
        WorkItem(
            title=_("Loaner %(unit)s overdue at %(customer)s since %(date)s")
            % {"unit": loan.unit, "customer": loan.customer, "date": loan.due_back_on.isoformat()},
            url=loan.get_absolute_url(),
            kind=_("loaner"),
            detail=_("Get the loaner back"),
        )
        for loan in overdue_loans().select_related("unit__product", "customer")[:50]
    ]
