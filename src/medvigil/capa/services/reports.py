"""CAPA-1: the CAPA report, a signed PDF in Chinese or English (core.records.issued).

Drafted from the CAPA page in a language; a draft previews the CAPA as it is now. Issuing
(signed, meaning "approved", by quality) freezes a snapshot of the CAPA into the report
(`CapaReport.freeze_content` → :func:`report_content`), renders the PDF from that snapshot
through core.documents, attaches it and freezes the report."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medvigil.core.audit import audit_context
from medvigil.core.documents import render_pdf
from medvigil.core.permissions import require
from medvigil.core.records.issued import check_language, issue_document

from ..models import Capa, CapaAction, CapaReport
from ._common import lock

ADD_PERM = "capa.add_capareport"
ISSUE_PERM = "capa.change_capareport"


def _person(user: Any) -> str:
    if user is None:
        return ""
    return str(getattr(user, "printed_name", "") or user.get_full_name() or user.get_username())


def _date(value: Any) -> str:
    if not value:
        return ""
    if hasattr(value, "tzinfo"):
        value = timezone.localtime(value)
        return f"{value:%Y-%m-%d %H:%M}"
    return f"{value:%Y-%m-%d}"


def report_content(capa: Capa, language: str) -> dict[str, Any]:
    """What the report shows, as plain text in `language` (choice labels translated): the
    snapshot an issued report keeps, and what a draft previews."""
    from medvigil.core.signatures.services import signatures_for

    actions = list(
        CapaAction.objects.filter(capa=capa).select_related("owner").order_by("due_date", "id")
    )
    closure = [s for s in signatures_for(capa) if s.meaning == "closed"]
    with translation.override(language):
        if capa.effective is None:
            effective = _("not verified")
        else:
            effective = _("effective") if capa.effective else _("not effective")
        return {
            "number": capa.number,
            "title": capa.title,
            "kind": str(capa.get_kind_display()),
            "source": str(capa.get_source_kind_display()),
            "source_reference": capa.source_reference,
            "status": str(capa.get_status_display()),
            "problem": capa.problem,
            "risk": str(capa.get_risk_display()) if capa.risk else "",
            "risk_assessment": capa.risk_assessment,
            "containment": capa.containment,
            "method": str(capa.get_method_display()) if capa.method else "",
            "factor": str(capa.get_factor_display()) if capa.factor else "",
            "whys": [str(w) for w in capa.whys or []],
            "analysis": capa.analysis,
            "root_cause": capa.root_cause,
            "actions": [
                {
                    "label": a.label,
                    "kind": str(a.get_kind_display()),
                    "description": a.description,
                    "owner": _person(a.owner),
                    "due_date": _date(a.due_date),
                    "status": str(a.get_status_display()),
                    "result": a.result,
                    "done_at": _date(a.done_at),
                }
                for a in actions
            ],
            "effectiveness": {
                "result": str(effective),
                "evidence": capa.effectiveness_evidence,
                "verified_on": _date(capa.effectiveness_verified_on),
                "verified_by": _person(capa.effectiveness_verified_by),
            },
            "closure": {
                "closed_at": _date(capa.closed_at),
                "closed_by": _person(capa.closed_by),
                "signatures": [
                    {
                        "signer": s.printed_name or _person(s.signer),
                        "meaning": str(s.get_meaning_display()),
                        "signed_at": _date(s.signed_at),
                        "comment": s.reason,
                    }
                    for s in closure
                ],
            },
        }


def draft_capa_report(capa: Capa, *, by: Any, language: str) -> CapaReport:
    """A new draft report of `capa` in `language` (one draft per CAPA at a time)."""
    require(by, ADD_PERM)
    check_language(language)
    with transaction.atomic(), audit_context(actor=by):
        obj = lock(Capa, capa.pk)
        if obj.status not in (Capa.Status.OPEN, Capa.Status.CLOSED):
            raise ValidationError(_("A CAPA report is issued for an open or closed CAPA only."))
        if CapaReport.objects.filter(capa=obj, status=CapaReport.Status.DRAFT).exists():
            raise ValidationError(_("A draft report of this CAPA exists; issue it first."))
        report = CapaReport(capa=obj, language=language)
        report.assign_number()
        report.full_clean()
        report.save()
    return report


def capa_report_pdf(report: CapaReport, *, user: Any) -> bytes:
    """The report as a PDF in its language: the frozen snapshot once issued, the CAPA as it is
    now for a draft's preview."""
    content = report.content or report_content(report.capa, report.language)
    return render_pdf(
        "capa/documents/capa_report.html",
        {"report": report, "c": content},
        record=report,
        title=gettext_lazy("CAPA report"),
        language=report.language,
        user=user,
    )


def issue_capa_report(
    report: CapaReport, *, by: Any, password: str, request: Any = None, comment: str = ""
) -> CapaReport:
    """Issue the report signed (meaning "approved"; perm capa.change_capareport): the CAPA's
    snapshot frozen into it, the PDF rendered from the snapshot and attached."""
    return issue_document(  # type: ignore[no-any-return]
        report,
        render=capa_report_pdf,
        by=by,
        password=password,
        perm=ISSUE_PERM,
        description=gettext_lazy("Issued CAPA report"),
        request=request,
        comment=comment,
        reason=gettext_lazy("CAPA report issued"),
    )
