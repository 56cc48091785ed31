"""The CAPA app's forms: they parse input; every rule is in the services."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from medvigil.core.permissions import scope_for_user
from medvigil.core.records.forms import BootstrapMixin, VersionedModelForm
from medvigil.core.records.rootcause import clean_whys

from .models import Capa, CapaAction, Nonconformity, Scar, Supplier

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXT = {"rows": 3}


def people() -> Any:
    from medvigil.accounts.models import User

    return User.objects.filter(is_active=True).order_by("username")


class WhysField(forms.CharField):
    """The 5 whys, one answer per line."""

    widget = forms.Textarea(attrs={"rows": 5})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(str(v) for v in value)
        return value

    def clean(self, value: Any) -> list[str]:  # type: ignore[override]
        value = super().clean(value)
        return clean_whys(value)


class CapaForm(VersionedModelForm):
    whys = WhysField(
        label=_("5 whys"),
        required=False,
        help_text=_("One answer to “why?” per line, at most five."),
    )
    owner = forms.ModelChoiceField(queryset=people(), label=_("owner"), required=False)

    class Meta:
        model = Capa
        fields = [
            "title",
            "kind",
            "source_kind",
            "owner",
            "due_date",
            "problem",
            "risk",
            "risk_assessment",
            "containment",
            "method",
            "factor",
            "whys",
            "analysis",
            "root_cause",
        ]
        widgets = {
            "due_date": DATE,
            "problem": forms.Textarea(attrs=TEXT),
            "risk_assessment": forms.Textarea(attrs=TEXT),
            "containment": forms.Textarea(attrs=TEXT),
            "analysis": forms.Textarea(attrs=TEXT),
            "root_cause": forms.Textarea(attrs=TEXT),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people()


class ComplaintCapaForm(CapaForm):
    """A CAPA opened from a complaint: its source is the complaint."""

    class Meta(CapaForm.Meta):
        fields = [f for f in CapaForm.Meta.fields if f != "source_kind"]


class ActionForm(VersionedModelForm):
    owner = forms.ModelChoiceField(queryset=people(), label=_("owner"))

    class Meta:
        model = CapaAction
        fields = ["kind", "description", "owner", "due_date"]
        widgets = {"due_date": DATE, "description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people()


class ResultForm(BootstrapMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    result = forms.CharField(
        label=_("result"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class VerifyForm(BootstrapMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    effective = forms.TypedChoiceField(
        label=_("effective"),
        choices=[
            ("yes", _("yes: the problem has not recurred")),
            ("no", _("no: more action needed")),
        ],
        coerce=lambda v: v == "yes",
    )
    evidence = forms.CharField(
        label=_("effectiveness evidence"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What shows it; attach the documents to the CAPA."),
    )
    verified_on = forms.DateField(label=_("effectiveness verified on"), required=False, widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


def _split(value: str) -> list[str]:
    return [v for v in re.split(r"[\s,;，；]+", value or "") if v]


class NonconformityForm(VersionedModelForm):
    """Lots and units by number (looked up through the access helper, within the product)."""

    lot_numbers = forms.CharField(
        label=_("lots"),
        required=False,
        max_length=4000,
        help_text=_("Lot numbers, separated by commas."),
    )
    serials = forms.CharField(
        label=_("units"),
        required=False,
        max_length=4000,
        help_text=_("Serial numbers, separated by commas."),
    )
    complaint_number = forms.CharField(label=_("complaint"), required=False, max_length=32)

    class Meta:
        model = Nonconformity
        fields = ["title", "stage", "product", "quantity", "supplier", "description"]
        widgets = {"description": forms.Textarea(attrs=TEXT)}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        from medvigil.trace.models import Product

        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = scope_for_user(user, Product).order_by("code")
        self.fields["supplier"].queryset = scope_for_user(user, Supplier).order_by("code")
        self.fields["quantity"].max_value = 10_000_000
        if self.instance.pk and not self.is_bound:
            self.initial["lot_numbers"] = ", ".join(
                lot.lot_number for lot in self.instance.lots.all()
            )
            self.initial["serials"] = ", ".join(u.serial for u in self.instance.units.all())
            if self.instance.complaint_id:
                self.initial["complaint_number"] = self.instance.complaint.number  # type: ignore[union-attr]

    def clean(self) -> dict[str, Any]:
        from medvigil.complaints.models import Feedback
        from medvigil.trace.models import Lot, Unit

        data: dict[str, Any] = super().clean() or {}
        product = data.get("product")
        lots = _split(data.get("lot_numbers", ""))
        serials = _split(data.get("serials", ""))
        if (lots or serials) and product is None:
            raise ValidationError({"product": _("Choose the product of the lots and units.")})
        if lots:
            found = list(
                scope_for_user(self.user, Lot).filter(product=product, lot_number__in=lots)
            )
            missing = sorted(set(lots) - {lot.lot_number for lot in found})
            if missing:
                self.add_error(
                    "lot_numbers", _("Unknown lot: %(l)s") % {"l": ", ".join(missing[:10])}
                )
            data["lots"] = found
        else:
            data["lots"] = []
        if serials:
            units = list(
                scope_for_user(self.user, Unit).filter(product=product, serial__in=serials)
            )
            missing = sorted(set(serials) - {u.serial for u in units})
            if missing:
                self.add_error(
                    "serials", _("Unknown serial: %(s)s") % {"s": ", ".join(missing[:10])}
                )
            data["units"] = units
        else:
            data["units"] = []
        number = (data.get("complaint_number") or "").strip()
        data["complaint"] = None
        if number:
            fb = scope_for_user(self.user, Feedback).filter(number=number).first()
            if fb is None:
                self.add_error("complaint_number", _("No complaint with this number."))
            data["complaint"] = fb
        return data

    def values(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            **{f: d[f] for f in self._meta.fields or ()},
            "lots": d["lots"],
            "units": d["units"],
            "complaint": d["complaint"],
        }


class DispositionForm(BootstrapMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    disposition = forms.ChoiceField(
        label=_("disposition"), choices=Nonconformity.Disposition.choices
    )
    reason = forms.CharField(
        label=_("reason for the disposition"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class SegregationForm(BootstrapMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    location = forms.CharField(label=_("segregation location"), max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class SupplierForm(VersionedModelForm):
    class Meta:
        model = Supplier
        fields = [
            "code",
            "name",
            "supplies",
            "status",
            "approved_on",
            "contact_name",
            "contact_email",
            "contact_phone",
            "notes",
        ]
        widgets = {"approved_on": DATE, "notes": forms.Textarea(attrs={"rows": 2})}


class ScarForm(VersionedModelForm):
    class Meta:
        model = Scar
        fields = ["supplier", "title", "due_date", "problem"]
        widgets = {"due_date": DATE, "problem": forms.Textarea(attrs=TEXT)}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supplier"].queryset = scope_for_user(user, Supplier).order_by("code")


class DueDateForm(BootstrapMixin, forms.Form):
    due_date = forms.DateField(label=_("response due"), widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class ResponseForm(BootstrapMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    response = forms.CharField(
        label=_("supplier's response"), max_length=10000, widget=forms.Textarea(attrs={"rows": 3})
    )
    supplier_root_cause = forms.CharField(
        label=_("supplier's root cause"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    responded_on = forms.DateField(label=_("response received on"), required=False, widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class ScarVerifyForm(BootstrapMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    effective = forms.TypedChoiceField(
        label=_("effective"),
        choices=[("yes", _("yes: close the request")), ("no", _("no: ask the supplier again"))],
        coerce=lambda v: v == "yes",
    )
    verification = forms.CharField(
        label=_("verification"), max_length=10000, widget=forms.Textarea(attrs={"rows": 2})
    )
    new_due_date = forms.DateField(label=_("new due date"), required=False, widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()
