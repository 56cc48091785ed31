"""Import of master and transactional data from CSV and XLSX files (PLAT-10).

An *importer* declares its columns (English and Chinese headers, required or not, a type) and
implements ``validate_row`` (turn one checked row into unsaved records, or add errors) and
``save_rows`` (bulk-insert them). The framework reads the file, maps the headers, converts and
checks every cell, resolves natural-key lookups once per batch (set-based: one query per
chunk of values, never one per row), runs the importer's checks on every row and collects
every error with the row number as shown in the spreadsheet.

All or nothing: if any row has an error nothing is written and a CSV error report (row,
column, value, message) is stored on the batch; otherwise every row is written in ONE
transaction, inside an audit context whose source is ``import``, whose request id is the
batch number and whose actor is the uploader, so each created record gets its own audit entry
pointing at the batch (``AuditedQuerySet.bulk_create``).

Importers live in an ``imports`` module of each app and register themselves with
``@register``; ``autodiscover()`` (called from CoreConfig.ready) imports those modules so the
web process and the Huey worker know the same kinds.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy
from huey.contrib.djhuey import db_task

from .audit import audit_context
from .i18n import gettext_msg as _
from .i18n import render, to_data, validation_messages
from .models import ImportBatch
from .permissions import require, scope_for_user

log = logging.getLogger(__name__)

ALLOWED_EXTENSIONS = ("csv", "txt", "tsv", "xlsx", "xlsm", "xls")
LOOKUP_CHUNK = 2000  # values per IN (...) query when resolving natural keys
PREVIEW_ERRORS = 200  # errors kept on the batch for display; the report has all of them


def max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", 500_000))


def inline_max_bytes() -> int:
    """Files up to this size are processed in the request; larger ones by a Huey task."""
    return int(getattr(settings, "IMPORT_INLINE_MAX_BYTES", 256 * 1024))


def max_upload_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_MB", 50)) * 1024 * 1024


def lease_seconds() -> int:
    """A validating or importing batch whose process gave no sign of life for this long was
    lost with it (the process was killed, the machine stopped): it is marked failed."""
    return max(10, int(getattr(settings, "IMPORT_LEASE_SECONDS", 300)))


class ImportFileError(Exception):
    """The file as a whole cannot be read (format, encoding, missing columns)."""


# --- columns and rows ------------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """Resolve a natural key to a record: the first of ``keys`` that matches wins. A key is a
    field name, or (field name, normaliser) where the normaliser turns the cell text into the
    stored form (or raises ValueError: that key does not apply). ``queryset`` restricts and
    shapes what is loaded (e.g. ``.select_related(...)``). ``scoped``: only the records the
    importing user may see are found (core.permissions.scope_for_user, ARCHITECTURE rule 6)."""

    model: type[models.Model]
    keys: tuple[Any, ...]
    queryset: Callable[[], models.QuerySet] | None = None
    what: Any = ""  # a noun for messages ("product"); default: the model's verbose name
    scoped: bool = True

    def base(self, user: Any = None) -> models.QuerySet:
        qs = self.queryset() if self.queryset is not None else self.model._default_manager.all()
        if self.scoped and user is not None:
            qs = scope_for_user(user, qs)
        return qs

    def resolve(self, values: Iterable[str], user: Any = None) -> dict[str, Any]:
        """{value: record} for the values found (among those `user` may see, if given);
        AMBIGUOUS where a key matches several. One query per key and chunk of values,
        whatever the number of rows."""
        pending = {v for v in values if v}
        found: dict[str, Any] = {}
        for key in self.keys:
            if not pending:
                break
            name, norm = (key, None) if isinstance(key, str) else key
            by_norm: dict[str, list[str]] = {}
            for v in pending:
                try:
                    n = norm(v) if norm else v
                except (ValueError, ValidationError):
                    continue
                by_norm.setdefault(n, []).append(v)
            hits: dict[str, Any] = {}
            for qs in filter_in(self.base(user), name, by_norm):
                for obj in qs:
                    k = str(getattr(obj, name))
                    hits[k] = AMBIGUOUS if k in hits else obj
            for n, obj in hits.items():
                for v in by_norm.get(n, []):
                    found[v] = obj
            pending -= set(found)
        return found


AMBIGUOUS = object()

TYPES = ("str", "int", "date", "decimal", "bool", "choice", "lookup")


@dataclass(frozen=True, eq=False)
class Column:
    """One column of an import file.

    name: key of the converted value in ``row``; en / zh: the header written in templates
    (both accepted); aliases: other accepted headers; type: one of TYPES."""

    name: str
    en: str
    zh: str
    type: str = "str"
    required: bool = False
    max_length: int | None = None
    choices: Sequence[tuple[str, Any]] = ()
    choice_aliases: Mapping[str, str] = field(default_factory=dict)
    lookup: Lookup | None = None
    aliases: tuple[str, ...] = ()
    help: Any = ""  # str or lazy translation
    max_digits: int | None = None
    decimal_places: int | None = None
    min_value: int | None = None
    blank_values: tuple[str, ...] = ()  # cell texts read as empty, e.g. 长期 for "no expiry"

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"Unknown column type {self.type!r}")
        if self.type == "lookup" and self.lookup is None:
            raise ValueError(f"Column {self.name} of type lookup needs a Lookup")

    def header(self, language: str | None = None) -> str:
        lang = language or translation.get_language() or "en"
        return self.zh if lang.lower().startswith("zh") else self.en

    def accepted_headers(self) -> set[str]:
        return {norm_header(h) for h in (self.en, self.zh, self.name, *self.aliases) if h}


_HEADER_STRIP = re.compile(r"[\s_\-*:：]+")


def norm_header(text: Any) -> str:
    s = str(text or "").strip().lower()
    s = s.replace("（", "(").replace("）", ")").replace("／", "/")
    return _HEADER_STRIP.sub("", s)


@dataclass(frozen=True)
class RowError:
    row: int | None  # spreadsheet row number (the header is usually row 1); None: whole file
    column: str  # the header as it appears in the file ("" when not about one column)
    value: str
    message: Any  # a Msg or lazy text (translated for each reader), or plain text

    def as_dict(self) -> dict[str, Any]:
        """For storage: "msg" is the text as written, "m" the message to translate."""
        d = {"row": self.row, "column": self.column, "value": self.value, "msg": str(self.message)}
        data = to_data(self.message)
        if not isinstance(data, str):
            d["m"] = data
        return d


def error_message(stored: Mapping[str, Any]) -> str:
    """The message of a stored error (see RowError.as_dict) in the reader's language; rows
    stored before messages were kept untranslated have only their "msg" text."""
    if "m" in stored:
        return render(stored["m"])
    return str(stored.get("msg", ""))


def error_dicts(stored: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Stored errors for display: the same keys, "msg" in the reader's language."""
    return [{**{k: v for k, v in e.items() if k != "m"}, "msg": error_message(e)} for e in stored]


