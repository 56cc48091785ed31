"""FBK-3/FBK-8: severity, routing to the owning department, customer problem notices."""

from __future__ import annotations

from typing import Any

from ..models import Feedback, ProblemNotice
from ._skeleton import todo


def propose_severity(feedback: Feedback) -> tuple[str, list[str]]:
    """The severity the rules (rules.SEVERITY_RULES) propose and the rules that fired."""
    raise todo("propose_severity")


def set_severity(
    feedback: Feedback, *, by: Any, version: Any, severity: str, reason: str = ""
) -> Feedback:
    """Override the proposed severity with a reason (audited)."""
    raise todo("set_severity")


def route_feedback(
    feedback: Feedback, *, by: Any, version: Any, department: Any = None
) -> Feedback:
    """Route a complaint to its owning department (category → CategoryRoute) and send the
    problem notices; sets routed_at."""
    raise todo("route_feedback")


def send_problem_notices(
    feedback: Feedback, *, by: Any, departments: Any = None
) -> list[ProblemNotice]:
    """A customer problem notice to each responsible department (FBK-8)."""
    raise todo("send_problem_notices")


def acknowledge_notice(notice: ProblemNotice, *, by: Any, version: Any) -> ProblemNotice:
    """The department acknowledges the notice (from "My work")."""
    raise todo("acknowledge_notice")


def answer_notice(notice: ProblemNotice, *, by: Any, version: Any, response: str) -> ProblemNotice:
    """The department's answer to the notice."""
    raise todo("answer_notice")
