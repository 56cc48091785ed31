"""Vigilance rules as data, each with its clause (ARCHITECTURE rule 4; VIG-2, VIG-3).

1. The deadline rules of VIG-3, registered in the platform's registry
   (core.calendar.rules; `medvigil deadlines rules` lists them, `medvigil deadlines compute
   cn.death --start …` computes one). Day-counted rules end at the end of the last day in the
   market's zone; hour rules are exact; US work days follow the US federal calendar. These
   replace the platform's earlier codes (CN-AE-DEATH, US-803-30DAY, EU-MDR-87-…): one rule per
   deadline, owned by the app that uses it.
2. The reportability table (VIG-2): per market, the first row whose condition holds proposes
   "reportable under these deadline rules" (or "not reportable"), with its citation. A
   qualified person confirms or decides otherwise (services.decisions).

The article numbers of the 2019 Chinese measures are those the platform used before
(core/calendar/regulatory.py); regulatory affairs should confirm them against the official
text (the tests name the same articles, so a correction changes both).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from medvigil.core.calendar.rules import DeadlineRule, Unit, get_rule, register_rule

from .models import Market, Outcome, Place

H, CD, WD = Unit.HOURS, Unit.CALENDAR_DAYS, Unit.WORKING_DAYS

AE_CN = "《医疗器械不良事件监测和再评价管理办法》(2019)"
MDR = "Regulation (EU) 2017/745"

DEADLINE_RULES: tuple[DeadlineRule, ...] = (
    # --- China (2019 measures) ---
    DeadlineRule(
        "cn.death",
        "CN",
        7,
        CD,
        _("awareness of the event"),
        f"{AE_CN} 第二十五条: 导致死亡的应当在7日内报告",
        _("Adverse event report (death)"),
        "VIG_CN_DEATH_DAYS",
    ),
    DeadlineRule(
        "cn.serious",
        "CN",
        20,
        CD,
        _("awareness of the event"),
        f"{AE_CN} 第二十五条: 导致严重伤害、可能导致严重伤害或者死亡的应当在20日内报告",
        _("Adverse event report (serious injury)"),
        "VIG_CN_SERIOUS_DAYS",
    ),
    DeadlineRule(
        "cn.overseas_serious",
        "CN",
        30,
        CD,
        _("awareness of the event abroad"),
        f"{AE_CN} 第二十九条: 境外发生的导致或者可能导致严重伤害或者死亡的不良事件, 30日内报告",
        _("Adverse event abroad report"),
        "VIG_CN_ABROAD_DAYS",
    ),
    DeadlineRule(
        "cn.cluster_phone",
        "CN",
        12,
        H,
        _("awareness of the cluster event"),
        f"{AE_CN} 第三十条: 群体不良事件12小时内通过电话或者传真"
        "报告省级药品监督管理部门和卫生行政部门",
        _("Cluster event report by phone or fax"),
    ),
    DeadlineRule(
        "cn.cluster_case",
        "CN",
        24,
        H,
        _("awareness of the cluster event"),
        f"{AE_CN} 第三十条: 对每一事件还应当在24小时内按个例事件报告",
        _("Cluster event: each case as an individual report"),
    ),
    DeadlineRule(
        "cn.cluster_self_inspection",
        "CN",
        7,
        CD,
        _("awareness of the cluster event"),
        f"{AE_CN} 第三十一条: 持有人开展调查及生产质量管理体系自查, 于7日内报告 "
        "(暂停生产、销售、使用)",
        _("Cluster event: holder's self-inspection report"),
    ),
    DeadlineRule(
        "cn.periodic_risk",
        "CN",
        60,
        CD,
        _("each full year from first registration (first 5 years)"),
        f"{AE_CN} 第三十九条: 自产品首次批准注册或者备案之日起, 每满一年后的60日内完成"
        "上年度产品上市后定期风险评价报告 (首个注册周期)",
        _("Periodic risk evaluation report"),
    ),
    # --- United States (21 CFR 803) ---
    DeadlineRule(
        "us.mdr_30",
        "US",
        30,
        CD,
        _("awareness by any employee"),
        "21 CFR 803.50(a): within 30 calendar days after the day you become aware",
        _("MDR 30-day report (manufacturer)"),
        "VIG_US_30DAY_DAYS",
    ),
    DeadlineRule(
        "us.mdr_5wd",
        "US",
        5,
        WD,
        _("awareness of an event needing remedial action, or FDA's written request"),
        "21 CFR 803.53: 5-day report, within 5 work days after becoming aware "
        "(remedial action, or FDA asked in writing)",
        _("MDR 5-day report"),
    ),
    DeadlineRule(
        "us.supplemental",
        "US",
        30,
        CD,
        _("receipt of new information"),
        "21 CFR 803.56: supplemental or followup report within 1 month (30 days) "
        "of receiving the information",
        _("MDR supplemental report"),
    ),
    DeadlineRule(
        "us.importer_30",
        "US",
        30,
        CD,
        _("awareness by the importer"),
        "21 CFR 803.40(a): importer report within 30 calendar days",
        _("MDR importer report"),
    ),
    DeadlineRule(
        "us.user_facility_10wd",
        "US",
        10,
        WD,
        _("awareness by the user facility"),
        "21 CFR 803.30(a): user facility report within 10 work days",
        _("MDR user facility report"),
    ),
    # --- European Union (MDR Art. 86, 87) ---
    DeadlineRule(
        "eu.public_health_threat",
        "EU",
        2,
        CD,
        _("awareness of the serious public health threat"),
        f"{MDR} Art. 87(4): serious public health threat, not later than 2 days",
        _("Vigilance report (serious public health threat)"),
    ),
    DeadlineRule(
        "eu.death_unanticipated",
        "EU",
        10,
        CD,
        _("awareness of the serious incident"),
        f"{MDR} Art. 87(5): death or unanticipated serious deterioration of health, "
        "not later than 10 days",
        _("Vigilance report (death or serious deterioration)"),
    ),
    DeadlineRule(
        "eu.serious_incident",
        "EU",
        15,
        CD,
        _("awareness of the serious incident"),
        f"{MDR} Art. 87(3): any other serious incident, not later than 15 days",
        _("Vigilance report (serious incident)"),
        "VIG_EU_SERIOUS_DAYS",
    ),
    DeadlineRule(
        "eu.psur",
        "EU",
        0,
        CD,
        _("end of the PSUR period (yearly for class IIb/III, every 2 years for IIa)"),
        f"{MDR} Art. 86(1): PSUR updated at least annually (class IIb, III) "
        "and at least every two years (class IIa)",
        _("Periodic safety update report"),
    ),
)

RULE_CODES = tuple(r.code for r in DEADLINE_RULES)


def register_rules() -> None:
    for rule in DEADLINE_RULES:
        register_rule(rule)


# --- reportability (VIG-2) -----------------------------------------------------------------


@dataclass(frozen=True)
class ReportabilityRule:
    """When `applies(event)`, the event is reportable in `market` under `deadlines` (the first
    is the initial report's clock; the others are further reports, e.g. China's cluster case
    reports and self-inspection), or not reportable when `deadlines` is empty."""

    code: str
    market: str
    label: Any
    citation: str
    applies: Callable[[Any], bool]
    deadlines: tuple[str, ...] = ()

    @property
    def reportable(self) -> bool:
        return bool(self.deadlines)


def _serious(e: Any) -> bool:
    return e.outcome in (Outcome.DEATH, Outcome.SERIOUS_INJURY, Outcome.MALFUNCTION)


def us_reporter_rule() -> str:
    """The company's US role decides the 30-day rule (21 CFR 803 subparts C, D, E): a
    setting VIG_US_REPORTER = manufacturer (default), importer or user_facility."""
    role = str(getattr(settings, "VIG_US_REPORTER", "manufacturer") or "manufacturer")
    return {"importer": "us.importer_30", "user_facility": "us.user_facility_10wd"}.get(
        role, "us.mdr_30"
    )


REPORTABILITY: tuple[ReportabilityRule, ...] = (
    # China: a cluster first (12 h by phone, each case in 24 h, self-inspection in 7 days)
    ReportabilityRule(
        "cn.cluster",
        Market.CN,
        _("Cluster event"),
        f"{AE_CN} 第三十条, 第三十一条",
        lambda e: e.cluster,
        ("cn.cluster_phone", "cn.cluster_case", "cn.cluster_self_inspection"),
    ),
    ReportabilityRule(
        "cn.abroad",
        Market.CN,
        _("Event abroad that caused or could cause death or serious injury"),
        f"{AE_CN} 第二十九条",
        lambda e: e.occurred_place != Place.CN and _serious(e),
        ("cn.overseas_serious",),
    ),
    ReportabilityRule(
        "cn.death",
        Market.CN,
        _("Death"),
        f"{AE_CN} 第二十五条",
        lambda e: e.outcome == Outcome.DEATH,
        ("cn.death",),
    ),
    ReportabilityRule(
        "cn.serious",
        Market.CN,
        _("Serious injury, or could cause serious injury or death"),
        f"{AE_CN} 第二十五条",
        lambda e: e.outcome in (Outcome.SERIOUS_INJURY, Outcome.MALFUNCTION),
        ("cn.serious",),
    ),
    ReportabilityRule(
        "cn.other",
        Market.CN,
        _("Neither death nor (possible) serious injury: not an individual report"),
        f"{AE_CN} 第二十五条 (其他不良事件按要求汇总)",
        lambda e: True,
    ),
    # United States
    ReportabilityRule(
        "us.5day",
        Market.US,
        _("Remedial action needed to prevent an unreasonable risk, or FDA asked in writing"),
        "21 CFR 803.53",
        lambda e: _serious(e) and (e.remedial_action or e.fda_written_request),
        ("us.mdr_5wd",),
    ),
    ReportabilityRule(
        "us.30day",
        Market.US,
        _("Death, serious injury, or a malfunction likely to cause one if it recurred"),
        "21 CFR 803.50(a)",
        _serious,
        ("{us_reporter}",),
    ),
    ReportabilityRule(
        "us.other",
        Market.US,
        _("Not an MDR reportable event"),
        "21 CFR 803.3 (MDR reportable event), 803.20(c)",
        lambda e: True,
    ),
    # European Union
    ReportabilityRule(
        "eu.threat",
        Market.EU,
        _("Serious public health threat"),
        f"{MDR} Art. 87(4)",
        lambda e: e.public_health_threat,
        ("eu.public_health_threat",),
    ),
    ReportabilityRule(
        "eu.death",
        Market.EU,
        _("Death or unanticipated serious deterioration of health"),
        f"{MDR} Art. 87(5)",
        lambda e: e.outcome == Outcome.DEATH or (e.unanticipated and _serious(e)),
        ("eu.death_unanticipated",),
    ),
    ReportabilityRule(
        "eu.serious",
        Market.EU,
        _("Serious incident"),
        f"{MDR} Art. 87(3), Art. 2(65)",
        _serious,
        ("eu.serious_incident",),
    ),
    ReportabilityRule(
        "eu.other",
        Market.EU,
        _("Not a serious incident (counted for trend reporting)"),
        f"{MDR} Art. 87(1), Art. 88",
        lambda e: True,
    ),
)


def deadlines_of(rule: ReportabilityRule) -> tuple[str, ...]:
    return tuple(us_reporter_rule() if d == "{us_reporter}" else d for d in rule.deadlines)


def propose(event: Any, market: str) -> ReportabilityRule:
    """The first row of the table for `market` whose condition holds for `event`."""
    for rule in REPORTABILITY:
        if rule.market == market and rule.applies(event):
            return rule
    raise LookupError(market)  # every market ends with a catch-all row


def reportability_rule(code: str) -> ReportabilityRule | None:
    return next((r for r in REPORTABILITY if r.code == code), None)


def rule_title(code: str) -> Any:
    try:
        return get_rule(code).title
    except LookupError:
        return code


# --- markets from traceability (VIG-2): customer → market --------------------------------------

# The customer record has province, city and address but no country (trace.Customer): a sale
# counts in the market its customer's address names. Chinese addresses (the company's own
# market, and all customers before export) are the default (VIG_HOME_MARKET, a setting).
US_WORDS = ("USA", "U.S.A", "United States", "美国")
US_CODE = re.compile(r"\bUS\b")
EU_WORDS = (
    "European Union",
    "Germany",
    "Deutschland",
    "France",
    "Italy",
    "Italia",
    "Spain",
    "España",
    "Netherlands",
    "Belgium",
    "Austria",
    "Ireland",
    "Poland",
    "Portugal",
    "Sweden",
    "Denmark",
    "Finland",
    "Greece",
    "Czech",
    "Hungary",
    "Romania",
    "Bulgaria",
    "Croatia",
    "Slovakia",
    "Slovenia",
    "Lithuania",
    "Latvia",
    "Estonia",
    "Luxembourg",
    "Malta",
    "Cyprus",
    "欧盟",
    "德国",
    "法国",
    "意大利",
    "西班牙",
    "荷兰",
)


def customer_market(province: str, city: str, address: str) -> str:
    """The market of a customer from its address fields (rules above)."""
    text = " ".join(x for x in (province, city, address) if x)
    low = text.lower()
    if any(w.lower() in low for w in EU_WORDS):
        return Market.EU
    if any(w.lower() in low for w in US_WORDS) or US_CODE.search(text):
        return Market.US
    return str(getattr(settings, "VIG_HOME_MARKET", "CN") or "CN")
