"""Forms of the spare-parts pages: they collect input; parts.services validate and change.
Every choice (products, locations, parts) comes through the user's scope
(core.permissions), so a form is no side door."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy

from medvigil.core.permissions import scope_for_user
from medvigil.core.records.forms import BootstrapMixin, VersionedModelForm
from medvigil.trace.models import Product

from .models import MAX_QUANTITY, MovementKind, Part, StockLocation
from .services.master import LOCATION_FIELDS, PART_FIELDS, fitted_products


def _product_label(p: Product) -> str:
    return f"{p.code} {p.name} {p.model_spec}".strip()


class PartForm(VersionedModelForm):
    products = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Products it fits"),
        queryset=Product.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    class Meta:
        model = Part
        fields = list(PART_FIELDS)
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["products"]
        field.queryset = scope_for_user(user, Product).order_by("code")  # type: ignore[attr-defined]
        field.label_from_instance = _product_label  # type: ignore[attr-defined]
        if self.instance.pk and not self.is_bound:
            self.initial["products"] = [p.pk for p in fitted_products(self.instance)]

    def changed_values(self) -> dict[str, Any]:
        values = super().changed_values()
        values["products"] = list(self.cleaned_data.get("products") or [])
        return values


class LocationForm(VersionedModelForm):
    class Meta:
        model = StockLocation
        fields = list(LOCATION_FIELDS)
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        engineer = self.fields["engineer"]
        engineer.queryset = (  # type: ignore[attr-defined]
            get_user_model().objects.filter(is_active=True).order_by("username")
        )
        engineer.help_text = gettext_lazy("Only for a van: the engineer who drives it.")


KIND_CHOICES = [(k, label) for k, label in MovementKind.choices if k != MovementKind.REVERSAL]


class MovementForm(BootstrapMixin, forms.Form):
    """One movement. A stock keeper chooses any kind and location; an engineer issues from
    or returns to their own van. The hidden request key makes a double submit harmless (the
    service returns the first movement)."""

    kind = forms.ChoiceField(label=gettext_lazy("Movement type"), choices=KIND_CHOICES)
    part = forms.ModelChoiceField(label=gettext_lazy("Spare part"), queryset=Part.objects.none())
    quantity = forms.IntegerField(
        label=gettext_lazy("Quantity"), min_value=1, max_value=MAX_QUANTITY
    )
    from_location = forms.ModelChoiceField(
        label=gettext_lazy("From location"), queryset=StockLocation.objects.none(), required=False
    )
    to_location = forms.ModelChoiceField(
        label=gettext_lazy("To location"), queryset=StockLocation.objects.none(), required=False
    )
    reference = forms.CharField(
        label=gettext_lazy("Reference"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Work order or other record (needed for an issue or a return)."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Needed for an adjustment or a scrap."),
    )
    request_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        locations = scope_for_user(user, StockLocation).filter(active=True).order_by("kind", "code")
        if not user.has_perm("parts.add_stockmovement"):
            # an engineer: their own van, issue and return only
            locations = locations.filter(engineer=user)
            self.fields["kind"].choices = [  # type: ignore[attr-defined]
                (k, label)
                for k, label in KIND_CHOICES
                if k in (MovementKind.ISSUE, MovementKind.RETURN)
            ]
        for name in ("from_location", "to_location"):
            self.fields[name].queryset = locations  # type: ignore[attr-defined]
        self.fields["part"].queryset = (  # type: ignore[attr-defined]
            scope_for_user(user, Part).filter(active=True).order_by("code")
        )
        if not self.is_bound:
            self.initial.setdefault("request_key", uuid.uuid4().hex)
        self._style()

    def service_values(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "kind": d["kind"],
            "part": d["part"],
            "quantity": d["quantity"],
            "from_location": d.get("from_location"),
            "to_location": d.get("to_location"),
            "reference": d.get("reference") or None,
            "reason": d.get("reason") or "",
            "request_key": d.get("request_key") or None,
        }


class CountForm(BootstrapMixin, forms.Form):
    """A stock count of one part at one location: the level is adjusted to what was
    counted, with the reason."""

    part = forms.ModelChoiceField(label=gettext_lazy("Spare part"), queryset=Part.objects.none())
    counted = forms.IntegerField(label=gettext_lazy("Counted"), min_value=0, max_value=MAX_QUANTITY)
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["part"].queryset = scope_for_user(user, Part).order_by("code")  # type: ignore[attr-defined]
        self._style()
