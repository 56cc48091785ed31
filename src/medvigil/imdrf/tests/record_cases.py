"""IMDRF terms registered with the record test kit (core/tests/record_kit.py): the shared
access (PLAT-1), audit (PLAT-2), version-conflict and list query-count tests run on the term
(its editable part is the Chinese text)."""

from __future__ import annotations

import itertools
from typing import Any

from medvigil.core.audit import audit_context
from medvigil.core.tests.record_kit import ApiWrite, RecordCase
from medvigil.imdrf.models import Release, Term

# Top-level codes far beyond the published ones (Annex A ends at A27).
_n = itertools.count(10)


def make_term(user: Any) -> Term:
    n = next(_n)
    with audit_context(actor=user, reason="record kit"):
        term = Term(
            code=f"A99{n:03d}",
            annex="A",
            term_en=f"Kit problem {n}",
            definition_en="A term made by the record kit.",
            added_in=Release.objects.order_by("id").first(),
        )
        term.save()
    return term


CASES = [
    RecordCase(
        id="imdrf.term",
        model=Term,
        make=make_term,
        owner_role="quality",
        other_role="customer_service",
        list_url="imdrf:term_list",
        detail_url="imdrf:term_detail",
        edit_url="imdrf:term_edit",
        edit_changes=lambda t: {"term_zh": f"测试问题 {t.code}"},
        api_list="/api/v1/imdrf/terms?q=Kit+problem",
        api_detail=lambda t: f"/api/v1/imdrf/terms/{t.code}",
        api_write=ApiWrite(
            "patch",
            lambda t: f"/api/v1/imdrf/terms/{t.code}",
            lambda t: {"term_zh": "测试", "definition_zh": ""},
            versioned=True,
        ),
        reqs=("VIG-5",),
    ),
]
