"""The recalls app's declaration (the domain-app contract, core.records.domain): navigation,
role grants per seed role, the sensitive contact permission (PLAT-11), retention, "My work",
deadline source, demo data and the unit timeline. URLs (recalls/urls.py) and the API router
(recalls/api.py, at /api/v1/recalls/) are picked up by their default names."""

from django.utils.translation import gettext_lazy as _

from medvigil.core.records.domain import DomainApp, RetentionRuleSpec
from medvigil.core.registry import NavItem

RETENTION_CITATION = (
    "ISO 13485:2016 4.2.5 / 21 CFR 806.20(b): records of corrections and removals kept for "
    "the expected life of the device and not less than 2 years; the company default here is "
    "10 years from the record (a setting on the retention page)."
)


class RecallsConfig(DomainApp):
    name = "medvigil.recalls"
    label = "recalls"
    verbose_name = _("Recalls and advisory notices")

    nav = (
        NavItem(_("Recalls"), "recalls:recall_list", "recalls.view_recall", 45, group="quality"),
    )
    sensitive_permissions = ("view_contact_data",)
    role_permissions = {
        # DOMAIN.md §1: quality scopes recalls and runs them (质量部: 召回范围)
        "quality": ["*", "-approve_recall", "-issue_advisory", "view_contact_data"],
        # the division head / general manager approves recalls and their documents (RCL-5)
        "general_manager": ["view_*", "approve_recall", "view_contact_data"],
        # the management representative issues advisory notices (RCL-6)
        "management_rep": ["view_*", "issue_advisory", "view_contact_data"],
        # customer service tells the consignees and records acknowledgements (RCL-4)
        "customer_service": ["view_*", "change_recallconsignee", "view_contact_data"],
        # logistics takes returns in and destroys; engineers correct units on site (RCL-4)
        "logistics": ["view_*", "change_recallunit", "view_contact_data"],
        "service_engineer": ["view_*", "change_recallunit", "view_contact_data"],
        "technical": ["view_*"],
        "finance": ["view_recall"],
        "auditor": ["view_contact_data"],
    }
    retention_rules = (
        RetentionRuleSpec("recall", "created", years=10, citation=RETENTION_CITATION),
        RetentionRuleSpec("recalldocument", "created", years=10, citation=RETENTION_CITATION),
    )
    # the router's paths start with /recalls: mounted at /api/v1/ (as complaints)
    api_prefix = "v1"
    work = ("services.work.my_work",)
    deadline_sources = ("services.work.deadline_source",)
    timeline = ("services.work.unit_events",)
    demo = ("demo.load_demo",)

    def ready(self) -> None:
        super().ready()
        from .rules import register_rules

        register_rules()
