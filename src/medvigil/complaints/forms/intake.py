"""The one-screen intake form (FBK-1, FBK-2): everything customer service asks on the phone,
in the order they ask it. It only collects; intake.register_feedback decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from medvigil.core.records.forms import BootstrapMixin

from ..models import Category, Channel, Kind, Party, PatientInvolvement, Severity, Want


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,.pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


_DT = {"type": "datetime-local"}


class IntakeForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("kind"), choices=Kind.choices, initial=Kind.COMPLAINT, widget=forms.RadioSelect
    )
    channel = forms.ChoiceField(label=_("channel"), choices=Channel.choices, initial=Channel.PHONE)
    received_at = forms.DateTimeField(
        label=_("received at"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs=_DT, format="%Y-%m-%dT%H:%M"),
        help_text=_("Empty: now. The clocks start here."),
    )
    device = forms.CharField(
        label=_("Scan UDI, serial or lot"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    device_text = forms.CharField(label=_("device as described"), required=False, max_length=200)
    complainant_name = forms.CharField(label=_("complainant"), required=False, max_length=100)
    complainant_organisation = forms.CharField(
        label=_("organisation"), required=False, max_length=200
    )
    complainant_phone = forms.CharField(label=_("complainant phone"), required=False, max_length=60)
    complainant_email = forms.EmailField(label=_("complainant e-mail"), required=False)
    complainant_address = forms.CharField(
        label=_("complainant address"), required=False, max_length=300
    )
    title = forms.CharField(label=_("subject"), required=False, max_length=200)
    description = forms.CharField(label=_("description"), widget=forms.Textarea(attrs={"rows": 4}))
    occurred_at = forms.DateTimeField(
        label=_("occurred at"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs=_DT, format="%Y-%m-%dT%H:%M"),
    )
    occurred_where = forms.CharField(label=_("where"), required=False, max_length=200)
    impact = forms.CharField(
        label=_("impact"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    quantity_affected = forms.IntegerField(
        label=_("quantity affected"), min_value=0, max_value=10_000_000, initial=1
    )
    patient_involvement = forms.ChoiceField(
        label=_("patient involvement"),
        choices=PatientInvolvement.choices,
        initial=PatientInvolvement.NONE,
    )
    patient_details = forms.CharField(
        label=_("patient details"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    customer_wants = forms.MultipleChoiceField(
        label=_("customer wants"),
        choices=Want.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    customer_wants_detail = forms.CharField(
        label=_("customer's request in detail"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    category = forms.ChoiceField(
        label=_("category"), choices=[("", "—"), *Category.choices], required=False
    )
    compensation_claimed = forms.BooleanField(label=_("compensation claimed"), required=False)
    safety_issue = forms.BooleanField(label=_("safety issue"), required=False)
    repeated_repairs = forms.BooleanField(label=_("repeated repairs"), required=False)
    outside_parties = forms.MultipleChoiceField(
        label=_("outside parties involved"),
        choices=Party.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    bad_faith_suspected = forms.BooleanField(label=_("suspected bad faith"), required=False)
    bad_faith_reason = forms.CharField(
        label=_("reason for suspecting bad faith"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    severity = forms.ChoiceField(
        label=_("severity"),
        choices=[("", _("as proposed by the rules")), *Severity.choices],
        required=False,
    )
    severity_reason = forms.CharField(
        label=_("reason for overriding severity"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    visit_needed = forms.BooleanField(label=_("visit needed"), required=False)
    answer = forms.CharField(
        label=_("answer"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Inquiry, suggestion or praise: the answer given closes it now."),
    )
    photos = MultipleFileField(label=_("Photos and documents"), required=False)

    def __init__(self, *args: Any, contact: bool = True, patient: bool = True, **kw: Any) -> None:
        super().__init__(*args, **kw)
        # PLAT-11: a user who may not read contact or patient data does not type it either.
        if not contact:
            for name in (
                "complainant_name",
                "complainant_phone",
                "complainant_email",
                "complainant_address",
            ):
                del self.fields[name]
        if not patient:
            del self.fields["patient_details"]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("device", None)
        data.pop("photos", None)
        if not data.get("received_at"):
            data.pop("received_at", None)
        return data