class Row:
    """One data row: converted values by column name, raw cell text, errors."""

    __slots__ = ("number", "values", "raw", "errors", "_headers")

    def __init__(self, number: int, headers: dict[str, str]) -> None:
        self.number = number
        self.values: dict[str, Any] = {}
        self.raw: dict[str, str] = {}
        self.errors: list[RowError] = []
        self._headers = headers

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name)

    def get(self, name: str, default: Any = None) -> Any:
        v = self.values.get(name)
        return default if v is None else v

    def error(self, column: str | None, message: Any) -> None:
        """Add an error about column ``column`` (a Column.name) or the whole row (None)."""
        header = self._headers.get(column or "", column or "")
        value = self.raw.get(column or "", "")
        if not isinstance(message, str | Promise):
            message = str(message)
        self.errors.append(RowError(self.number, header, value, message))

    @property
    def ok(self) -> bool:
        return not self.errors


# --- importers -------------------------------------------------------------------------------


class Importer:
    """Base class. Subclasses set kind, label, permission, model, columns and implement
    ``validate_row`` (and ``prepare`` for set-based lookups); ``save_rows`` bulk-creates."""

    kind: ClassVar[str] = ""
    label: ClassVar[Any] = ""
    description: ClassVar[Any] = ""
    permission: ClassVar[str] = ""
    model: ClassVar[type[models.Model] | None] = None
    columns: ClassVar[list[Column]] = []
    batch_size: ClassVar[int] = 2000
    order: ClassVar[int] = 100

    def __init__(self, user: Any = None, batch: ImportBatch | None = None) -> None:
        self.user = user
        self.batch = batch

    # hooks ----------------------------------------------------------------------------------
    def prepare(self, rows: list[Row]) -> None:
        """Load whatever validation needs for all rows at once (after cell conversion)."""

    def validate_row(self, row: Row) -> Any:
        """Return the unsaved record(s) for this row, or add errors with ``row.error``."""
        assert self.model is not None
        return self.model(**{c.name: row[c.name] for c in self.columns if c.name in row.values})

    def recheck(self, items: list[Any]) -> list[RowError]:
        """Called inside the write transaction after the kind's lock is taken: repeat, set-based,
        the checks that another import or user could have invalidated since validation."""
        return []

    def save_rows(self, items: list[Any], progress: Callable[[int], None]) -> int:
        """Write all records (inside the batch's transaction); return how many were created."""
        assert self.model is not None
        objs = flatten(items)
        done = 0
        for chunk in chunked(objs, self.batch_size):
            self.model._default_manager.bulk_create(chunk, batch_size=self.batch_size)
            done += len(chunk)
            progress(done)
        return done

    # helpers --------------------------------------------------------------------------------
    @classmethod
    def template_headers(cls, language: str | None = None) -> list[str]:
        return [c.header(language) for c in cls.columns]

    @classmethod
    def allowed(cls, user: Any) -> bool:
        return bool(
            user.is_authenticated
            and user.has_perm("core.add_importbatch")
            and user.has_perm(cls.permission)
        )


