"""Rule tables of the traceability app (ARCHITECTURE rule 4: rules are data with citations).

LICENCE_RULES says which licences a buyer must hold, valid on the sale date, to buy a device
of a given risk class (TRC-2). Each requirement is a tuple of alternatives: any one valid
licence of those kinds satisfies it; every requirement of the rule must be satisfied.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from .models import CustomerKind, LicenceKind, RiskClass

CITATION_LICENCE = (
    "《医疗器械经营监督管理办法》(国家市场监督管理总局令第54号, 2022) 分类管理: "
    "经营第三类医疗器械实行许可管理, 经营第二类实行备案管理, 经营第一类不需许可和备案; "
    "seed 001 四.1 销售对象: 《营业执照》及《医疗器械经营企业备案表》或《经营许可证》"
    "的经营单位, 或具有执业许可证的医疗机构; 销售对象为个人的除外"
)
CITATION_INDIVIDUAL = "seed 001 四.1 销售对象: 销售对象为个人的除外"
CITATION_EXPIRED_PRODUCT = "seed 001 销售管理 第十条: 严禁销售…过期…产品"


@dataclass(frozen=True)
class LicenceRule:
    customer_kind: str
    risk_class: str | None  # None: every class
    requirements: tuple[tuple[str, ...], ...]
    citation: str = CITATION_LICENCE


_B, _O, _F, _P = (
    LicenceKind.BUSINESS,
    LicenceKind.OPERATING,
    LicenceKind.FILING,
    LicenceKind.PRACTICE,
)

LICENCE_RULES: tuple[LicenceRule, ...] = (
    # Dealers (经营企业): business licence, plus the operating licence (class III) or the
    # filing certificate or operating licence (class II); class I needs neither.
    LicenceRule(CustomerKind.DEALER, RiskClass.I, ((_B,),)),
    LicenceRule(CustomerKind.DEALER, RiskClass.II, ((_B,), (_F, _O))),
    LicenceRule(CustomerKind.DEALER, RiskClass.III, ((_B,), (_O,))),
    # Other organisations are treated like trading companies (the seed allows only licensed
    # trading companies and medical institutions as buyers).
    LicenceRule(CustomerKind.OTHER, RiskClass.I, ((_B,),)),
    LicenceRule(CustomerKind.OTHER, RiskClass.II, ((_B,), (_F, _O))),
    LicenceRule(CustomerKind.OTHER, RiskClass.III, ((_B,), (_O,))),
    # Hospitals and other medical institutions: the practice licence, for every class.
    LicenceRule(CustomerKind.HOSPITAL, None, ((_P,),)),
    # Individuals hold no licence; they may buy only products that allow it (checked apart).
    LicenceRule(CustomerKind.INDIVIDUAL, None, (), CITATION_INDIVIDUAL),
)


def licence_rule(customer_kind: str, risk_class: str) -> LicenceRule | None:
    for rule in LICENCE_RULES:
        if rule.customer_kind == customer_kind and rule.risk_class in (None, risk_class):
            return rule
    return None


def licence_warning_days() -> int:
    """Days before a customer licence expires that its owner is warned (setting)."""
    return int(getattr(settings, "TRACE_LICENCE_WARNING_DAYS", 60))


def registration_warning_days() -> int:
    """Days before a registration certificate lapses that quality is warned (setting).
    A renewal application is due 6 months before expiry
    (《医疗器械监督管理条例》2021: 有效期届满6个月前申请延续注册)."""
    return int(getattr(settings, "TRACE_REGISTRATION_WARNING_DAYS", 180))
