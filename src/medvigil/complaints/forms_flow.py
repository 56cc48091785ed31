"""Forms of the evaluation, investigation and resolution stages (FBK-5/6/7). They only parse
input; every rule is in the stage's service (complaints/services/)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from medvigil.core.permissions import scope_for_user
from medvigil.core.records.forms import BootstrapMixin, VersionedModelForm

from .models import Channel, Evaluation, Feedback, Investigation, Remedy, Resolution

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXT = forms.Textarea(attrs={"rows": 3})


def _reclean(form: Any) -> None:
    """The kit's styling validates a bound form while it is built; fields changed after that
    (scoped choices, added fields) need the form cleaned again."""
    if form.is_bound:
        form._errors = None
    form._style()


class EvaluationForm(VersionedModelForm):
    """FBK-5: the questions, one by one (each with an optional note), and the outcome. Saving
    keeps what is answered; "complete" asks the service to finish the evaluation."""

    complete = forms.BooleanField(
        label=_("Complete the evaluation (every question answered)"), required=False
    )

    class Meta:
        model = Evaluation
        fields = [
            *Evaluation.QUESTIONS,
            "summary",
            "adverse_event",
            "capa_needed",
            "no_capa_justification",
            "investigate",
            "not_investigated_justification",
            "same_as",
        ]
        widgets = {
            "summary": TEXT,
            "no_capa_justification": TEXT,
            "not_investigated_justification": TEXT,
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        notes = (
            self.instance.question_notes if isinstance(self.instance.question_notes, dict) else {}
        )
        # a note field after each question, in the question's order
        ordered: dict[str, Any] = {}
        for name, field in self.fields.items():
            ordered[name] = field
            if name in Evaluation.QUESTIONS:
                # a text area (one line to start): a row of its own, under its question
                ordered[f"note_{name}"] = forms.CharField(
                    label=_("Note"),
                    required=False,
                    max_length=2000,
                    initial=notes.get(name, ""),
                    widget=forms.Textarea(attrs={"rows": 1}),
                )
        self.fields = ordered
        self.fields["same_as"].queryset = (
            scope_for_user(user, Feedback)
            .filter(investigations__completed_at__isnull=False)
            .exclude(pk=self.instance.feedback_id)
            .distinct()
            .order_by("-received_at")
        )
        self.fields["same_as"].help_text = _(
            "When not investigated: the complaint in which the same problem was investigated."
        )
        _reclean(self)

    def changed_values(self) -> dict[str, Any]:
        values = super().changed_values()
        values["question_notes"] = {
            q: self.cleaned_data[f"note_{q}"].strip()
            for q in Evaluation.QUESTIONS
            if self.cleaned_data.get(f"note_{q}", "").strip()
        }
        values["complete"] = bool(self.cleaned_data.get("complete"))
        return values


class InvestigationForm(VersionedModelForm):
    """FBK-6: root cause with its method and responsibility, the returned product's tests."""

    class Meta:
        model = Investigation
        fields = [
            "method",
            "factor",
            "analysis",
            "root_cause",
            "responsibility",
            "correction",
            "return_record",
            "returned_received_at",
            "test_results",
            "test_conclusion",
        ]
        widgets = {
            "analysis": TEXT,
            "root_cause": TEXT,
            "correction": TEXT,
            "test_results": TEXT,
            "test_conclusion": TEXT,
            "returned_received_at": DATE,
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from medvigil.trace.models import ReturnRecord

        self.fields["return_record"].queryset = scope_for_user(user, ReturnRecord)
        _reclean(self)


class ResolutionForm(BootstrapMixin, forms.Form):
    """FBK-7: the remedy and the reply's text (the version is the complaint's)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    remedies = forms.MultipleChoiceField(
        label=_("Remedies"), choices=Remedy.choices, widget=forms.CheckboxSelectMultiple
    )
    remedy_detail = forms.CharField(
        label=_("Remedy in detail"), required=False, max_length=5000, widget=TEXT
    )
    compensation_amount = forms.DecimalField(
        label=_("Compensation amount"), required=False, max_digits=12, decimal_places=2
    )
    corrective_action = forms.CharField(
        label=_("Correction / corrective action"), required=False, max_length=5000, widget=TEXT
    )
    reply_text = forms.CharField(
        label=_("Reply to the customer"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Kept with the complaint; sent by e-mail when the complainant has an address."),
    )

    def __init__(self, *args: Any, feedback: Feedback, resolution: Resolution | None, **kw: Any):
        super().__init__(*args, **kw)
        if not self.is_bound:
            self.initial["version"] = feedback.version
            if resolution is not None:
                for name in ("remedies", "remedy_detail", "compensation_amount"):
                    self.initial[name] = getattr(resolution, name)
                self.initial["corrective_action"] = resolution.corrective_action
                self.initial["reply_text"] = resolution.reply_text
        self._style()

    def changed_values(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        data["remedies"] = list(data["remedies"])
        return data


class ReplyForm(BootstrapMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    channel = forms.ChoiceField(label=_("Reply channel"), choices=Channel.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class ConfirmationForm(BootstrapMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    confirmation = forms.ChoiceField(
        label=_("Customer's confirmation"),
        choices=[c for c in Resolution.Confirmation.choices if c[0]],
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=5000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class CallbackForm(BootstrapMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    due = forms.DateField(label=_("Call-back due"), widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()


class CallbackDoneForm(BootstrapMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    note = forms.CharField(label=_("What the customer said"), max_length=5000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._style()
