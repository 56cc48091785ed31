"""Forms of the vigilance pages. They parse input only; every rule is in the services (the
API calls the same ones)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from medvigil.core.records.forms import BootstrapMixin, VersionedModelForm
from medvigil.imdrf.forms import ImdrfCodesField

from .models import (
    NARRATIVE_MAX,
    AdverseEvent,
    Market,
    PeriodicObligation,
    ReportKind,
    TrendBaseline,
    TrendReport,
    VigilanceReport,
)

_DT = {"type": "datetime-local"}
_DATE = {"type": "date"}


def _dt_field(label: Any, required: bool = False, help_text: Any = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs=_DT, format="%Y-%m-%dT%H:%M"),
        help_text=help_text,
    )


EVENT_FIELDS = [
    "title",
    "aware_at",
    "eu_reportability_at",
    "occurred_at",
    "occurred_where",
    "occurred_place",
    "outcome",
    "public_health_threat",
    "unanticipated",
    "remedial_action",
    "fda_written_request",
    "cluster",
    "expected_side_effect",
    "narrative",
    "markets",
    "source_reference",
    "intended_use",
    "used_at",
    "use_place",
    "use_process",
    "concomitant_products",
    "initial_cause",
    "handling",
    "investigation",
    "relatedness",
    "risk_evaluation",
    "control_measures",
    "imdrf_codes",
]
PATIENT_FORM_FIELDS = list(AdverseEvent.PATIENT_FIELDS)


class EventForm(VersionedModelForm):
    """Create and edit an event. `device` takes a scanned UDI, a serial or a lot number (trace
    look-up). Patient fields only for users who may see patient data."""

    device = forms.CharField(
        label=_("Device (scan the UDI, or type a serial or lot number)"),
        required=False,
        max_length=300,
    )
    aware_at = _dt_field(
        _("aware at"),
        required=True,
        help_text=_("When any employee first knew of the event: every clock starts here."),
    )
    eu_reportability_at = _dt_field(_("EU reportability established at"))
    occurred_at = _dt_field(_("occurred at"))
    used_at = forms.DateField(
        label=_("date of use"), required=False, widget=forms.DateInput(attrs=_DATE)
    )
    patient_birth_date = forms.DateField(
        label=_("patient birth date"), required=False, widget=forms.DateInput(attrs=_DATE)
    )
    narrative = forms.CharField(
        label=_("narrative"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("At most %(n)d characters (MIR 7.3.1).") % {"n": NARRATIVE_MAX},
    )
    markets = forms.MultipleChoiceField(
        label=_("further markets"),
        required=False,
        choices=Market.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The markets where the unit or lot was sold are taken from traceability."),
    )
    # VIG-5: the IMDRF picker, any annex (A device problem, B–D investigation, E/F health
    # effects, G component); checked by imdrf.services.validate_codes like the API's codes.
    imdrf_codes = ImdrfCodesField(
        label=_("IMDRF codes"),
        required=False,
        help_text=_(
            "Device problem (Annex A), investigation (B–D), health effects (E, F), component "
            "(G): type a code or words of the term and pick from the list."
        ),
    )

    class Meta:
        model = AdverseEvent
        fields = [*EVENT_FIELDS, *PATIENT_FORM_FIELDS]

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.patient = bool(user is not None and user.has_perm("vigilance.view_patient_data"))
        if self.instance.pk:
            # codes retired since they were given stay valid on this event (VIG-5)
            self.fields["imdrf_codes"].existing = list(self.instance.imdrf_codes or [])  # type: ignore[attr-defined]
        if not self.patient:
            for name in PATIENT_FORM_FIELDS:
                self.fields.pop(name, None)

    def changed_values(self) -> dict[str, Any]:
        values = {
            name: self.cleaned_data[name] for name in self.fields if name in self.cleaned_data
        }
        values.pop("version", None)
        if not values.get("device"):
            values.pop("device", None)
        return values


class ReportForm(VersionedModelForm):
    narrative = forms.CharField(
        label=_("narrative"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("At most %(n)d characters (MIR 7.3.1).") % {"n": NARRATIVE_MAX},
    )

    class Meta:
        model = VigilanceReport
        fields = ["kind", "narrative", "new_information", "regulator_reference"]


class FollowUpForm(BootstrapMixin, forms.Form):
    market = forms.ChoiceField(label=_("market"), choices=Market.choices)
    kind = forms.ChoiceField(
        label=_("report type"),
        choices=[
            (ReportKind.FOLLOW_UP, ReportKind.FOLLOW_UP.label),
            (ReportKind.FINAL, ReportKind.FINAL.label),
        ],
    )
    new_information = forms.CharField(
        label=_("new information"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    received_at = _dt_field(_("received at"), help_text=_("Empty: now."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class ClusterForm(BootstrapMixin, forms.Form):
    lead = forms.CharField(label=_("event number of the cluster"), max_length=32)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class PeriodicForm(BootstrapMixin, forms.ModelForm):
    registered_on = forms.DateField(
        label=_("first registered on"), widget=forms.DateInput(attrs=_DATE)
    )

    class Meta:
        model = PeriodicObligation
        fields = ["product", "market", "registered_on", "eu_class"]

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from medvigil.core.permissions import scope_for_user
        from medvigil.trace.models import Product

        if user is not None:
            self.fields["product"].queryset = scope_for_user(user, Product)  # type: ignore[attr-defined]
        self._style()

    def _post_clean(self) -> None:
        pass  # the service validates


class BaselineForm(BootstrapMixin, forms.ModelForm):
    """MDR Art. 88: a product's trend baseline (services.trends.set_baseline validates)."""

    class Meta:
        model = TrendBaseline
        fields = ["product", "period", "expected_count", "alpha", "basis"]
        widgets = {"basis": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from medvigil.core.permissions import scope_for_user
        from medvigil.trace.models import Product

        if user is not None:
            self.fields["product"].queryset = scope_for_user(user, Product)  # type: ignore[attr-defined]
        self._style()

    def validate_unique(self) -> None:
        pass  # set_baseline changes the product's baseline when there is one

    def _post_clean(self) -> None:
        pass  # the service validates


class TrendReportForm(VersionedModelForm):
    narrative = forms.CharField(
        label=_("narrative"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("At most %(n)d characters (MIR 7.3.1).") % {"n": NARRATIVE_MAX},
    )

    class Meta:
        model = TrendReport
        fields = ["narrative", "measures", "regulator_reference"]
        widgets = {"measures": forms.Textarea(attrs={"rows": 4})}
