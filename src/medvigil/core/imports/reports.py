"""What a batch keeps of its outcome: its message, the error preview and the full error
report (stored as JSON lines, read as CSV in the reader's language), and the template CSV
of a kind."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone, translation

from ..i18n import gettext_msg as _
from ..i18n import to_data
from .models import ImportBatch
from .spec import Importer, RowError, error_message

PREVIEW_ERRORS = 200  # errors kept on the batch for display; the report has all of them


ERROR_REPORT_SUFFIX = "-errors.jsonl"  # stored form; read as CSV in the reader's language


def error_report_data(errors: Sequence[RowError]) -> bytes:
    """The stored error report: one JSON object per error (RowError.as_dict), so that the
    CSV can be written in the language of whoever downloads it."""
    return b"".join(
        json.dumps(e.as_dict(), ensure_ascii=False).encode("utf-8") + b"\n" for e in errors
    )


def error_report_csv(stored: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """The error report as CSV in the active language: UTF-8 with BOM so that Excel shows
    Chinese text correctly. ``stored``: error dicts as RowError.as_dict makes them. The
    language is the one active now, also when the chunks are read later (streaming)."""
    return _error_report_chunks(stored, translation.get_language())


def _error_report_chunks(stored: Iterable[Mapping[str, Any]], language: str) -> Iterator[bytes]:
    with translation.override(language):
        yield from _error_report_rows(stored)


def _error_report_rows(stored: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    buf = io.StringIO()
    w = csv.writer(buf)
    buf.write("\ufeff")
    w.writerow([_("row"), _("column"), _("value"), _("message")])
    for e in stored:
        row = e.get("row")
        w.writerow(
            [
                row if row is not None else "",
                e.get("column", ""),
                e.get("value", ""),
                error_message(e),
            ]
        )
        if buf.tell() > 64 * 1024:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def template_csv(importer: type[Importer], language: str | None = None) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerow(importer.template_headers(language))
    return "\ufeff".encode() + buf.getvalue().encode("utf-8")


def set_message(batch: ImportBatch, message: Any) -> None:
    """The batch's note: as text, and as a message to translate for each reader."""
    batch.message = str(message or "")
    data = to_data(message) if message else None
    batch.message_data = data if isinstance(data, dict) else None


def _fail(batch: ImportBatch, errors: Sequence[RowError], message: Any = "") -> None:
    batch.status = ImportBatch.Status.FAILED
    batch.error_count = len(errors)
    set_message(batch, message)
    batch.errors_preview = [e.as_dict() for e in errors[:PREVIEW_ERRORS]]
    batch.finished_at = timezone.now()
    if errors:
        batch.error_report.save(
            f"{batch.number}{ERROR_REPORT_SUFFIX}",
            ContentFile(error_report_data(errors)),
            save=False,
        )
    batch.save()


def stored_errors(batch: ImportBatch) -> Iterator[dict[str, Any]]:
    """Every error of a batch, from its stored report (JSON lines)."""
    with batch.error_report.open("rb") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
