"""Optimistic concurrency (ARCHITECTURE rule 8): an edit must say which version it changes.
A form post or service call without a version (or with an empty or malformed one) is a
conflict with the usual message — it must not silently overwrite a newer save (PLAT-2: every
change is the one its author saw)."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

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
