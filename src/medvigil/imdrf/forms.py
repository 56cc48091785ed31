"""Forms of the IMDRF app, and the code picker other apps put on their forms (VIG-5):

    from medvigil.imdrf.forms import ImdrfCodesField

    class EventForm(forms.Form):
        device_problem = ImdrfCodesField(annex="A", label=_("Device problem (IMDRF Annex A)"))

The field shows a text box of codes ("A0101, A050201") with a search box below it: typing a
code or words of a term (English or Chinese) lists matches (htmx, ``imdrf:picker``), a click
adds the code to the box (app.js, ``data-pick-into``). Without JavaScript the codes are typed.
The cleaned value is the list of codes checked by ``services.validate_codes`` (the same
messages as the API and importers); a record's codes retired since stay valid on that record
when the form sets ``field.existing`` to them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from medvigil.core.records.forms import BootstrapMixin, VersionedModelForm

from . import services
from .models import Term


def _codes_of(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [c for c in str(value).replace(";", ",").replace("，", ",").split(",") if c.strip()]


class ImdrfCodesWidget(forms.TextInput):
    """A text box of codes, the picker's search box and the chosen terms' names."""

    template_name = "imdrf/widgets/codes.html"

    def __init__(self, annex: str | None = None, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.annex = annex or ""

    def format_value(self, value: Any) -> str:
        return ", ".join(c.strip() for c in _codes_of(value))

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        widget["annex"] = self.annex
        widget["picker_url"] = reverse("imdrf:picker")
        widget["input_id"] = widget["attrs"].get("id") or f"id_{name}"
        found = services.terms_for(_codes_of(value)[: services.MAX_CODES])
        widget["chosen"] = [found[c] for c in sorted(found)]
        return context


class ImdrfCodesField(forms.Field):
    """IMDRF codes of one annex (or several: annex="BCD"; None: any). `multiple=False` takes
    one code and cleans to a string."""

    widget = ImdrfCodesWidget

    def __init__(
        self,
        *,
        annex: str | None = None,
        multiple: bool = True,
        allow_groups: bool = False,
        existing: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("widget", ImdrfCodesWidget(annex=annex))
        kwargs.setdefault(
            "help_text",
            _("Type a code or words of the term (English or Chinese) and pick from the list."),
        )
        super().__init__(**kwargs)
        self.annex = annex
        self.multiple = multiple
        self.allow_groups = allow_groups
        self.existing = list(existing)

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return []
        return value

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")

    def clean(self, value: Any) -> Any:
        value = self.to_python(value)
        self.validate(value)
        codes = services.validate_codes(
            self.annex,
            value or [],
            existing=self.existing,
            allow_groups=self.allow_groups,
        )
        if not self.multiple:
            if len(codes) > 1:
                raise ValidationError(_("Choose one code."))
            return codes[0] if codes else ""
        return codes


class TranslationForm(VersionedModelForm):
    class Meta:
        model = Term
        fields = ["term_zh", "definition_zh"]
        widgets = {"definition_zh": forms.Textarea(attrs={"rows": 4})}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class ReleaseFilesField(forms.FileField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".json,.csv,.xlsx,.xls"}))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class ReleaseForm(BootstrapMixin, forms.Form):
    label = forms.CharField(
        label=_("Release"),
        max_length=40,
        help_text=_("The release's name as IMDRF gives it, e.g. 2025."),
    )
    release_files = ReleaseFilesField(
        label=_("Files"),
        help_text=_(
            "One file per annex, or one file with all: JSON as shipped (code, term, definition, "
            "CodeHierarchy, Status), or CSV/XLSX with those columns."
        ),
    )
    title = forms.CharField(label=_("Title"), max_length=300, required=False)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    dry_run = forms.BooleanField(
        label=_("Only show what would change"), required=False, initial=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()
