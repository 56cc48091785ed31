"""FBK-6: the investigation of a complaint. Models: Investigation."""

from __future__ import annotations

from typing import Any

from django.db import models

from ..models import Feedback, Investigation
from ._skeleton import todo


def start_investigation(feedback: Feedback, *, by: Any, version: Any) -> Investigation:
    """Move the complaint to "in investigation" (guard Feedback.can_start_investigation) and
    create its Investigation with investigator=by, started_at=now."""
    raise todo("start_investigation")


def update_investigation(
    investigation: Investigation, *, by: Any, version: Any, **fields: Any
) -> Investigation:
    """Edit method, factor, analysis, root cause, responsibility, correction, return record,
    returned-product dates and test results (attachments through core.attachments)."""
    raise todo("update_investigation")


def complete_investigation(investigation: Investigation, *, by: Any, version: Any) -> Investigation:
    """Set completed_at (guard Investigation.is_complete) and move the complaint to resolution."""
    raise todo("complete_investigation")


def related_feedback(feedback: Feedback, *, user: Any) -> dict[str, models.QuerySet]:
    """Other feedback on the same lot, the same product and the same category, as the user may
    see them: {"lot": qs, "product": qs, "category": qs}."""
    raise todo("related_feedback")


def unit_history_links(feedback: Feedback, *, user: Any) -> list[tuple[str, str]]:
    """One-click links (label, url) to the unit's and lot's production record, sales chain,
    installation and service history in trace (and service, when installed)."""
    raise todo("unit_history_links")
