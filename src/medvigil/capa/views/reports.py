"""CAPA-1: the CAPA report's pages — draft from the CAPA page, the report page with the
signed issue, the PDF (the kit's IssuedDocumentPages, core.records.issued_views)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medvigil.core.records.issued_views import IssuedDocumentPages

from ..models import CapaReport
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
    draft=lambda capa, by, data: svc.draft_capa_report(
        capa, by=by, language=data.get("language", "")
    ),
    drafted=lambda r: _("CAPA report %(n)s drafted.") % {"n": r.number},
)


# the report page (GET), its signed issue (POST) and the PDF (GET): the kit's views
capareport_detail, capareport_issue, capareport_pdf = PAGES.views()
capareport_new = PAGES.new_view()  # draft from the CAPA page
