"""FBK-8: the 8D report (drafted, edited, issued signed as a PDF, frozen); FBK-9 and PLAT-11: the
complaint file on one screen and as one PDF, contact and patient data masked without the
sensitive permissions."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils import timezone
from pypdf import PdfReader

from medvigil.complaints.models import EightDReport, Feedback, Investigation, Resolution
from medvigil.complaints.services import complaint_file as file_svc
from medvigil.complaints.services import eight_d, intake
from medvigil.conftest import PASSWORD
from medvigil.core.audit import audit_context
from medvigil.core.models import AuditEntry, ConflictError
from medvigil.core.signatures.services import SignatureError, signatures_for

from .conftest import complaint_data

pytestmark = pytest.mark.django_db


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def complaint(world: Any, cs_user: Any, quality_user: Any) -> Feedback:
    fb = intake.register_feedback(
        by=cs_user,
        unit=world.a_units[0].pk,
        **complaint_data(
            complainant_email="zhang@hospital.example",
            complainant_address="上海市黄浦区人民路1号",
            patient_involvement="injury",
            patient_details="患者王某前臂皮肤轻度灼伤",
        ),
    )
    with audit_context(actor=quality_user):
        Investigation.objects.create(
            feedback=fb,
            method="5m1e",
            factor="material",
            root_cause="报警蜂鸣器焊点虚焊",
            responsibility="company",
            correction="更换同批次蜂鸣器并复检",
            investigator=quality_user,
            started_at=timezone.now(),
            completed_at=timezone.now(),
        )
        Resolution.objects.create(
            feedback=fb,
            remedies=["repair"],
            corrective_action="修订焊接作业指导书，增加焊点拉力检验",
            reply_text="已为贵院免费维修并更换蜂鸣器。",
            reply_sent_at=timezone.now(),
            reply_sent_by=cs_user,
        )
    return Feedback.objects.get(pk=fb.pk)


@pytest.mark.req("FBK-8")
def test_8d_is_drafted_from_the_record_in_chinese(complaint: Feedback, cs_user: Any) -> None:
    report = eight_d.draft_eight_d(complaint, by=cs_user, language="zh-hans")
    assert report.number.startswith("8D-") and report.status == "draft"
    assert complaint.number in report.d2_problem and "堵塞报警未响" in report.d2_problem
    assert "报警蜂鸣器焊点虚焊" in report.d4_root_cause
    assert "方法" in report.d4_root_cause or "5M1E" in report.d4_root_cause
    assert "更换同批次蜂鸣器并复检" in report.d3_containment
    assert "修订焊接作业指导书" in report.d5_corrective_actions
    assert "已为贵院免费维修" in report.d6_implementation
    assert cs_user.printed_name in report.d1_team
    english = eight_d.draft_eight_d(complaint, by=cs_user, language="en")
    assert "Responsibility: company" in english.d4_root_cause
    with pytest.raises(ValidationError):
        eight_d.draft_eight_d(complaint, by=cs_user, language="fr")


@pytest.mark.req("FBK-8")
def test_8d_edited_then_issued_signed_as_a_chinese_pdf_and_frozen(
    complaint: Feedback, cs_user: Any, quality_user: Any
) -> None:
    report = eight_d.draft_eight_d(complaint, by=cs_user, language="zh-hans")
    # not issued with an empty D
    with pytest.raises(ValidationError, match="D1 to D8"):
        eight_d.issue_eight_d(report, by=quality_user, password=PASSWORD)
    report = eight_d.update_eight_d(
        report,
        by=cs_user,
        version=report.version,
        d7_prevention="纳入供应商年度审核",
        d8_closure="客户确认满意，团队表彰",
    )
    with pytest.raises(ConflictError):
        eight_d.update_eight_d(report, by=cs_user, version=report.version - 1, d8_closure="x")
    with pytest.raises(SignatureError):
        eight_d.issue_eight_d(report, by=quality_user, password="wrong")
    issued = eight_d.issue_eight_d(report, by=quality_user, password=PASSWORD)
    assert issued.status == "issued" and issued.issued_by == quality_user
    assert issued.document is not None
    with issued.document.file.open("rb") as f:
        text = pdf_text(f.read())
    for chinese in ("报警蜂鸣器焊点虚焊", "纳入供应商年度审核", "客户确认满意", "输液泵报警失灵"):
        assert chinese in text, chinese
    assert "D4" in text and issued.number in text
    assert quality_user.printed_name in text  # the signature is printed
    sigs = list(signatures_for(issued))
    assert len(sigs) == 1 and sigs[0].signer == quality_user
    from medvigil.core.signatures.services import signature_state

    assert signature_state(sigs[0]) == "matches"
    # frozen
    with pytest.raises(ValidationError, match="frozen"):
        eight_d.update_eight_d(issued, by=cs_user, version=issued.version, d8_closure="改")


@pytest.mark.req("FBK-8")
def test_8d_in_english_is_an_english_pdf(complaint: Feedback, cs_user: Any) -> None:
    report = eight_d.draft_eight_d(complaint, by=cs_user, language="en")
    text = pdf_text(eight_d.eight_d_pdf(report, user=cs_user))
    assert "8D report" in text and "D2 problem description" in text
    assert "输液泵报警失灵" in text  # the customer's own words stay as written


@pytest.mark.req("FBK-8")
def test_8d_pages_draft_edit_issue_and_download(
    complaint: Feedback, client_for: Any, cs_user: Any, quality_user: Any, outsider: Any
) -> None:
    c = client_for(cs_user)
    r = c.post(f"/complaints/{complaint.pk}/8d/new/", {"language": "zh-hans"})
    report = EightDReport.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/complaints/8d/{report.pk}/"
    page = c.get(f"/complaints/8d/{report.pk}/")
    assert page.status_code == 200 and "报警蜂鸣器焊点虚焊" in page.content.decode()
    data = {"version": report.version, "language": "zh-hans"}
    data.update({n: getattr(report, n) or "已完成" for n in EightDReport.TEXT_FIELDS})
    data["d8_closure"] = "结案"
    assert c.post(f"/complaints/8d/{report.pk}/edit/", data).status_code == 302
    ct = ContentType.objects.get_for_model(EightDReport)
    assert (
        AuditEntry.objects.filter(
            content_type=ct, object_id=str(report.pk), action="update"
        ).count()
        == 1
    )
    stale = c.post(f"/complaints/8d/{report.pk}/edit/", {**data, "d8_closure": "旧页面"})
    assert (
        stale.status_code == 200
        and "is-invalid" in stale.content.decode()
        or "alert" in stale.content.decode()
    )
    assert (
        AuditEntry.objects.filter(
            content_type=ct, object_id=str(report.pk), action="update"
        ).count()
        == 1
    )
    q = client_for(quality_user)
    bad = q.post(
        f"/complaints/8d/{report.pk}/issue/", {"password": "nope", "version": report.version + 1}
    )
    assert bad.status_code == 400
    report.refresh_from_db()
    ok = q.post(
        f"/complaints/8d/{report.pk}/issue/", {"password": PASSWORD, "version": report.version}
    )
    assert ok.status_code == 302
    pdf = q.get(f"/complaints/8d/{report.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "结案" in pdf_text(pdf.content)
    assert client_for(outsider).get(f"/complaints/8d/{report.pk}/").status_code in (403, 404)
    assert client_for(outsider).get(f"/complaints/8d/{report.pk}/pdf/").status_code in (403, 404)


@pytest.mark.req("FBK-9", "PLAT-11")
def test_complaint_file_pdf_holds_the_record_in_chinese_with_contacts_for_quality(
    complaint: Feedback, quality_user: Any
) -> None:
    text = pdf_text(file_svc.complaint_file_pdf(complaint, user=quality_user, language="zh-hans"))
    for expected in (
        complaint.number,
        "输液泵报警失灵",  # nature
        "上海第一人民医院",
        "张护士",  # complainant name
        "13800000009",  # phone
        "上海市黄浦区人民路1号",  # address
        "患者王某前臂皮肤轻度灼伤",
        "报警蜂鸣器焊点虚焊",  # investigation
        "修订焊接作业指导书",  # corrective action
        "已为贵院免费维修",  # reply
    ):
        assert expected in text, expected
    assert "投诉档案" in text or "Complaint file" in text
    ct = ContentType.objects.get_for_model(Feedback)
    events = AuditEntry.objects.filter(content_type=ct, object_id=str(complaint.pk), action="event")
    assert [e.changes["event"][1] for e in events] == ["complaint file exported"]
    assert events[0].actor == quality_user


@pytest.mark.req("FBK-9", "PLAT-11")
def test_complaint_file_masks_contact_and_patient_data_without_the_permission(
    complaint: Feedback, make_user: Any
) -> None:
    tech = make_user("tech", "technical", department="technical")
    data = file_svc.complaint_file(complaint, user=tech)
    assert data["complainant"]["name"] == "***" and data["complainant"]["phone"] == "***"
    assert data["patient_details"] == "***"
    text = pdf_text(file_svc.complaint_file_pdf(complaint, user=tech, language="en"))
    assert "报警蜂鸣器焊点虚焊" in text
    for secret in ("张护士", "13800000009", "上海市黄浦区人民路1号", "患者王某", "zhang@hospital"):
        assert secret not in text, secret


@pytest.mark.req("FBK-9", "PLAT-11")
def test_complaint_file_screen_every_field_and_access(
    complaint: Feedback, client_for: Any, quality_user: Any, make_user: Any, outsider: Any
) -> None:
    page = client_for(quality_user).get(f"/complaints/{complaint.pk}/file/")
    assert page.status_code == 200
    body = page.content.decode()
    for expected in ("输液泵报警失灵", "13800000009", "报警蜂鸣器焊点虚焊", "已为贵院免费维修"):
        assert expected in body
    for label in (
        "Device name",
        "Date received",
        "UDI or other identification",
        "Address",
        "Phone",
        "Nature and details",
        "Correction and corrective action",
        "Evaluation",
        "Investigation",
        "Resolution and replies",
        "Signatures",
        "History",
    ):
        assert label in body, label
    tech = make_user("tech", "technical", department="technical")
    masked = client_for(tech).get(f"/complaints/{complaint.pk}/file/").content.decode()
    assert "13800000009" not in masked and "患者王某" not in masked and "***" in masked
    pdf = client_for(quality_user).get(f"/complaints/{complaint.pk}/file/pdf/?lang=zh-hans")
    assert pdf.status_code == 200 and "输液泵报警失灵" in pdf_text(pdf.content)
    assert client_for(outsider).get(f"/complaints/{complaint.pk}/file/").status_code in (403, 404)
    assert client_for(outsider).get(f"/complaints/{complaint.pk}/file/pdf/").status_code in (
        403,
        404,
    )
