"""Looking terms up (VIG-5): one service for the browse page, the picker, the API, and the apps
that store IMDRF codes as plain strings (vigilance, complaints' evaluation).

Pass ``user`` from a page or endpoint: the terms come through core.permissions.scope_for_user
(none without ``imdrf.view_term``). Code calling from another service (validating an event's
codes) passes no user.

A retired code is never gone: ``lookup`` answers it with ``retired`` set and ``retired_in``
(the release that retired it); ``validate_codes`` refuses it for new coding but accepts it
where the record had it already (``existing=``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from medvigil.core.permissions import scope_for_user

from ..models import Annex, Placement, Release, Term, TermVersion
from .files import CODE_RE, MAX_CODE, short

MAX_QUERY = 200
MAX_CODES = 100
SEARCH_LIMIT = 50
LANGS = ("en", "zh")
_CODE_PREFIX = re.compile(r"^[A-Ga-g][0-9]{0,12}$")
_RELATED = ("added_in", "changed_in", "retired_in")


def terms(user: Any = None) -> QuerySet[Term]:
    """All terms, or those `user` may see."""
    qs = Term.objects.all()
    return scope_for_user(user, qs) if user is not None else qs


def normalise_code(value: Any) -> str | None:
    """ "a0101 " -> "A0101"; None for anything that cannot be a code."""
    if not isinstance(value, str) or len(value) > MAX_CODE + 8:
        return None
    code = value.strip().upper()
    return code if CODE_RE.match(code) else None


def lookup(code: Any, *, user: Any = None) -> Term | None:
    """The term with this code, retired or not (None: no such code)."""
    norm = normalise_code(code)
    if norm is None:
        return None
    return terms(user).select_related(*_RELATED).filter(code=norm).first()


def terms_for(codes: Iterable[Any], *, user: Any = None) -> dict[str, Term]:
    """{code: term} for many codes in one query (a list of events shows their codes)."""
    wanted = {c for c in (normalise_code(v) for v in codes) if c}
    if not wanted:
        return {}
    return {t.code: t for t in terms(user).select_related("retired_in").filter(code__in=wanted)}


def check_annex(annex: Any) -> str | None:
    """ "a" -> "A"; "" / None -> None; anything else: ValidationError."""
    if annex is None or annex == "":
        return None
    if isinstance(annex, str) and annex.strip().upper() in Annex.values:
        return annex.strip().upper()
    raise ValidationError({"annex": _("Choose an annex from A to G.")})


def check_query(text: Any) -> str:
    """The search text, stripped; ValidationError for a NUL, a non-text or a huge value."""
    if text is None:
        return ""
    if not isinstance(text, str):
        raise ValidationError({"q": _("The search text must be text.")})
    if "\x00" in text:
        raise ValidationError({"q": _("The search text contains a NUL character.")})
    if len(text) > MAX_QUERY:
        raise ValidationError(
            {"q": _("The search text is longer than %(n)d characters.") % {"n": MAX_QUERY}}
        )
    return text.strip()


def check_lang(lang: Any) -> str | None:
    if lang is None or lang == "":
        return None
    if isinstance(lang, str):
        low = lang.strip().lower()
        if low.startswith("zh"):
            return "zh"
        if low.startswith("en"):
            return "en"
    raise ValidationError({"lang": _("Search in English (en) or Chinese (zh).")})


def search(
    text: Any,
    *,
    annex: Any = None,
    lang: Any = None,
    user: Any = None,
    include_retired: bool = False,
    limit: int = SEARCH_LIMIT,
) -> list[Term]:
    """Terms whose code starts with `text` (A01, a0101), or whose term contains every word of
    `text` — in English, in Chinese, or in either (`lang` None); `annex` one letter or several
    ("BCD"). Exact code first, then terms starting with the text, then by code. Empty text:
    nothing."""
    query = check_query(text)
    annexes = _annexes(annex)
    lang = check_lang(lang)
    if not query:
        return []
    qs = terms(user).select_related("retired_in")
    if annexes:
        qs = qs.filter(annex__in=annexes)
    if not include_retired:
        qs = qs.filter(retired=False)
    if _CODE_PREFIX.match(query):
        code = query.upper()
        return list(qs.filter(code__startswith=code).order_by("code")[:limit])
    for word in query.split():
        match = Q()
        if lang in (None, "en"):
            match |= Q(term_en__icontains=word)
        if lang in (None, "zh"):
            match |= Q(term_zh__icontains=word)
        qs = qs.filter(match)
    found = list(qs.order_by("code")[: max(limit * 4, limit)])
    low = query.lower()

    def rank(t: Term) -> tuple[int, str]:
        texts = [t.term_en.lower(), t.term_zh.lower()]
        if low in texts:
            return (0, t.code)
        if any(x.startswith(low) for x in texts if x):
            return (1, t.code)
        return (2, t.code)

    found.sort(key=rank)
    return found[:limit]


def children(code: Any, *, user: Any = None, include_retired: bool = True) -> list[Term]:
    """The terms directly below `code`, including those placed there as a further parent
    (Annex E lists some terms under two parents)."""
    norm = normalise_code(code)
    if norm is None:
        return []
    under = Placement.objects.filter(parent_id=norm, retired=False).values("term_id")
    qs = terms(user).filter(Q(parent_id=norm) | Q(code__in=under))
    if not include_retired:
        qs = qs.filter(retired=False)
    return list(qs.select_related("retired_in").order_by("code"))


def path(code: Any, *, user: Any = None) -> list[Term]:
    """The term and its ancestors, from the annex's top level down to the term ([] when the
    code is unknown). The candidates are the code's prefixes (one query); a parent that is
    not a prefix is fetched on its own."""
    norm = normalise_code(code)
    if norm is None:
        return []
    base = terms(user)
    found = {t.code: t for t in base.filter(code__in=[norm[:n] for n in range(3, len(norm) + 1)])}
    chain: list[Term] = []
    current = found.get(norm)
    seen: set[str] = set()
    while current is not None and current.code not in seen:
        seen.add(current.code)
        chain.append(current)
        parent = current.parent_id
        if not parent:
            break
        current = found.get(parent) or base.filter(code=parent).first()
    return list(reversed(chain))


def also_under(term: Term, *, user: Any = None) -> list[Term]:
    """The further parents of a term (besides `term.parent`)."""
    under = Placement.objects.filter(term=term, retired=False).values("parent_id")
    return list(terms(user).filter(code__in=under).order_by("code"))


def versions(term: Term) -> list[TermVersion]:
    """The term's earlier texts, newest first."""
    return list(
        TermVersion.objects.filter(term=term)
        .select_related("release", "replaced_in")
        .order_by("-release_id")
    )


