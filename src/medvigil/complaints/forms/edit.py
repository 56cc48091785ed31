"""The edit page of a record's intake facts (correcting what was taken down)."""

from __future__ import annotations

from typing import Any

from django import forms

from medvigil.core.records.forms import VersionedModelForm

from ..models import CONTACT_PERM, PATIENT_PERM, Feedback, Party, Want

EDIT_FIELDS = [
    "title",
    "channel",
    "complainant_name",
    "complainant_organisation",
    "complainant_phone",
    "complainant_email",
    "complainant_address",
    "device_text",
    "description",
    "occurred_at",
    "occurred_where",
    "impact",
    "quantity_affected",
    "patient_involvement",
    "patient_details",
    "customer_wants",
    "customer_wants_detail",
    "category",
    "compensation_claimed",
    "safety_issue",
    "repeated_repairs",
    "outside_parties",
    "bad_faith_suspected",
    "bad_faith_reason",
    "visit_needed",
]


class FeedbackEditForm(VersionedModelForm):
    customer_wants = forms.MultipleChoiceField(
        choices=Want.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    outside_parties = forms.MultipleChoiceField(
        choices=Party.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Feedback
        fields = EDIT_FIELDS
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "impact": forms.Textarea(attrs={"rows": 2}),
            "patient_details": forms.Textarea(attrs={"rows": 2}),
            "customer_wants_detail": forms.Textarea(attrs={"rows": 2}),
            "bad_faith_reason": forms.Textarea(attrs={"rows": 2}),
            "occurred_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer_wants"].label = Feedback._meta.get_field(
            "customer_wants"
        ).verbose_name
        self.fields["outside_parties"].label = Feedback._meta.get_field(
            "outside_parties"
        ).verbose_name
        # PLAT-11: fields the user may not read are neither shown nor written.
        hidden = []
        if not user.has_perm(CONTACT_PERM):
            hidden += list(Feedback.CONTACT_FIELDS)
        if not user.has_perm(PATIENT_PERM):
            hidden += list(Feedback.PATIENT_FIELDS)
        for name in hidden:
            del self.fields[name]
        self._hidden = set(hidden)

    def changed_values(self) -> dict[str, Any]:
        return {n: self.cleaned_data[n] for n in EDIT_FIELDS if n not in self._hidden}
