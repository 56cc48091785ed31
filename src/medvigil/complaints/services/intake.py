"""FBK-1/FBK-2: intake. `register_feedback` is the one way in: the intake form, the API, the
public form and the mailbox all call it."""

from __future__ import annotations

from typing import Any

from ..models import Feedback
from ._skeleton import todo


def find_device(text: str, *, user: Any) -> dict[str, Any]:
    """A scanned UDI, a serial or a lot number → the unit/lot/product and what the unit's sale
    and installation say (customer, end user, dealer, warranty), through trace's services."""
    raise todo("find_device")


def register_feedback(*, by: Any, source: str = "", files: Any = (), **data: Any) -> Feedback:
    """Register feedback from any channel (FBK-1)."""
    raise todo("register_feedback")


def update_feedback(feedback: Feedback, *, by: Any, version: Any, **data: Any) -> Feedback:
    """Edit the intake fields of an open record."""
    raise todo("update_feedback")


def answer_and_close(feedback: Feedback, *, by: Any, version: Any, answer: str) -> Feedback:
    """FBK-2: inquiries, suggestions and praise answered and closed in one step."""
    raise todo("answer_and_close")


def void_feedback(feedback: Feedback, *, by: Any, version: Any, reason: str) -> Feedback:
    """Void a record registered by mistake (a duplicate, spam), with a reason."""
    raise todo("void_feedback")
