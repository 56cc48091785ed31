from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class TraceConfig(AppConfig):
    name = "medvigil.trace"
    label = "trace"
    verbose_name = _("Traceability")

    def ready(self) -> None:
        from medvigil.core.deadlines import register_deadline_source
        from medvigil.core.registry import NavItem, register_nav, register_work

        from . import timeline  # noqa: F401  (registers the unit timeline provider)
        from .work import deadline_source, licence_items, registration_items

        # Two entries in the main bar; the trace pages' own tabs lead to the rest.
        register_nav(NavItem(_("Traceability"), "trace:unit_list", "trace.view_unit", 20))
        register_nav(NavItem(_("Customers"), "trace:customer_list", "trace.view_customer", 21))
        register_work(licence_items)
        register_work(registration_items)
        register_deadline_source(deadline_source)

        from medvigil.accounts.demo import register_demo

        from .demo import load_demo

        register_demo(load_demo)

        from .retention import ensure_retention_rules

        post_migrate.connect(
            ensure_retention_rules, sender=self, dispatch_uid="medvigil_trace_retention"
        )
