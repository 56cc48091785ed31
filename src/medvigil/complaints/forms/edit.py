"""The edit page of a record's intake facts (correcting what was taken down)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

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
    """The intake facts, and `device`: a UDI, serial or lot scanned or typed to link the record
    to trace's unit or lot (feedback from the public form or the mailbox comes with the device
    only as the customer described it); empty leaves the linked device as it is."""

    device = forms.CharField(
        label=_("Link the device: scan a UDI or type a serial or lot number"),
        required=False,
        max_length=200,
    )
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
        # set before the kit's styling validates a bound form (in super().__init__)
        self._user = user
        self._device: dict[str, Any] = {}
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
        self.order_fields([*EDIT_FIELDS[: EDIT_FIELDS.index("device_text")], "device"])
        obj = self.instance
        linked = obj.unit.serial if obj.unit_id else (obj.lot.lot_number if obj.lot_id else "")
        self.fields["device"].help_text = (
            _("Linked now: %(d)s. Empty: stays as it is.") % {"d": linked}
            if linked
            else _("No device linked yet.")
        )
        attrs = self.fields["device"].widget.attrs
        attrs.update({"autocomplete": "off", "spellcheck": "false"})
        attrs["class"] = f"{attrs.get('class', '')} font-monospace".strip()

    def clean_device(self) -> str:
        from ..services.intake import device_values, find_device

        text = (self.cleaned_data.get("device") or "").strip()
        if text:
            facts = find_device(text, user=self._user)
            if "error" in facts:
                raise ValidationError(str(facts["error"]))
            self._device = device_values(facts)
        return text

    def changed_values(self) -> dict[str, Any]:
        values = {n: self.cleaned_data[n] for n in EDIT_FIELDS if n not in self._hidden}
        values.update(self._device)
        return values
