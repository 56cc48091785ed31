"""VIG-6: the regulator forms through core.documents — the China form, FDA 3500A (803.52) and
EU MIR 7.3.1 — with the record's text and every field label, and the JSON/XML exports."""

from __future__ import annotations

import io
import json
from xml.etree import ElementTree as ET

import pytest
from django.urls import reverse
from pypdf import PdfReader

from ..models import ReportabilityDecision, VigilanceReport
from ..services import decisions as dec_svc
from ..services.forms import FORMS, form_sections
from .conftest import PASSWORD, make_event

pytestmark = [pytest.mark.django_db, pytest.mark.req("VIG-6")]


def _report(people, unit, **facts):
    event = make_event(people.quality, unit=unit, **facts)
    d = ReportabilityDecision.objects.get(event=event, status="proposed")
    dec_svc.confirm_decision(d, by=people.quality, password=PASSWORD)
    return VigilanceReport.objects.filter(event=event).first()


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


CN_LABELS = [
    "报告编码", "报告地点", "报告人", "产品名称", "注册证编号", "型号", "规格", "产品批号",
    "产品编号", "UDI", "生产日期", "有效期至", "注册人/备案人", "事件发生日期", "发现或获知日期",
    "伤害程度", "伤害表现", "器械故障表现", "姓名", "出生日期", "年龄", "性别", "病历号",
    "既往病史", "预期治疗疾病或作用", "器械使用日期", "使用场所", "使用过程",
    "合并用药/械情况说明", "事件原因分析", "事件初步处置情况", "持有人调查情况", "关联性评价",
    "风险评价", "控制措施",
]  # fmt: skip


def test_the_china_form_has_every_field_and_the_records_chinese_text(people, world, client_for):
    report = _report(people, world.units[0], outcome="death", initial_cause="product")
    _code, title, sections = form_sections(report, people.quality)
    labels = [label for _k, _t, fields in sections for _f, label, _v in fields]
    assert title == "可疑医疗器械不良事件报告表"
    assert set(CN_LABELS) <= set(labels)
    response = client_for(people.quality).get(reverse("vigilance:report_pdf", args=[report.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = _text(response.content)
    for label in (
        "可疑医疗器械不良事件报告表",
        "报告编码",
        "伤害程度",
        "死亡",
        "产品原因",
        "控制措施",
    ):
        assert label in text, label
    assert "患者输注过量" in text and "张三" in text


def test_the_mir_and_3500a_carry_their_fields(people, world, client_for):
    mir = _report(people, world.units[2], outcome="death")
    _c, _t, sections = form_sections(mir, people.quality)
    fields = {f: v for _k, _t2, fs in sections for f, _l, v in fs}
    assert fields["report_type"] == "Initial"
    assert fields["classification"].startswith("Death or unanticipated")
    assert fields["udi_di"] == world.pump.gtin
    assert {"udi_pi", "imdrf_codes", "narrative", "date_reportability"} <= set(fields)
    text = _text(
        client_for(people.quality).get(reverse("vigilance:report_pdf", args=[mir.pk])).content
    )
    assert "Classification of the incident" in text and "UDI-DI" in text and "患者输注过量" in text
    fda = _report(people, world.units[1], outcome="serious_injury")
    _c, title, sections = form_sections(fda, people.quality)
    fields = {f: v for _k, _t2, fs in sections for f, _l, v in fs}
    assert "803.52" in title and fields["report_type"] == "30-day report"
    assert fields["outcome"] == "Serious injury" and fields["date_aware"]
    assert set(FORMS) == {"CN", "US", "EU"}


def test_json_and_xml_exports_follow_the_form_sections_and_mask_patient_data(
    people, world, client_for
):
    report = _report(people, world.units[0], outcome="death")
    c = client_for(people.quality)
    data = json.loads(c.get(reverse("vigilance:report_json", args=[report.pk])).content)
    assert (
        data["form"] == "cn_adverse_event" and data["sections"]["patient"]["patient_name"] == "张三"
    )
    xml = ET.fromstring(c.get(reverse("vigilance:report_xml", args=[report.pk])).content)
    assert xml.get("form") == "cn_adverse_event"
    assert xml.find("section[@name='device']/field[@name='device_name']").text == "输液泵"
    tech = client_for(people.technical)
    data = json.loads(tech.get(reverse("vigilance:report_json", args=[report.pk])).content)
    assert data["sections"]["patient"]["patient_name"] == "***"