def flatten(items: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, list | tuple):
            out.extend(i for i in item if i is not None)
        else:
            out.append(item)
    return out


_registry: dict[str, type[Importer]] = {}


def register(cls: type[Importer]) -> type[Importer]:
    if not cls.kind or not cls.permission:
        raise ValueError("An importer needs a kind and a permission")
    _registry[cls.kind] = cls
    return cls


def autodiscover() -> None:
    autodiscover_modules("imports")


def get_importer(kind: str) -> type[Importer] | None:
    return _registry.get(kind)


def all_importers() -> list[type[Importer]]:
    return sorted(_registry.values(), key=lambda c: (c.order, c.kind))


def importers_for(user: Any) -> list[type[Importer]]:
    return [cls for cls in all_importers() if cls.allowed(user)]


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


# --- cell conversion -------------------------------------------------------------------------

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
    step = max(500, total // 50)
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
        if progress is not None and (n % step == 0 or n == total):
            progress(n, total)
    if not rows:
        errors.append(RowError(None, "", "", _("The file has no data rows.")))
    timings["validate"] = time.perf_counter() - t2
    return Result(rows, errors, items, ignored, timings)


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


# --- services --------------------------------------------------------------------------------


def _plain(model: type[models.Model]) -> models.QuerySet:
    """Unaudited queryset, used ONLY for the progress counter (not a regulated value)."""
    return models.QuerySet(model=model)


def next_batch_number() -> str:
    """IMP-2026-00001 (PLAT-4); call inside the transaction that creates the batch."""
    return ImportBatch.next_number()


def check_upload(kind: str, uploaded: Any) -> type[Importer]:
    importer = get_importer(kind)
    if importer is None:
        raise ValidationError({"kind": _("Unknown import kind.")})
    name = getattr(uploaded, "name", "") or ""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ALLOWED_EXTENSIONS:
        raise ValidationError(
            {"file": _("Upload a CSV or XLSX file (.csv, .xlsx, .xls, .txt).")},
        )
    size = getattr(uploaded, "size", 0) or 0
    if size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    if size > max_upload_bytes():
        raise ValidationError(
            {"file": _("The file is larger than %(n)d MB.") % {"n": max_upload_bytes() >> 20}}
        )
    return importer


def create_batch(*, user: Any, kind: str, uploaded: Any, run: bool = True) -> ImportBatch:
    """Store an uploaded file as a new import batch and start processing it (inline for a
    small file, as a Huey task for a large one). Raises PermissionDenied / ValidationError."""
    importer = get_importer(kind)
    if importer is None:
        raise ValidationError({"kind": _("Unknown import kind.")})
    require(user, "core.add_importbatch")
    require(user, importer.permission)
    check_upload(kind, uploaded)
    data = uploaded.read()
    name = (getattr(uploaded, "name", "") or "import.csv").rsplit("/", 1)[-1][-200:]
    with transaction.atomic(), audit_context(actor=user, source="import"):
        batch = ImportBatch(
            kind=kind,
            number=next_batch_number(),
            original_name=name,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=user,
            created_at=timezone.now(),
        )
        batch.file.save(name, ContentFile(data), save=False)
        batch.save()
        if run and len(data) > inline_max_bytes():
            pk = batch.pk
            transaction.on_commit(lambda: process_import_task(pk))
    if run and len(data) <= inline_max_bytes():
        process_batch(batch.pk)
        batch.refresh_from_db()
    return batch


@db_task()
def process_import_task(batch_id: int) -> None:
    process_batch(batch_id)


def _claim(batch_id: int) -> ImportBatch | None:
    with transaction.atomic():
        batch = (
            ImportBatch.objects.select_for_update(of=("self",))
            .select_related("uploaded_by")
            .filter(pk=batch_id)
            .first()
        )
        if batch is None or batch.status != ImportBatch.Status.PENDING:
            return None
        batch.status = ImportBatch.Status.VALIDATING
        batch.started_at = batch.heartbeat_at = timezone.now()
        batch.save(update_fields=["status", "started_at", "heartbeat_at"])
        return batch


# --- the lease: a lost import is detected and failed ------------------------------------------

# The states in which a process is working on the batch (pending batches wait in the job
# queue, which survives a restart of the worker).
WORKING = (ImportBatch.Status.VALIDATING, ImportBatch.Status.IMPORTING)


def _beat(batch_id: int) -> None:
    _plain(ImportBatch).filter(pk=batch_id, status__in=WORKING).update(heartbeat_at=timezone.now())


class Heartbeat:
    """Call `beat` every `interval` seconds in a daemon thread until stopped: the batch's
    lease is renewed while its process lives, whatever the process is doing (reading,
    validating, or waiting on the database in the write transaction), and stops with it.
    A failed beat is logged and retried; the thread closes its own database connection."""

    def __init__(self, beat: Callable[[], None], interval: float) -> None:
        self._beat = beat
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="import-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 30)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    self._beat()
                except DatabaseError as exc:  # e.g. SQLite busy with the batch's own write
                    log.info("import heartbeat not written: %s", exc)
        finally:
            connection.close()


def _lease_expired(cutoff: dt.datetime) -> Q:
    return Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)


