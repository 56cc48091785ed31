"""The 8D report (FBK-8): draft from the record, edit while a draft, preview, issue signed as a
PDF in the report's language, download the issued document. Rules in services/eight_d.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medvigil.core.documents import pdf_response
from medvigil.core.models import Signature
from medvigil.core.permissions import can, get_object_for_user
from medvigil.core.records.forms import VersionedModelForm
from medvigil.core.records.views import edit_record, signed_action
from medvigil.core.templatetags.records import signature_dialog_context

from ..models import EightDReport, Feedback
from ..services import eight_d as svc


class EightDForm(VersionedModelForm):
    class Meta:
        model = EightDReport
        fields = ["language", *EightDReport.TEXT_FIELDS]
        widgets = {name: forms.Textarea(attrs={"rows": 4}) for name in EightDReport.TEXT_FIELDS}


def _report(request: HttpRequest, pk: int, action: str = "view") -> EightDReport:
    report = get_object_for_user(
        request.user,
        EightDReport.objects.select_related("feedback", "issued_by", "document"),
        action,
        pk=pk,
    )
    # the complaint's own rule (sales and dealers: their own customers' records)
    get_object_for_user(request.user, Feedback, pk=report.feedback_id)
    return report


def _dialog(request: HttpRequest, report: EightDReport, form: Any = None) -> dict[str, Any]:
    return signature_dialog_context(
        form_action=reverse("complaints:eightd_issue", args=[report.pk]),
        meaning=Signature.Meaning.APPROVED,
        csrf_token=get_token(request),
        dialog_id="eightd-issue",
        title=_("Issue and sign the 8D report"),
        button=_("Issue and sign"),
        form=form,
        submit_label=_("Sign and issue"),
        version=report.version,
        text=_("The report is rendered as a PDF, signed and frozen; it cannot be edited after."),
    )


def _page(request: HttpRequest, report: EightDReport, dialog: Any = None) -> HttpResponse:
    may_change = report.can_edit() and can(request.user, EightDReport, "change")
    return render(
        request,
        "complaints/eightd_detail.html",
        {
            "report": report,
            "obj": report,
            "may_change": may_change,
            "dialog": dialog or (_dialog(request, report) if may_change else None),
            "sections": [
                (report._meta.get_field(n).verbose_name, getattr(report, n))
                for n in EightDReport.TEXT_FIELDS
            ],
        },
    )


@login_required
@require_POST
def eightd_new(request: HttpRequest, pk: int) -> HttpResponse:
    feedback = get_object_for_user(request.user, Feedback, pk=pk)
    if not can(request.user, EightDReport, "add"):
        raise PermissionDenied
    try:
        report = svc.draft_eight_d(
            feedback, by=request.user, language=request.POST.get("language", "")
        )
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
        return redirect(feedback)
    messages.success(request, _("8D report %(n)s drafted from the record.") % {"n": report.number})
    return redirect("complaints:eightdreport_detail", pk=report.pk)


@login_required
@require_GET
def eightd_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _report(request, pk))


@login_required
@require_http_methods(["GET", "POST"])
def eightd_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a draft (D1 … D8 and the language) through update_eight_d."""
    report = _report(request, pk, "change")
    if not report.can_edit():
        messages.error(request, _("The 8D report is issued and frozen; draft a new one."))
        return redirect("complaints:eightdreport_detail", pk=report.pk)
    form = EightDForm(request.POST or None, instance=report)
    return edit_record(
        request,
        report,
        form,
        svc.update_eight_d,
        lambda r: _("8D report saved."),
        _("Edit 8D report %(n)s") % {"n": report.number},
    )


@login_required
@require_POST
def eightd_issue(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report(request, pk, "change")

    def perform(password: str, comment: str) -> EightDReport:
        return svc.issue_eight_d(
            report, by=request.user, password=password, request=request, comment=comment
        )

    return signed_action(
        request,
        report,
        meaning=Signature.Meaning.APPROVED,
        perform=perform,
        dialog=lambda form: _dialog(request, report, form),
        page=lambda dialog: _page(request, report, dialog=dialog),
        success=lambda done: _("8D report issued and signed."),
        next_url=lambda done: reverse("complaints:eightdreport_detail", args=[done.pk]),
    )


@login_required
@require_GET
def eightd_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The issued document as stored; a draft's preview rendered now."""
    report = _report(request, pk)
    if report.document_id and report.document is not None:
        with report.document.file.open("rb") as f:
            data = f.read()
    else:
        data = svc.eight_d_pdf(report, user=request.user)
    return pdf_response(data, f"8D-{report.number}", inline=request.GET.get("inline") == "1")
