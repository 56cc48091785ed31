"""The record kit's form styling (core/records/forms.py): styling a new bound form does not
validate it, so a form may set its querysets or its user after ``super().__init__`` and be
validated with them; the fields with errors get ``is-invalid`` once validated."""

from __future__ import annotations

from typing import Any

from django import forms

from medvigil.core.records.forms import BootstrapMixin


class _Form(BootstrapMixin, forms.Form):
    name = forms.CharField()

    def __init__(self, *args: Any, allowed: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()
        self.allowed = allowed  # set after super().__init__, read by clean()

    def clean_name(self) -> str:
        if self.cleaned_data["name"] != self.allowed:
            raise forms.ValidationError("not allowed")
        return self.cleaned_data["name"]


def test_a_bound_form_is_validated_only_when_asked_with_what_it_set_after_init() -> None:
    form = _Form({"name": "a"}, allowed="a")
    assert form._errors is None  # not validated by the styling
    assert form.is_valid()
    bad = _Form({"name": "b"}, allowed="a")
    assert not bad.is_valid()
    assert "is-invalid" in bad.fields["name"].widget.attrs["class"]
    assert "form-control" in _Form(allowed="a").fields["name"].widget.attrs["class"]
