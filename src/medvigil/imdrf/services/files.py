"""Reading release files (VIG-5): the JSON shape the project ships (a list of terms with
``code``, ``term``, ``definition``, ``CodeHierarchy`` ``A01|A0101``, ``Status``, ``Status
Description``, ``Non-IMDRF Code/Term``), and the same columns as a CSV or XLSX sheet (read by
the import framework's reader, core.imports.reading). Without a hierarchy column a term's
parent is the longest code in the upload that its code starts with (A010101 -> A0101).

Every problem of every row is collected; the caller refuses the whole upload when there is
one (nothing changed)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from medvigil.core.imports import ImportFileError, max_upload_bytes, norm_header, read_table

CODE_RE = re.compile(r"^[A-G][0-9]{2,12}$")
MAX_CODE = 16
MAX_TERM = 300
MAX_DEFINITION = 5000
MAX_STATUS = 80
MAX_MAPPING = 300
MAX_ENTRIES = 20_000
MAX_PROBLEMS = 50
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# field -> accepted keys / headers (normalised with core.imports.norm_header)
KEYS: dict[str, tuple[str, ...]] = {
    "code": ("code", "imdrf code", "term code", "代码", "术语代码", "编码"),
    "term_en": ("term", "imdrf term", "term (english)", "term_en", "英文术语", "术语"),
    "definition_en": ("definition", "definition (english)", "definition_en", "英文定义", "定义"),
    "hierarchy": ("codehierarchy", "code hierarchy", "hierarchy", "层级", "代码层级"),
    "status": ("status", "状态"),
    "status_note": ("status description", "状态说明"),
    "mapping": ("non-imdrf code/term", "non-imdrf code", "non imdrf code", "非imdrf代码"),
    "term_zh": ("term_zh", "term (chinese)", "chinese term", "中文术语"),
    "definition_zh": ("definition_zh", "definition (chinese)", "chinese definition", "中文定义"),
}
LEVEL_KEYS = ("level 1 term", "level 2 term", "level 3 term", "level 4 term")
LIMITS = {
    "code": MAX_CODE,
    "term_en": MAX_TERM,
    "term_zh": MAX_TERM,
    "definition_en": MAX_DEFINITION,
    "definition_zh": MAX_DEFINITION,
    "status": MAX_STATUS,
    "status_note": MAX_DEFINITION,
    "mapping": MAX_MAPPING,
    "hierarchy": 200,
}
_LOOKUP = {norm_header(k): name for name, keys in KEYS.items() for k in keys}
_LEVELS = {norm_header(k): i for i, k in enumerate(LEVEL_KEYS)}


@dataclass
class Entry:
    """One row of a release file, as text."""

    file: str
    row: int
    code: str = ""
    term_en: str = ""
    definition_en: str = ""
    hierarchy: list[str] = field(default_factory=list)
    status: str = ""
    status_note: str = ""
    mapping: str = ""
    term_zh: str = ""
    definition_zh: str = ""


class Problems:
    """Problems found in an upload, each with its file and row."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, file: str, row: int | None, message: str) -> None:
        where = f"{file}, " + (_("row %(row)d") % {"row": row}) if row else file
        self.items.append(f"{where}: {message}" if where else message)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        shown = self.items[:MAX_PROBLEMS]
        if len(self.items) > MAX_PROBLEMS:
            shown.append(_("… and %(n)d more problems.") % {"n": len(self.items) - MAX_PROBLEMS})
        raise ValidationError(shown)


def short(value: Any, size: int = 24) -> str:
    """A value fit for a message: huge input is cut, control characters shown escaped."""
    text = str(value)
    text = _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
    return text if len(text) <= size else text[:size] + "…"


