"""Small helpers the stage services (evaluation, investigation, resolution) share: lock the
feedback, check a version, refuse a field that a stage does not take."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from ..models import Feedback


def lock_feedback(pk: int) -> Feedback:
    """The feedback row locked for the rest of the transaction."""
    return Feedback.objects.select_for_update(of=("self",)).get(pk=pk)


def lock(model: type[models.Model], pk: int) -> Any:
    return model._default_manager.select_for_update(of=("self",)).get(pk=pk)


def only_fields(fields: dict[str, Any], allowed: tuple[str, ...] | set[str]) -> None:
    """Refuse a field this step does not edit (a programming error or a crafted request)."""
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationError(_("Unknown field: %(f)s") % {"f": ", ".join(unknown)})


def require_status(feedback: Feedback, *statuses: str) -> None:
    if feedback.status not in statuses:
        raise ValidationError(
            _("Not possible while the complaint is %(s)s.") % {"s": feedback.get_status_display()}
        )
