"""FBK-6: the investigation of a complaint. Models: Investigation."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.permissions import require, scope_for_user

from ..models import Feedback, Investigation
from ._stage import lock, lock_feedback, only_fields, require_status

EDITABLE = (
    "method",
    "factor",
    "analysis",
    "root_cause",
    "responsibility",
    "correction",
    "return_record",
    "returned_received_at",
    "test_results",
    "test_conclusion",
)
RELATED_LIMIT = 20


def start_investigation(feedback: Feedback, *, by: Any, version: Any) -> Investigation:
    """Move the complaint to "in investigation" (guard Feedback.can_start_investigation) and
    create its Investigation with investigator=by, started_at=now."""
    require(by, "complaints.add_investigation")
    with transaction.atomic(), audit_context(actor=by, reason=_("Investigation started")):
        fb = lock_feedback(feedback.pk)
        fb.check_version(version)
        if not fb.can_start_investigation():
            raise ValidationError(
                _(
                    "The investigation starts after quality's evaluation is completed (and "
                    "approved where it must be) and decided that the complaint is investigated."
                )
            )
        fb.status = Feedback.Status.INVESTIGATION
        fb.save()
        return Investigation.objects.create(feedback=fb, investigator=by, started_at=timezone.now())


def update_investigation(
    investigation: Investigation, *, by: Any, version: Any, **fields: Any
) -> Investigation:
    """Edit method, factor, analysis, root cause, responsibility, correction, return record,
    returned-product dates and test results (attachments through core.attachments)."""
    require(by, "complaints.change_investigation")
    only_fields(fields, EDITABLE)
    with transaction.atomic(), audit_context(actor=by, reason=_("Investigation updated")):
        inv = lock(Investigation, investigation.pk)
        inv.check_version(version)
        fb = lock_feedback(inv.feedback_id)
        require_status(fb, Feedback.Status.INVESTIGATION)
        if inv.completed_at is not None:
            raise ValidationError(_("The investigation is completed; it cannot be changed."))
        ret = fields.get("return_record")
        if ret is not None and not scope_for_user(by, type(ret)).filter(pk=ret.pk).exists():
            raise ValidationError({"return_record": _("Choose a product return you may see.")})
        for name, value in fields.items():
            setattr(inv, name, value)
        inv.full_clean(exclude=["feedback"])
        inv.save()
        return inv


def completion_errors(inv: Investigation) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not inv.method:
        errors["method"] = [_("Choose the root-cause method.")]
    if not inv.root_cause.strip():
        errors["root_cause"] = [_("Write the root cause.")]
    if not inv.responsibility:
        errors["responsibility"] = [_("Say who is responsible.")]
    return errors


def complete_investigation(investigation: Investigation, *, by: Any, version: Any) -> Investigation:
    """Set completed_at (guard Investigation.is_complete) and move the complaint to resolution."""
    require(by, "complaints.change_investigation")
    with transaction.atomic(), audit_context(actor=by, reason=_("Investigation completed")):
        inv = lock(Investigation, investigation.pk)
        inv.check_version(version)
        fb = lock_feedback(inv.feedback_id)
        require_status(fb, Feedback.Status.INVESTIGATION)
        if inv.completed_at is not None:
            raise ValidationError(_("The investigation is already completed."))
        errors = completion_errors(inv)
        if errors:
            raise ValidationError(errors)
        inv.completed_at = timezone.now()
        inv.save()
        fb.check_transition(Feedback.Status.RESOLUTION)
        fb.status = Feedback.Status.RESOLUTION
        fb.save()
        return inv


def related_feedback(feedback: Feedback, *, user: Any) -> dict[str, models.QuerySet]:
    """Other feedback on the same lot, the same product and the same category, as the user may
    see them: {"lot": qs, "product": qs, "category": qs}."""
    base = scope_for_user(user, Feedback).exclude(pk=feedback.pk).order_by("-received_at", "-id")
    none = base.none()
    lot_id = feedback.lot_id or (feedback.unit.lot_id if feedback.unit_id else None)
    product_id = feedback.product_id or (feedback.unit.product_id if feedback.unit_id else None)
    return {
        "lot": base.filter(models.Q(lot_id=lot_id) | models.Q(unit__lot_id=lot_id))
        if lot_id
        else none,
        "product": base.filter(
            models.Q(product_id=product_id) | models.Q(unit__product_id=product_id)
        )
        if product_id
        else none,
        "category": base.filter(category=feedback.category) if feedback.category else none,
    }


def unit_history_links(feedback: Feedback, *, user: Any) -> list[tuple[str, str]]:
    """One-click links (label, url) to the unit's and lot's production record, sales chain,
    installation and service history in trace (and service, when installed)."""
    from medvigil.trace.models import Lot, Unit

    links: list[tuple[str, str]] = []
    unit = (
        scope_for_user(user, Unit).filter(pk=feedback.unit_id).first() if feedback.unit_id else None
    )
    lot_id = feedback.lot_id or (unit.lot_id if unit else None)
    lot = scope_for_user(user, Lot).filter(pk=lot_id).first() if lot_id else None
    if unit is not None:
        url = reverse("trace:unit_detail", args=[unit.pk])
        links += [
            (_("Unit %(s)s: production record") % {"s": unit.serial}, url),
            (_("Unit %(s)s: sales chain") % {"s": unit.serial}, url + "#sales-chain"),
            (_("Unit %(s)s: installation") % {"s": unit.serial}, url + "#installation"),
            (_("Unit %(s)s: service history") % {"s": unit.serial}, url + "#timeline"),
        ]
    if lot is not None:
        links += [
            (
                _("Lot %(n)s: production record") % {"n": lot.lot_number},
                reverse("trace:lot_detail", args=[lot.pk]),
            ),
            (
                _("Lot %(n)s: where it went (forward trace)") % {"n": lot.lot_number},
                reverse("trace:trace_forward") + "?" + urlencode({"lots": lot.lot_number}),
            ),
        ]
    return links
