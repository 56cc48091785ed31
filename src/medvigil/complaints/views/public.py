"""The public feedback form and its status page (FBK-1, PLAT-11): no sign-in, zh-Hans and
English, for a phone first. The rules are in services/public.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from medvigil.core.attachments.services import (
    allowed_extensions,
    human_size,
    max_bytes,
    validate_upload,
)
from medvigil.core.records.forms import BootstrapMixin

from ..models import Kind, PatientInvolvement, Want
from ..services import public as svc

MAX_FILES = 5
TEXT_LIMIT = 5000


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; each is checked by the attachments platform in the form."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        if isinstance(data, (list, tuple)):
            return [f for f in data if f]
        return [data] if data else []


class PublicFeedbackForm(BootstrapMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("What would you like to tell us?"),
        choices=[
            (Kind.COMPLAINT, _("a complaint or a problem")),
            (Kind.INQUIRY, _("a question")),
            (Kind.SUGGESTION, _("a suggestion")),
            (Kind.PRAISE, _("praise")),
        ],
        initial=Kind.COMPLAINT,
    )
    complainant_name = forms.CharField(label=_("Your name"), max_length=100)
    complainant_organisation = forms.CharField(
        label=_("Hospital or organisation"), max_length=200, required=False
    )
    complainant_phone = forms.CharField(label=_("Phone"), max_length=60, required=False)
    complainant_email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)
    complainant_address = forms.CharField(label=_("Address"), max_length=300, required=False)
    device_text = forms.CharField(
        label=_("Device (model, serial or lot number)"), max_length=200, required=False
    )
    title = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("What happened?"),
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    occurred_at = forms.DateTimeField(
        label=_("When did it happen?"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    occurred_where = forms.CharField(label=_("Where?"), max_length=200, required=False)
    patient_involvement = forms.ChoiceField(
        label=_("Was a patient involved?"),
        choices=PatientInvolvement.choices,
        initial=PatientInvolvement.NONE,
    )
    patient_details = forms.CharField(
        label=_("What happened to the patient?"),
        max_length=TEXT_LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    customer_wants = forms.MultipleChoiceField(
        label=_("What would you like us to do?"),
        choices=Want.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    customer_wants_detail = forms.CharField(
        label=_("Anything else you would like?"),
        max_length=TEXT_LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # SVC-1: a repair asked for here opens a service request (the service app's intake)
    repair = forms.BooleanField(
        label=_("Please send a service engineer to repair the device"), required=False
    )
    fault_level = forms.ChoiceField(
        label=_("Can the device still be used?"),
        choices=[
            ("down", _("no, it does not work")),
            ("degraded", _("partly")),
            ("minor", _("yes, it is a minor fault")),
        ],
        initial="degraded",
        required=False,
    )
    photos = MultipleFileField(label=_("Photos or documents"), required=False)
    # The honeypot: hidden from people by CSS (the public-hp class), left empty by them.
    website = forms.CharField(label=_("Leave this field empty"), required=False)
    started = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["website"].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})
        self.fields["photos"].help_text = _(
            "Up to %(n)s files of at most %(size)s each (%(types)s)."
        ) % {
            "n": MAX_FILES,
            "size": human_size(max_bytes()),
            "types": ", ".join(allowed_extensions()),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("complainant_phone") or data.get("complainant_email")):
            self.add_error(
                "complainant_email", _("Give an e-mail address or a phone number to reach you.")
            )
        if data.get("repair") and not data.get("fault_level"):
            self.add_error("fault_level", _("Say whether the device can still be used."))
        return data

    def clean_photos(self) -> list[Any]:
        files = list(self.cleaned_data.get("photos") or [])
        if len(files) > MAX_FILES:
            raise ValidationError(_("Send at most %(n)s files.") % {"n": MAX_FILES})
        for f in files:
            try:
                validate_upload(f)
            except ValidationError as e:
                raise ValidationError(e.messages) from None
        return files


def client_address(request: HttpRequest) -> str:
    """The address the request limit counts. REMOTE_ADDR as the server saw it; behind a
    reverse proxy, set PUBLIC_FEEDBACK_PROXY_HEADER (e.g. "HTTP_X_REAL_IP") to the header the
    proxy sets."""
    header = getattr(settings, "PUBLIC_FEEDBACK_PROXY_HEADER", "")
    if header and request.META.get(header):
        return str(request.META[header]).split(",")[0].strip()
    return str(request.META.get("REMOTE_ADDR", ""))


def _render_form(request: HttpRequest, form: Any, status: int = 200, error: str = "") -> Any:
    form.fields["started"].initial = svc.form_token()
    if form.is_bound:
        data = form.data.copy()
        data["started"] = svc.form_token()
        form.data = data
    return render(
        request,
        "complaints/public_form.html",
        {"form": form, "error": error, "lang": get_language()},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def public_feedback(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render_form(request, PublicFeedbackForm())
    form = PublicFeedbackForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_form(request, form, status=400)
    data = {
        **form.cleaned_data,
        "website": request.POST.get("website", ""),
        "started": request.POST.get("started", ""),
        "language": "en" if (get_language() or "").startswith("en") else "zh-hans",
    }
    files = data.pop("photos", []) or []
    try:
        obj = svc.submit_public_feedback(data=data, files=files, address=client_address(request))
    except svc.PublicRefused as e:
        status = 429 if e.code == "rate_limited" else 400
        return _render_form(request, form, status=status, error=" ".join(e.messages))
    except ValidationError as e:
        if hasattr(e, "error_dict"):
            for field, errors in e.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return _render_form(request, form, status=400)
        return _render_form(request, form, status=400, error=" ".join(e.messages))
    request.session["public_feedback_code"] = obj.public_code
    return redirect(reverse("public_feedback_status", args=[obj.public_code]) + "?new=1")


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Tracking code"), max_length=40)


@require_GET
def public_feedback_status(request: HttpRequest, code: str) -> HttpResponse:
    if svc.hit_limit(
        "status",
        client_address(request),
        limit=int(getattr(settings, "PUBLIC_FEEDBACK_STATUS_LIMIT", 60)),
        window=int(getattr(settings, "PUBLIC_FEEDBACK_RATE_WINDOW", 3600)),
    ):
        return render(
            request,
            "complaints/public_status.html",
            {"error": _("Too many look-ups from your address. Please try again later.")},
            status=429,
        )
    try:
        status = svc.public_status(code)
    except svc.Feedback.DoesNotExist:
        return render(
            request,
            "complaints/public_status.html",
            {"error": _("No feedback has this tracking code. Check the code and try again.")},
            status=404,
        )
    return render(
        request,
        "complaints/public_status.html",
        {"s": status, "new": request.GET.get("new") == "1", "lang": get_language()},
    )


@require_GET
def public_feedback_lookup(request: HttpRequest) -> HttpResponse:
    """The "follow my feedback" box: a typed code → its status page."""
    typed = svc.normalise_code(request.GET.get("code", ""))
    code = "".join(c for c in typed if c.isascii() and c.isalnum())[:40]
    if not code:
        return redirect("public_feedback")
    return redirect("public_feedback_status", code=code)
