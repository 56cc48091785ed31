"""Forms of the traceability pages. They only collect and shape input; the services validate
the business rules and change state. Every record a form looks up (customers typed by code,
lots, units, the product choices) comes through the user's scope (core.permissions), so a
form is no side door to records the user may not see."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medvigil.core.permissions import scope_for_user
from medvigil.core.records.forms import BootstrapMixin, VersionedModelForm

from . import services
from .models import (
    Customer,
    CustomerKind,
    Disposition,
    Installation,
    Licence,
    Lot,
    Product,
    normalize_gtin,
)
from .udi import UdiError, label_problems, looks_like_udi, parse_udi

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProductForm(VersionedModelForm):
    class Meta:
        model = Product
        fields = [
            "code",
            "name",
            "name_en",
            "model_spec",
            "manufacturer",
            "registration_number",
            "registration_expiry",
            "risk_class",
            "gtin",
            "tracking",
            "implantable",
            "shelf_life_months",
            "service_life_years",
            "warranty_months",
            "maintenance_interval_months",
            "sale_to_individuals",
            "active",
            "notes",
        ]
        widgets = {"registration_expiry": DATE, "notes": forms.Textarea(attrs={"rows": 3})}

    def clean_gtin(self) -> str | None:
        value = (self.cleaned_data.get("gtin") or "").strip()
        return normalize_gtin(value) if value else None


class CustomerForm(VersionedModelForm):
    class Meta:
        model = Customer
        fields = [
            "code",
            "name",
            "kind",
            "credit_code",
            "province",
            "city",
            "address",
            "contact_person",
            "phone",
            "email",
            "owner",
            "active",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from django.contrib.auth import get_user_model

        self.fields["owner"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("username")
        )
        drop_contact_fields(self, user, Customer)

    def changed_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields if name != "version"}


def drop_contact_fields(form: forms.BaseForm, user: Any, model: Any) -> None:
    """Without the right to write contact data (services.may_write_contacts, PLAT-11) the
    contact fields are neither shown nor changed; the services refuse them anyway."""
    if not services.may_write_contacts(user):
        for name in model.CONTACT_FIELDS:
            form.fields.pop(name, None)


def scope_customer_fields(form: forms.BaseForm, user: Any) -> None:
    """Customers typed into the form's CustomerFields are looked up among those `user` may
    see."""
    for field in form.fields.values():
        if isinstance(field, CustomerField):
            field.user = user


class LicenceForm(VersionedModelForm):
    class Meta:
        model = Licence
        fields = ["kind", "number", "issuer", "issued_on", "expires_on", "scope"]
        widgets = {
            "issued_on": DATE,
            "expires_on": DATE,
            "scope": forms.Textarea(attrs={"rows": 2}),
        }


class LotForm(VersionedModelForm):
    class Meta:
        model = Lot
        fields = [
            "lot_number",
            "production_date",
            "expiry_date",
            "quantity",
            "production_record",
            "released_on",
            "notes",
        ]
        widgets = {
            "production_date": DATE,
            "expiry_date": DATE,
            "released_on": DATE,
            "notes": forms.Textarea(attrs={"rows": 2}),
        }


SERIAL_RE = re.compile(r"^[\w\-./]{1,40}$")


# The hint under every box that takes scans (plain text: templates escape it, so "<GS>"
# shows as typed).
SCAN_HINT = gettext_lazy(
    "Scanners that send a group separator, “<GS>” or the “(01)…(21)…” text all work."
)


class UnitsForm(BootstrapMixin, forms.Form):
    serials = forms.CharField(
        label=gettext_lazy("Serial numbers or scanned UDIs"),
        help_text=format_lazy(
            "{} {}",
            gettext_lazy(
                "One per line, or a range such as SN0001..SN0100 (at most 5,000 at once)."
            ),
            SCAN_HINT,
        ),
        widget=forms.Textarea(attrs={"rows": 6, "autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, lot: Lot, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lot = lot
        self._style()

    def _scanned_serial(self, line: str) -> str:
        """The serial (21) of a scanned label of this lot's product (the same parser as the
        sale, return and drill forms); a label of another product, lot or date is refused."""
        try:
            udi = parse_udi(line)
        except UdiError as exc:
            raise ValidationError(f"{line[:60]}: {exc}") from None
        lot = self.lot
        problems = label_problems(
            udi,
            product=lot.product,
            lot=lot,
            production_date=lot.production_date,
            expiry_date=lot.expiry_date,
        )
        if not udi.serial:
            problems.insert(0, UdiError(_("The UDI has no serial number (21).")))
        if problems:
            raise ValidationError([f"{line[:60]}: {p}" for p in problems])
        return udi.serial

    def clean_serials(self) -> list[str]:
        result: list[str] = []
        label_errors: list[str] = []  # every refused label at once, as the sale form does
        for raw in scan_lines(self.cleaned_data["serials"]):
            line = raw.strip()
            if not line:
                continue
            if looks_like_udi(line):
                try:
                    result.append(self._scanned_serial(line))
                except ValidationError as exc:
                    label_errors.extend(exc.messages)
            elif ".." in line:
                result.extend(expand_range(line))
            else:
                if not SERIAL_RE.match(line):
                    raise ValidationError(
                        _("“%(s)s” is not a valid serial number (letters, digits, - . / _).")
                        % {"s": line}
                    )
                result.append(line)
            if len(result) > 5000:
                raise ValidationError(_("At most 5,000 serial numbers at once."))
        if label_errors:
            raise ValidationError(label_errors)
        if not result:
            raise ValidationError(_("Give at least one serial number."))
        dupes = sorted({s for s in result if result.count(s) > 1}) if len(result) < 2000 else []
        if dupes:
            raise ValidationError(_("Listed twice: %(s)s") % {"s": ", ".join(dupes[:10])})
        return result


def expand_range(text: str) -> list[str]:
    """ "SN0001..SN0010" → SN0001 … SN0010 (same prefix, same width)."""
    first, _sep, last = (p.strip() for p in text.partition(".."))
    m1, m2 = re.match(r"^(.*?)(\d+)$", first), re.match(r"^(.*?)(\d+)$", last)
    if not m1 or not m2 or m1.group(1) != m2.group(1):
        raise ValidationError(_("“%(s)s” is not a range like SN0001..SN0100.") % {"s": text})
    start, end = int(m1.group(2)), int(m2.group(2))
    if end < start or end - start >= 5000:
        raise ValidationError(_("“%(s)s”: give an ascending range of at most 5,000.") % {"s": text})
    width = len(m1.group(2))
    return [f"{m1.group(1)}{n:0{width}d}" for n in range(start, end + 1)]


# --- customers by code (there may be 100,000: no <select>) ---------------------------------


class CustomerField(forms.CharField):
    """A customer typed by code (or exact name), helped by a datalist filled by htmx."""

    def __init__(self, *args: Any, kinds: tuple[str, ...] | None = None, **kwargs: Any) -> None:
        self.kinds = kinds
        self.user: Any = None  # set by the form (scope_customer_fields)
        kwargs.setdefault("max_length", 200)
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({"list": "customer-options", "autocomplete": "off"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Customer):
            return value.code
        return value

    def clean(self, value: Any) -> Customer | None:
        text = super().clean(value)
        if not text:
            return None
        code = text.split(" — ", 1)[0].strip()
        qs: QuerySet[Customer]
        if self.user is None:  # a form that did not say whose lookup this is finds nothing
            qs = Customer.objects.none()
        else:
            qs = scope_for_user(self.user, Customer).filter(active=True)
        if self.kinds:
            qs = qs.filter(kind__in=self.kinds)
        found = list(qs.filter(Q(code=code) | Q(name=text.strip()))[:2])
        if len(found) != 1:
            if self.kinds == (CustomerKind.DEALER,):
                raise ValidationError(
                    _("No active dealer with code or name “%(t)s”.") % {"t": text}
                )
            raise ValidationError(_("No active customer with code or name “%(t)s”.") % {"t": text})
        return found[0]


LINE_BREAK = re.compile(r"\r\n|\r|\n")


def scan_lines(text: str) -> list[str]:
    """Non-empty lines of a scan box. Not str.splitlines(): that also splits on the GS1 group
    separator (ASCII 29) that scanners put inside a UDI."""
    return [line.strip() for line in LINE_BREAK.split(text or "") if line.strip()]


class SaleForm(BootstrapMixin, forms.Form):
    seller = CustomerField(
        label=gettext_lazy("Seller"),
        required=False,
        kinds=(CustomerKind.DEALER,),
        help_text=gettext_lazy("Leave empty when we sell; give the dealer for a dealer's sale."),
    )
    buyer = CustomerField(label=gettext_lazy("Buyer"))
    sale_date = forms.DateField(label=gettext_lazy("Sale date"), widget=DATE)
    units = forms.CharField(
        label=gettext_lazy("Units (scan or paste UDIs, or type serial numbers, one per line)"),
        required=False,
        help_text=SCAN_HINT,
        widget=forms.Textarea(attrs={"rows": 6, "autocomplete": "off", "spellcheck": "false"}),
    )
    lot_lines = forms.CharField(
        label=gettext_lazy("Lot-tracked goods (one per line: lot number or UDI, then quantity)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text=gettext_lazy("e.g. “L2401 20”, or a scanned UDI with (10) followed by “*20”."),
    )
    handler_name = forms.CharField(
        label=gettext_lazy("Handler (经办人)"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("Leave empty: you."),
    )
    reference = forms.CharField(
        label=gettext_lazy("Reference (invoice, delivery note)"), required=False, max_length=100
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        scope_customer_fields(self, user)
        if not self.is_bound:
            self.initial.setdefault("sale_date", timezone.localdate())
        self._style()

    def clean_units(self) -> list[Any]:
        units, errors, seen = [], [], set()
        lines = scan_lines(self.cleaned_data.get("units", ""))
        for line, unit in zip(lines, services.resolve_units(lines, user=self.user), strict=True):
            if isinstance(unit, UdiError):
                errors.append(f"{line[:60]}: {unit}")
                continue
            if unit.pk in seen:
                errors.append(_("Unit %(s)s is listed twice.") % {"s": unit.serial})
                continue
            seen.add(unit.pk)
            units.append(unit)
        if errors:
            raise ValidationError(errors)
        return units

    def clean_lot_lines(self) -> list[tuple[Lot, int]]:
        result, errors = [], []
        for line in scan_lines(self.cleaned_data.get("lot_lines", "")):
            try:
                result.append(parse_lot_line(line, self.user))
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        return result

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not data.get("units") and not data.get("lot_lines"):
            raise ValidationError(_("Add at least one unit or lot."))
        return data


def parse_lot_line(line: str, user: Any) -> tuple[Lot, int]:
    """ "L2401 20" / "L2401*20" / "<UDI>*20" → (lot, quantity)."""
    text = line.strip()
    m = re.match(r"^(.*?)[\s*×x]+(\d+)$", text)
    if not m:
        raise ValidationError(
            _("“%(l)s”: give a lot number (or UDI) and a quantity.") % {"l": text[:60]}
        )
    ident, qty = m.group(1).strip(), int(m.group(2))
    if qty < 1:
        raise ValidationError(_("“%(l)s”: the quantity must be at least 1.") % {"l": text[:60]})
    return services.resolve_lot(ident, user=user), qty


class InstallationForm(BootstrapMixin, forms.ModelForm):
    customer = CustomerField(label=gettext_lazy("End-user hospital"))

    class Meta:
        model = Installation
        fields = [
            "department",
            "address",
            "contact_person",
            "contact_phone",
            "installed_on",
            "accepted_on",
            "notes",
        ]
        widgets = {
            "installed_on": DATE,
            "accepted_on": DATE,
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    field_order = ["customer"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope_customer_fields(self, user)
        drop_contact_fields(self, user, Installation)
        if not self.is_bound:
            self.initial.setdefault("installed_on", timezone.localdate())
        self._style()

    def _post_clean(self) -> None:
        pass


class AcceptForm(BootstrapMixin, forms.Form):
    accepted_on = forms.DateField(label=gettext_lazy("Accepted on"), widget=DATE)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class ReturnForm(BootstrapMixin, forms.Form):
    unit = forms.CharField(
        label=gettext_lazy("Unit (scan the UDI or type the serial)"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    lot_line = forms.CharField(
        label=gettext_lazy("Or lot-tracked goods: lot number (or UDI) and quantity"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    returned_by = CustomerField(label=gettext_lazy("Returning party"))
    returned_to = CustomerField(
        label=gettext_lazy("Returned to (dealer)"),
        required=False,
        kinds=(CustomerKind.DEALER,),
        help_text=gettext_lazy("Leave empty when the goods come back to us."),
    )
    return_date = forms.DateField(label=gettext_lazy("Return date"), widget=DATE)
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    disposition = forms.ChoiceField(
        label=gettext_lazy("Disposition"), choices=Disposition.choices, initial=Disposition.PENDING
    )
    disposition_note = forms.CharField(
        label=gettext_lazy("Disposition details"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        scope_customer_fields(self, user)
        if not self.is_bound:
            self.initial.setdefault("return_date", timezone.localdate())
        self._style()

    def clean_unit(self) -> Any:
        text = self.cleaned_data.get("unit", "").strip()
        if not text:
            return None
        try:
            return services.resolve_unit(text, user=self.user)
        except UdiError as exc:
            raise ValidationError(exc.message)

    def clean_lot_line(self) -> tuple[Lot, int] | None:
        text = self.cleaned_data.get("lot_line", "").strip()
        return parse_lot_line(text, self.user) if text else None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not data.get("unit") and not data.get("lot_line"):
            raise ValidationError(_("Give the returned unit, or a lot and a quantity."))
        return data


class DispositionForm(BootstrapMixin, forms.Form):
    disposition = forms.ChoiceField(label=gettext_lazy("Disposition"), choices=Disposition.choices)
    note = forms.CharField(
        label=gettext_lazy("Details"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class TraceForm(BootstrapMixin, forms.Form):
    """Forward-trace criteria; validated by services.validate_trace_criteria, the validator of
    the API's forward trace too."""

    lots = forms.CharField(
        label=gettext_lazy("Lot numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text=gettext_lazy("One per line."),
    )
    serials = forms.CharField(
        label=gettext_lazy("Serial numbers or UDIs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=gettext_lazy("One per line; scanning works here too."),
    )
    gtin = forms.CharField(label=gettext_lazy("UDI-DI (GTIN)"), required=False, max_length=200)
    product = forms.ModelChoiceField(
        label=gettext_lazy("Product"), queryset=Product.objects.none(), required=False
    )
    produced_from = forms.DateField(
        label=gettext_lazy("Produced from"), required=False, widget=DATE
    )
    produced_to = forms.DateField(label=gettext_lazy("Produced to"), required=False, widget=DATE)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["product"].queryset = scope_for_user(user, Product)  # type: ignore[attr-defined]
        self._criteria: dict[str, Any] = {}
        self._style()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            self._criteria = services.validate_trace_criteria(
                user=self.user,
                lot_numbers=scan_lines(data.get("lots", "")),
                serials=scan_lines(data.get("serials", "")),
                gtin=data.get("gtin", ""),
                product=data.get("product"),
                produced_from=data.get("produced_from"),
                produced_to=data.get("produced_to"),
            )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                raise
            for name, errors in exc.error_dict.items():
                self.add_error(name if name in self.fields else None, errors)
        return data

    def criteria(self) -> dict[str, Any]:
        """The keyword arguments of queries.forward_trace (after is_valid())."""
        return dict(self._criteria)


class DrillForm(BootstrapMixin, forms.Form):
    lot = forms.CharField(
        label=gettext_lazy("Lot number (or a UDI with the lot)"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    target_percent = forms.DecimalField(
        label=gettext_lazy("Target (%)"), min_value=1, max_value=100, initial=100
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self._style()

    def clean_lot(self) -> Lot:
        return services.resolve_lot(self.cleaned_data["lot"].strip(), user=self.user)


class ConclusionForm(BootstrapMixin, forms.Form):
    conclusion = forms.CharField(
        label=gettext_lazy("Conclusion"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()
