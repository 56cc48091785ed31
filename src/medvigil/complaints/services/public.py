"""FBK-1: the public feedback form (/public/feedback/) and its status page."""

from __future__ import annotations

from typing import Any

from ..models import Feedback
from ._skeleton import todo


def submit_public_feedback(*, data: dict[str, Any], files: list[Any], address: str) -> Feedback:
    """Rate-limit per address, honeypot and time check, then intake.register_feedback with
    channel=web and a fresh `public_code` (the tracking code given to the customer)."""
    raise todo("submit_public_feedback")


def public_status(code: str) -> dict[str, Any]:
    """What the customer may see of the record with this tracking code (no contact or patient
    data, no internal notes)."""
    raise todo("public_status")