def is_lost(batch: ImportBatch, now: dt.datetime | None = None) -> bool:
    """True if the batch is being worked on but its process stopped renewing the lease."""
    if batch.status not in WORKING:
        return False
    seen = batch.heartbeat_at or batch.started_at or batch.created_at
    return seen < (now or timezone.now()) - dt.timedelta(seconds=lease_seconds())


def fail_lost_imports(
    pks: Iterable[int] | None = None, now: dt.datetime | None = None
) -> list[str]:
    """Mark failed every validating or importing batch whose lease expired (of `pks`, or
    all), with a message saying that nothing was saved — true because the rows are written
    in one transaction, which the database rolled back when the process died. Called by the
    periodic job and when a batch's status is read, so a client polling for `final` gets it.

    Compare-and-set under the batch's row lock: the writer checks, under the same lock,
    that its batch is still importing before it commits, so a batch marked lost never
    commits afterwards, and a batch that committed is not marked lost. Returns the numbers."""
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=lease_seconds())
    qs = ImportBatch.objects.filter(status__in=WORKING).filter(_lease_expired(cutoff))
    if pks is not None:
        qs = qs.filter(pk__in=list(pks))
    failed = []
    for pk in qs.values_list("pk", flat=True):
        number = _fail_if_lost(pk, cutoff)
        if number:
            failed.append(number)
    return failed


