"""The domain-app contract: one place where a domain app declares what it adds to the
platform, and the loader that registers it at start-up (docs/development/domain-app.md).

A domain app's ``apps.py``::

    class ComplaintsConfig(DomainApp):
        name = "medvigil.feedback"
        label = "feedback"
        verbose_name = _("Feedback")

        nav = (NavItem(_("Complaints"), "feedback:list", "feedback.view_complaint", 30),)
        role_permissions = {                      # role code -> permission patterns
            "customer_service": ["view_*", "add_complaint", "change_complaint"],
            "quality": ["*", "view_patient_data"],
        }
        sensitive_permissions = ("view_patient_data",)  # never granted by a wildcard
        retention_rules = (RetentionRuleSpec("complaint", "created", years=10, citation="…"),)
        work = ("work.my_complaints",)            # "My work" providers
        deadline_sources = ("work.deadlines",)    # deadline alert sources
        demo = ("demo.load_demo",)                # demo data loaders
        timeline = ("timeline.complaint_events",) # unit timeline providers

Dotted paths are relative to the app package and are imported in ``ready()``, when the models
are loaded. By default the app's ``urls`` module is included at ``/<label>/`` (its
``app_name`` is the namespace), its ``api.router`` is mounted at ``/api/v1/<label>/`` and its
``imports`` module (importers registered with ``core.imports.register``) is imported; set
``urls``/``api``/``importers`` to change or switch these off. Nothing central is edited to
add an app: put it in INSTALLED_APPS.

Permission patterns: ``"app_label.codename"`` with shell-style wildcards, or a bare codename
(then of this app); a leading ``-`` takes a permission away. A permission named in
``sensitive_permissions`` (contact and patient data, PLAT-11) is granted only by a pattern
that names it exactly: ``*.view_*`` or ``trace.*`` never carry it.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.module_loading import import_string

from ..registry import NavItem

__all__ = [
    "DomainApp",
    "RetentionRuleSpec",
    "domain_apps",
    "domain_urlpatterns",
    "mount_api_routers",
    "role_grants",
    "sensitive_permissions",
]

Target = str | Callable[..., Any]


@dataclass(frozen=True)
class RetentionRuleSpec:
    """A retention rule (core.models.RetentionRule) created on migrate when the record type
    has none; an administrator's later edits are kept."""

    model: str  # model name in this app
    basis: str  # RetentionRule.Basis: created, expiry, lifetime, permanent
    years: int = 5
    minimum_years: int = 0
    permanent_if_implantable: bool = False
    citation: str = ""


class DomainApp(AppConfig):
    """The AppConfig base of a domain app; see the module docstring."""

    # Django picks the AppConfig subclass of an app's apps.py; this base, imported there,
    # is not a candidate (default = False), every subclass is.
    default = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "default" not in cls.__dict__:
            cls.default = True

    #: Entries of the main bar (group "") or the admin menu (group "admin").
    nav: ClassVar[Sequence[NavItem]] = ()
    #: Role code (accounts.defaults.ROLES) -> permission patterns this app grants it.
    role_permissions: ClassVar[Mapping[str, Sequence[str]]] = {}
    #: Codenames granted only by exact name, never by a wildcard (PLAT-11).
    sensitive_permissions: ClassVar[Sequence[str]] = ()
    #: Retention rules of this app's record types (PLAT-5).
    retention_rules: ClassVar[Sequence[RetentionRuleSpec]] = ()
    #: "My work" providers: fn(user) -> iterable of core.registry.WorkItem.
    work: ClassVar[Sequence[Target]] = ()
    #: Deadline alert sources: fn(now) -> iterable of core.deadlines.Deadline.
    deadline_sources: ClassVar[Sequence[Target]] = ()
    #: Demo data loaders: fn() (run by `medvigil demo` after the demo users).
    demo: ClassVar[Sequence[Target]] = ()
    #: Unit timeline providers: fn(unit, user) -> iterable of core.registry.TimelineEvent.
    timeline: ClassVar[Sequence[Target]] = ()
    #: Modules imported at start-up whose importers register themselves (PLAT-10).
    importers: ClassVar[Sequence[str]] = ("imports",)
    #: URL module included at url_prefix (default "<label>/"); None: no pages.
    urls: ClassVar[str | None] = "urls"
    url_prefix: ClassVar[str | None] = None
    #: ninja Router mounted at /api/v1/<api_prefix or label>/; None: no API.
    api: ClassVar[str | None] = "api.router"
    api_prefix: ClassVar[str | None] = None

    def ready(self) -> None:
        load_domain_app(self)

    # --- helpers ----------------------------------------------------------------------------

    def resolve(self, target: Target) -> Any:
        """A callable, or a dotted path relative to this app's package."""
        if callable(target):
            return target
        return import_string(f"{self.name}.{target}")

    def _module(self, relative: str | None) -> str | None:
        """The full name of an optional module of this app, or None if it does not exist."""
        if not relative:
            return None
        name = f"{self.name}.{relative}"
        try:
            return name if importlib.util.find_spec(name) is not None else None
        except ModuleNotFoundError:
            return None

    def qualify(self, pattern: str) -> str:
        """A permission pattern with its app label ("view_*" -> "trace.view_*")."""
        negated = pattern.startswith("-")
        body = pattern[1:] if negated else pattern
        if "." not in body:
            body = f"{self.label}.{body}"
        return f"-{body}" if negated else body


