"""Optimistic concurrency (ARCHITECTURE rule 8): an edit must say which version it changes.
A form post or service call without a version (or with an empty or malformed one) is a
conflict with the usual message — it must not silently overwrite a newer save (PLAT-2: every
change is the one its author saw)."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse
from ninja import NinjaAPI
from ninja.testing import TestClient

from medvigil.core.api import Id, Versioned, error_responses
from medvigil.core.api_errors import install_error_handlers
from medvigil.core.models import ANY_VERSION, ConflictError
from medvigil.trace import services
from medvigil.trace.models import Product

from .conftest import product

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-2")]

CONFLICT = "changed by someone else"


@pytest.mark.parametrize("version", [None, "", "abc", "1.5"])
def test_a_missing_empty_or_malformed_version_is_a_conflict(version):
    p = product()
    with pytest.raises(ConflictError, match=CONFLICT):
        p.check_version(version)
    with pytest.raises(ConflictError):
        services.update_product(p, name="overwritten", version=version)
    assert Product.objects.get(pk=p.pk).name == "输液泵"
    p.check_version(p.version)  # the current version passes
    p.check_version(str(p.version))
    p.check_version(ANY_VERSION)  # explicitly unchecked (system actions)


def test_an_edit_form_posted_without_version_does_not_overwrite_a_newer_save(
    client_for, quality_user
):
    p = product()
    stale = model_to_dict(p, fields=["code", "name", "name_en", "model_spec", "manufacturer"])
    services.update_product(p, name="newer save", version=p.version)  # someone else saves
    c = client_for(quality_user)
    url = reverse("trace:product_edit", args=[p.pk])
    form = {
        **{k: v for k, v in stale.items() if v is not None},
        "risk_class": p.risk_class,
        "tracking": p.tracking,
        "warranty_months": p.warranty_months,
        "active": "on",
        "name": "stale edit",
    }
    for version in ({}, {"version": ""}):
        r = c.post(url, {**form, **version})
        assert r.status_code == 200 and CONFLICT in r.content.decode()
        assert Product.objects.get(pk=p.pk).name == "newer save"
    current = Product.objects.get(pk=p.pk)
    r = c.post(url, {**form, "version": current.version})
    assert r.status_code == 302
    assert Product.objects.get(pk=p.pk).name == "stale edit"


class RenameIn(Versioned):
    name: str


def rename_api(user):
    """An update endpoint built as docs/api.md says: body on core.api.Versioned, the service
    given payload.version, the API's own error handlers."""
    api = NinjaAPI(urls_namespace="version-test")
    install_error_handlers(api)

    @api.post("/products/{pk}/rename", response={200: dict, **error_responses(409)})
    def rename(request, pk: Id, payload: RenameIn):
        p = services.update_product(
            Product.objects.get(pk=pk), name=payload.name, by=user, version=payload.version
        )
        return {"version": p.version}

    return api


def test_an_api_update_without_version_is_a_409_conflict(quality_user):
    p = product()
    client = TestClient(rename_api(quality_user))
    for body in ({"name": "x"}, {"name": "x", "version": None}, {"name": "x", "version": 99}):
        r = client.post(f"/products/{p.pk}/rename", json=body)
        assert r.status_code == 409, r.content
        assert r.json()["error"]["code"] == "conflict"
        assert CONFLICT in r.json()["error"]["message"]
    assert Product.objects.get(pk=p.pk).name == "输液泵"
    r = client.post(f"/products/{p.pk}/rename", json={"name": "renamed", "version": p.version})
    assert r.status_code == 200 and Product.objects.get(pk=p.pk).name == "renamed"
