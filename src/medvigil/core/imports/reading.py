"""Reading the uploaded file: CSV (encoding detected) and XLSX/XLS into a table of cells,
and set-based lookups of natural keys in chunks."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connection, models

from ..i18n import gettext_msg as _

log = logging.getLogger(__name__)

ALLOWED_EXTENSIONS = ("csv", "txt", "tsv", "xlsx", "xlsm", "xls")
LOOKUP_CHUNK = 2000  # values per IN (...) query when resolving natural keys


class ImportFileError(Exception):
    """The file as a whole cannot be read (format, encoding, missing columns)."""


# --- reading files ---------------------------------------------------------------------------


def chunked(seq: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


def filter_in(qs: models.QuerySet, field: str, values: Iterable[Any]) -> Iterator[models.QuerySet]:
    """``qs.filter(field__in=values)`` for many values, as one or more querysets: on
    PostgreSQL a single query with one array parameter (``IN (SELECT unnest(%s))``: no
    statement with 50,000 placeholders to build and parse), elsewhere chunks of LOOKUP_CHUNK."""
    from django.db.models.expressions import RawSQL

    vals = sorted(set(values))
    if not vals:
        return
    if connection.vendor == "postgresql":
        target = qs.model._meta.get_field(field.split("__")[0])
        internal = (
            target.target_field.get_internal_type()
            if target.is_relation
            else (target.get_internal_type())
        )
        sql_type = "text[]" if internal in ("CharField", "TextField", "SlugField") else "bigint[]"
        # sql_type is one of two constants; the values are a bound parameter
        sub = RawSQL(f"SELECT unnest(%s::{sql_type})", [vals])  # noqa: S611
        yield qs.filter(**{f"{field}__in": sub})
        return
    for chunk in chunked(vals, LOOKUP_CHUNK):
        yield qs.filter(**{f"{field}__in": chunk})


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (Chinese Excel exports)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportFileError(
            _("The file's text encoding was not recognised; save it as CSV UTF-8 or as XLSX.")
        )


def read_csv(data: bytes) -> list[list[Any]]:
    text = decode_text(data)
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count) if first else ","
    if first and first.count(delimiter) == 0:
        delimiter = ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ImportFileError(_("The CSV file could not be read: %(error)s") % {"error": exc})


def read_xlsx(data: bytes) -> list[list[Any]]:
    """First worksheet, row 1 of the sheet = index 0 (row numbers must match the sheet)."""
    try:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        try:
            return wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
        finally:
            wb.close()
    except Exception as exc:  # fall back to openpyxl (e.g. a file calamine cannot parse)
        log.info("calamine could not read the workbook (%s); trying openpyxl", exc)
    try:
        import openpyxl

        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            ws = wb.worksheets[0]
            return [list(r) for r in ws.iter_rows(min_row=1, values_only=True)]
        finally:
            wb.close()
    except Exception:
        raise ImportFileError(_("The spreadsheet could not be read; save it as XLSX or CSV."))


def read_table(data: bytes, filename: str) -> list[list[Any]]:
    """All rows of the file as lists of cells (strings, numbers, dates; '' or None empty)."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if data[:4] == b"PK\x03\x04" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return read_xlsx(data)
    if ext in {"xlsx", "xlsm", "xls"}:
        raise ImportFileError(_("The spreadsheet could not be read; save it as XLSX or CSV."))
    return read_csv(data)
