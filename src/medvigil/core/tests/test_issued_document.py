"""The issued-document kit piece (core.records.issued, core.records.issued_views) on the
example app's inspection report: issue (signed, PDF attached, frozen), refusal without a valid
signature or with the guard unmet (nothing changes), frozen after issue, the audit entries, and
access through the document's parent. The 8D report (FBK-8), the recall documents (RCL-5) and
the CAPA report (CAPA-1) are built on it; their own tests prove their rules."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from pypdf import PdfReader

from medvigil.conftest import PASSWORD
from medvigil.core.audit import audit_context
from medvigil.core.models import AuditEntry
from medvigil.core.records.issued import DocumentStatus, IssuedDocumentMixin
from medvigil.core.signatures.services import SignatureError, signatures_for
from medvigil.core.tests.exampleapp import services
from medvigil.core.tests.exampleapp.models import Inspection, InspectionReport

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-6"), pytest.mark.req("PLAT-3")]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def signer(quality_user: Any, settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = str(tmp_path)
    return quality_user


@pytest.fixture
def draft(signer: Any) -> InspectionReport:
    inspection = services.create_inspection(by=signer, title="进货检验 批次 L-7")
    return services.draft_report(inspection, by=signer, text="传感器零点漂移, 已隔离。")


def _entries(obj: Any) -> Any:
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(type(obj))
    return AuditEntry.objects.filter(content_type=ct, object_id=str(obj.pk)).order_by("pk")


def _audit_count(obj: Any) -> int:
    return int(_entries(obj).count())


def test_issue_signs_renders_attaches_and_freezes(draft: InspectionReport, signer: Any) -> None:
    issued = services.issue_report(draft, by=signer, password=PASSWORD, comment="同意发布")
    assert issued.status == DocumentStatus.ISSUED and issued.is_frozen
    assert issued.issued_by == signer and issued.issued_at is not None
    [sig] = signatures_for(issued)
    assert (sig.signer, sig.meaning, sig.reason) == (signer, "approved", "同意发布")
    assert issued.document is not None and issued.document.content_type_header == "application/pdf"
    with issued.document.file.open("rb") as f:
        text = pdf_text(f.read())
    assert "传感器零点漂移" in text and issued.number in text
    # the stored PDF prints the signature it was issued with (signed before rendering)
    assert signer.printed_name in text


def test_no_issue_without_a_valid_signature_nothing_changes(
    draft: InspectionReport, signer: Any
) -> None:
    before = _audit_count(draft)
    for password in ("", "wrong"):
        with pytest.raises(SignatureError):
            services.issue_report(draft, by=signer, password=password)
    fresh = InspectionReport.objects.get(pk=draft.pk)
    assert fresh.status == DocumentStatus.DRAFT and fresh.document_id is None
    assert not signatures_for(fresh).exists() and fresh.version == draft.version
    # the refused attempts are in the trail as events; nothing was updated
    new = list(_entries(fresh))[before:]
    assert [e.action for e in new] == ["event", "event"]
    assert all(e.changes["event"][1] == "signature refused" for e in new)


def test_the_guard_and_the_permission_refuse_before_the_password(
    draft: InspectionReport, signer: Any, make_user: Callable[..., Any]
) -> None:
    viewer = make_user("fin", "finance")
    with pytest.raises(PermissionDenied):
        services.issue_report(draft, by=viewer, password=PASSWORD)
    empty = services.draft_report(draft.inspection, by=signer, text="  ")
    assert empty.issue_error() == "Write the text first." and not empty.can_issue()
    with pytest.raises(ValidationError, match="Write the text first"):
        services.issue_report(empty, by=signer, password=PASSWORD)
    assert InspectionReport.objects.get(pk=empty.pk).status == DocumentStatus.DRAFT


def test_an_issued_document_is_frozen(draft: InspectionReport, signer: Any) -> None:
    issued = services.issue_report(draft, by=signer, password=PASSWORD)
    assert not issued.can_edit() and not issued.can_issue()
    with pytest.raises(ValidationError, match="issued and frozen"):
        services.update_report(issued, by=signer, version=issued.version, text="changed")
    with pytest.raises(ValidationError, match="issued and frozen"):
        services.issue_report(issued, by=signer, password=PASSWORD)
    fresh = InspectionReport.objects.get(pk=issued.pk)
    assert fresh.text == "传感器零点漂移, 已隔离。" and len(signatures_for(fresh)) == 1
    # it may still be voided (with a reason), never edited
    assert fresh.can_transition(DocumentStatus.VOIDED)


def test_the_issue_is_audited_with_the_signers_comment(
    draft: InspectionReport, signer: Any
) -> None:
    before = _audit_count(draft)
    services.issue_report(draft, by=signer, password=PASSWORD, comment="第一版")
    entries = list(_entries(draft))[before:]
    updates = [e for e in entries if e.action == "update"]
    assert updates and all(e.actor_id == signer.pk and e.reason == "第一版" for e in updates)
    changed = set().union(*(set(e.changes) for e in updates))
    assert {"status", "issued_at", "issued_by_id", "document_id"} <= changed
    # the signature and the attached PDF are in the record's trail too
    assert [e.changes["meaning"][1] for e in entries if e.action == "sign"] == ["approved"]
    assert any(e.changes.get("event", [None, ""])[1] == "attachment added" for e in entries)


def test_without_a_comment_the_audit_reason_is_the_services(
    draft: InspectionReport, signer: Any
) -> None:
    before = _audit_count(draft)
    services.issue_report(draft, by=signer, password=PASSWORD)
    reasons = {e.reason for e in list(_entries(draft))[before:] if e.action == "update"}
    assert reasons == {"Report issued"}


def test_pages_page_dialog_issue_and_pdf(
    draft: InspectionReport, signer: Any, client_for: Callable[[Any], Any]
) -> None:
    client = client_for(signer)
    page = client.get(reverse("exampleapp:inspectionreport_detail", args=[draft.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="report-status"' in html and 'id="report-issue"' in html
    preview = client.get(reverse("exampleapp:inspectionreport_pdf", args=[draft.pk]))
    assert preview.status_code == 200 and preview["Content-Type"] == "application/pdf"
    url = reverse("exampleapp:inspectionreport_issue", args=[draft.pk])
    refused = client.post(url, {"password": "wrong", "version": draft.version})
    assert refused.status_code == 400
    assert InspectionReport.objects.get(pk=draft.pk).status == DocumentStatus.DRAFT
    done = client.post(url, {"password": PASSWORD, "version": draft.version})
    assert done.status_code == 302 and done["Location"] == draft.get_absolute_url()
    issued = InspectionReport.objects.get(pk=draft.pk)
    assert issued.status == DocumentStatus.ISSUED
    # the issued PDF is the stored one; the page offers no issue any more
    stored = client.get(reverse("exampleapp:inspectionreport_pdf", args=[draft.pk]))
    with issued.document.file.open("rb") as f:
        assert stored.content == f.read()
    again = client.get(reverse("exampleapp:inspectionreport_detail", args=[draft.pk]))
    assert 'id="report-issue"' not in again.content.decode()


@pytest.mark.req("PLAT-1")
def test_access_follows_the_parent_and_the_signing_permission(
    draft: InspectionReport,
    signer: Any,
    make_user: Callable[..., Any],
    outsider: Any,
    client_for: Callable[[Any], Any],
) -> None:
    detail = reverse("exampleapp:inspectionreport_detail", args=[draft.pk])
    pdf = reverse("exampleapp:inspectionreport_pdf", args=[draft.pk])
    issue = reverse("exampleapp:inspectionreport_issue", args=[draft.pk])
    # customer service may view reports, but only of inspections it owns (the parent's rule)
    cs = make_user("cs1", "customer_service")
    for url in (detail, pdf):
        assert client_for(cs).get(url).status_code == 404
        assert client_for(outsider).get(url).status_code in (403, 404)
    own = services.create_inspection(by=cs, title="own")
    with audit_context(actor=signer):
        mine = InspectionReport.objects.create(inspection=own, text="x")
    own_url = reverse("exampleapp:inspectionreport_detail", args=[mine.pk])
    assert client_for(cs).get(own_url).status_code == 200
    # finance reads every report but may not sign one: no dialog, and the POST is refused
    fin = make_user("fin", "finance")
    page = client_for(fin).get(detail)
    assert page.status_code == 200 and 'id="report-issue"' not in page.content.decode()
    assert client_for(fin).post(issue, {"password": PASSWORD}).status_code in (403, 404)
    assert InspectionReport.objects.get(pk=draft.pk).status == DocumentStatus.DRAFT


def test_every_issued_document_model_declares_an_existing_parent() -> None:
    from django.apps import apps

    models = [
        m for m in apps.get_models() if issubclass(m, IssuedDocumentMixin) and not m._meta.abstract
    ]
    labels = {m._meta.label_lower for m in models}
    assert {
        "complaints.eightdreport",
        "recalls.recalldocument",
        "capa.capareport",
        "exampleapp.inspectionreport",
    } <= labels
    for model in models:
        assert model.document_parent, model
        field = model._meta.get_field(model.document_parent)
        assert field.many_to_one and field.related_model is not None
    assert Inspection  # the example app's parent record
