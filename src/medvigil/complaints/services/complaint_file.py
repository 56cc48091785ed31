"""FBK-9: the complaint file (ISO 13485 8.2.2, 21 CFR 820.35(a)) on one screen and as a PDF."""

from __future__ import annotations

from typing import Any

from ..models import Feedback
from ._skeleton import todo


def complaint_file(feedback: Feedback, *, user: Any) -> dict[str, Any]:
    """Everything FBK-9 lists, masked for the user (PLAT-11): device name, date received, UDI or
    other identification, complainant name/address/phone, nature and details, correction or
    corrective action, replies, review/evaluation/investigation records (dates, results, who),
    justification when not investigated, history and signatures."""
    raise todo("complaint_file")


def complaint_file_pdf(feedback: Feedback, *, user: Any, language: str) -> bytes:
    """The complaint file as one PDF through core.documents."""
    raise todo("complaint_file_pdf")
