"""Form pieces every record page shares (docs/development/domain-app.md, "The record view kit").

- :class:`BootstrapMixin` — Bootstrap classes on every widget, ``is-invalid`` on fields with
  errors.
- :class:`VersionedModelForm` — a ModelForm that carries the record's ``version`` (optimistic
  concurrency) and hands the service its values through ``changed_values()``.
- :class:`ReasonForm` — the one "reason" field of voids, withdrawals and cancellations.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy


class BootstrapMixin:
    """Bootstrap classes on every widget, `is-invalid` on fields with errors. Styling never
    validates: a bound form is validated when the view asks (is_valid, errors), after it
    has finished setting the form up (querysets, initial values), and styled again then."""

    def _style(self) -> None:
        errors = getattr(self, "_errors", None)  # None: not validated yet
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            widget = field.widget
            css = widget.attrs.get("class", "")
            if isinstance(widget, forms.CheckboxInput):
                base = "form-check-input"
            elif isinstance(widget, forms.Select):
                base = "form-select"
            else:
                base = "form-control"
            if errors and name in errors:
                base += " is-invalid"
            widget.attrs["class"] = f"{css} {base}".strip()

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        self._style()


class VersionedModelForm(BootstrapMixin, forms.ModelForm):
    """A ModelForm that carries the record version (optimistic concurrency)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["version"] = self.instance.version
        self._style()

    def changed_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self._meta.fields or ()}

    def _post_clean(self) -> None:
        # Model validation is the service's job (it runs full_clean under the row lock); the
        # form only parses input. Unique checks would otherwise run twice.
        pass


class ReasonForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()
