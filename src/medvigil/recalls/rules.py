"""The recall rules as data, each with its citation (RCL-1, RCL-3; conventions: rules with
citations).

Deadlines (RCL-3) are rules of the platform's registry (core/calendar/rules.py), registered
here: one rule per deadline, with the codes of issue #12. They were registered by the platform
under other codes (CN-RECALL-L1-NOTICE … CN-RECALL-PLAN, US-806-CORRECTION); this app took them
over. The EU's "FSCA reported before it is carried out unless urgent" is an order, not a
period: a guard (`EU_FSCA_FIRST`, enforced by services.execution.record_notice).

The article numbers of 《医疗器械召回管理办法》 were written from the published text without an
official copy at hand (as in core/calendar/regulatory.py): regulatory affairs should confirm
them; the tests name the same articles, so a correction changes both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from medvigil.core.calendar.rules import DeadlineRule, Unit, get_rule, register_rule

RECALL_CN = "《医疗器械召回管理办法》(2017)"
CD, WD = Unit.CALENDAR_DAYS, Unit.WORKING_DAYS

NOTIFY = {
    1: DeadlineRule(
        "cn.recall_notify_l1",
        "CN",
        1,
        CD,
        _("recall decision"),
        f"{RECALL_CN} 第十四条: 一级召回应当在1日内通知到有关经营企业、使用单位或者告知使用者",
        _("Level 1 recall: notify distributors and users"),
        "RCL_CN_NOTIFY_L1_DAYS",
    ),
    2: DeadlineRule(
        "cn.recall_notify_l2",
        "CN",
        3,
        CD,
        _("recall decision"),
        f"{RECALL_CN} 第十四条: 二级召回应当在3日内通知到有关经营企业、使用单位或者告知使用者",
        _("Level 2 recall: notify distributors and users"),
        "RCL_CN_NOTIFY_L2_DAYS",
    ),
    3: DeadlineRule(
        "cn.recall_notify_l3",
        "CN",
        7,
        CD,
        _("recall decision"),
        f"{RECALL_CN} 第十四条: 三级召回应当在7日内通知到有关经营企业、使用单位或者告知使用者",
        _("Level 3 recall: notify distributors and users"),
        "RCL_CN_NOTIFY_L3_DAYS",
    ),
}

EVENT_REPORT = DeadlineRule(
    "cn.recall_event_report",
    "CN",
    1,
    CD,
    _("recall decision"),
    # "立即" is counted as by the end of the next day; a company setting may make it the same
    # day (0). The citation is the clause only: it is shown as is in both languages.
    f"{RECALL_CN} 第十六条: 作出召回决定的, 应当立即向所在地省级药品监督管理部门报告"
    "(医疗器械召回事件报告表)",
    _("Recall event report to the provincial regulator"),
    "RCL_CN_EVENT_REPORT_DAYS",
)

PLAN = DeadlineRule(
    "cn.recall_plan_5wd",
    "CN",
    5,
    WD,
    _("recall decision"),
    f"{RECALL_CN} 第十六条: 作出召回决定后5个工作日内提交调查评估报告和召回计划",
    _("Recall investigation report and recall plan"),
)

US_806 = DeadlineRule(
    "us.correction_removal_10wd",
    "US",
    10,
    WD,
    _("initiation of the correction or removal"),
    "21 CFR 806.10(b): report within 10 working days of initiating the correction or removal; "
    "report number per 21 CFR 806.2: registration number-date-sequence-C|R",
    _("Correction or removal report to FDA"),
)

# RCL-3: while the recall runs, progress reports (召回计划实施情况报告) "定期" — at the period
# of the recall plan; here every 5 working days (weekly; a setting may
# shorten it). Each report met starts the next one, until the recall's execution is complete.
PROGRESS = DeadlineRule(
    "cn.recall_progress_report",
    "CN",
    5,
    WD,
    _("recall decision, then each progress report"),
    # the period is the recall plan's: here 5 working days (weekly); a setting may shorten it
    f"{RECALL_CN} 第二十条: 医疗器械生产企业在实施召回的过程中, 应当根据召回计划定期向所在地"
    "省级药品监督管理部门提交召回计划实施情况报告",
    _("Recall progress report (implementation of the recall plan)"),
    "RCL_CN_PROGRESS_REPORT_WD",
)

# RCL-3: at the end, the summary evaluation (召回总结评估报告) within 10 working days of the
# recall's completion (every unit accounted for, or the execution declared complete).
SUMMARY = DeadlineRule(
    "cn.recall_summary_10wd",
    "CN",
    10,
    WD,
    _("completion of the recall"),
    f"{RECALL_CN} 第二十二条: 医疗器械生产企业应当在召回完成后10个工作日内对召回效果进行评估, "
    "并向所在地省级药品监督管理部门提交医疗器械召回总结评估报告",
    _("Recall summary evaluation report"),
    "RCL_CN_SUMMARY_WD",
)

RULES = (*NOTIFY.values(), EVENT_REPORT, PLAN, PROGRESS, SUMMARY, US_806)


def register_rules() -> None:
    for rule in RULES:
        register_rule(rule)


def clock_rules(recall: Any) -> list[DeadlineRule]:
    """The deadlines a decided recall starts (RCL-3). An advisory notice (RCL-6) is not a
    recall under the 办法 and starts none."""
    if recall.is_advisory:
        return []
    rules = [EVENT_REPORT]
    if recall.level in NOTIFY:
        rules.append(NOTIFY[recall.level])
    rules.append(PLAN)
    rules.append(PROGRESS)
    if recall.us_affected:
        rules.append(US_806)
    return [get_rule(r.code) for r in rules]


@dataclass(frozen=True)
class LevelRule:
    level: int
    label: Any
    citation: str


# RCL-1: China's three levels, by the harm the defect may cause.
LEVELS = (
    LevelRule(
        1,
        _("causes or may cause serious harm to health"),
        f"{RECALL_CN} 第十三条: 一级召回: 使用该医疗器械可能或者已经引起严重健康危害的",
    ),
    LevelRule(
        2,
        _("may cause temporary or reversible harm to health"),
        f"{RECALL_CN} 第十三条: 二级召回: 使用该医疗器械可能或者已经引起暂时的或者可逆的健康危害的",
    ),
    LevelRule(
        3,
        _("unlikely to cause harm but must be recalled"),
        f"{RECALL_CN} 第十三条: 三级召回: 使用该医疗器械引起危害的可能性较小但仍需要召回的",
    ),
)

# RCL-3: the EU reports an FSCA to the competent authority before it is carried out, except
# in urgent cases (DOMAIN.md VIG-3).
EU_FSCA_FIRST = (
    "Regulation (EU) 2017/745 Art. 87(1)(b) and Art. 89(8): a field safety corrective action "
    "is reported before it is undertaken, except in cases of urgency"
)


def us_report_number(registration: str, day: Any, sequence: int, action: str) -> str:
    """21 CFR 806.2: the correction or removal report number — the firm's registration
    number, the date (mm/dd/yyyy), the year's sequence number (001, 002, …) and C or R."""
    if action not in ("C", "R"):
        raise ValueError("action must be C (correction) or R (removal)")
    return f"{registration}-{day:%m/%d/%Y}-{sequence:03d}-{action}"
