"""The traceability app's declaration (the domain-app contract, core.records.domain): its
navigation, role grants, retention rules, work and deadline providers, demo data and unit
timeline. Its URLs (trace/urls.py), API router (trace/api.py) and importers (trace/imports.py)
are picked up by their default names."""

from django.utils.translation import gettext_lazy as _

from medvigil.core.records.domain import DomainApp
from medvigil.core.registry import NavItem

from .retention import RULES

# Import files (PLAT-10): roles that create trace records may upload them; each importer also
# requires the add_ permission of what it creates.
_IMPORT = ["core.add_importbatch", "core.view_importbatch"]


class TraceConfig(DomainApp):
    name = "medvigil.trace"
    label = "trace"
    verbose_name = _("Traceability")

    # The Traceability menu of the main bar: the pages of the trace pages' own tabs.
    nav = tuple(
        NavItem(label, f"trace:{url}", f"trace.{perm}", order, group="trace")
        for order, (label, url, perm) in enumerate(
            (
                (_("Products"), "product_list", "view_product"),
                (_("Customers"), "customer_list", "view_customer"),
                (_("Lots"), "lot_list", "view_lot"),
                (_("Units"), "unit_list", "view_unit"),
                (_("Sales"), "sale_list", "view_sale"),
                (_("Returns"), "return_list", "view_returnrecord"),
                (_("Forward trace"), "trace_forward", "view_unit"),
                (_("Backward trace"), "trace_backward", "view_unit"),
                (_("Drills"), "drill_list", "view_tracedrill"),
            ),
            start=20,
        )
    )
    # Customers' and installation sites' contact data (PLAT-11) go only to the roles that
    # work with customers, quality (complaints, recalls) and inspectors; never by a wildcard
    # (finance, R&D and management see the records with the contact fields masked).
    sensitive_permissions = ("view_contact_data",)
    role_permissions = {
        "customer_service": ["view_*", "view_contact_data"],
        "service_engineer": [
            "view_*",
            "view_contact_data",
            "add_installation",
            "change_installation",
            *_IMPORT,
        ],
        "logistics": [
            "view_*",
            "view_contact_data",
            "add_return*",
            "change_return*",
            "add_sale*",
            "change_sale*",
            "add_installation",
            "change_installation",
            *_IMPORT,
        ],
        "quality": ["*", "view_contact_data"],
        "technical": ["view_*"],
        "management_rep": ["view_contact_data"],
        "sales": [
            "view_product",
            "view_customer",
            "view_licence",
            "view_unit",
            "view_lot",
            "view_sale*",
            "add_sale*",
            "change_sale*",
            "view_contact_data",
            *_IMPORT,
        ],
        "finance": ["view_*"],
        "auditor": ["view_contact_data"],
    }
    retention_rules = RULES
    work = ("work.licence_items", "work.registration_items")
    deadline_sources = ("work.deadline_source",)
    demo = ("demo.load_demo",)
    timeline = ("timeline.trace_events",)
