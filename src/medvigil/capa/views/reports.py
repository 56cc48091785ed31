"""CAPA-1: the CAPA report's pages — draft from the CAPA page, the report page with the
signed issue, the PDF (the kit's IssuedDocumentPages, core.records.issued_views)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from medvigil.core.permissions import can, get_object_for_user
from medvigil.core.records.issued_views import IssuedDocumentPages

from ..models import Capa, CapaReport
from ..services import reports as svc


def _content(report: CapaReport) -> dict[str, Any]:
    return {
        "report": report,
        "c": report.content or svc.report_content(report.capa, report.language),
    }


PAGES = IssuedDocumentPages(
    model=CapaReport,
    template="capa/capareport_detail.html",
    element_id="capa-report",
    issue_url="capa:capareport_issue",
    pdf_url="capa:capareport_pdf",
    render=svc.capa_report_pdf,
    issue=svc.issue_capa_report,
    success=lambda r: _("CAPA report %(n)s issued and signed.") % {"n": r.number},
    dialog_title=gettext_lazy("Issue and sign the CAPA report"),
    dialog_button=gettext_lazy("Issue and sign"),
    dialog_text=gettext_lazy(
        "The CAPA as it is now is frozen into the report, rendered as a PDF and signed; "
        "the report cannot change after."
    ),
    context=_content,
    filename=lambda r: f"CAPA-report-{r.number}",
)


@login_required
@require_POST
def capareport_new(request: HttpRequest, pk: int) -> HttpResponse:
    capa = get_object_for_user(request.user, Capa, pk=pk)
    if not can(request.user, CapaReport, "add"):
        raise PermissionDenied
    try:
        report = svc.draft_capa_report(
            capa, by=request.user, language=request.POST.get("language", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(capa)
    messages.success(request, _("CAPA report %(n)s drafted.") % {"n": report.number})
    return redirect(report)


@login_required
@require_GET
def capareport_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return PAGES.detail(request, pk)


@login_required
@require_POST
def capareport_issue(request: HttpRequest, pk: int) -> HttpResponse:
    return PAGES.issue_view(request, pk)


@login_required
@require_GET
def capareport_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The issued report as stored; a draft's preview rendered now."""
    return PAGES.pdf(request, pk)
