"""Validating a table: the header row is found and mapped, every cell converted and checked,
natural-key lookups resolved once per batch, and the importer's own row checks run; every
error is collected with its spreadsheet row number."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import translation

from ..i18n import gettext_msg as _
from ..i18n import validation_messages
from .memory import paused_gc
from .reading import ImportFileError
from .spec import AMBIGUOUS, Column, Importer, Row, RowError, max_rows, norm_header

# --- cell conversion -------------------------------------------------------------------------

PROGRESS_SECONDS = 0.5

_TRUE = {"1", "true", "yes", "y", "t", "是", "有", "√", "✓", "对", "x"}
_FALSE = {"0", "false", "no", "n", "f", "否", "无", "×", "✗", "不", "不是", ""}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def cell_text(value: Any) -> str:
    """The text a user sees in the cell (numbers without a spurious .0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def to_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # an Excel serial date number
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise ValueError
    text = str(value).strip()
    if len(text) == 10 and text[4] == "-":
        try:
            return dt.date.fromisoformat(text)  # the common YYYY-MM-DD, in C
        except ValueError:
            pass
    if " " in text or "T" in text:  # a date-time written as text: keep the date
        text = re.split(r"[ T]", text, maxsplit=1)[0]
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    if text.isdigit() and len(text) == 5:  # an Excel serial number exported as text
        return _EXCEL_EPOCH + dt.timedelta(days=int(text))
    raise ValueError


def to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ValueError
    text = str(value).strip().replace(",", "")
    if re.fullmatch(r"[+-]?\d+(\.0+)?", text):
        return int(text.split(".")[0])
    raise ValueError


def to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, float):
        value = repr(value)
    try:
        d = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError
    if not d.is_finite():
        raise ValueError
    return d


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = cell_text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError


class Converter:
    """Converts the cells of one column; built once per batch (choice maps are cached)."""

    def __init__(self, column: Column) -> None:
        self.column = column
        self.choice_map: dict[str, str] = {}
        if column.type == "choice":
            for value, label in column.choices:
                self.choice_map[str(value).lower()] = value
                for lang in ("en", "zh-hans"):
                    with translation.override(lang):
                        self.choice_map[str(label).strip().lower()] = value
            for alias, value in column.choice_aliases.items():
                self.choice_map[alias.strip().lower()] = value

        # Dates repeat a lot in a file (one production date per lot): parse each text once.
        self.cache: dict[str, Any] = {}

    def __call__(self, value: Any) -> Any:
        """The converted value; raises ValueError with a user message."""
        if self.column.type == "date" and value.__class__ is str:
            hit = self.cache.get(value)
            if hit is None:
                hit = self.cache[value] = self._convert(value)
            return hit
        return self._convert(value)

    def _convert(self, value: Any) -> Any:
        col = self.column
        t = col.type
        if t in ("str", "lookup"):
            text = cell_text(value)
            if col.max_length and len(text) > col.max_length:
                raise ValueError(
                    _("At most %(n)d characters (this has %(m)d).")
                    % {"n": col.max_length, "m": len(text)}
                )
            return text
        try:
            if t == "int":
                n = to_int(value)
                if col.min_value is not None and n < col.min_value:
                    raise ValueError(
                        _("Must be at least %(n)d.") % {"n": col.min_value},
                    )
                return n
            if t == "date":
                return to_date(value)
            if t == "decimal":
                d = to_decimal(value)
                if col.decimal_places is not None:
                    exp = d.as_tuple().exponent
                    if isinstance(exp, int) and -exp > col.decimal_places:
                        raise ValueError(
                            _("At most %(n)d decimal places.") % {"n": col.decimal_places}
                        )
                if col.max_digits is not None and col.decimal_places is not None:
                    limit = Decimal(10) ** (col.max_digits - col.decimal_places)
                    if abs(d) >= limit:
                        raise ValueError(_("The number is too large."))
                return d
            if t == "bool":
                return to_bool(value)
            if t == "choice":
                key = cell_text(value).lower()
                if key in self.choice_map:
                    return self.choice_map[key]
                raise ValueError(
                    _("Not one of the allowed values: %(values)s.")
                    % {"values": ", ".join(str(v) for v, _label in col.choices)}
                )
        except ValueError as exc:
            if exc.args and isinstance(exc.args[0], str) and exc.args[0]:
                raise
        raise ValueError(TYPE_MESSAGES[t]())


TYPE_MESSAGES: dict[str, Callable[[], str]] = {
    "int": lambda: _("Enter a whole number."),
    "date": lambda: _("Enter a date as YYYY-MM-DD."),
    "decimal": lambda: _("Enter a number."),
    "bool": lambda: _("Enter yes or no (是/否)."),
    "choice": lambda: _("Not an allowed value."),
}


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- the import pipeline ---------------------------------------------------------------------


@dataclass
class Result:
    rows: list[Row]
    errors: list[RowError]
    items: list[Any]
    ignored_headers: list[str]
    timings: dict[str, float]


def find_header(table: list[list[Any]], columns: list[Column]) -> tuple[int, dict[int, Column]]:
    """The header row (the best match among the first 10 non-empty rows) and its columns."""
    accepted = [(c, c.accepted_headers()) for c in columns]
    required = {c.name for c in columns if c.required}
    best: tuple[int, int, dict[int, Column]] | None = None
    seen = 0
    for idx, cells in enumerate(table):
        if all(is_blank(v) for v in cells):
            continue
        seen += 1
        mapping: dict[int, Column] = {}
        for pos, cell in enumerate(cells):
            key = norm_header(cell)
            for col, names in accepted:
                if key and key in names and col not in mapping.values():
                    mapping[pos] = col
                    break
        names_found = {c.name for c in mapping.values()}
        if mapping and required <= names_found:
            return idx, mapping
        if mapping and (best is None or len(mapping) > best[1]):
            best = (idx, len(mapping), mapping)
        if seen >= 10:
            break
    if best is None:
        raise ImportFileError(
            _("No header row was found. The first row must name the columns, e.g. %(cols)s.")
            % {"cols": ", ".join(c.en for c in columns[:4])}
        )
    return best[0], best[2]