def settle(batch: ImportBatch) -> ImportBatch:
    """The batch as a reader should see it: failed if its lease expired (read paths)."""
    if is_lost(batch) and fail_lost_imports([batch.pk]):
        batch.refresh_from_db()
    return batch


def _fail_if_lost(pk: int, cutoff: dt.datetime) -> str | None:
    from .audit.context import _current

    token = _current.set(None)  # the system, not whoever happens to read the status
    try:
        with _no_wait(), transaction.atomic():
            batch = (
                ImportBatch.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("uploaded_by")
                .filter(pk=pk, status__in=WORKING)
                .filter(_lease_expired(cutoff))
                .first()
            )
            if batch is None:
                return None
            with (
                audit_context(source="import", actor_name="system:import-lease"),
                translation.override(batch.uploaded_by.language or settings.LANGUAGE_CODE),
            ):
                _fail(batch, [], LOST_MESSAGE)
            log.warning(
                "import %s lost: no heartbeat since %s; marked failed",
                batch.number,
                batch.heartbeat_at or batch.started_at,
            )
            return batch.number
    except DatabaseError as exc:
        # SQLite: another connection holds the write lock (perhaps this very import,
        # writing): the batch is not lost now, or the next check will find it.
        log.info("import lease check of batch %s skipped: %s", pk, exc)
        return None
    finally:
        _current.reset(token)


class _no_wait:
    """On SQLite, do not wait for the database's write lock (the default waits 20 s): a
    status read must not hang while a long import is writing."""

    def __enter__(self) -> None:
        self.sqlite = connection.vendor == "sqlite"
        if self.sqlite:
            with connection.cursor() as cur:
                cur.execute("PRAGMA busy_timeout")
                self.previous = cur.fetchone()[0]
                cur.execute("PRAGMA busy_timeout = 200")

    def __exit__(self, *exc: Any) -> None:
        if self.sqlite:
            with connection.cursor() as cur:
                cur.execute(f"PRAGMA busy_timeout = {int(self.previous)}")


LOST_MESSAGE = gettext_lazy(
    "The import was interrupted: the process working on it stopped before it finished. "
    "Nothing was saved; upload the file again."
)


class _Lost(Exception):
    """The batch was marked lost while this process was still writing it."""


def _kind_lock(kind: str) -> None:
    """Serialise the write phase of imports of one kind (PostgreSQL; SQLite serialises all
    writers already), so that recheck() sees every earlier import of the same kind."""
    if connection.vendor == "postgresql":
        key = zlib.crc32(f"medvigil-import:{kind}".encode())
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [key])


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


def process_batch(batch_id: int) -> ImportBatch | None:
    """Validate the whole file, then write it in one transaction or not at all. While it
    runs, a heartbeat renews the batch's lease (see fail_lost_imports)."""
    batch = _claim(batch_id)
    if batch is None:
        return None
    user = batch.uploaded_by
    with (
        Heartbeat(lambda: _beat(batch_id), lease_seconds() / 5),
        audit_context(actor=user, source="import", request_id=batch.number),
    ):
        try:
            return _process(batch, user)
        except Exception as exc:  # never leave a batch running; the details go to the log
            log.exception("import %s failed", batch.number)
            batch.refresh_from_db()
            _fail(
                batch,
                [],
                _("The import stopped on an unexpected error; nothing was written. (%(e)s)")
                % {"e": type(exc).__name__},
            )
            return batch


