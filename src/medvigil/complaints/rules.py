"""Rules of the complaint flow as data, each with its citation (conventions: rules with
citations). Severity rules (FBK-3) and the default routing of categories to departments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from medvigil.core.calendar.rules import DeadlineRule, register_rule
from medvigil.core.calendar.rules import Unit as DeadlineUnit

from .models import SEVERITY_ORDER, Category, Channel, Kind, PatientInvolvement, Severity, Want


@dataclass(frozen=True)
class RouteDefault:
    category: str
    department: str  # accounts.Department code (accounts/defaults.py DEPARTMENTS)
    notify: tuple[str, ...]
    citation: str


# FBK-1 / seed 003 客户反馈处理程序 3.1 (营销支持科负责将完整的客户反馈信息及时给质量部、技术部):
# customer service takes feedback in and passes it on. The records that came in by themselves
# (public form, mailbox) wait on the "My work" of its members who may route them until one of
# them does (services.clocks.my_work).
INTAKE_DEPARTMENT = "customer-service"  # accounts.Department code (accounts/defaults.py)


# FBK-3 / seed 003 4.2.2-4.2.3: general problems (delivery, price, transport, usage) stay with
# customer service (市场部); design, production or quality defects go to quality (科技质量部)
# with notices to the departments concerned.
DEFAULT_ROUTES: tuple[RouteDefault, ...] = (
    RouteDefault(
        Category.PRODUCT_QUALITY,
        "quality",
        ("technical", "customer-service"),
        "seed 003 售后服务和顾客反馈处理控制程序 4.2.3; 售后服务管理程序 4.2.1 (质量类抱怨→品保部)",
    ),
    RouteDefault(
        Category.SERVICE_ATTITUDE,
        "service",
        ("customer-service",),
        "seed 003 客户投诉处理程序 4、5 (被投诉部门负责投诉内容的限期改进)",
    ),
    RouteDefault(
        Category.INSTALLATION,
        "service",
        ("quality",),
        "seed 003 售后服务管理程序 4.2.1 (交付、装机…质量类抱怨); 3 工艺设备部/电气部",
    ),
    RouteDefault(
        Category.DELIVERY,
        "customer-service",
        ("logistics", "sales"),
        "seed 003 售后服务和顾客反馈处理控制程序 4.2.2 (交付期、价格及运输)",
    ),
    RouteDefault(
        Category.USAGE,
        "customer-service",
        ("quality",),
        "seed 003 售后服务和顾客反馈处理控制程序 4.2.2 (顾客使用方法)",
    ),
)


# --- severity (FBK-3) --------------------------------------------------------------------------


@dataclass(frozen=True)
class SeverityRule:
    """When `applies(feedback)`, the complaint is at least `severity`."""

    code: str
    severity: str
    label: Any  # a lazy translation
    citation: str
    applies: Callable[[Any], bool]


_HARM = {
    PatientInvolvement.RISK,
    PatientInvolvement.INJURY,
    PatientInvolvement.SERIOUS_INJURY,
    PatientInvolvement.DEATH,
}
_SEED_003_MAJOR = (
    "seed 003 客户投诉管理办法 1.1.3: 重大投诉(涉及到赔偿的投诉、与安全方面相关的投诉、损害金额大的"
    "投诉; 短期内进服务店维修频次高…; 涉及媒体、律师、警察、消协、政府机关等的投诉…)"
)

SEVERITY_RULES: tuple[SeverityRule, ...] = (
    SeverityRule(
        "patient-harm",
        Severity.SERIOUS,
        _("injury, death or risk to patient safety"),
        "FBK-3; seed 004 二.2: 涉及患者安全或可能属于医疗器械不良事件的投诉, "
        "应立即启动最高级别的响应程序; seed 003 4.2.3 严重问题",
        lambda f: f.patient_involvement in _HARM,
    ),
    SeverityRule(
        "compensation",
        Severity.MAJOR,
        _("compensation claimed"),
        _SEED_003_MAJOR,
        lambda f: f.compensation_claimed or Want.COMPENSATION in (f.customer_wants or []),
    ),
    SeverityRule(
        "safety", Severity.MAJOR, _("safety issue"), _SEED_003_MAJOR, lambda f: f.safety_issue
    ),
    SeverityRule(
        "repeated-repairs",
        Severity.MAJOR,
        _("repeated repairs"),
        _SEED_003_MAJOR,
        lambda f: f.repeated_repairs,
    ),
    SeverityRule(
        "outside-party",
        Severity.MAJOR,
        _("media, lawyer, police, consumer body or regulator involved"),
        _SEED_003_MAJOR,
        lambda f: bool(f.outside_parties),
    ),
    SeverityRule(
        "forwarded-by-authority",
        Severity.MAJOR,
        _("received through a regulator or the media"),
        _SEED_003_MAJOR + " (行业部门、工商部门等转交的投诉)",
        lambda f: f.channel in (Channel.REGULATOR, Channel.MEDIA),
    ),
)


def propose_severity(feedback: Any) -> tuple[str, list[str]]:
    """The highest severity the rules give (general when none applies) and the codes of the
    rules that applied. Only complaints have a severity."""
    if feedback.kind != Kind.COMPLAINT:
        return "", []
    fired = [r for r in SEVERITY_RULES if r.applies(feedback)]
    if not fired:
        return Severity.GENERAL, []
    top = max(fired, key=lambda r: SEVERITY_ORDER[r.severity]).severity
    return top, [r.code for r in fired]


def rule_by_code(code: str) -> SeverityRule | None:
    return next((r for r in SEVERITY_RULES if r.code == code), None)


# --- the clock (FBK-4) ---------------------------------------------------------------------------

# The 30-minute routing target; the other FBK-4 targets (FBK-QUALITY-ROUTE, FBK-FIRST-RESPONSE,
# FBK-RESOLUTION, FBK-VISIT) are registered by the platform (core.calendar.regulatory).
ROUTE_RULE = DeadlineRule(
    "FBK-ROUTE",
    "CN",
    30,
    DeadlineUnit.MINUTES,
    _("receipt of the complaint"),
    "seed 003 客户投诉管理办法 1.1.3: 必须立即交客户部, 最迟不可以超过半个小时, "
    "由客户部登记后转交责任部门",
    _("Complaint registered and routed to the owning department"),
    "FBK_ROUTE_MINUTES",
)


def register_rules() -> None:
    register_rule(ROUTE_RULE)
