"""The regulated-record contract (core.records), checked on EVERY model on AuditedModel that
is installed — the platform's, trace's, the example app's and any app added later:

- every hook the platform reads keeps the kind and signature declared in
  core/records/hooks.py, and the field names it lists exist;
- "never destroyed" is one mechanism: no model overrides delete(), every manager hands out
  the audited queryset, and both refuse outside the retention process (and always, for record
  types that are never destroyed);
- a model with a unique ``number`` gets it from NumberedMixin (gapless numbering, PLAT-4);
  a RegulatedRecord has its number and creation time; a voidable record's status has its
  void status;
- a reference between regulated records never cascades a deletion.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping

import pytest
from django.apps import apps
from django.db import models

from medvigil.core.audit import audit_context
from medvigil.core.audit.models import RegulatedDeleteError
from medvigil.core.models import AuditedModel, AuditedQuerySet
from medvigil.core.records.contract import NumberedMixin, RegulatedRecord, VoidableMixin
from medvigil.core.records.hooks import HOOKS, RecordHooks, hook

pytestmark = [pytest.mark.req("PLAT-2", "PLAT-4", "PLAT-5")]


def audited_models() -> list[type[models.Model]]:
    found = [
        m
        for m in apps.get_models()
        if issubclass(m, AuditedModel) and not m._meta.abstract and not m._meta.proxy
    ]
    assert len(found) >= 15  # the walk must not silently find nothing
    return found


MODELS = audited_models()
IDS = [m._meta.label for m in MODELS]


def _kind(value: object) -> str:
    if isinstance(value, classmethod):
        return "classmethod"
    if isinstance(value, staticmethod):
        return "staticmethod"
    if inspect.isfunction(value):
        return "method"
    return "value"


def _field_names(model: type[models.Model]) -> set[str]:
    names: set[str] = set()
    for f in model._meta.concrete_fields:
        names |= {f.name, f.attname}
    return names


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_hooks_keep_their_declared_kind_and_signature(model):
    for name, declared in HOOKS.items():
        actual = inspect.getattr_static(model, name)
        assert _kind(actual) == _kind(declared), f"{model.__name__}.{name}"
        if _kind(declared) == "value":
            expected = Mapping if isinstance(declared, Mapping) else type(declared)
            assert isinstance(actual, expected), f"{model.__name__}.{name}"
            continue
        got = inspect.signature(getattr(model, name))
        want = inspect.signature(getattr(RecordHooks, name))
        assert list(got.parameters) == list(want.parameters), f"{model.__name__}.{name}{got}"


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_hook_field_lists_name_real_fields(model):
    fields = _field_names(model)
    for name in ("audit_exclude", "audit_masked", "signature_exclude"):
        missing = set(hook(model, name)) - fields
        assert not missing, f"{model.__name__}.{name}: {missing}"
    for name in ("audit_view_perms", "choice_lists", "history_values"):
        missing = set(hook(model, name)) - fields
        assert not missing, f"{model.__name__}.{name}: {missing}"


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_one_never_destroyed_mechanism(model):
    owner = next(c for c in model.__mro__ if "delete" in c.__dict__)
    assert owner is AuditedModel, f"{model.__name__}.delete is overridden in {owner.__name__}"
    for manager in model._meta.managers:
        assert isinstance(manager.get_queryset(), AuditedQuerySet), f"{model}.{manager.name}"
    with pytest.raises(RegulatedDeleteError):
        model().delete()
    with pytest.raises(RegulatedDeleteError):
        model._default_manager.none().delete()
    if not model.retention_destroyable:  # not even the retention process destroys these
        with audit_context(allow_destroy=True), pytest.raises(RegulatedDeleteError):
            model._default_manager.none().delete()


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_numbers_come_from_the_numbering_contract(model):
    names = {f.name for f in model._meta.concrete_fields}
    if "number" in names and model._meta.get_field("number").unique:
        assert issubclass(model, NumberedMixin), f"{model.__name__}: unique number by hand"
    if issubclass(model, RegulatedRecord):
        assert {"number", "created_at"} <= names
        assert model._meta.get_field("number").unique
    if issubclass(model, VoidableMixin):
        status = model._meta.get_field("status")
        assert model.void_status in {c[0] for c in status.choices or ()}, model.__name__


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_references_to_regulated_records_never_cascade(model):
    for f in model._meta.concrete_fields:
        target = getattr(f, "related_model", None)
        if f.many_to_one and isinstance(target, type) and issubclass(target, AuditedModel):
            on_delete = f.remote_field.on_delete
            assert on_delete is not models.CASCADE, f"{model.__name__}.{f.name} cascades"


def test_a_wrong_hook_is_caught():
    """The checks above can fail: a hook turned into a plain method, or given another
    signature, is reported."""

    class Broken:
        def visible_to(self, user, qs):  # not a classmethod
            return qs

        def audit_repr(self, language):  # another signature
            return ""

    assert _kind(inspect.getattr_static(Broken, "visible_to")) != _kind(HOOKS["visible_to"])
    got = inspect.signature(Broken.audit_repr)
    assert list(got.parameters) != list(inspect.signature(RecordHooks.audit_repr).parameters)
