"""The IMDRF terminology API (VIG-5), mounted at /api/v1/imdrf/: search and read terms (the
same service as the pages: services.search / lookup), set a term's Chinese text, list the
releases."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from medvigil.core.api import (
    PageParams,
    Versioned,
    api_get_object,
    api_user,
    auth_with_perm,
    error_responses,
    paginate_queryset,
    require_perm,
)
from medvigil.core.permissions import scope_for_user

from . import services
from .models import Release, Term

router = Router(tags=["IMDRF terminology"])


class TermRef(Schema):
    code: str
    term_en: str
    term_zh: str
    retired: bool


class TermOut(Schema):
    id: str = Field(..., description="The term's key: its code.")
    code: str
    annex: str
    term_en: str
    term_zh: str
    definition_en: str
    definition_zh: str
    zh_outdated: bool = Field(..., description="The English text changed after the translation.")
    parent: str | None = Field(None, description="The parent code (top level: null).")
    level: int
    selectable: bool = Field(..., description="False for IMDRF's 'not selectable' groups.")
    status: str = Field(..., description="IMDRF status (New, Modified, Retired, ...).")
    mapping: str = Field(..., description="Non-IMDRF code (Annex E: the MedDRA term).")
    retired: bool
    retired_in: str | None = Field(None, description="The release that retired the code.")
    added_in: str
    changed_in: str | None
    version: int

    @staticmethod
    def resolve_id(obj: Term) -> str:
        return obj.code

    @staticmethod
    def resolve_parent(obj: Term) -> str | None:
        return obj.parent_id

    @staticmethod
    def resolve_retired_in(obj: Term) -> str | None:
        return obj.retired_in.label if obj.retired_in_id and obj.retired_in else None

    @staticmethod
    def resolve_added_in(obj: Term) -> str:
        return obj.added_in.label

    @staticmethod
    def resolve_changed_in(obj: Term) -> str | None:
        return obj.changed_in.label if obj.changed_in_id and obj.changed_in else None


class EarlierText(Schema):
    release: str
    replaced_in: str
    term_en: str
    definition_en: str
    term_zh: str


class TermDetail(TermOut):
    path: list[TermRef] = Field(..., description="From the annex's top level to the term.")
    children: list[TermRef]
    also_under: list[TermRef] = Field(..., description="Further parents (Annex E).")
    earlier: list[EarlierText] = Field(..., description="Text of earlier releases.")


class TermPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[TermOut]


class TermQuery(Schema):
    annex: str | None = Field(None, max_length=1, description="A to G.")
    q: str | None = Field(
        None,
        max_length=services.MAX_QUERY,
        description="A code prefix (A01) or words of the term, in English or Chinese.",
    )
    lang: str | None = Field(None, max_length=8, description="en or zh: search one language.")
    include_retired: bool = False


class TranslationIn(Versioned):
    term_zh: str = Field("", max_length=300)
    definition_zh: str = Field("", max_length=5000)


class ReleaseOut(Schema):
    id: int
    label: str
    title: str
    annexes: str
    loaded_at: dt.datetime
    shipped: bool
    terms: int
    added: int
    changed: int
    retired: int
    restored: int


_RELATED = ("added_in", "changed_in", "retired_in")


@router.get("/terms", response={200: TermPage, **error_responses(403)})
def list_terms(request: HttpRequest, filters: Query[TermQuery], page: Query[PageParams]) -> Any:
    """Terms by code; with `q`, the search of the terms page (exact code first, then terms
    starting with the words)."""
    require_perm(request, "imdrf.view_term")
    user = api_user(request)
    if filters.q:
        found: Any = services.search(
            filters.q,
            annex=filters.annex,
            lang=filters.lang,
            user=user,
            include_retired=filters.include_retired,
            limit=500,
        )
        ids = [t.code for t in found]
        rows = {t.code: t for t in Term.objects.filter(code__in=ids).select_related(*_RELATED)}
        found = [rows[c] for c in ids if c in rows]
        return paginate_queryset(found, page.limit, page.offset)
    qs = services.terms(user).select_related(*_RELATED)
    annex = services.check_annex(filters.annex)
    if annex:
        qs = qs.filter(annex=annex)
    if not filters.include_retired:
        qs = qs.filter(retired=False)
    return paginate_queryset(qs.order_by("code"), page.limit, page.offset)


def _ref(t: Term) -> dict[str, Any]:
    return {"code": t.code, "term_en": t.term_en, "term_zh": t.term_zh, "retired": t.retired}


def _detail(request: HttpRequest, code: str) -> Any:
    user = api_user(request)
    norm = services.normalise_code(code)
    if norm is None:
        raise Http404
    term = api_get_object(request, Term.objects.select_related(*_RELATED), pk=norm)
    return _Detail(
        term,
        path=[_ref(t) for t in services.path(term.code, user=user)],
        children=[_ref(t) for t in services.children(term.code, user=user)],
        also_under=[_ref(t) for t in services.also_under(term, user=user)],
        earlier=[
            {
                "release": v.release.label,
                "replaced_in": v.replaced_in.label,
                "term_en": v.term_en,
                "definition_en": v.definition_en,
                "term_zh": v.term_zh,
            }
            for v in services.versions(term)
        ],
    )


class _Detail:
    """A term with the parts of its detail answer (path, children, ...) beside it."""

    def __init__(self, term: Term, **parts: Any) -> None:
        self.__dict__.update(parts)
        self._term = term

    def __getattr__(self, name: str) -> Any:
        return getattr(self._term, name)


@router.get("/terms/{code}", response={200: TermDetail, **error_responses(403, 404)})
def get_term(request: HttpRequest, code: str) -> Any:
    """One term, retired or not (a retired code stays readable: `retired_in` names the
    release), with its path, children and earlier texts."""
    require_perm(request, "imdrf.view_term")
    return _detail(request, code)


@router.patch(
    "/terms/{code}",
    response={200: TermDetail, **error_responses(403, 404, 409)},
    auth=auth_with_perm("imdrf.change_term"),
)
def update_term(request: HttpRequest, code: str, payload: TranslationIn) -> Any:
    """Set the term's Chinese text (the version read: a stale one is a 409)."""
    norm = services.normalise_code(code)
    if norm is None:
        raise Http404
    term = api_get_object(request, Term, "change", pk=norm)
    services.update_translation(
        term,
        by=api_user(request),
        version=payload.version,
        term_zh=payload.term_zh,
        definition_zh=payload.definition_zh,
    )
    return _detail(request, norm)


@router.get("/releases", response={200: list[ReleaseOut], **error_responses(403)})
def list_releases(request: HttpRequest) -> Any:
    """The releases loaded, newest first."""
    require_perm(request, "imdrf.view_release")
    return list(scope_for_user(api_user(request), Release).order_by("-id")[:200])
