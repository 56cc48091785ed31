"""Record retention and controlled destruction (PLAT-5, TRC-9), one import for both:
``periods`` says how long a record is kept (rules, dates, decisions), ``destruction`` how a
record past its period is destroyed (request, signed approval or rejection)."""

from __future__ import annotations

from .destruction import (
    APPROVE_PERM,
    REQUEST_PERM,
    VIEW_PERM,
    approve_destruction,
    destroyable_models,
    four_eyes,
    is_destroyable_type,
    reject_destruction,
    request_destruction,
    target_of,
)
from .periods import (
    RetentionDates,
    RetentionDecision,
    add_years,
    company_today,
    default_years,
    ensure_retention_rules,
    explain_retention,
    retention_until,
    rule_for,
)

__all__ = [
    "APPROVE_PERM",
    "REQUEST_PERM",
    "VIEW_PERM",
    "RetentionDates",
    "RetentionDecision",
    "add_years",
    "approve_destruction",
    "company_today",
    "default_years",
    "destroyable_models",
    "ensure_retention_rules",
    "explain_retention",
    "four_eyes",
    "is_destroyable_type",
    "reject_destruction",
    "request_destruction",
    "retention_until",
    "rule_for",
    "target_of",
]
