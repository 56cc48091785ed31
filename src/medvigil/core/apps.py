from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "medvigil.core"
    label = "core"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (m2m audit, login audit)
        from .registry import NavItem, register_nav

        register_nav(
            NavItem(
                _("Audit trail"),
                "audit_trail",
                perm="core.view_auditentry",
                order=900,
                group="admin",
            )
        )
        # Import (PLAT-10): importers live in each app's `imports` module.
        register_nav(
            NavItem(_("Imports"), "import_list", "core.view_importbatch", order=800, group="admin")
        )
        from .imports import autodiscover as autodiscover_importers

        autodiscover_importers()
        # Record destruction (PLAT-5): nav entry and the approvers' My-work items.
        from .retention.views import register_ui as register_retention_ui

        register_retention_ui()
        # Market calendars and deadline rules (PLAT-7): pages, My-work item, seeding.
        from .calendar.views import register_ui as register_calendar_ui

        register_calendar_ui(self)
