"""The well-known deadline rules the domain apps need (RCL-3, FBK-4), registered by
the platform so that the rules page and `medvigil deadlines rules` show them from day one.
A domain app that takes a rule over keeps its code (registering identical data again is
allowed). Citations: DOMAIN.md RCL-3 and FBK-4, the regulations named there, and the
company seeds for the complaint targets. The vigilance rules of VIG-3 (cn.death, us.mdr_30,
eu.serious_incident, …) are the vigilance app's (medvigil/vigilance/rules.py): one rule per
deadline.

Amounts follow DOMAIN.md (recall notices 1/3/7 days for levels 1/2/3, as in the 2017
办法). The article numbers of the Chinese regulations were written from the published texts
without an official copy at hand: regulatory affairs should confirm them (the tests in
core/tests/test_deadline_rules.py name the same articles, so a correction changes both).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .rules import DeadlineRule, Unit, register_rule

H, CD, WD = Unit.HOURS, Unit.CALENDAR_DAYS, Unit.WORKING_DAYS

RECALL_CN = "《医疗器械召回管理办法》(2017)"

RULES = [
    # --- United States, 21 CFR 806 ---
    DeadlineRule(
        "US-806-CORRECTION",
        "US",
        10,
        WD,
        _("initiation of the correction or removal"),
        "21 CFR 806.10(b): report within 10 working days of initiating the correction or removal",
        _("Correction or removal report"),
    ),
    # --- China, recalls (RCL-3) ---
    DeadlineRule(
        "CN-RECALL-L1-NOTICE",
        "CN",
        1,
        CD,
        _("recall decision"),
        f"{RECALL_CN} 第十四条: 一级召回应当在1日内通知到有关经营企业、使用单位或者告知使用者",
        _("Level 1 recall: notify distributors and users"),
    ),
    DeadlineRule(
        "CN-RECALL-L2-NOTICE",
        "CN",
        3,
        CD,
        _("recall decision"),
        f"{RECALL_CN} 第十四条: 二级召回应当在3日内通知到有关经营企业、使用单位或者告知使用者",
        _("Level 2 recall: notify distributors and users"),
    ),
    DeadlineRule(
        "CN-RECALL-L3-NOTICE",
        "CN",
        7,
        CD,
        _("recall decision"),
        f"{RECALL_CN} 第十四条: 三级召回应当在7日内通知到有关经营企业、使用单位或者告知使用者",
        _("Level 3 recall: notify distributors and users"),
    ),
    DeadlineRule(
        "CN-RECALL-PLAN",
        "CN",
        5,
        WD,
        _("recall decision"),
        f"{RECALL_CN} 第十六条: 作出召回决定后5个工作日内提交调查评估报告和召回计划",
        _("Recall investigation report and recall plan"),
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
