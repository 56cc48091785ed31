"""Place 1 of 5: everything the example app adds to the platform, declared once."""

from django.utils.translation import gettext_lazy as _

from medvigil.core.records.domain import DomainApp, RetentionRuleSpec
from medvigil.core.registry import NavItem


class ExampleAppConfig(DomainApp):
    name = "medvigil.core.tests.exampleapp"
    label = "exampleapp"
    verbose_name = "Example domain app (tests only)"

    # filed under a menu of the main bar (core.registry.MENUS), shown to who may view it
    nav = (
        NavItem(
            _("Inspections"),
            "exampleapp:inspection_list",
            "exampleapp.view_inspection",
            99,
            group="quality",
        ),
    )
    sensitive_permissions = ("view_site_contact",)
    role_permissions = {
        "quality": ["*", "view_site_contact"],
        "customer_service": [
            "view_inspection",
            "add_inspection",
            "change_inspection",
            "view_inspectionreport",
        ],
        "finance": ["view_*"],  # a wildcard: never the sensitive view_site_contact
        "auditor": [],  # the platform's *.view_* reaches the app too (not the sensitive one)
    }
    retention_rules = (
        RetentionRuleSpec("inspection", "created", years=3, citation="EXAMPLE-1: three years"),
        RetentionRuleSpec(
            "inspectionreport", "created", years=3, citation="EXAMPLE-1: three years"
        ),
    )
    work = ("services.my_inspections",)
    deadline_sources = ("services.inspection_deadlines",)
    demo = ("services.load_demo",)
    importers = ("services",)
    # urls ("urls") and api ("api.router") by their default names
