"""VIG-6: the regulators' forms of a report, as data read from the report's content (the
frozen snapshot once submitted): China's 可疑医疗器械不良事件报告表, the FDA 3500A fields of
21 CFR 803.52, the EU MIR 7.3.1 sections. Each form is a list of sections of (key, label,
value); the PDF (core.documents), the JSON and the XML exports are made from the same list."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from ..models import InitialCause, Outcome, ReportKind, VigilanceReport
from .reports import masked_snapshot, snapshot

Field = tuple[str, str, Any]  # key, label, value
Section = tuple[str, str, list[Field]]  # key, title, fields

CN_HARM = {"death": "死亡", "serious_injury": "严重伤害", "malfunction": "其他", "other": "其他"}
CN_CAUSE = {
    InitialCause.PRODUCT: "产品原因",
    InitialCause.OPERATION: "操作原因",
    InitialCause.PATIENT: "患者自身原因",
    InitialCause.UNDETERMINED: "无法确定",
}
US_OUTCOME = {
    Outcome.DEATH: "Death",
    Outcome.SERIOUS_INJURY: "Serious injury",
    Outcome.MALFUNCTION: "Malfunction",
    Outcome.OTHER: "Other",
}
US_REPORT_TYPE = {
    "us.mdr_5wd": "5-day report",
    "us.mdr_30": "30-day report",
    "us.supplemental": "Supplemental report",
    "us.importer_30": "Importer report",
    "us.user_facility_10wd": "User facility report",
}
EU_CLASSIFICATION = {
    "eu.public_health_threat": "Serious public health threat (2 days)",
    "eu.death_unanticipated": "Death or unanticipated serious deterioration in state of health "
    "(10 days)",
    "eu.serious_incident": "Serious incident (15 days)",
}
EU_REPORT_TYPE = {
    ReportKind.INITIAL: "Initial",
    ReportKind.FOLLOW_UP: "Follow-up",
    ReportKind.COMBINED: "Combined initial and final",
    ReportKind.FINAL: "Final",
}


def imdrf_text(e: dict[str, Any], *, zh: bool = False) -> str:
    """VIG-5: the event's IMDRF codes with their terms ("A0502 Leak/Splash; E0102 …"), from
    the frozen content (a report frozen before the picker has only the codes: their terms
    are looked up now; a code unknown to the terminology is shown alone)."""
    rows = e.get("imdrf_terms")
    if rows is None:
        from .events import imdrf_terms

        rows = imdrf_terms(e.get("imdrf_codes") or [])
    parts = []
    for row in rows:
        term = (row.get("term_zh") if zh else "") or row.get("term") or ""
        text = f"{row['code']} {term}".strip()
        if row.get("retired"):
            text += f" (retired in IMDRF {row.get('retired_in') or ''})".rstrip()
        parts.append(text)
    return "; ".join(parts)


def _china(c: dict[str, Any]) -> list[Section]:
    r, e, d, p, dec = c["report"], c["event"], c["device"], c["patient"], c["decision"]
    narrative = r["narrative"]
    return [
        (
            "report",
            "报告信息",
            [
                ("report_code", "报告编码", r["number"]),
                ("report_place", "报告地点", e["occurred_where"]),
                ("reporter", "报告人", dec["decided_by"]),
                ("report_type", "报告类型", "首次报告" if r["kind"] == "initial" else "补充报告"),
            ],
        ),
        (
            "device",
            "医疗器械情况",
            [
                ("device_name", "产品名称", d["name"]),
                ("registration_number", "注册证编号", d["registration_number"]),
                ("model", "型号", d["model"]),
                ("specification", "规格", d["model"]),
                ("lot", "产品批号", d["lot"]),
                ("product_number", "产品编号", d["serial"]),
                ("udi", "UDI", d["udi_text"] or f"{d['udi_di']} {d['udi_pi']}".strip()),
                ("production_date", "生产日期", d["production_date"]),
                ("expiry_date", "有效期至", d["expiry_date"]),
                ("holder", "注册人/备案人", d["manufacturer"]),
            ],
        ),
        (
            "event",
            "不良事件情况",
            [
                ("event_date", "事件发生日期", e["occurred_at"]),
                ("date_learned", "发现或获知日期", e["aware_at"]),
                ("harm_level", "伤害程度", CN_HARM.get(e["outcome"], "其他")),
                (
                    "harm_manifestation",
                    "伤害表现",
                    narrative if e["outcome"] != "malfunction" else "",
                ),
                ("malfunction_manifestation", "器械故障表现", narrative),
                ("imdrf_codes", "IMDRF术语编码", imdrf_text(e, zh=True)),
            ],
        ),
        (
            "patient",
            "患者信息",
            [
                ("patient_name", "姓名", p["name"]),
                ("birth_date", "出生日期", p["birth_date"]),
                ("age", "年龄", p["age"]),
                ("sex", "性别", {"M": "男", "F": "女"}.get(p["sex"], p["sex"])),
                ("record_number", "病历号", p["record_number"]),
                ("history", "既往病史", p["history"]),
            ],
        ),
        (
            "use",
            "使用情况",
            [
                ("intended_use", "预期治疗疾病或作用", e["intended_use"]),
                ("use_date", "器械使用日期", e["used_at"]),
                ("use_place", "使用场所", e["use_place"]),
                ("use_process", "使用过程", e["use_process"]),
                ("concomitant", "合并用药/械情况说明", e["concomitant_products"]),
            ],
        ),
        (
            "evaluation",
            "事件初步分析与处置",
            [
                ("initial_cause", "事件原因分析", CN_CAUSE.get(e["initial_cause"], "")),
                ("handling", "事件初步处置情况", e["handling"]),
                ("investigation", "持有人调查情况", e["investigation"]),
                ("relatedness", "关联性评价", e["relatedness"]),
                ("risk_evaluation", "风险评价", e["risk_evaluation"]),
                ("control_measures", "控制措施", e["control_measures"]),
            ],
        ),
    ]


def _fda(c: dict[str, Any]) -> list[Section]:
    r, e, d, p = c["report"], c["event"], c["device"], c["patient"]
    return [
        (
            "patient",
            "A. Patient information (803.52(a))",
            [
                ("patient_identifier", "Patient identifier", p["record_number"] or p["name"]),
                ("age", "Age at time of event", p["age"]),
                ("date_of_birth", "Date of birth", p["birth_date"]),
                ("sex", "Sex", p["sex"]),
            ],
        ),
        (
            "event",
            "B. Adverse event or product problem (803.52(b))",
            [
                ("outcome", "Outcome attributed to adverse event", US_OUTCOME.get(e["outcome"])),
                ("event_date", "Date of event", e["occurred_at"]),
                ("report_date", "Date of this report", r.get("submitted_at") or ""),
                ("description", "Description of event or problem", r["narrative"]),
                ("relevant_history", "Other relevant history", p["history"]),
            ],
        ),
        (
            "device",
            "D. Suspect medical device (803.52(c))",
            [
                ("brand_name", "Brand name", d["name_en"] or d["name"]),
                ("common_name", "Common device name", d["name"]),
                ("manufacturer", "Manufacturer name", d["manufacturer"]),
                ("model", "Model number", d["model"]),
                ("serial", "Serial number", d["serial"]),
                ("lot", "Lot number", d["lot"]),
                ("udi", "Unique device identifier (UDI)", d["udi_di"]),
                ("expiration_date", "Expiration date", d["expiry_date"]),
            ],
        ),
        (
            "manufacturer",
            "G/H. Manufacturer (803.52(e), (f))",
            [
                ("date_aware", "Date manufacturer became aware", e["aware_at"]),
                (
                    "report_type",
                    "Type of report",
                    US_REPORT_TYPE.get(r["deadline_rule"], r["kind"]),
                ),
                (
                    "remedial_action",
                    "Remedial action initiated",
                    "Yes" if e["remedial_action"] else "No",
                ),
                ("evaluation", "Device evaluation and conclusions", e["investigation"]),
                ("report_number", "Manufacturer report number", r["number"]),
                ("codes", "Device and patient problem codes (IMDRF)", imdrf_text(e)),
            ],
        ),
    ]


def _mir(c: dict[str, Any]) -> list[Section]:
    r, e, d, p = c["report"], c["event"], c["device"], c["patient"]
    return [
        (
            "admin",
            "1. Administrative information",
            [
                ("report_type", "Type of report", EU_REPORT_TYPE.get(r["kind"], r["kind"])),
                ("manufacturer_reference", "Manufacturer's reference number", r["number"]),
                (
                    "classification",
                    "Classification of the incident",
                    EU_CLASSIFICATION.get(r["deadline_rule"], r["deadline_rule"]),
                ),
                ("date_aware", "Date the manufacturer became aware of the incident", e["aware_at"]),
                (
                    "date_reportability",
                    "Date of awareness of reportability",
                    e["eu_reportability_at"],
                ),
                ("incident_date", "Date the incident occurred", e["occurred_at"]),
            ],
        ),
        (
            "device",
            "2. Medical device information",
            [
                ("udi_di", "UDI-DI", d["udi_di"]),
                ("udi_pi", "UDI-PI", d["udi_pi"]),
                ("name", "Device name", d["name_en"] or d["name"]),
                ("model", "Model", d["model"]),
                ("serial", "Serial number", d["serial"]),
                ("lot", "Lot/batch number", d["lot"]),
                ("risk_class", "Risk class", d["risk_class"]),
            ],
        ),
        (
            "incident",
            "3. Incident information",
            [
                ("imdrf_codes", "IMDRF codes", imdrf_text(e)),
                (
                    "narrative",
                    "Manufacturer's description of the incident (≤ 4000)",
                    r["narrative"],
                ),
                ("patient_age", "Patient age", p["age"]),
                ("patient_sex", "Patient sex", p["sex"]),
                ("location", "Location of the incident", e["occurred_where"]),
            ],
        ),
        (
            "investigation",
            "4. Manufacturer's investigation",
            [
                ("investigation", "Preliminary results and conclusions", e["investigation"]),
                ("remedial_action", "Remedial action / corrective action", e["control_measures"]),
            ],
        ),
    ]


FORMS = {
    "CN": ("cn_adverse_event", "可疑医疗器械不良事件报告表", _china, "zh-hans"),
    "US": ("fda_3500a", "FDA 3500A (21 CFR 803.52)", _fda, "en"),
    "EU": ("eu_mir", "EU MIR 7.3.1 (Manufacturer Incident Report)", _mir, "en"),
}


def report_content(report: VigilanceReport, user: Any) -> dict[str, Any]:
    content = report.content if report.content is not None else snapshot(report)
    content = {**content, "report": {**content["report"], "submitted_at": None}}
    if report.submitted_at:
        content["report"]["submitted_at"] = report.submitted_at.isoformat()
    return masked_snapshot(content, user)


def form_sections(report: VigilanceReport, user: Any) -> tuple[str, str, list[Section]]:
    """(form code, form title, sections) of the report's market, read as `user` may."""
    code, title, build, _lang = FORMS[report.market]
    return code, title, build(report_content(report, user))


def as_json(report: VigilanceReport, user: Any) -> str:
    code, title, sections = form_sections(report, user)
    data = {
        "form": code,
        "title": title,
        "report": report.number,
        "status": report.status,
        "regulator_reference": report.regulator_reference,
        "sections": {key: {f: v for f, _label, v in fields} for key, _t, fields in sections},
    }
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def as_xml(report: VigilanceReport, user: Any) -> bytes:
    code, title, sections = form_sections(report, user)
    root = ET.Element(
        "report",
        {"form": code, "number": report.number, "status": report.status},
    )
    ET.SubElement(root, "title").text = title
    for key, section_title, fields in sections:
        sec = ET.SubElement(root, "section", {"name": key, "title": section_title})
        for f, label, value in fields:
            el = ET.SubElement(sec, "field", {"name": f, "label": label})
            el.text = "" if value is None else str(value)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def form_pdf(report: VigilanceReport, user: Any) -> bytes:
    from medvigil.core.documents import render_pdf

    code, title, sections = form_sections(report, user)
    language = FORMS[report.market][3]
    return render_pdf(
        "vigilance/documents/report_form.html",
        {"report": report, "sections": sections, "form_title": title},
        record=report,
        title=title,
        language=language,
        user=user,
    )
