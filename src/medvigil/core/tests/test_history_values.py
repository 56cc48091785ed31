"""PLAT-2: values a reader cannot read as stored — a service request's service-level rules
and clock, a nonconformity's lots and units, a report's frozen content — show in the history
as the model reads them (RecordHooks.history_values), in the reader's language; a masked
value stays masked."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import translation

from medvigil.capa.models import Nonconformity
from medvigil.core.templatetags.records import history_rows
from medvigil.service.models import ServiceRequest
from medvigil.vigilance.models import TrendReport, VigilanceReport


def _rows(model: Any, changes: dict[str, Any], language: str, user: Any = None) -> dict:
    entry = SimpleNamespace(action="update", changes=changes, source="web")
    with translation.override(language):
        rows = history_rows([entry], model, user=user)[0]["rows"]
    return {r["field"]: (r["old"], r["new"]) for r in rows}


class _Everything:
    def has_perm(self, perm: str) -> bool:
        return True


@pytest.mark.req("PLAT-2", "SVC-2")
def test_service_levels_show_the_rule_titles_and_the_clock_by_name() -> None:
    rules = {"response": "SVC-RESPONSE", "arrival": "SVC-ARRIVE-CITY"}
    rows = _rows(ServiceRequest, {"sla_rules": [{}, rules], "sla_clock": ["", "business"]}, "en")
    assert rows["clock"] == ("—", "business hours")
    old, new = rows["service-level rules"]
    assert old == "—"
    assert new.startswith("Service request: substantive response to the customer (SVC-RESPONSE)")
    assert "Engineer on site (city) (SVC-ARRIVE-CITY)" in new and "{" not in new
    rows = _rows(ServiceRequest, {"sla_clock": ["business", "calendar"]}, "zh-hans")
    assert rows["计时方式"] == ("工作时间", "日历时间")


@pytest.mark.req("PLAT-2", "CAPA-2")
def test_nonconformity_lots_and_units_by_name() -> None:
    value = {"lots": ["LA-001", "LA-002"], "units": ["SN-9"]}
    rows = _rows(Nonconformity, {"affected": [{"lots": [], "units": []}, value]}, "en")
    assert rows["lots and units affected"] == ("—", "Lots: LA-001, LA-002; Units: SN-9")


@pytest.mark.req("PLAT-2", "VIG-4")
def test_report_content_shows_sections_and_fields_by_name() -> None:
    content = {
        "report": {"number": "VR-1", "market": "CN", "regulator_reference": ""},
        "event": {"outcome": "serious_injury", "imdrf_codes": ["A0101"], "cluster": False},
        "patient": {"sex": "F"},
        "decision": {"rule": "cn.serious", "reason": "injury"},
    }
    rows = _rows(VigilanceReport, {"content": [None, content]}, "en", _Everything())
    new = rows["frozen content"][1]
    assert "report — " in new and "regulator's reference: —" in new
    assert "market: China" in new and "patient sex: female" in new
    # the rules by their names, not their codes (the fired rule, the deadline rule)
    assert "rule that fired: Serious injury" in new and "why: injury" in new
    assert "cn.serious" not in new
    assert "regulator_reference" not in new and '"' not in new
    trend = {"trend": {"period": "month", "observed": 4, "method": "Poisson"}}
    new = _rows(TrendReport, {"content": [None, trend]}, "en")["frozen content"][1]
    assert new.startswith("trend — period: ") and "observed: 4" in new
    zh = _rows(TrendReport, {"content": [None, trend]}, "zh-hans")["冻结内容"][1]
    assert zh.startswith("趋势 — 周期: ") and "observed" not in zh


@pytest.mark.req("PLAT-2", "PLAT-11")
def test_masked_content_is_not_read() -> None:
    content = {"patient": {"name": "张三"}}

    class _Nobody:
        def has_perm(self, perm: str) -> bool:
            return False

    new = _rows(VigilanceReport, {"content": [None, content]}, "en", _Nobody())["frozen content"]
    assert "张三" not in new[1] and "patient" not in new[1]


def test_a_value_of_another_shape_shows_as_stored() -> None:
    rows = _rows(Nonconformity, {"affected": [None, ["LA-001"]]}, "en")
    assert rows["lots and units affected"] == ("—", "LA-001")
