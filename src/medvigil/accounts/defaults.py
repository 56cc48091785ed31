"""The departments and roles of DOMAIN.md §1, created on migrate when missing (an
administrator may then edit them freely: existing rows are never overwritten).

ROLE_PERMISSIONS maps a role code to the platform's permission patterns ("app_label.codename",
shell-style wildcards, "-" to take away). Domain apps declare their own grants in their
AppConfig (core.records.domain.DomainApp.role_permissions), not here."""

from __future__ import annotations

from collections.abc import Collection
from fnmatch import fnmatch
from typing import Any

DEPARTMENTS = [
    ("customer-service", "客服部", "Customer service"),
    ("service", "售后服务部", "After-sales service"),
    ("logistics", "物流组", "Logistics and warehouse"),
    ("quality", "质量部", "Quality"),
    ("technical", "技术部", "Technical / R&D"),
    ("management", "总经理办公室", "Management"),
    ("sales", "销售部", "Sales"),
    ("finance", "财务部", "Finance"),
    ("audit", "审核", "Audit and inspection"),
    ("it", "信息部", "IT administration"),
]

# code, zh, en, read_only, department
ROLES = [
    ("customer_service", "客服专员", "Customer service", False, "customer-service"),
    ("service_manager", "售后服务部经理", "Service manager", False, "service"),
    ("service_engineer", "售后服务工程师", "Service engineer", False, "service"),
    ("logistics", "物流/仓库", "Logistics / warehouse", False, "logistics"),
    ("quality", "质量工程师", "Quality engineer", False, "quality"),
    # issue #12 / seed 001 (质量管理负责人) and seed 003 (纠正预防措施由质量部…核准): the head
    # of quality closes CAPAs with an e-signature; otherwise a quality engineer's rights
    ("quality_manager", "质量经理", "Quality manager", False, "quality"),
    ("technical", "技术工程师", "Technical / R&D engineer", False, "technical"),
    ("management_rep", "管理者代表", "Management representative", False, "management"),
    (
        "general_manager",
        "总经理/事业部部长",
        "General manager / division head",
        False,
        "management",
    ),
    ("sales", "销售员/经销商", "Sales staff / dealer", False, "sales"),
    ("finance", "财务", "Finance", False, "finance"),
    ("auditor", "审核员/检查员", "Auditor / inspector", True, "audit"),
    ("admin", "系统管理员", "Administrator", False, "it"),
]

VIEW_ALL = ["*.view_*", "*.export_*"]

#: a role that an app's grants (or the platform's) do not name gets its base role's grants
#: there: the quality manager has a quality engineer's rights wherever an app says nothing
#: more (the CAPA app grants the closure to the manager only); the service manager, who heads
#: the engineers (seed 003 售后服务部), has an engineer's rights outside the service app: the
#: installed base (units, customers, installations), attachments, parts
ROLE_BASES: dict[str, str] = {"quality_manager": "quality", "service_manager": "service_engineer"}

# The platform's own grants (core, accounts). Each domain app grants its permissions in its
# AppConfig (core.records.domain.DomainApp.role_permissions); they are merged in role_patterns.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    "customer_service": ["core.add_attachment", "core.view_attachment", "core.view_auditentry"],
    "service_engineer": ["core.add_attachment", "core.view_attachment"],
    "logistics": ["core.add_attachment", "core.view_attachment"],
    "quality": ["core.*", "-core.delete_*", "-core.change_auditentry"],
    "technical": ["core.add_attachment", "core.view_attachment"],
    "management_rep": [*VIEW_ALL, "core.add_attachment", "core.add_signature"],
    "general_manager": [*VIEW_ALL, "core.add_attachment", "core.add_signature"],
    "sales": ["core.add_attachment", "core.view_attachment"],
    "finance": ["core.view_attachment"],
    "auditor": [*VIEW_ALL],
    "admin": [
        "accounts.*",
        "core.view_*",
        "core.change_numberingscheme",
        "core.add_numberingscheme",
        "core.change_retentionrule",
        "core.add_retentionrule",
        # Market calendars (PLAT-7): administrators enter each year's holidays (audited).
        "core.add_marketcalendar",
        "core.change_marketcalendar",
    ],
}


def role_patterns(code: str) -> list[str]:
    """The platform's patterns for a role plus those every installed domain app grants it."""
    from medvigil.core.records.domain import role_grants

    own = ROLE_PERMISSIONS.get(code)
    if own is None and code in ROLE_BASES:
        own = ROLE_PERMISSIONS.get(ROLE_BASES[code])
    return [*(own or []), *role_grants().get(code, [])]


def matches(perm: str, patterns: list[str], sensitive: Collection[str] = ()) -> bool:
    """Whether the patterns grant `perm`. A sensitive permission (contact and patient data,
    PLAT-11) is granted only by a pattern that names it exactly, never by a wildcard."""
    if perm in sensitive:
        allowed = perm in patterns
    else:
        allowed = any(fnmatch(perm, p) for p in patterns if not p.startswith("-"))
    denied = any(fnmatch(perm, p[1:]) for p in patterns if p.startswith("-"))
    return allowed and not denied


def ensure_defaults(sender: Any = None, **kwargs: Any) -> None:
    """post_migrate: create missing departments and roles; give a *new* role its default
    permissions, add newly installed apps' permissions to roles that match them, and take
    back sensitive permissions that only a wildcard had offered."""
    from django.contrib.auth.models import Permission

    from medvigil.core.audit import audit_context
    from medvigil.core.records.domain import sensitive_permissions

    from .models import Department, Role

    with audit_context(source="defaults"):
        depts = {}
        for code, zh, en in DEPARTMENTS:
            depts[code], _created = Department.objects.get_or_create(
                code=code, defaults={"name_zh": zh, "name_en": en}
            )
        all_perms = list(Permission.objects.select_related("content_type"))
        sensitive = sensitive_permissions()
        for code, zh, en, read_only, _dept in ROLES:
            role, _created = Role.objects.get_or_create(
                code=code, defaults={"name_zh": zh, "name_en": en, "read_only": read_only}
            )
            patterns = role_patterns(code)
            wanted = [
                p
                for p in all_perms
                if matches(f"{p.content_type.app_label}.{p.codename}", patterns, sensitive)
            ]
            offered = set(role.offered_permissions or [])
            new = [p for p in wanted if f"{p.content_type.app_label}.{p.codename}" not in offered]
            # A sensitive permission a wildcard once offered (before it was marked sensitive,
            # PLAT-11) and the patterns no longer grant is taken back, once: it leaves the
            # offered list, so a later grant by an administrator stays.
            withdrawn = [
                p
                for p in all_perms
                if (name := f"{p.content_type.app_label}.{p.codename}") in sensitive
                and name in offered
                and p not in wanted
            ]
            if withdrawn:
                role.permissions.remove(*withdrawn)
                offered -= {f"{p.content_type.app_label}.{p.codename}" for p in withdrawn}
            if new:
                # Only permissions never offered before are added, so an administrator's
                # removals stay removed; new apps' permissions reach the roles they fit.
                role.permissions.add(*new)
                offered |= {f"{p.content_type.app_label}.{p.codename}" for p in new}
            if new or withdrawn:
                role.offered_permissions = sorted(offered)
                role.save(update_fields=["offered_permissions"])