def _process(batch: ImportBatch, user: Any) -> ImportBatch:
    cls = get_importer(batch.kind)
    if cls is None:
        _fail(batch, [], _("Unknown import kind %(kind)s.") % {"kind": batch.kind})
        return batch
    if not cls.allowed(user):
        _fail(batch, [], _("You are not allowed to import this kind of data."))
        return batch
    importer = cls(user=user, batch=batch)
    pk = batch.pk
    try:
        with batch.file.open("rb") as fh:
            data = fh.read()
        table = read_table(data, batch.original_name)
        lang = user.language or settings.LANGUAGE_CODE
        with translation.override(lang):

            def progress(n: int, total: int) -> None:
                _plain(ImportBatch).filter(pk=pk).update(
                    processed_rows=n, total_rows=total, heartbeat_at=timezone.now()
                )

            result = run_importer(importer, table, progress)
    except ImportFileError as exc:
        message = exc.args[0] if exc.args else str(exc)
        _fail(batch, [RowError(None, "", "", message)], message)
        return batch
    batch.refresh_from_db()
    if batch.status != ImportBatch.Status.VALIDATING:
        return batch  # marked lost meanwhile: it is failed already
    total = len(result.rows)
    batch.total_rows = total
    notes: Any = ""
    if result.ignored_headers:
        notes = _("Columns not used: %(cols)s.") % {"cols": ", ".join(result.ignored_headers)}
    if result.errors:
        _fail(batch, result.errors, notes)
        return batch

    with transaction.atomic():
        current = ImportBatch.objects.select_for_update(of=("self",)).get(pk=pk)
        if current.status != ImportBatch.Status.VALIDATING:
            return current  # marked lost meanwhile: it is failed already
        batch.status = ImportBatch.Status.IMPORTING
        set_message(batch, notes)
        batch.heartbeat_at = timezone.now()
        batch.save(
            update_fields=["status", "message", "message_data", "total_rows", "heartbeat_at"]
        )
    started = time.perf_counter()
    try:
        with transaction.atomic():
            _kind_lock(batch.kind)
            late = importer.recheck(result.items)
            if late:
                raise _Late(late)
            created = importer.save_rows(result.items, lambda n: None)
            # Still ours? Under the row lock, so that a batch marked lost (its lease expired
            # while this transaction was held up) is never committed after all.
            locked = ImportBatch.objects.select_for_update(of=("self",)).filter(pk=pk)
            if locked.values_list("status", flat=True).first() != ImportBatch.Status.IMPORTING:
                raise _Lost()
            batch.refresh_from_db()
            batch.status = ImportBatch.Status.IMPORTED
            batch.created_rows = created
            batch.processed_rows = total
            batch.finished_at = timezone.now()
            batch.save()
    except _Late as late:
        batch.refresh_from_db()
        _fail(batch, late.errors, notes)
        return batch
    except _Lost:
        log.warning("import %s was marked lost while writing; rolled back", batch.number)
        batch.refresh_from_db()
        return batch
    except (ValidationError, PermissionDenied) as exc:
        batch.refresh_from_db()
        msgs = (
            [m for _f, m in validation_messages(exc)]
            if isinstance(exc, ValidationError)
            else [str(exc)]
        )
        _fail(batch, [RowError(None, "", "", m) for m in msgs], notes)
        return batch
    except Exception as exc:
        # Typically a unique constraint hit by a concurrent change. Nothing was written.
        log.warning("import %s rolled back: %s", batch.number, exc)
        batch.refresh_from_db()
        _fail(
            batch,
            [],
            _(
                "The data changed while the file was being imported (%(e)s); nothing was "
                "written. Upload the file again."
            )
            % {"e": type(exc).__name__},
        )
        return batch
    log.info(
        "import %s: %d rows (%s), written in %.2fs",
        batch.number,
        total,
        ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items()),
        time.perf_counter() - started,
    )
    return batch


class _Late(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("late errors")
        self.errors = errors


# labels used by the pages (kept here so that makemessages finds them once)
KIND_HELP = gettext_lazy(
    "An import lands whole or not at all: if any row has an error, nothing is written and "
    "you can download a report listing every error by row and column."
)
