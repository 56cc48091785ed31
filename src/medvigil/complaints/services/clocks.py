"""FBK-4: the complaint clocks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..models import ClockPause, Feedback
from ._skeleton import todo


def clocks_for(feedback: Feedback, *, now: dt.datetime | None = None) -> list[Any]:
    """Every FBK-4 clock of the record: target, due, met/open/breached, paused time."""
    raise todo("clocks_for")


def pause_clock(feedback: Feedback, *, by: Any, reason: str) -> ClockPause:
    """Pause while waiting for the customer, with a reason (audited)."""
    raise todo("pause_clock")


def resume_clock(feedback: Feedback, *, by: Any) -> ClockPause:
    """End the open pause."""
    raise todo("resume_clock")


def alert_on_call(feedback: Feedback) -> int:
    """Serious complaint: the immediate alert to the managers on call."""
    raise todo("alert_on_call")
