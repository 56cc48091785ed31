"""The CAPA app's declaration (the domain-app contract, core.records.domain): navigation, role
grants per seed role, retention, "My work", the deadline source, demo data. URLs (capa/urls.py)
and the API router (capa/api.py, at /api/v1/capa/) are picked up by their default names.

Seed roles: the quality department (质量部, role `quality`) runs CAPAs; closure with the
e-signature (capa.close_capa) belongs to the quality manager (质量经理, role `quality_manager`,
issue #12), as seed 003 says: "纠正预防措施由质量部(必要时报管理者代表审查批准)核准". The
management representative may also close, and approves concessions (capa.approve_concession)
with the division head / general manager."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from medvigil.core.records.domain import DomainApp, RetentionRuleSpec
from medvigil.core.registry import NavItem

RETENTION_CITATION = (
    "ISO 13485:2016 4.2.5 / 8.5.2 / 21 CFR 820.180: CAPA and nonconforming-product records kept "
    "at least for the lifetime of the device and not less than 2 years from release. The "
    "company default here is 10 years from creation (a setting on the retention page)."
)

# Anyone who may own a CAPA action sees CAPAs and updates their own actions.
_ACTION_OWNER = ["view_capa", "view_capaaction", "change_capaaction"]


class CapaConfig(DomainApp):
    name = "medvigil.capa"
    label = "capa"
    verbose_name = _("CAPA and nonconforming product")

    nav = (
        NavItem(_("CAPA"), "capa:capa_list", "capa.view_capa", 40, group="quality"),
        NavItem(
            _("Nonconformities"), "capa:nc_list", "capa.view_nonconformity", 41, group="quality"
        ),
        NavItem(_("Suppliers"), "capa:supplier_list", "capa.view_supplier", 42, group="quality"),
    )
    role_permissions = {
        # seed 003: the quality department organises corrective and preventive action,
        # verifies it and closes it; it proposes dispositions but does not approve concessions
        # (a quality engineer prepares the closure; the quality manager signs it, issue #12)
        "quality": ["*", "-approve_concession", "-delete_*", "-close_capa"],
        # the quality manager (质量经理) closes CAPAs with the e-signature (seed 003: 核准)
        "quality_manager": ["*", "-approve_concession", "-delete_*"],
        # seed 003 4.3.3: the management representative raises CAPAs for system nonconformities
        # and approves them when needed; approves concessions
        "management_rep": [
            "view_*",
            "add_capa",
            "change_capa",
            "close_capa",
            "change_capaaction",
            "approve_concession",
        ],
        # the division head / general manager approves concessions
        "general_manager": ["view_*", "approve_concession"],
        # seed 003 3.4: technical finds root causes and carries out actions
        "technical": ["view_*", "change_capaaction", "add_nonconformity"],
        "service_engineer": [*_ACTION_OWNER, "view_nonconformity", "add_nonconformity"],
        # the warehouse segregates nonconforming product and records incoming ones
        "logistics": [
            *_ACTION_OWNER,
            "view_nonconformity",
            "add_nonconformity",
            "change_nonconformity",
            "view_supplier",
        ],
        "customer_service": [*_ACTION_OWNER, "view_nonconformity"],
        # auditors read everything through the platform's *.view_*
        "auditor": [],
    }
    retention_rules = (
        RetentionRuleSpec("capa", "created", years=10, citation=RETENTION_CITATION),
        RetentionRuleSpec("nonconformity", "created", years=10, citation=RETENTION_CITATION),
        RetentionRuleSpec("scar", "created", years=10, citation=RETENTION_CITATION),
        RetentionRuleSpec("capareport", "created", years=10, citation=RETENTION_CITATION),
    )
    work = ("services.work.my_work",)
    deadline_sources = ("services.work.deadline_source",)
    demo = ("demo.load_demo",)
    timeline = ("timeline.nonconformity_events",)

    def ready(self) -> None:
        super().ready()
        from django.db.models.signals import post_save

        post_save.connect(
            _evaluation_saved, sender="complaints.Evaluation", dispatch_uid="capa-no-capa"
        )


def _evaluation_saved(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kw: Any
) -> None:
    """FBK-5: a completed "no CAPA needed" evaluation arrives as a record here."""
    if raw or instance.capa_needed or instance.evaluated_at is None:
        return
    from .services.capa import record_no_capa_decision

    record_no_capa_decision(instance)