def load_domain_app(app: DomainApp) -> None:
    """Register everything `app` declares (called from its ready(); idempotent)."""
    from ..calendar.deadlines import register_deadline_source
    from ..registry import register_nav, register_timeline_provider, register_work

    for item in app.nav:
        register_nav(item)
    for target in app.work:
        register_work(app.resolve(target))
    for target in app.deadline_sources:
        register_deadline_source(app.resolve(target))
    for target in app.timeline:
        register_timeline_provider(app.resolve(target))
    if app.demo:
        from medvigil.accounts.demo import register_demo

        for target in app.demo:
            register_demo(app.resolve(target))
    for module in app.importers:
        found = app._module(module)
        if found:
            importlib.import_module(found)
    if app.retention_rules:
        post_migrate.connect(
            ensure_app_retention_rules,
            sender=app,
            dispatch_uid=f"medvigil_retention_{app.label}",
        )


def ensure_app_retention_rules(sender: DomainApp, **kwargs: Any) -> None:
    """post_migrate (also re-run after a test flush): create the app's missing rules."""
    from ..retention.services import ensure_retention_rules

    ensure_retention_rules(sender.label, sender.retention_rules)


def domain_apps() -> list[DomainApp]:
    return [c for c in apps.get_app_configs() if isinstance(c, DomainApp)]


def role_grants() -> dict[str, list[str]]:
    """Role code -> the permission patterns all domain apps grant it (qualified). A role with
    a base (accounts.defaults.ROLE_BASES) that an app does not name gets the base's grants in
    that app."""
    from medvigil.accounts.defaults import ROLE_BASES

    out: dict[str, list[str]] = {}
    for app in domain_apps():
        declared = dict(app.role_permissions)
        for role, base in ROLE_BASES.items():
            if role not in declared and base in declared:
                declared[role] = declared[base]
        for role, patterns in declared.items():
            out.setdefault(role, []).extend(app.qualify(p) for p in patterns)
    return out


def sensitive_permissions() -> frozenset[str]:
    """Every permission ("app_label.codename") that only an exact grant gives."""
    return frozenset(
        app.qualify(codename) for app in domain_apps() for codename in app.sensitive_permissions
    )


def domain_urlpatterns() -> list[Any]:
    """One include() per domain app with pages (mounted by medvigil/urls.py)."""
    from django.urls import include, path

    patterns: list[Any] = []
    for app in domain_apps():
        module = app._module(app.urls)
        if module is None:
            continue
        prefix = app.url_prefix if app.url_prefix is not None else f"{app.label}/"
        patterns.append(path(prefix, include(module)))
    return patterns


def mount_api_routers(api: Any) -> None:
    """Mount each domain app's ninja Router (called by medvigil/api.py)."""
    from ninja import Router

    for app in domain_apps():
        if not app.api:
            continue
        module_path, _dot, attr = app.api.rpartition(".")
        module = app._module(module_path)
        if module is None:
            continue
        router = getattr(importlib.import_module(module), attr, None)
        if isinstance(router, Router):
            api.add_router(f"/{app.api_prefix or app.label}/", router)
