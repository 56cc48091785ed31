"""The 8D report (FBK-8): draft from the record, edit while a draft, preview, issue signed as a
PDF in the report's language, download the issued document. Rules in services/eight_d.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from medvigil.core.records.forms import VersionedModelForm
from medvigil.core.records.issued_views import IssuedDocumentPages
from medvigil.core.records.views import edit_record

from ..models import EightDReport
from ..services import eight_d as svc


class EightDForm(VersionedModelForm):
    class Meta:
        model = EightDReport
        fields = ["language", *EightDReport.TEXT_FIELDS]
        widgets = {name: forms.Textarea(attrs={"rows": 4}) for name in EightDReport.TEXT_FIELDS}


def _sections(report: EightDReport) -> dict[str, Any]:
    return {
        "report": report,
        "sections": [
            (report._meta.get_field(n).verbose_name, getattr(report, n))
            for n in EightDReport.TEXT_FIELDS
        ],
    }


PAGES = IssuedDocumentPages(
    model=EightDReport,
    template="complaints/eightd_detail.html",
    element_id="eightd",
    issue_url="complaints:eightd_issue",
    pdf_url="complaints:eightd_pdf",
    edit_url="complaints:eightd_edit",
    render=svc.eight_d_pdf,
    issue=svc.issue_eight_d,
    success=lambda done: _("8D report issued and signed."),
    dialog_title=gettext_lazy("Issue and sign the 8D report"),
    dialog_button=gettext_lazy("Issue and sign"),
    dialog_text=gettext_lazy(
        "The report is rendered as a PDF, signed and frozen; it cannot be edited after."
    ),
    context=_sections,
    filename=lambda report: f"8D-{report.number}",
    next_url=lambda done: reverse("complaints:eightdreport_detail", args=[done.pk]),
    draft=lambda feedback, by, data: svc.draft_eight_d(
        feedback, by=by, language=data.get("language", "")
    ),
    drafted=lambda report: _("8D report %(n)s drafted from the record.") % {"n": report.number},
)


@login_required
@require_http_methods(["GET", "POST"])
def eightd_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a draft (D1 … D8 and the language) through update_eight_d."""
    report = PAGES.get(request, pk, "change")
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


# the report page (GET), its signed issue (POST) and the PDF (GET): the kit's views
eightd_detail, eightd_issue, eightd_pdf = PAGES.views()
eightd_new = PAGES.new_view()  # draft from the complaint page
