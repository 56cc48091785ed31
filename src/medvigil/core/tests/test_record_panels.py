"""The record view kit's one panels tag (#7 item 3): every record page of every domain app
(trace and the example app) shows the same panels — history, attachments, signatures, the
destruction request button and, where the record has one, the unit timeline — because each
page places ``{% record_panels obj %}`` instead of hand-placed panels (PLAT-2, PLAT-3)."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import (
    NoReverseMatch,
    URLPattern,
    URLResolver,
    get_resolver,
    resolve,
    reverse,
)

from medvigil.core.models import AuditedModel
from medvigil.core.records.domain import DomainApp
from medvigil.core.retention.services import is_destroyable_type

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-2", "PLAT-3")]


def domain_models() -> list[type[AuditedModel]]:
    return [
        m
        for m in apps.get_models()
        if issubclass(m, AuditedModel)
        and isinstance(apps.get_app_config(m._meta.app_label), DomainApp)
    ]


def detail_route_names() -> set[str]:
    """Every `<namespace>:*_detail` page of a domain app that takes one record id."""
    names: set[str] = set()
    namespaces = {c.label for c in apps.get_app_configs() if isinstance(c, DomainApp)}

    def walk(patterns: list[Any], ns: str | None) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, p.namespace or ns)
            elif (
                isinstance(p, URLPattern)
                and ns in namespaces
                and (p.name or "").endswith("_detail")
                and len(p.pattern.converters) == 1
            ):
                names.add(f"{ns}:{p.name}")

    walk(get_resolver().url_patterns, None)
    return names


def record_page(model: type[AuditedModel], obj: Any) -> tuple[str, str] | None:
    """The record's own page: `<ns>:<model>_detail`, else get_absolute_url() when it is not a
    part of another record's page (a '#fragment')."""
    ns = model._meta.app_label
    try:
        return f"{ns}:{model._meta.model_name}_detail", reverse(
            f"{ns}:{model._meta.model_name}_detail", args=[obj.pk]
        )
    except NoReverseMatch:
        pass
    url = obj.get_absolute_url() if hasattr(obj, "get_absolute_url") else ""
    if not url or "#" in url:
        return None
    match = resolve(url)
    return f"{match.namespace}:{match.url_name}", url


@pytest.fixture
def demo(db: Any, settings: Any, tmp_path: Any) -> None:
    from medvigil.accounts.demo import load_all

    settings.MEDIA_ROOT = str(tmp_path)
    load_all()


def test_every_record_page_shows_every_panel(demo: Any, admin_user: Any) -> None:
    client = Client()
    client.force_login(admin_user)
    seen: set[str] = set()
    for model in domain_models():
        obj = model._base_manager.order_by("pk").first()
        if obj is None:
            continue
        page = record_page(model, obj)
        if page is None:
            continue
        name, url = page
        seen.add(name)
        html = client.get(url).content.decode()
        ct = ContentType.objects.get_for_model(obj, for_concrete_model=True)
        key = f"{ct.app_label}-{ct.model}-{obj.pk}"
        assert f'id="history-{key}"' in html, name
        assert f'id="attachments-{key}"' in html, name
        assert "signatures-panel" in html, name
        # the button only for types that may be destroyed at all (IMDRF terms never are)
        assert ("destruction-button" in html) == is_destroyable_type(model), name
        assert ("timeline-panel" in html) == bool(getattr(model, "record_timeline", False)), name
    missing = detail_route_names() - seen
    assert not missing, f"record pages not walked (no demo record?): {sorted(missing)}"
    assert {"trace:unit_detail", "trace:drill_detail", "exampleapp:inspection_detail"} <= seen


def test_destruction_button_only_for_users_who_may_ask(demo: Any, make_user: Any) -> None:
    from medvigil.trace.models import Product

    auditor = make_user("aud", "auditor")
    assert not auditor.has_perm("core.add_destructionrequest")
    client = Client()
    client.force_login(auditor)
    html = client.get(Product.objects.order_by("pk").first().get_absolute_url()).content.decode()
    assert "history-panel" in html
    assert "destruction-button" not in html


@pytest.mark.req("PLAT-1", "PLAT-2")
def test_the_history_names_a_linked_record_only_within_the_readers_own_rule(
    make_user, client_for, settings
):
    """A reader who may view inspection reports and inspections, but only their own
    inspections (the model's visible_to), reads the history of another's report — the panel's
    htmx fragment and the audit search — with the inspection as "inspection you may not
    view": never its number or title. Its owner reads them."""
    from django.utils import translation

    from medvigil.core.tests.exampleapp import services as ex

    settings.LANGUAGE_CODE = "en"
    owner = make_user("insp-owner", "customer_service")
    reader = make_user("insp-reader", "customer_service")
    quality = make_user("insp-quality", "quality")
    inspection = ex.create_inspection(by=owner, title="Ward 7 secret site")
    report = ex.draft_report(inspection, by=quality, text="report text")
    fragment = reverse("record_history", args=["exampleapp", "inspectionreport", report.pk])
    trail = (
        reverse("audit_trail") + f"?record_type=exampleapp.inspectionreport&object_id={report.pk}"
    )
    with translation.override("en"):
        for url in (fragment, trail):
            body = client_for(reader).get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
            assert "inspection you may not view" in body, url
            assert inspection.number not in body and "Ward 7" not in body, url
            body = client_for(owner).get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
            assert f"{inspection.number} Ward 7 secret site" in body, url
