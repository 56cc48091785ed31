"""The well-known deadline rules the domain apps need (VIG-3, FBK-4), registered by
the platform so that the rules page and `medvigil deadlines rules` show them from day one.
A domain app that takes a rule over keeps its code (registering identical data again is
allowed). Citations: DOMAIN.md VIG-3, RCL-3 and FBK-4, the regulations named there, and the
company seeds for the complaint targets.

The recall rules (RCL-3) are registered by the recalls app (recalls/rules.py). The article
numbers of the Chinese regulations were written from the published texts without an
official copy at hand: regulatory affairs should confirm them (the tests in
core/tests/test_deadline_rules.py name the same articles, so a correction changes both).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .rules import DeadlineRule, Unit, register_rule

H, CD, WD = Unit.HOURS, Unit.CALENDAR_DAYS, Unit.WORKING_DAYS

AE_CN = "《医疗器械不良事件监测和再评价管理办法》(2019)"

RULES = [
    # --- China, adverse events (VIG-3) ---
    DeadlineRule(
        "CN-AE-DEATH",
        "CN",
        7,
        CD,
        _("awareness of the event"),
        f"{AE_CN} 第二十五条: 导致死亡的应当在7日内报告",
        _("Adverse event report (death)"),
        "VIG_CN_DEATH_DAYS",
    ),
    DeadlineRule(
        "CN-AE-SERIOUS",
        "CN",
        20,
        CD,
        _("awareness of the event"),
        f"{AE_CN} 第二十五条: 导致严重伤害、可能导致严重伤害或者死亡的应当在20日内报告",
        _("Adverse event report (serious injury)"),
        "VIG_CN_SERIOUS_DAYS",
    ),
    DeadlineRule(
        "CN-AE-ABROAD",
        "CN",
        30,
        CD,
        _("awareness of the event abroad"),
        f"{AE_CN} 第二十九条: 境外发生的导致或者可能导致严重伤害或者死亡的不良事件, 30日内报告",
        _("Adverse event abroad report"),
        "VIG_CN_ABROAD_DAYS",
    ),
    DeadlineRule(
        "CN-AE-CLUSTER",
        "CN",
        12,
        H,
        _("awareness of the cluster event"),
        f"{AE_CN} 第三十条: 群体不良事件12小时内通过电话或者传真"
        "报告省级药品监督管理部门和卫生行政部门",
        _("Cluster event report by phone or fax"),
    ),
    DeadlineRule(
        "CN-AE-CLUSTER-CASES",
        "CN",
        24,
        H,
        _("awareness of the cluster event"),
        f"{AE_CN} 第三十条: 对每一事件还应当在24小时内按个例事件报告",
        _("Cluster event: each case as an individual report"),
    ),
    DeadlineRule(
        "CN-AE-CLUSTER-SELFCHECK",
        "CN",
        7,
        CD,
        _("awareness of the cluster event"),
        f"{AE_CN} 第三十一条: 持有人开展调查及生产质量管理体系自查, 于7日内报告",
        _("Cluster event: holder's self-inspection report"),
    ),
    # --- United States, 21 CFR 803 / 806 ---
    DeadlineRule(
        "US-803-30DAY",
        "US",
        30,
        CD,
        _("awareness by any employee"),
        "21 CFR 803.50(a): within 30 calendar days after the day you become aware",
        _("MDR 30-day report (manufacturer)"),
        "VIG_US_30DAY_DAYS",
    ),
    DeadlineRule(
        "US-803-5DAY",
        "US",
        5,
        WD,
        _("awareness of an event needing remedial action"),
        "21 CFR 803.53(a): 5-day report, within 5 work days after becoming aware",
        _("MDR 5-day report"),
    ),
    DeadlineRule(
        "US-803-SUPPLEMENT",
        "US",
        30,
        CD,
        _("receipt of new information"),
        "21 CFR 803.56: supplemental or followup report within 1 month (30 days) "
        "of receiving the information",
        _("MDR supplemental report"),
    ),
    DeadlineRule(
        "US-803-IMPORTER",
        "US",
        30,
        CD,
        _("awareness by the importer"),
        "21 CFR 803.40(a): importer report within 30 calendar days",
        _("MDR importer report"),
    ),
    DeadlineRule(
        "US-803-USER-FACILITY",
        "US",
        10,
        WD,
        _("awareness by the user facility"),
        "21 CFR 803.30(a): user facility report within 10 work days",
        _("MDR user facility report"),
    ),
    # --- European Union, MDR (Regulation (EU) 2017/745) ---
    DeadlineRule(
        "EU-MDR-87-THREAT",
        "EU",
        2,
        CD,
        _("awareness of the serious public health threat"),
        "Regulation (EU) 2017/745 Art. 87(4): serious public health threat, not later than 2 days",
        _("Vigilance report (serious public health threat)"),
    ),
    DeadlineRule(
        "EU-MDR-87-DEATH",
        "EU",
        10,
        CD,
        _("awareness of the serious incident"),
        "Regulation (EU) 2017/745 Art. 87(5): death or unanticipated serious "
        "deterioration, not later than 10 days",
        _("Vigilance report (death or serious deterioration)"),
    ),
    DeadlineRule(
        "EU-MDR-87-SERIOUS",
        "EU",
        15,
        CD,
        _("awareness of the serious incident"),
        "Regulation (EU) 2017/745 Art. 87(3): any other serious incident, not later than 15 days",
        _("Vigilance report (serious incident)"),
        "VIG_EU_SERIOUS_DAYS",
    ),
    # --- company targets for complaints (FBK-4, from the seeds; all settings) ---
    DeadlineRule(
        "FBK-QUALITY-ROUTE",
        "CN",
        2,
        H,
        _("receipt of the complaint"),
        "seed 003 售后服务管理程序 4.2.1: 质量类抱怨在接收信息2小时内传递至品保部",
        _("Quality complaint reaches the quality department"),
        "FBK_QUALITY_ROUTE_HOURS",
    ),
    DeadlineRule(
        "FBK-FIRST-RESPONSE",
        "CN",
        24,
        H,
        _("receipt of the complaint"),
        "seed 002: 客户反馈的响应时间为24小时内",
        _("First response to the customer"),
        "FBK_RESPONSE_HOURS",
    ),
    DeadlineRule(
        "FBK-RESOLUTION",
        "CN",
        48,
        H,
        _("receipt of the complaint"),
        "seed 002: 解决问题的时效为48小时内",
        _("Complaint resolved"),
        "FBK_RESOLUTION_HOURS",
    ),
    DeadlineRule(
        "FBK-VISIT",
        "CN",
        2,
        WD,
        _("receipt of the complaint"),
        "seed 003 客户投诉处理程序 4、2: 销售员负责在2个工作日内对投诉客户的现场拜访",
        _("Dealer or staff visit to the customer"),
        "FBK_VISIT_WORKING_DAYS",
    ),
]


def register_platform_rules() -> None:
    for rule in RULES:
        register_rule(rule)
