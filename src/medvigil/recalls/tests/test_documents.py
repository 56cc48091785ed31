"""RCL-5: the recall plan, the field safety notice and the final evaluation report through
the document service, bilingual, approved with an electronic signature by the division head
or general manager before issue; RCL-6: an advisory notice's by the management
representative."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from pypdf import PdfReader

from medvigil.conftest import PASSWORD
from medvigil.core.signatures.services import SignatureError, signatures_for

from .. import services
from ..models import DocumentKind, Kind, Recall, RecallDocument
from .conftest import decide, new_recall

pytestmark = [pytest.mark.django_db, pytest.mark.req("RCL-5")]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def decided(world: Any, quality_user: Any, gm: Any, settings: Any, tmp_path: Any) -> Recall:
    settings.MEDIA_ROOT = str(tmp_path)
    return decide(services.resolve_scope(new_recall(quality_user), by=quality_user), gm)


def test_the_notice_is_approved_by_the_general_manager_and_issued_as_a_chinese_pdf(
    decided: Recall, quality_user: Any, gm: Any
):
    doc = services.draft_document(decided, by=quality_user, kind=DocumentKind.NOTICE)
    assert "输液泵报警失灵召回" in doc.body_zh and "Infusion pump alarm" in doc.body_en
    with pytest.raises(PermissionDenied):  # quality drafts, never approves
        services.issue_document(doc, by=quality_user, password=PASSWORD)
    with pytest.raises(SignatureError):
        services.issue_document(doc, by=gm, password="wrong")
    assert RecallDocument.objects.get(pk=doc.pk).status == "draft"
    issued = services.issue_document(doc, by=gm, password=PASSWORD, comment="批准发布")
    assert issued.status == "issued" and issued.issued_by == gm
    [sig] = signatures_for(issued)
    assert (sig.signer, sig.meaning) == (gm, "approved")
    with issued.document.file.open("rb") as f:
        text = pdf_text(f.read())
    assert "输液泵报警失灵召回" in text  # the recall's Chinese text
    assert "报警模块在低电量时可能不响" in text
    assert "Infusion pump alarm failure recall" in text  # and the English one
    assert decided.number in text
    with pytest.raises(ValidationError, match="frozen"):
        services.update_document(issued, by=quality_user, version=issued.version, body_zh="x")


def test_a_document_needs_both_languages_before_issue(decided: Recall, quality_user: Any, gm: Any):
    doc = services.draft_document(decided, by=quality_user, kind=DocumentKind.PLAN)
    doc = services.update_document(doc, by=quality_user, version=doc.version, body_en="")
    with pytest.raises(ValidationError, match="both texts"):
        services.issue_document(doc, by=gm, password=PASSWORD)
    with pytest.raises(ValidationError, match="draft of this document exists"):
        services.draft_document(decided, by=quality_user, kind=DocumentKind.PLAN)


def test_the_recall_closes_only_after_its_final_evaluation_report(
    decided: Recall, quality_user: Any, gm: Any
):
    with pytest.raises(ValidationError, match="final evaluation report"):
        services.close_recall(decided, by=quality_user, version=decided.version, conclusion="ok")
    doc = services.draft_document(decided, by=quality_user, kind=DocumentKind.FINAL)
    assert "Effectiveness" in doc.body_en
    services.issue_document(doc, by=gm, password=PASSWORD)
    decided.refresh_from_db()
    closed = services.close_recall(
        decided, by=quality_user, version=decided.version, conclusion="全部处理完毕"
    )
    assert closed.status == "closed" and closed.closed_at is not None


@pytest.mark.req("RCL-6")
def test_an_advisory_notices_documents_are_approved_by_the_management_representative(
    world: Any, quality_user: Any, gm: Any, rep: Any, settings: Any, tmp_path: Any
):
    settings.MEDIA_ROOT = str(tmp_path)
    notice = services.resolve_scope(
        new_recall(quality_user, kind=Kind.ADVISORY, level=None), by=quality_user
    )
    with pytest.raises(PermissionDenied):
        decide(notice, gm)
    notice = decide(notice, rep)
    doc = services.draft_document(notice, by=quality_user, kind=DocumentKind.NOTICE)
    with pytest.raises(PermissionDenied):
        services.issue_document(doc, by=gm, password=PASSWORD)
    assert services.issue_document(doc, by=rep, password=PASSWORD).status == "issued"
