"""Forms of the service pages; the services own every rule (the forms only parse input)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from medvigil.core.permissions import scope_for_user
from medvigil.core.records.forms import BootstrapMixin, VersionedModelForm
from medvigil.trace.models import Customer, CustomerKind, Product

from .models import (
    CONTACT_PERM,
    Channel,
    EngineerQualification,
    FaultLevel,
    ServiceRequest,
    WarrantyExclusion,
    Zone,
)


def _no_nul(value: str) -> str:
    if "\x00" in (value or ""):
        raise forms.ValidationError(_("The text contains a NUL character."))
    return value


class RequestForm(BootstrapMixin, forms.Form):
    """SVC-1 intake: the device by UDI scan or serial (looked up as typed), fault level, zone."""

    device = forms.CharField(
        label=_("Device: scan the UDI or type the serial number"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )
    fault_level = forms.ChoiceField(label=_("Fault level"), choices=FaultLevel.choices)
    zone = forms.ChoiceField(label=_("Customer zone"), choices=Zone.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    title = forms.CharField(label=_("Subject"), max_length=200, required=False)
    description = forms.CharField(
        label=_("Description"), max_length=20000, widget=forms.Textarea(attrs={"rows": 3})
    )
    contact_name = forms.CharField(label=_("Contact person"), max_length=100, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=60, required=False)
    contact_email = forms.EmailField(
        label=_("Contact e-mail (for a sign-off code)"), max_length=254, required=False
    )
    site_address = forms.CharField(label=_("Site address"), max_length=300, required=False)
    warranty_exclusion = forms.ChoiceField(
        label=_("Warranty exclusion"), choices=WarrantyExclusion.choices, required=False
    )
    exclusion_reason = forms.CharField(
        label=_("Reason for the exclusion"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, contact: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not contact:
            for name in ServiceRequest.CONTACT_FIELDS:
                del self.fields[name]
        self._style()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for _name, value in data.items():
            if isinstance(value, str):
                _no_nul(value)
        return data


class RequestEditForm(VersionedModelForm):
    class Meta:
        model = ServiceRequest
        fields = [
            "title",
            "description",
            "fault_level",
            "zone",
            "contact_name",
            "contact_phone",
            "contact_email",
            "site_address",
            "warranty_exclusion",
            "exclusion_reason",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "exclusion_reason": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user is not None and not user.has_perm(CONTACT_PERM):
            for name in ServiceRequest.CONTACT_FIELDS:
                del self.fields[name]
        self.fields["warranty_exclusion"].required = False

    def changed_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields if name != "version"}


class QualificationForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = EngineerQualification
        fields = [
            "engineer",
            "product",
            "dealer",
            "trained_on",
            "passed_on",
            "score",
            "expires_on",
            "certificate",
            "notes",
        ]
        widgets = {
            "trained_on": forms.DateInput(attrs={"type": "date"}),
            "passed_on": forms.DateInput(attrs={"type": "date"}),
            "expires_on": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        from medvigil.accounts.models import User

        super().__init__(*args, **kwargs)
        self.fields["engineer"].queryset = User.objects.filter(is_active=True).order_by(  # type: ignore[attr-defined]
            "username"
        )
        products: Any = Product.objects.filter(active=True)
        dealers: Any = Customer.objects.filter(kind=CustomerKind.DEALER)
        if user is not None:
            products = scope_for_user(user, products)
            dealers = scope_for_user(user, dealers)
        self.fields["product"].queryset = products  # type: ignore[attr-defined]
        self.fields["dealer"].queryset = dealers  # type: ignore[attr-defined]
        self._style()

    def _post_clean(self) -> None:
        pass  # the service validates


class DispatchForm(BootstrapMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    engineer = forms.ModelChoiceField(label=_("Engineer"), queryset=None)  # type: ignore[arg-type]
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from medvigil.accounts.models import User

        super().__init__(*args, **kwargs)
        self.fields["engineer"].queryset = User.objects.filter(is_active=True).order_by(  # type: ignore[attr-defined]
            "username"
        )
        self.fields["engineer"].label_from_instance = lambda u: u.printed_name  # type: ignore[attr-defined]
        self._style()
