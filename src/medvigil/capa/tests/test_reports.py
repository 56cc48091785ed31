"""CAPA-1: the CAPA report — problem, risk, containment, root cause, actions with owners, due
dates and status, verification of effectiveness, closure with its signature — issued in
Chinese or English as a signed PDF through the kit's issued-document piece
(core.records.issued), from the CAPA page."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from pypdf import PdfReader

from medvigil.complaints.tests.flow_builders import People
from medvigil.conftest import PASSWORD
from medvigil.core.signatures.services import SignatureError, signatures_for

from ..models import Capa, CapaReport
from ..services import capa as svc
from ..services import reports as rep
from .builders import fresh

pytestmark = [pytest.mark.django_db, pytest.mark.req("CAPA-1")]

PROBLEM = "三台输液泵阻塞报警未响, 存在延误治疗的风险。"
CONTAINMENT = "隔离库存批次 L-2026-07, 通知用户加强巡视。"
ROOT_CAUSE = "来料检验未检查压力传感器零点。"
ACTION = "在来料检验规程中增加传感器零点检查"
EVIDENCE = "三个月内未再收到同类投诉。"


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)


def chinese_capa(people: People, *, close: bool = True) -> Capa:
    """A CAPA written in Chinese, its action done, verified effective and (close) closed."""
    capa = svc.create_capa(
        by=people.quality,
        title="输液泵阻塞报警失灵",
        problem=PROBLEM,
        source_kind="complaint",
        risk="high",
        risk_assessment="可能导致患者治疗中断。",
        containment=CONTAINMENT,
    )
    capa = svc.update_capa(
        capa,
        by=people.quality,
        version=capa.version,
        method="fishbone",
        factor="material",
        whys=["报警未响", "传感器零点漂移"],
        root_cause=ROOT_CAUSE,
    )
    import datetime as dt

    from django.utils import timezone

    act = svc.add_action(
        capa,
        by=people.quality,
        description=ACTION,
        owner=people.engineer,
        due_date=timezone.localdate() + dt.timedelta(days=5),
    )
    svc.complete_action(act, by=people.engineer, version=act.version, result="规程已修订")
    capa = fresh(capa)
    capa = svc.verify_effectiveness(
        capa, by=people.quality, version=capa.version, effective=True, evidence=EVIDENCE
    )
    if close:
        capa = svc.close_capa(fresh(capa), by=people.mr, password=PASSWORD, comment="同意关闭")
    return fresh(capa)


def test_the_chinese_report_pdf_holds_the_whole_capa_and_its_closure(people: People) -> None:
    capa = chinese_capa(people)
    report = rep.draft_capa_report(capa, by=people.quality, language="zh-hans")
    assert report.status == "draft" and report.content == {}
    issued = rep.issue_capa_report(report, by=people.quality, password=PASSWORD, comment="发布")
    assert issued.status == "issued" and issued.issued_by == people.quality
    [sig] = signatures_for(issued)
    assert (sig.signer, sig.meaning) == (people.quality, "approved")
    with issued.document.file.open("rb") as f:
        text = pdf_text(f.read())
    for part in (capa.number, "输液泵阻塞报警失灵", PROBLEM, CONTAINMENT, ROOT_CAUSE, EVIDENCE):
        assert part in text, part
    assert ACTION in text and people.engineer.printed_name in text
    assert "规程已修订" in text  # the action's result
    assert "CAPA 报告" in text and "有效性验证" in text  # headings in Chinese
    assert "同意关闭" in text  # the closure signature's comment
    # the closure signature and the report's own approval both appear
    assert text.count(people.quality.printed_name) >= 2


def test_an_english_report_reads_in_english(people: People, english: Any) -> None:
    capa = chinese_capa(people)
    report = rep.draft_capa_report(capa, by=people.quality, language="en")
    issued = rep.issue_capa_report(report, by=people.quality, password=PASSWORD)
    with issued.document.file.open("rb") as f:
        text = pdf_text(f.read())
    assert "Verification of effectiveness" in text and "Root cause" in text
    assert PROBLEM in text  # the record's own text stays as written
    assert issued.content["effectiveness"]["result"] == "effective"


def test_issuing_freezes_the_capa_as_it_was(people: People) -> None:
    capa = chinese_capa(people, close=False)
    report = rep.draft_capa_report(capa, by=people.quality, language="zh-hans")
    issued = rep.issue_capa_report(report, by=people.quality, password=PASSWORD)
    assert issued.content["problem"] == PROBLEM
    assert issued.content["closure"]["closed_at"] == ""  # an interim report: not closed yet
    with issued.document.file.open("rb") as f:
        stored = f.read()
    # the CAPA changes afterwards; the issued report and its PDF do not
    svc.update_capa(capa, by=people.quality, version=fresh(capa).version, problem="改写后的问题")
    again = CapaReport.objects.get(pk=issued.pk)
    assert again.content["problem"] == PROBLEM
    with again.document.file.open("rb") as f:
        assert f.read() == stored
    assert "改写后的问题" not in pdf_text(stored)
    with pytest.raises(ValidationError, match="issued and frozen"):
        rep.issue_capa_report(again, by=people.quality, password=PASSWORD)
    # a new draft previews the CAPA as it is now
    draft = rep.draft_capa_report(capa, by=people.quality, language="zh-hans")
    assert "改写后的问题" in pdf_text(rep.capa_report_pdf(draft, user=people.quality))


def test_refusals_change_nothing(people: People) -> None:
    capa = chinese_capa(people)
    with pytest.raises(PermissionDenied):
        rep.draft_capa_report(capa, by=people.engineer, language="zh-hans")
    with pytest.raises(ValidationError):
        rep.draft_capa_report(capa, by=people.quality, language="fr")
    report = rep.draft_capa_report(capa, by=people.quality, language="zh-hans")
    with pytest.raises(ValidationError, match="draft report"):
        rep.draft_capa_report(capa, by=people.quality, language="en")
    with pytest.raises(PermissionDenied):
        rep.issue_capa_report(report, by=people.engineer, password=PASSWORD)
    with pytest.raises(SignatureError):
        rep.issue_capa_report(report, by=people.quality, password="wrong")
    report = fresh(report)
    assert report.status == "draft" and report.content == {} and report.document_id is None
    # a "no CAPA needed" record has no CAPA report
    capa = svc.create_capa(by=people.quality, title="x", problem="y")
    Capa.objects.filter(pk=capa.pk).update(status=Capa.Status.NOT_NEEDED)
    with pytest.raises(ValidationError, match="open or closed"):
        rep.draft_capa_report(fresh(capa), by=people.quality, language="zh-hans")


def test_the_capa_page_drafts_and_issues_the_report(
    people: People, tech: Any, client_for: Any
) -> None:
    capa = chinese_capa(people)
    client = client_for(people.quality)
    page = client.get(capa.get_absolute_url()).content.decode()
    assert 'id="capa-report-new"' in page
    r = client.post(reverse("capa:capareport_new", args=[capa.pk]), {"language": "zh-hans"})
    report = CapaReport.objects.get(capa=capa)
    assert r.status_code == 302 and r["Location"] == report.get_absolute_url()
    detail = client.get(report.get_absolute_url()).content.decode()
    assert PROBLEM in detail and 'id="capa-report-issue"' in detail
    preview = client.get(reverse("capa:capareport_pdf", args=[report.pk]))
    assert preview.status_code == 200 and PROBLEM in pdf_text(preview.content)
    r = client.post(
        reverse("capa:capareport_issue", args=[report.pk]),
        {"password": PASSWORD, "version": report.version, "meaning": "approved"},
    )
    assert r.status_code == 302
    assert fresh(report).status == "issued"
    assert report.number in client.get(capa.get_absolute_url()).content.decode()
    # the technical engineer reads the report but cannot issue or draft one; a service
    # engineer (action owner only) does not see reports
    assert client_for(people.engineer).get(report.get_absolute_url()).status_code in (403, 404)
    reader = client_for(tech)
    assert reader.get(report.get_absolute_url()).status_code == 200
    r = reader.post(reverse("capa:capareport_new", args=[capa.pk]), {"language": "en"})
    assert r.status_code == 403 and CapaReport.objects.filter(capa=capa).count() == 1
