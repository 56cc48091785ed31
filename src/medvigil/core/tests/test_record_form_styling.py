"""The record kit's form styling (core/records/forms.py): styling a bound form in its
__init__ must not validate it early — a subclass narrows a field's choices after the base
__init__ (the user's scope), and validation must see the narrowed choices. Errors still get
`is-invalid` once the form is validated."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms

from medvigil.accounts.models import Department
from medvigil.core.records.forms import BootstrapMixin

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-1")]


class BaseForm(BootstrapMixin, forms.Form):
    department = forms.ModelChoiceField(queryset=Department.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()  # as VersionedModelForm does


class ScopedForm(BaseForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.all()  # type: ignore[attr-defined]


def test_choices_narrowed_after_the_base_init_are_the_ones_validated():
    dept = Department.objects.order_by("pk").first()
    assert dept is not None
    form = ScopedForm({"department": dept.pk})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["department"] == dept


def test_errors_still_mark_the_field_invalid_after_validation():
    form = ScopedForm({"department": ""})
    assert "is-invalid" not in form.fields["department"].widget.attrs["class"]
    assert not form.is_valid()
    assert "is-invalid" in form.fields["department"].widget.attrs["class"]
