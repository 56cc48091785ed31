"""Loading a release of the terminology (VIG-5): the shipped one on the first migrate, and
any newer official release an administrator uploads (the page, the API-less CLI
``medvigil imdrf load --file``). One function, ``load_release``: all or nothing, audited.

What a load does, per annex present in the upload:
- a code not known yet is added;
- a known code whose English term or definition changed gets the new text, and the old text is
  kept as a TermVersion of the previous release (old events read the words they were coded
  with); a Chinese translation of a changed term is flagged outdated;
- a known code missing from the upload is marked retired in this release, never deleted: its
  lookup still answers, with the release that retired it;
- a retired code that comes back is restored;
- a code the release itself marks "Retired" (IMDRF status) is loaded as retired.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.permissions import require
from medvigil.core.types import Actor

from ..models import Placement, Release, Term, TermVersion
from .files import CODE_RE, MAX_PROBLEMS, Entry, Problems, clean_text, read_files, short

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
LOAD_PERM = "imdrf.add_release"
MAX_LABEL = 40


def shipped_meta() -> dict[str, Any]:
    meta: dict[str, Any] = json.loads((DATA_DIR / "RELEASE.json").read_text(encoding="utf-8"))
    return meta


def shipped_files() -> list[tuple[str, bytes]]:
    return [(name, (DATA_DIR / name).read_bytes()) for name in shipped_meta()["files"]]


@dataclass
class TermData:
    """One code as the release gives it (duplicate rows merged: the first row's text wins,
    every row's parent is a place of the term in the hierarchy)."""

    code: str
    term_en: str
    definition_en: str
    status: str
    status_note: str
    mapping: str
    term_zh: str
    definition_zh: str
    parent: str | None = None
    also_under: list[str] = field(default_factory=list)
    level: int = 1

    @property
    def annex(self) -> str:
        return self.code[0]

    @property
    def selectable(self) -> bool:
        return "not selectable" not in self.status.lower()

    @property
    def retired(self) -> bool:
        return self.status.lower().startswith("retired")


@dataclass
class Plan:
    terms: dict[str, TermData]
    annexes: str


@dataclass
class Outcome:
    """What a load did (or, for a dry run, would do)."""

    label: str
    annexes: str
    terms: int
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    release: Release | None = None

    def counts(self) -> dict[str, int]:
        return {
            "terms": self.terms,
            "added": len(self.added),
            "changed": len(self.changed),
            "retired": len(self.retired),
            "restored": len(self.restored),
        }


def plan_release(entries: Sequence[Entry], problems: Problems) -> Plan:
    """The release's terms by code, checked: codes, required text, the hierarchy."""
    terms: dict[str, TermData] = {}
    placements: dict[str, list[tuple[Entry, list[str]]]] = {}
    for e in entries:
        if not e.code:
            problems.add(e.file, e.row, _("The code is missing."))
            continue
        if not CODE_RE.match(e.code):
            problems.add(
                e.file,
                e.row,
                _("“%(code)s” is not an IMDRF code (a letter A–G and digits, e.g. A0101).")
                % {"code": short(e.code)},
            )
            continue
        if not e.term_en:
            problems.add(e.file, e.row, _("%(code)s has no term.") % {"code": e.code})
            continue
        if e.hierarchy and e.hierarchy[-1] != e.code:
            problems.add(
                e.file,
                e.row,
                _("The hierarchy %(h)s does not end with the code %(code)s.")
                % {"h": short("|".join(e.hierarchy), 60), "code": e.code},
            )
            continue
        placements.setdefault(e.code, []).append((e, e.hierarchy))
        if e.code not in terms:
            terms[e.code] = TermData(
                code=e.code,
                term_en=e.term_en,
                definition_en=e.definition_en,
                status=e.status,
                status_note=e.status_note,
                mapping=e.mapping,
                term_zh=e.term_zh,
                definition_zh=e.definition_zh,
            )
    codes = set(terms)
    for code, places in placements.items():
        parents: list[str] = []
        for e, hierarchy in places:
            if len(hierarchy) > 1:
                parent = hierarchy[-2]
            elif hierarchy:
                parent = ""
            else:
                parent = _prefix_parent(code, codes)
            if parent and parent not in terms:
                problems.add(
                    e.file,
                    e.row,
                    _("The parent %(parent)s of %(code)s is not in the upload.")
                    % {"parent": short(parent), "code": code},
                )
                continue
            if parent not in parents:
                parents.append(parent)
        data = terms[code]
        data.parent = parents[0] or None if parents else None
        data.also_under = [p for p in parents[1:] if p]
    for data in terms.values():
        data.level = _level(data, terms, problems)
    return Plan(terms=terms, annexes="".join(sorted({c[0] for c in terms})))


def _prefix_parent(code: str, codes: AbstractSet[str]) -> str:
    """The longest other code that `code` starts with ("" when none)."""
    best = ""
    for n in range(len(code) - 1, 2, -1):
        candidate = code[:n]
        if candidate in codes:
            best = candidate
            break
    return best


def _level(data: TermData, terms: dict[str, TermData], problems: Problems) -> int:
    seen = {data.code}
    level, parent = 1, data.parent
    while parent:
        if parent in seen:
            problems.add("", None, _("The hierarchy of %(code)s loops.") % {"code": data.code})
            return 1
        seen.add(parent)
        level += 1
        parent = terms[parent].parent if parent in terms else None
    return level


def check_label(label: Any) -> str:
    if not isinstance(label, str) or not label.strip():
        raise ValidationError({"label": _("Give the release's name, e.g. 2025.")})
    if "\x00" in label:
        raise ValidationError({"label": _("The release name contains a NUL character.")})
    label = label.strip()
    if len(label) > MAX_LABEL:
        raise ValidationError(
            {"label": _("The release name is longer than %(n)d characters.") % {"n": MAX_LABEL}}
        )
    if Release.objects.filter(label__iexact=label).exists():
        raise ValidationError(
            {"label": _("Release %(label)s is loaded already.") % {"label": label}}
        )
    return label


def checksum(files: Sequence[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for name, data in sorted(files):
        h.update(name.encode("utf-8", "replace") + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


def load_release(
    files: Sequence[tuple[str, bytes]],
    *,
    label: Any,
    by: Actor,
    title: str = "",
    note: str = "",
    shipped: bool = False,
    dry_run: bool = False,
) -> Outcome:
    """Load a release from its files ((name, content) pairs): see the module docstring.
    Raises ValidationError listing every problem (nothing changed)."""
    if by is not None:
        require(by, LOAD_PERM)
    label = check_label(label)
    problems = Problems()
    title = clean_text(title, "title", problems, _("release"), 0)[:300]
    note = clean_text(note, "note", problems, _("release"), 0)
    entries = read_files(files, problems)
    problems.raise_if_any()
    plan = plan_release(entries, problems)
    if not plan.terms:
        problems.add(_("upload"), None, _("The upload holds no terms."))
    problems.raise_if_any()
    source = ", ".join(short(name, 80) for name, _data in files)[:500]
    reason = _("IMDRF release %(label)s") % {"label": label}
    with transaction.atomic(), audit_context(actor=by, source="imdrf", reason=reason):
        outcome = _apply(plan, label=label, by=by, dry_run=dry_run)
        if dry_run:
            transaction.set_rollback(True)
            outcome.release = None
            return outcome
        release = outcome.release
        assert release is not None
        release.title = title
        release.note = note
        release.source = source
        release.sha256 = checksum(files)
        release.shipped = shipped
        release.save()
    return outcome


def _apply(plan: Plan, *, label: str, by: Actor, dry_run: bool) -> Outcome:
    previous = Release.objects.order_by("-id").first()
    release = Release(
        label=label,
        annexes=plan.annexes,
        loaded_at=timezone.now(),
        loaded_by=by if by is not None and by.is_authenticated else None,
    )
    release.save()
    outcome = Outcome(label=label, annexes=plan.annexes, terms=len(plan.terms), release=release)
    existing = {t.code: t for t in Term.objects.select_for_update().order_by("code")}
    new_terms: list[Term] = []
    updated: list[Term] = []
    versions: list[TermVersion] = []
    fields_changed: set[str] = set()
    for code, data in plan.terms.items():
        term = existing.get(code)
        if term is None:
            new_terms.append(
                Term(
                    code=code,
                    annex=data.annex,
                    term_en=data.term_en,
                    definition_en=data.definition_en,
                    term_zh=data.term_zh,
                    definition_zh=data.definition_zh,
                    parent_id=data.parent,
                    level=data.level,
                    selectable=data.selectable,
                    status=data.status,
                    status_note=data.status_note,
                    mapping=data.mapping,
                    retired=data.retired,
                    added_in=release,
                    retired_in=release if data.retired else None,
                )
            )
            outcome.added.append(code)
            if data.retired:
                outcome.retired.append(code)
            continue
        changes = _changes(term, data, release, previous, versions, outcome)
        if changes:
            fields_changed |= changes
            updated.append(term)
    for code, term in existing.items():
        if code in plan.terms or term.annex not in plan.annexes or term.retired:
            continue
        term.retired = True
        term.retired_in = release
        fields_changed |= {"retired", "retired_in"}
        updated.append(term)
        outcome.retired.append(code)
    Term.objects.bulk_create(new_terms, batch_size=500)
    if updated:
        Term.objects.bulk_update(updated, sorted(fields_changed), batch_size=500)
    if versions:
        TermVersion.objects.bulk_create(versions, batch_size=500)
    _place(plan)
    release.terms = len(plan.terms)
    release.added = len(outcome.added)
    release.changed = len(outcome.changed)
    release.retired = len(outcome.retired)
    release.restored = len(outcome.restored)
    release.summary = {
        "added": outcome.added[:5000],
        "changed": outcome.changed[:5000],
        "retired": outcome.retired[:5000],
        "restored": outcome.restored[:5000],
    }
    return outcome


def _changes(
    term: Term,
    data: TermData,
    release: Release,
    previous: Release | None,
    versions: list[TermVersion],
    outcome: Outcome,
) -> set[str]:
    """Bring `term` to `data`; the names of the fields changed."""
    changed: set[str] = set()
    text_changed = (term.term_en, term.definition_en) != (data.term_en, data.definition_en)
    if text_changed:
        versions.append(
            TermVersion(
                term=term,
                release=previous or term.added_in,
                replaced_in=release,
                term_en=term.term_en,
                definition_en=term.definition_en,
                term_zh=term.term_zh,
                definition_zh=term.definition_zh,
                status=term.status,
            )
        )
        term.term_en, term.definition_en = data.term_en, data.definition_en
        term.changed_in = release
        changed |= {"term_en", "definition_en", "changed_in"}
        if term.term_zh or term.definition_zh:
            term.zh_outdated = True
            changed.add("zh_outdated")
        outcome.changed.append(term.code)
    if data.term_zh and (data.term_zh, data.definition_zh) != (term.term_zh, term.definition_zh):
        term.term_zh, term.definition_zh, term.zh_outdated = (
            data.term_zh,
            data.definition_zh,
            False,
        )
        changed |= {"term_zh", "definition_zh", "zh_outdated"}
    plain = {
        "parent_id": data.parent,
        "level": data.level,
        "selectable": data.selectable,
        "status": data.status,
        "status_note": data.status_note,
        "mapping": data.mapping,
    }
    for name, value in plain.items():
        if getattr(term, name) != value:
            setattr(term, name, value)
            changed.add(name.removesuffix("_id"))
    if term.retired != data.retired:
        if data.retired:
            term.retired, term.retired_in = True, release
            outcome.retired.append(term.code)
        else:
            term.retired, term.retired_in = False, None
            outcome.restored.append(term.code)
        changed |= {"retired", "retired_in"}
    return changed


def _place(plan: Plan) -> None:
    """Placements under further parents: added, retired when gone, restored when back."""
    wanted = {(code, p) for code, data in plan.terms.items() for p in data.also_under}
    have = {
        (p.term_id, p.parent_id): p
        for p in Placement.objects.select_for_update().filter(term__annex__in=list(plan.annexes))
    }
    new = [Placement(term_id=c, parent_id=p) for c, p in sorted(wanted - set(have))]
    changed = []
    for key, placement in have.items():
        retired = key not in wanted
        if placement.retired != retired:
            placement.retired = retired
            changed.append(placement)
    if new:
        Placement.objects.bulk_create(new, batch_size=500)
    if changed:
        Placement.objects.bulk_update(changed, ["retired"], batch_size=500)


def ensure_shipped_release(**kwargs: Any) -> Release | None:
    """The release shipped in imdrf/data, loaded when no release is (post_migrate: `make run`
    has the terms offline on the first start)."""
    if Release.objects.exists():
        return None
    meta = shipped_meta()
    outcome = load_release(
        shipped_files(),
        label=meta["label"],
        by=None,
        title=meta.get("title", ""),
        note=f"{meta.get('source', '')}\n{meta.get('licence', '')}".strip(),
        shipped=True,
    )
    return outcome.release


__all__ = [
    "DATA_DIR",
    "MAX_PROBLEMS",
    "Outcome",
    "ensure_shipped_release",
    "load_release",
    "shipped_files",
    "shipped_meta",
]
