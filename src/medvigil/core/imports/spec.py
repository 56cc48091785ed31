"""What an importer declares (PLAT-10): its columns with their types and natural-key
lookups, the rows it receives, the row errors it reports, and the ``Importer`` base class."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import translation
from django.utils.functional import Promise

from ..i18n import render, to_data
from ..permissions import scope_for_user
from .models import ImportBatch
from .reading import chunked, filter_in


def max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", 500_000))


def inline_max_bytes() -> int:
    """Files up to this size are processed in the request; larger ones by a Huey task."""
    return int(getattr(settings, "IMPORT_INLINE_MAX_BYTES", 256 * 1024))


def max_upload_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_MB", 50)) * 1024 * 1024


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
