"""Traceability drills (TRC-8): start, run and complete a drill."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from medvigil.core.i18n import gettext_msg as _
from medvigil.core.types import Actor, UserLike

from ..models import (
    DrillStatus,
    Lot,
    TraceDrill,
)
from .common import _acting

if TYPE_CHECKING:
    pass


# --- traceability drill (TRC-8) --------------------------------------------------------------


def start_drill(lot: Lot, *, by: Actor, target_percent: Decimal | int = 100) -> TraceDrill:
    """Create a drill for `lot` and run its forward trace at once."""
    with transaction.atomic(), _acting(by):
        drill = TraceDrill(
            number=TraceDrill.next_number(),
            lot=lot,
            target_percent=Decimal(target_percent),
            performed_by=by,
        )
        drill.save()
        return run_drill(drill, by=by)


def run_drill(drill: TraceDrill, *, by: Actor = None) -> TraceDrill:
    """(Re-)run the forward trace of the drill's lot and keep the result."""
    import time

    from ..queries import drill_summary, forward_trace

    with transaction.atomic(), _acting(by):
        drill = (
            TraceDrill.objects.select_for_update(of=("self",))
            .select_related("lot")
            .get(pk=drill.pk)
        )
        if drill.status != DrillStatus.OPEN:
            raise ValidationError(_("The drill is completed; start a new one."))
        started = time.perf_counter()
        trace = forward_trace(lots=[drill.lot])
        summary = drill_summary(trace)
        drill.duration_ms = int((time.perf_counter() - started) * 1000)
        drill.run_at = timezone.now()
        drill.total_units = summary["total"]
        drill.located_units = summary["located"]
        drill.percent_located = summary["percent"]
        drill.result = summary["result"]
        drill.save()
        return drill


def complete_drill(
    drill: TraceDrill,
    *,
    by: UserLike,
    conclusion: str,
    password: str | None = None,
    request: Any = None,
) -> TraceDrill:
    """Close the drill with a conclusion, signed (meaning "closed") by the user."""
    from medvigil.core.models import Signature
    from medvigil.core.signatures.services import apply_signature, check_signer

    if not (conclusion or "").strip():
        raise ValidationError({"conclusion": _("Write the conclusion of the drill.")})
    if drill.status != DrillStatus.OPEN:
        raise ValidationError(_("The drill is already completed."))
    if drill.run_at is None:
        raise ValidationError(_("Run the trace before completing the drill."))
    # Phase 1 of the signature (password check) runs outside our transaction, so that a
    # refused attempt stays in the audit trail (see core.signatures).
    check = check_signer(
        drill, user=by, password=password or "", request=request, meaning=Signature.Meaning.CLOSED
    )
    with transaction.atomic(), _acting(by):
        drill = TraceDrill.objects.select_for_update(of=("self",)).get(pk=drill.pk)
        if drill.status != DrillStatus.OPEN:
            raise ValidationError(_("The drill is already completed."))
        drill.status = DrillStatus.COMPLETED
        drill.conclusion = conclusion
        drill.completed_at = timezone.now()
        drill.save()
        apply_signature(drill, check, reason=conclusion)
        return drill
