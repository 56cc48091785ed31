"""Forms of the recall pages; every rule is in the services (the form only shapes input)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from medvigil.core.permissions import scope_for_user
from medvigil.core.records.forms import BootstrapMixin, VersionedModelForm
from medvigil.trace.models import Product

from .models import NoticeChannel, Recall, RecallDocument, UnitOutcome

RECALL_FIELDS = [
    "title",
    "title_en",
    "level",
    "source_kind",
    "source_reference",
    "reason",
    "reason_en",
    "action",
    "action_en",
    "product",
    "scope_lots",
    "scope_serials",
    "scope_gtin",
    "produced_from",
    "produced_to",
    "fda_class",
    "us_action",
    "fda_registration",
    "eu_fsca",
    "eu_fsca_urgent",
]


class RecallForm(VersionedModelForm):
    class Meta:
        model = Recall
        fields = RECALL_FIELDS
        widgets = {
            "reason": forms.Textarea(attrs={"rows": 3}),
            "reason_en": forms.Textarea(attrs={"rows": 3}),
            "action": forms.Textarea(attrs={"rows": 2}),
            "action_en": forms.Textarea(attrs={"rows": 2}),
            "scope_lots": forms.Textarea(attrs={"rows": 3}),
            "scope_serials": forms.Textarea(attrs={"rows": 3}),
            "produced_from": forms.DateInput(attrs={"type": "date"}),
            "produced_to": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args: Any, user: Any = None, kind: str = "recall", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = (
            scope_for_user(user, Product) if user is not None else Product.objects.none()
        )
        if kind == "advisory":
            self.fields.pop("level", None)
        instance = kwargs.get("instance")
        if instance is not None and instance.pk and instance.status != Recall.Status.DRAFT:
            from .services.records import EDITABLE_OPEN

            for name in list(self.fields):
                if name not in EDITABLE_OPEN and name != "version":
                    self.fields.pop(name)

    def changed_values(self) -> dict[str, Any]:
        return {n: self.cleaned_data[n] for n in self._meta.fields or () if n in self.cleaned_data}


class DocumentForm(VersionedModelForm):
    class Meta:
        model = RecallDocument
        fields = ["body_zh", "body_en"]
        widgets = {
            "body_zh": forms.Textarea(attrs={"rows": 12}),
            "body_en": forms.Textarea(attrs={"rows": 12}),
        }


class NoticeForm(BootstrapMixin, forms.Form):
    channel = forms.ChoiceField(label=_("notice sent by"), choices=NoticeChannel.choices)
    note = forms.CharField(label=_("note"), max_length=300, required=False)


class AckForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label=_("acknowledgement"), max_length=300, required=False)


class OutcomeForm(BootstrapMixin, forms.Form):
    outcome = forms.ChoiceField(
        label=_("outcome"),
        choices=[c for c in UnitOutcome.choices if c[0] != UnitOutcome.OPEN],
        widget=forms.Select(attrs={"aria-label": _("outcome")}),
    )
    # the execution page shows these fields bare in a row: the placeholder and aria-label
    # name them (the recall walk found them unlabelled)
    serials = forms.CharField(
        label=_("serial numbers"),
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "placeholder": _("Serial numbers, one a line"),
                "aria-label": _("serial numbers"),
            }
        ),
        help_text=_("One serial number a line."),
        max_length=500_000,
    )
    evidence = forms.CharField(
        label=_("evidence"),
        widget=forms.Textarea(
            attrs={
                "rows": 2,
                "placeholder": _("Evidence: return note, work order, destruction record"),
                "aria-label": _("evidence"),
            }
        ),
        required=False,
    )


class MeetForm(BootstrapMixin, forms.Form):
    reference = forms.CharField(label=_("reference"), max_length=100, required=False)


class CloseForm(BootstrapMixin, forms.Form):
    conclusion = forms.CharField(label=_("conclusion"), widget=forms.Textarea(attrs={"rows": 3}))
