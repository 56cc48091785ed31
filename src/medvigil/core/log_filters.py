"""Logging filters (wired in settings.LOGGING)."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied


class PermissionDeniedWithoutTraceback(logging.Filter):
    """A refused request (403) is an expected answer, not a fault: Django logs it with the
    PermissionDenied traceback attached; keep the one line ("Forbidden (Permission denied):
    /path", WARNING like every other 4xx) and drop the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, PermissionDenied):
            record.exc_info = None
            record.exc_text = None
        return True
