"""PLAT-6: every field a record's history panel can show has a translated label, so that a
zh-Hans user never reads an English field name (or a raw attribute name) in the trail."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.utils import translation
from django.utils.functional import Promise

from medvigil.core.audit.values import audited_fields
from medvigil.core.models import AuditedModel

pytestmark = pytest.mark.req("PLAT-6", "PLAT-2")

SAME_IN_BOTH = {"ID", "SHA-256", "UDI-PI", "GTIN", "e-mail", "E-mail"}


def _audited_models():
    return [
        m
        for m in apps.get_models()
        if m.__module__.startswith("medvigil") and issubclass(m, AuditedModel)
    ]


@pytest.mark.parametrize("model", _audited_models(), ids=lambda m: m._meta.label)
def test_every_audited_field_has_a_translated_label(model):
    missing = []
    for f in audited_fields(model):
        if f.primary_key or f.name == "version":
            continue
        label = f.verbose_name
        with translation.override("en"):
            en = str(label)
        with translation.override("zh-hans"):
            zh = str(label)
        if not isinstance(label, Promise) or (zh == en and en not in SAME_IN_BOTH):
            missing.append(f"{f.name} ({en!r})")
    assert not missing, f"{model._meta.label}: no zh-Hans label for {', '.join(missing)}"
