"""FBK-8: the 8D report. Model: EightDReport."""

from __future__ import annotations

from typing import Any

from ..models import EightDReport, Feedback
from ._skeleton import todo


def draft_eight_d(feedback: Feedback, *, by: Any, language: str) -> EightDReport:
    """A new draft with D1 … D8 prefilled from the record (team from the people involved, D2 from
    the description, D4 from the investigation, D5/D6 from the resolution, …) in `language`."""
    raise todo("draft_eight_d")


def update_eight_d(report: EightDReport, *, by: Any, version: Any, **fields: Any) -> EightDReport:
    """Edit the D fields of a draft (refused once issued: EightDReport.can_edit)."""
    raise todo("update_eight_d")


def issue_eight_d(report: EightDReport, *, by: Any, password: str) -> EightDReport:
    """Issue: render the PDF through core.documents in the report's language, attach it
    (`document`), sign it and freeze the report (guard EightDReport.can_issue)."""
    raise todo("issue_eight_d")
