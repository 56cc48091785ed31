"""The record kit's form rendering (records/_form_fields.html with BootstrapMixin, PLAT-6):
several choices as boxes are a fieldset of Bootstrap check boxes, labelled by its legend —
not a wide text-box outline around unstyled boxes with the label underneath."""

from __future__ import annotations

import re

from django import forms
from django.template.loader import render_to_string

from medvigil.core.records.forms import BootstrapMixin

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
