"""The complaints app's declaration (the domain-app contract, core.records.domain): navigation,
role grants per seed role, sensitive permissions (PLAT-11), retention, "My work", deadline
source, demo data and the unit timeline. URLs (complaints/urls.py) and the API router
(complaints/api.py) are picked up by their default names."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from medvigil.core.records.domain import DomainApp, RetentionRuleSpec
from medvigil.core.registry import NavItem

RETENTION_CITATION = (
    "ISO 13485:2016 4.2.5 / 21 CFR 820.180: records kept at least for the lifetime of the device "
    "and not less than 2 years from release; 《医疗器械生产质量管理规范》第二十七条. The company "
    "default here is 10 years from receipt (a setting on the retention page)."
)

# Notices (FBK-8) go to every department; each acknowledges and answers its own.
_NOTICE = ["view_problemnotice", "change_problemnotice"]


class ComplaintsConfig(DomainApp):
    name = "medvigil.complaints"
    label = "complaints"
    verbose_name = _("Customer feedback and complaints")

    nav = (
        NavItem(
            _("Complaints"),
            "complaints:feedback_list",
            "complaints.view_feedback",
            30,
            group="feedback",
        ),
        NavItem(
            _("Complaint analysis"),
            "complaints:analysis",
            "complaints.view_feedback",
            31,
            group="feedback",
        ),
    )
    # Complainants' contact data and patient data (PLAT-11) only to the roles that handle the
    # complaint or inspect the complaint file; never by a wildcard.
    sensitive_permissions = ("view_contact_data", "view_patient_data")
    role_permissions = {
        # seed 003 3.1/4.2.1: customer service (市场部/客户部) registers, routes, replies
        "customer_service": [
            "view_*",
            "add_feedback",
            "change_feedback",
            "export_feedback",
            "add_clockpause",
            "change_clockpause",
            "add_problemnotice",
            "change_problemnotice",
            "add_resolution",
            "change_resolution",
            "add_correspondence",
            "add_eightdreport",
            "change_eightdreport",
            "view_contact_data",
            "view_patient_data",
        ],
        # seed 003 3.2: quality evaluates, investigates, tests returned products, closes
        "quality": ["*", "-approve_feedback", "view_contact_data", "view_patient_data"],
        # seed 003 顾客反馈控制程序 3.3): the management representative approves decisions
        "management_rep": [
            "view_*",
            "approve_feedback",
            "change_resolutionapproval",
            *_NOTICE,
            "view_contact_data",
            "view_patient_data",
        ],
        # seed 003 3.4: the division head approves returns and exchanges
        "general_manager": [
            "view_*",
            "approve_feedback",
            "change_resolutionapproval",
            *_NOTICE,
            "view_contact_data",
        ],
        # seed 003 客户投诉处理程序 4.1: sales staff and dealers take complaints in and visit;
        # they see only their own customers' feedback (Feedback.visible_to)
        "sales": [
            "view_feedback",
            "add_feedback",
            "view_problemnotice",
            "view_resolution",
            "view_correspondence",
            "add_correspondence",
            "view_clockpause",
            "view_contact_data",
        ],
        "service_engineer": [
            "view_*",
            "add_feedback",
            "change_feedback",
            "add_investigation",
            "change_investigation",
            *_NOTICE,
            "view_contact_data",
        ],
        "technical": ["view_*", "add_investigation", "change_investigation", *_NOTICE],
        "logistics": ["view_*", *_NOTICE, "view_contact_data"],
        "finance": ["view_*", *_NOTICE],
        # inspectors read the whole complaint file (FBK-9), contact and patient data included
        "auditor": ["view_contact_data", "view_patient_data"],
    }
    retention_rules = (
        RetentionRuleSpec("feedback", "created", years=10, citation=RETENTION_CITATION),
        RetentionRuleSpec("problemnotice", "created", years=10, citation=RETENTION_CITATION),
        RetentionRuleSpec("eightdreport", "created", years=10, citation=RETENTION_CITATION),
    )
    # The API router's paths start with /complaints: mounted at /api/v1/ the resource is exactly
    # /api/v1/complaints (issue #9), not /api/v1/complaints/complaints.
    api_prefix = "v1"
    # FBK-7: follow-up call-backs and approvals waiting (complaints/work_callbacks.py)
    work = ("services.clocks.my_work", "work_callbacks.my_callbacks")
    deadline_sources = ("services.clocks.deadline_source",)
    timeline = ("timeline.feedback_events",)
    demo = ("demo.load_demo", "demo_eight_d.load_demo", "demo_narratives.load_narratives")

    def ready(self) -> None:
        super().ready()
        from django.db.models.signals import post_migrate

        from medvigil.core.calendar.services import register_deadline_model

        from .models import Feedback
        from .rules import register_rules

        register_rules()
        # FBK-4: a calendar change recomputes the stored due times of the open records
        register_deadline_model(Feedback)
        post_migrate.connect(_create_routes, sender=self)


def _create_routes(sender: Any, **kwargs: Any) -> None:
    """The default category → department routes (rules.DEFAULT_ROUTES), when missing."""
    from .services.routing import ensure_routes

    ensure_routes()
