"""Chinese text of the terms (VIG-5). The published terminology is English only; the Chinese
term and definition are kept here: typed on a term's page, sent through the API, or loaded from
a file (code, term_zh, definition_zh) with ``medvigil imdrf translations --file``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.permissions import require
from medvigil.core.types import Actor

from ..models import Term
from .files import MAX_DEFINITION, MAX_TERM, Problems, read_files

CHANGE_PERM = "imdrf.change_term"


def check_translation(term_zh: Any, definition_zh: Any) -> tuple[str, str]:
    """The Chinese term and definition, stripped; ValidationError per field otherwise."""
    errors: dict[str, str] = {}
    values = []
    for name, value, limit in (
        ("term_zh", term_zh, MAX_TERM),
        ("definition_zh", definition_zh, MAX_DEFINITION),
    ):
        if value is None:
            values.append("")
            continue
        if not isinstance(value, str):
            errors[name] = _("Enter text.")
        elif "\x00" in value:
            errors[name] = _("The text contains a NUL character.")
        elif len(value.strip()) > limit:
            errors[name] = _("At most %(n)d characters.") % {"n": limit}
        values.append(value.strip() if isinstance(value, str) else "")
    if errors:
        raise ValidationError(errors)
    return values[0], values[1]


def update_translation(
    term: Term, *, by: Actor, version: Any, term_zh: Any, definition_zh: Any = ""
) -> Term:
    """Set a term's Chinese text, on the version the user read (stale: ConflictError)."""
    if by is not None:
        require(by, CHANGE_PERM)
    term_zh, definition_zh = check_translation(term_zh, definition_zh)
    with transaction.atomic(), audit_context(actor=by):
        term = Term.objects.select_for_update().get(pk=term.pk)
        term.check_version(version)
        term.term_zh, term.definition_zh = term_zh, definition_zh
        term.zh_outdated = False
        term.save(update_fields=["term_zh", "definition_zh", "zh_outdated"])
    return term


def load_translations(files: Sequence[tuple[str, bytes]], *, by: Actor) -> int:
    """Chinese text for many terms from files with the columns code, term_zh (中文术语) and
    optionally definition_zh (中文定义): all or nothing; the number of terms changed."""
    if by is not None:
        require(by, CHANGE_PERM)
    problems = Problems()
    entries = read_files(files, problems, required=("code", "term_zh"))
    problems.raise_if_any()
    by_code = {e.code: e for e in entries if e.code}
    changed = []
    with transaction.atomic(), audit_context(actor=by, source="imdrf", reason=_("Chinese terms")):
        known = Term.objects.select_for_update().in_bulk(list(by_code))
        for e in entries:
            if not e.code or e.code not in known:
                message = _("%(code)s is not a code of the IMDRF terminology.")
                problems.add(e.file, e.row, message % {"code": e.code or "?"})
        problems.raise_if_any()
        for code, e in by_code.items():
            term = known[code]
            zh = (e.term_zh, e.definition_zh or term.definition_zh)
            if e.term_zh and zh != (term.term_zh, term.definition_zh):
                term.term_zh, term.definition_zh = zh
                term.zh_outdated = False
                changed.append(term)
        if changed:
            Term.objects.bulk_update(changed, ["term_zh", "definition_zh", "zh_outdated"])
    return len(changed)
