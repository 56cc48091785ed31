"""The record kit's forms (core/records/forms.py, records/_form_fields.html, PLAT-6): styling a
new bound form does not validate it, so a form may set its querysets or its user after
``super().__init__`` and be validated with them (fields with errors get ``is-invalid`` once
validated); several choices as boxes are a fieldset of Bootstrap check boxes, labelled by its
legend."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.template.loader import render_to_string

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


CHOICES = [("repair", "repair"), ("replace", "replace")]


class Choices(BootstrapMixin, forms.Form):
    remedies = forms.MultipleChoiceField(
        label="Remedies", choices=CHOICES, widget=forms.CheckboxSelectMultiple
    )
    kind = forms.ChoiceField(label="Kind", choices=CHOICES, widget=forms.RadioSelect)
    urgent = forms.BooleanField(label="Urgent", required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._style()


def _inputs(html: str, name: str) -> list[str]:
    return re.findall(rf'<input[^>]*name="{name}"[^>]*>', html)


def test_multiple_checkboxes_and_radios_are_a_fieldset_of_check_boxes() -> None:
    for form in (Choices(), Choices(data={"remedies": ["bogus"]})):
        html = render_to_string("records/_form_fields.html", {"form": form})
        for name, label in (("remedies", "Remedies"), ("kind", "Kind")):
            boxes = _inputs(html, name)
            assert len(boxes) == 2, name
            for box in boxes:
                assert "form-check-input" in box and "form-control" not in box, box
            assert f'<legend class="form-label fs-6 mb-1">{label}' in html
        assert html.count("<fieldset") == 2
        # a single check box keeps its own layout
        (urgent,) = _inputs(html, "urgent")
        assert "form-check-input" in urgent
    assert "is-invalid" in " ".join(_inputs(html, "remedies"))  # the bound form's error
