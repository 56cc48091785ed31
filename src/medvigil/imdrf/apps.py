"""The IMDRF coding app's declaration (the domain-app contract, core.records.domain): the
terms page in the main bar, the releases page in the admin menu, who reads and who maintains
the terminology, the demo translations, and the shipped release loaded on migrate."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from medvigil.core.records.domain import DomainApp
from medvigil.core.registry import NavItem

_READ = ["view_term", "view_release"]


class ImdrfConfig(DomainApp):
    name = "medvigil.imdrf"
    label = "imdrf"
    verbose_name = _("IMDRF coding")

    nav = (
        NavItem(_("IMDRF terms"), "imdrf:term_list", "imdrf.view_term", 60, group="vigilance"),
        NavItem(_("IMDRF releases"), "imdrf:release_list", "imdrf.add_release", 60, group="admin"),
    )
    # VIG-5: everyone who codes or reads events and complaints reads the terminology; quality
    # (vigilance) keeps the Chinese text; the administrator and quality load a new release.
    role_permissions = {
        "customer_service": _READ,
        "service_engineer": _READ,
        "logistics": _READ,
        "quality": ["view_*", "change_term", "add_release"],
        "technical": _READ,
        "management_rep": _READ,
        "general_manager": _READ,
        "sales": _READ,
        "finance": _READ,
        "auditor": [],  # the platform's *.view_* reaches the app
        "admin": [*_READ, "add_release", "change_term"],
    }
    importers = ()
    demo = ("demo.load_demo",)

    def ready(self) -> None:
        super().ready()
        from django.db.models.signals import post_migrate

        post_migrate.connect(_load_shipped, sender=self, dispatch_uid="medvigil_imdrf_shipped")


def _load_shipped(sender: Any, **kwargs: Any) -> None:
    """The shipped release (imdrf/data), when no release is loaded yet."""
    from django.db import connections

    from .models import Release
    from .services import ensure_shipped_release

    connection = connections[kwargs.get("using") or "default"]
    if Release._meta.db_table in connection.introspection.table_names():  # not after "zero"
        ensure_shipped_release()