def clean_text(value: Any, name: str, problems: Problems, file: str, row: int) -> str:
    """A cell as text: numbers become text, NUL and other control characters, nested values
    and over-long text are problems."""
    if value is None:
        return ""
    if isinstance(value, bool | list | dict):
        problems.add(file, row, _("%(field)s must be text.") % {"field": name})
        return ""
    text = str(value).strip()
    if "\x00" in text:
        problems.add(file, row, _("%(field)s contains a NUL character.") % {"field": name})
        return ""
    if _CONTROL.search(text):
        problems.add(file, row, _("%(field)s contains control characters.") % {"field": name})
        return ""
    limit = LIMITS.get(name)
    if limit and len(text) > limit:
        problems.add(
            file,
            row,
            _("%(field)s is longer than %(n)d characters.") % {"field": name, "n": limit},
        )
        return ""
    return text


def _entry(raw: dict[str, Any], file: str, row: int, problems: Problems) -> Entry:
    e = Entry(file=file, row=row)
    levels: list[str] = []
    for key, value in raw.items():
        header = norm_header(key)
        name = _LOOKUP.get(header)
        if name is None:
            if header in _LEVELS:
                levels.append(clean_text(value, key, problems, file, row))
            continue
        text = clean_text(value, name, problems, file, row)
        if name == "hierarchy":
            e.hierarchy = [p.strip().upper() for p in text.split("|") if p.strip()]
        elif name == "code":
            e.code = text.upper()
        else:
            setattr(e, name, text)
    if not e.term_en and levels:
        e.term_en = next((t for t in reversed(levels) if t), "")
    return e


def read_json(data: bytes, file: str, problems: Problems) -> list[Entry]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        problems.add(file, None, _("The file is not valid JSON (UTF-8)."))
        return []
    if isinstance(doc, dict):
        doc = doc.get("terms")
    if not isinstance(doc, list) or not all(isinstance(x, dict) for x in doc):
        problems.add(file, None, _("Expected a list of terms (objects with code and term)."))
        return []
    return [_entry(raw, file, i, problems) for i, raw in enumerate(doc, start=1)]


def read_sheet(
    data: bytes, file: str, problems: Problems, required: Sequence[str] = ("code", "term_en")
) -> list[Entry]:
    try:
        table = read_table(data, file)
    except ImportFileError as exc:
        problems.add(file, None, str(exc))
        return []
    rows = [(n, r) for n, r in enumerate(table, start=1) if any(str(c or "").strip() for c in r)]
    if not rows:
        problems.add(file, None, _("The file has no rows."))
        return []
    header_row, header = rows[0]
    names = [str(c or "").strip() for c in header]
    known = {_LOOKUP.get(norm_header(h)) for h in names}
    for needed in required:
        label = {"term_en": "term", "term_zh": "term_zh"}.get(needed, needed)
        if needed not in known and not (needed == "term_en" and _levels_in(names)):
            problems.add(file, header_row, _("The file has no column “%(col)s”.") % {"col": label})
    if problems.items:
        return []
    out = []
    for n, cells in rows[1:]:
        raw = {names[i]: cells[i] for i in range(min(len(names), len(cells))) if names[i]}
        out.append(_entry(raw, file, n, problems))
    return out


def _levels_in(names: Iterable[str]) -> bool:
    return any(norm_header(h) in _LEVELS for h in names)


def read_files(
    files: Sequence[tuple[str, bytes]],
    problems: Problems,
    required: Sequence[str] = ("code", "term_en"),
) -> list[Entry]:
    """The entries of every file, in order. JSON by its extension or content, else CSV/XLSX."""
    entries: list[Entry] = []
    if not files:
        problems.add(_("upload"), None, _("Choose at least one release file."))
        return entries
    for name, data in files:
        name = short(name or "?", 80)
        if len(data) > max_upload_bytes():
            problems.add(
                name, None, _("The file is larger than %(n)d MB.") % {"n": max_upload_bytes() >> 20}
            )
            continue
        if not data.strip():
            problems.add(name, None, _("The file is empty."))
            continue
        if name.lower().endswith(".json") or data.lstrip()[:1] in (b"[", b"{"):
            entries.extend(read_json(data, name, problems))
        else:
            entries.extend(read_sheet(data, name, problems, required))
        if len(entries) > MAX_ENTRIES:
            problems.add(name, None, _("More than %(n)d terms.") % {"n": MAX_ENTRIES})
            break
    return entries
