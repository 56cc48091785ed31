"""Retention rules of the traceability records (TRC-9, PLAT-5): data with its citation,
declared by TraceConfig and created on migrate by core.retention.services.ensure_retention_rules."""

from __future__ import annotations

from medvigil.core.records.domain import RetentionRuleSpec

CITATION = (
    "TRC-9: 《医疗器械经营质量管理规范》/《医疗器械经营监督管理办法》(2022) 进货查验记录和销售"
    "记录应当保存至医疗器械有效期满后2年; 无有效期的, 不得少于5年; 植入类医疗器械进货查验记录和"
    "销售记录应当永久保存. seed 001 (保存至产品有效期或使用期限过后一年以上) is less strict."
)
RETURN_CITATION = CITATION + " Returns (退货记录, seed 001 四.4) are kept like sales records."

# expiry + 2 years, at least 5 years without an expiry, permanent for implantables
RULES = (
    RetentionRuleSpec("sale", "expiry", 2, 5, permanent_if_implantable=True, citation=CITATION),
    RetentionRuleSpec(
        "returnrecord", "expiry", 2, 5, permanent_if_implantable=True, citation=RETURN_CITATION
    ),
)
