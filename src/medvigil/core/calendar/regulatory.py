"""The well-known deadline rules the platform registers itself: the company's complaint
targets (FBK-4), so that the rules page and `medvigil deadlines rules` show them from day one.
The regulators' rules belong to the domain apps that use them, one rule per deadline: the
vigilance rules of VIG-3 (cn.death, us.mdr_30, eu.serious_incident, …) in
medvigil/vigilance/rules.py, the recall rules of RCL-3 (cn.recall_notify_l1, …,
us.correction_removal_10wd) in medvigil/recalls/rules.py. Citations: DOMAIN.md FBK-4 and the
company seeds.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .rules import DeadlineRule, Unit, register_rule

H, CD, WD = Unit.HOURS, Unit.CALENDAR_DAYS, Unit.WORKING_DAYS

RULES = [
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