def text_in(term: Term, release: Release | None) -> dict[str, str]:
    """The term's text as it was in `release` (the current text for None, or a release at or
    after the last change)."""
    current = {
        "term_en": term.term_en,
        "definition_en": term.definition_en,
        "term_zh": term.term_zh,
        "definition_zh": term.definition_zh,
    }
    if release is None:
        return current
    old = (
        TermVersion.objects.filter(term=term, release_id__gte=release.pk)
        .order_by("release_id")
        .first()
    )
    if old is None:
        return current
    return {
        "term_en": old.term_en,
        "definition_en": old.definition_en,
        "term_zh": old.term_zh,
        "definition_zh": old.definition_zh,
    }


@dataclass
class Tree:
    """An annex as nested nodes (for the browse page): two queries whatever its size."""

    node: Term | None
    children: list[Tree] = field(default_factory=list)


def tree(annex: Any, *, user: Any = None, include_retired: bool = False) -> list[Tree]:
    annex = check_annex(annex) or "A"
    qs = terms(user).filter(annex=annex).select_related("retired_in").order_by("code")
    if not include_retired:
        qs = qs.filter(retired=False)
    rows = list(qs)
    nodes = {t.code: Tree(t) for t in rows}
    roots: list[Tree] = []
    for t in rows:
        parent = nodes.get(t.parent_id or "")
        (parent.children if parent else roots).append(nodes[t.code])
    if annex == "E":
        for p in Placement.objects.filter(term__annex=annex, retired=False).order_by("term_id"):
            if p.parent_id in nodes and p.term_id in nodes:
                nodes[p.parent_id].children.append(Tree(nodes[p.term_id].node))
    return roots