def check_headers(
    table: list[list[Any]], idx: int, mapping: dict[int, Column], columns: list[Column]
) -> tuple[list[RowError], list[str]]:
    errors: list[RowError] = []
    found = {c.name for c in mapping.values()}
    for c in columns:
        if c.required and c.name not in found:
            errors.append(
                RowError(
                    idx + 1,
                    c.header(),
                    "",
                    _("Required column missing: %(en)s / %(zh)s.") % {"en": c.en, "zh": c.zh},
                )
            )
    ignored = []
    header_cells = table[idx]
    for pos, cell in enumerate(header_cells):
        if pos not in mapping and not is_blank(cell):
            key = norm_header(cell)
            if any(key in c.accepted_headers() for c in columns):
                errors.append(
                    RowError(idx + 1, cell_text(cell), "", _("This column appears twice."))
                )
            else:
                ignored.append(cell_text(cell))
    return errors, ignored


def run_importer(
    importer: Importer,
    table: list[list[Any]],
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    """Convert and validate every row; nothing is written here."""
    with paused_gc():
        return _run_importer(importer, table, progress)


def _run_importer(
    importer: Importer,
    table: list[list[Any]],
    progress: Callable[[int, int], None] | None,
) -> Result:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    columns = importer.columns
    idx, mapping = find_header(table, columns)
    header_errors, ignored = check_headers(table, idx, mapping, columns)
    if header_errors:
        return Result([], header_errors, [], ignored, timings)
    headers = {c.name: cell_text(table[idx][pos]) for pos, c in mapping.items()}
    converters = {pos: (c, Converter(c)) for pos, c in mapping.items()}
    required = [c for c in columns if c.required]
    rows: list[Row] = []
    data = table[idx + 1 :]
    nonblank = [(i, cells) for i, cells in enumerate(data) if not all(is_blank(v) for v in cells)]
    total = len(nonblank)
    if total > max_rows():
        raise ImportFileError(
            _("The file has %(n)d rows; at most %(max)d rows can be imported at once.")
            % {"n": total, "max": max_rows()}
        )
    # (name, position, converter, plain text column without limits of its own?)
    plan = [
        (c.name, pos, conv, c.type in ("str", "lookup") and not c.blank_values, c.max_length)
        for pos, (c, conv) in converters.items()
    ]
    required_names = [c.name for c in required]
    for i, cells in nonblank:
        row = Row(idx + 2 + i, headers)
        values = row.values
        raw = row.raw
        width = len(cells)
        for name, pos, conv, plain, max_length in plan:
            value = cells[pos] if pos < width else None
            if value.__class__ is str:  # the common case (CSV, text cells): no conversion
                text = value.strip()
                if not text:
                    values[name] = None
                    continue
                raw[name] = text
                if plain and (max_length is None or len(text) <= max_length):
                    values[name] = text
                    continue
            elif value is None:
                values[name] = None
                continue
            else:
                raw[name] = cell_text(value)
            col = conv.column
            if col.blank_values and raw[name].lower() in col.blank_values:
                values[name] = None
                continue
            try:
                values[name] = conv(value)
            except ValueError as exc:
                values[name] = None
                row.error(name, exc.args[0] if exc.args else TYPE_MESSAGES[col.type]())
        for name in required_names:
            if values.get(name) is None and name not in raw:
                row.error(name, _("This field is required."))
        rows.append(row)
    timings["convert"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    for col in {c for c in mapping.values() if c.type == "lookup"}:
        assert col.lookup is not None
        wanted = {r.values[col.name] for r in rows if r.values.get(col.name)}
        found = col.lookup.resolve(wanted, importer.user)
        for r in rows:
            key = r.values.get(col.name)
            if not key:
                continue
            obj = found.get(key)
            if obj is None:
                r.values[col.name] = None
                what = col.lookup.what or col.lookup.model._meta.verbose_name
                r.error(
                    col.name, _("No %(what)s matches “%(value)s”.") % {"what": what, "value": key}
                )
            elif obj is AMBIGUOUS:
                r.values[col.name] = None
                r.error(col.name, _("Several records match this value; use a unique key."))
            else:
                r.values[col.name] = obj
    importer.prepare(rows)
    timings["lookups"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    items: list[Any] = []
    errors: list[RowError] = []
    # Progress at most every PROGRESS_SECONDS (each report is a committed UPDATE of the batch).
    reported = time.monotonic()
    for n, row in enumerate(rows, start=1):
        if row.ok:
            try:
                item = importer.validate_row(row)
            except ValidationError as exc:
                for _field, msg in validation_messages(exc):
                    row.error(None, msg)
                item = None
            if row.ok:
                items.append(item)
        errors.extend(row.errors)
        if progress is not None and (
            n == total or (n % 256 == 0 and time.monotonic() - reported >= PROGRESS_SECONDS)
        ):
            progress(n, total)
            reported = time.monotonic()
    if not rows:
        errors.append(RowError(None, "", "", _("The file has no data rows.")))
    timings["validate"] = time.perf_counter() - t2
    return Result(rows, errors, items, ignored, timings)
