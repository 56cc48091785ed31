"""Retention rules of the traceability records (TRC-9, PLAT-5), created on migrate when
missing — through the audited models, so the rule's creation is in the trail. Rows that
already exist (e.g. edited by an administrator) are kept as they are."""

from __future__ import annotations

from typing import Any

CITATION = (
    "TRC-9: 《医疗器械经营质量管理规范》/《医疗器械经营监督管理办法》(2022) 进货查验记录和销售"
    "记录应当保存至医疗器械有效期满后2年; 无有效期的, 不得少于5年; 植入类医疗器械进货查验记录和"
    "销售记录应当永久保存. seed 001 (保存至产品有效期或使用期限过后一年以上) is less strict."
)
RETURN_CITATION = CITATION + " Returns (退货记录, seed 001 四.4) are kept like sales records."

# model, basis, years after expiry, minimum years without expiry, permanent if implantable
RULES = [
    ("sale", "expiry", 2, 5, True, CITATION),
    ("returnrecord", "expiry", 2, 5, True, RETURN_CITATION),
]


def ensure_retention_rules(sender: Any = None, **kwargs: Any) -> None:
    """post_migrate (also re-run after a test flush): create the missing TRC-9 rules."""
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType

    from medvigil.core.audit import audit_context
    from medvigil.core.models import RetentionRule

    with audit_context(source="defaults"):
        for model, basis, years, minimum, permanent, citation in RULES:
            ct = ContentType.objects.get_for_model(apps.get_model("trace", model))
            if not RetentionRule.objects.filter(content_type=ct).exists():
                RetentionRule.objects.create(
                    content_type=ct,
                    basis=basis,
                    years=years,
                    minimum_years=minimum,
                    permanent_if_implantable=permanent,
                    citation=citation[:300],
                )