def validate_codes(
    annex: Any,
    codes: Any,
    *,
    existing: Sequence[str] = (),
    allow_groups: bool = False,
) -> list[str]:
    """The codes, normalised ("a0101" -> "A0101"), duplicates dropped, in the given order; or a
    ValidationError naming every bad one. `annex` is one letter, several ("BCD"), or None
    (any annex). `codes` is a list or a text of codes separated by commas, semicolons or
    spaces. Refused: what is not a code, an unknown code, a code of another annex, a code
    retired in a release (unless it is in `existing`, the codes the record had already), and a
    grouping term IMDRF marks "not selectable" (unless `allow_groups`)."""
    allowed = _annexes(annex)
    if codes is None:
        return []
    if isinstance(codes, str):
        if "\x00" in codes:
            raise ValidationError(_("The codes contain a NUL character."))
        if len(codes) > MAX_CODES * (MAX_CODE + 2):
            raise ValidationError(_("Too many codes (at most %(n)d).") % {"n": MAX_CODES})
        items: list[Any] = [c for c in re.split(r"[\s,;，；、]+", codes) if c]
    elif isinstance(codes, list | tuple | set | frozenset):
        items = list(codes)
    else:
        raise ValidationError(_("Give the codes as a list or as text."))
    if len(items) > MAX_CODES:
        raise ValidationError(_("Too many codes (at most %(n)d).") % {"n": MAX_CODES})
    errors: list[str] = []
    wanted: list[str] = []
    for item in items:
        norm = normalise_code(item)
        if norm is None:
            if isinstance(item, str) and "\x00" in item:
                errors.append(_("A code contains a NUL character."))
            else:
                errors.append(
                    _("“%(code)s” is not an IMDRF code (a letter A–G and digits, e.g. A0101).")
                    % {"code": short(item)}
                )
            continue
        if norm not in wanted:
            wanted.append(norm)
    found = terms_for(wanted)
    keep = {c.strip().upper() for c in existing if isinstance(c, str)}
    for code in wanted:
        term = found.get(code)
        if term is None:
            errors.append(_("%(code)s is not a code of the IMDRF terminology.") % {"code": code})
        elif allowed and term.annex not in allowed:
            errors.append(
                _("%(code)s is a code of Annex %(annex)s; this field takes Annex %(allowed)s.")
                % {"code": code, "annex": term.annex, "allowed": "/".join(allowed)}
            )
        elif term.retired and code not in keep:
            errors.append(
                _("%(code)s was retired in IMDRF release %(release)s; choose a current code.")
                % {"code": code, "release": term.retired_in.label if term.retired_in else "?"}
            )
        elif not term.selectable and not allow_groups and code not in keep:
            errors.append(
                _("%(code)s is a grouping term; choose a more detailed term below it.")
                % {"code": code}
            )
    if errors:
        raise ValidationError(errors)
    return wanted


def _annexes(annex: Any) -> list[str]:
    if annex is None or annex == "":
        return []
    if isinstance(annex, str) and len(annex) <= 20:
        letters = [a for a in annex.upper() if a.strip() and a not in ",/"]
    elif isinstance(annex, list | tuple | set | frozenset) and len(annex) <= 7:
        letters = [str(a).upper() for a in annex]
    else:
        letters = []
    if not letters or any(a not in Annex.values for a in letters):
        raise ValidationError({"annex": _("Choose an annex from A to G.")})
    return letters
