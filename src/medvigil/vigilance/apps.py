"""The vigilance app's declaration (the domain-app contract, core.records.domain): navigation,
role grants per seed role, the sensitive patient-data permission (PLAT-11), retention, "My
work", the deadline source (VIG-7), demo data. Its deadline rules (VIG-3) are registered in
ready() from rules.py."""

from django.utils.translation import gettext_lazy as _

from medvigil.core.records.domain import DomainApp, RetentionRuleSpec
from medvigil.core.registry import NavItem

RETENTION_CITATION = (
    "TRC-9: adverse-event records until product expiry plus 2 years, permanent for "
    "implantables; 21 CFR 803.18(b): MDR event files for 2 years from the report or the "
    "device's expected life, whichever is greater (the 10-year minimum here covers both)."
)


class VigilanceConfig(DomainApp):
    name = "medvigil.vigilance"
    label = "vigilance"
    verbose_name = _("Vigilance")

    nav = (
        NavItem(
            _("Adverse events"),
            "vigilance:event_list",
            "vigilance.view_adverseevent",
            40,
            group="vigilance",
        ),
        NavItem(
            _("Countdown board"),
            "vigilance:board",
            "vigilance.view_adverseevent",
            41,
            group="vigilance",
        ),
        NavItem(
            _("Trend board"),
            "vigilance:trends",
            "vigilance.view_trendsignal",
            42,
            group="vigilance",
        ),
    )
    # Patient data (PLAT-11) only to the roles that decide and report, and the inspectors.
    sensitive_permissions = ("view_patient_data",)
    role_permissions = {
        # seed 003 3.2 / DOMAIN §1: quality evaluates reportability and reports to regulators;
        # the quality engineer is the qualified person
        "quality": ["*", "view_patient_data"],
        # the management representative decides with quality and is told at a breach
        "management_rep": [
            "view_*",
            "decide_reportability",
            "submit_vigilancereport",
            "view_patient_data",
        ],
        "general_manager": ["view_*"],
        # R&D reads the events for the investigation, without patient data
        "technical": ["view_*"],
        # any employee may be the first to know (803.3): service and customer service raise
        # events and see the ones they raised (AdverseEvent.visible_to)
        "service_engineer": ["view_adverseevent", "add_adverseevent"],
        "customer_service": ["view_adverseevent", "add_adverseevent"],
        # inspectors read the event files, patient data included
        "auditor": ["view_patient_data"],
    }
    retention_rules = (
        RetentionRuleSpec(
            "adverseevent",
            "expiry",
            years=2,
            minimum_years=10,
            permanent_if_implantable=True,
            citation=RETENTION_CITATION,
        ),
        RetentionRuleSpec(
            "vigilancereport",
            "created",
            years=10,
            citation=RETENTION_CITATION,
        ),
        RetentionRuleSpec(
            "trendreport",
            "created",
            years=10,
            citation=RETENTION_CITATION,
        ),
    )
    work = ("services.board.my_work",)
    deadline_sources = ("services.board.deadline_source",)
    demo = ("demo.load_demo",)
    timeline = ("timeline.event_entries",)

    def ready(self) -> None:
        super().ready()
        from .rules import register_rules

        register_rules()
