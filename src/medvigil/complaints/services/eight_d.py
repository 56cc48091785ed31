"""FBK-8: the 8D report. Model: EightDReport."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.permissions import require

from ..models import EightDReport, Feedback
from ._skeleton import todo


def draft_eight_d(feedback: Feedback, *, by: Any, language: str) -> EightDReport:
    """A new draft with D1 … D8 prefilled from the record (team from the people involved, D2 from
    the description, D4 from the investigation, D5/D6 from the resolution, …) in `language`."""
    require(by, "complaints.add_eightdreport")
    if language not in ("zh-hans", "en"):
        raise ValidationError({"language": _("Choose Chinese or English.")})
    with transaction.atomic(), audit_context(actor=by):
        fb = Feedback.objects.select_for_update().get(pk=feedback.pk)
        if not fb.is_complaint:
            raise ValidationError(_("An 8D report is drawn up for a complaint."))
        inv, res = fb.current_investigation, fb.current_resolution
        team = [u for u in (fb.owner, inv.investigator if inv else None) if u is not None]
        names = ", ".join(dict.fromkeys(u.get_full_name() or u.username for u in team))
        device = " ".join(
            filter(
                None, [str(fb.product or ""), fb.lot.lot_number if fb.lot else "", fb.device_text]
            )
        )
        with translation.override(language):
            d2 = "\n".join(
                filter(
                    None,
                    [
                        fb.title,
                        fb.description,
                        f"{_('product')}: {device}" if device else "",
                        f"{_('quantity affected')}: {fb.quantity_affected}",
                    ],
                )
            )
        report = EightDReport(
            feedback=fb,
            language=language,
            created_by=by,
            d1_team=" / ".join(filter(None, [names, str(fb.department or "")])),
            d2_problem=d2,
            d3_containment=res.remedy_detail if res else "",
            d4_root_cause=inv.root_cause if inv else "",
            d5_corrective_actions=res.corrective_action if res else "",
            d6_implementation=inv.correction if inv else "",
        )
        report.assign_number()
        report.full_clean()
        report.save()
    return report


def update_eight_d(report: EightDReport, *, by: Any, version: Any, **fields: Any) -> EightDReport:
    """Edit the D fields of a draft (refused once issued: EightDReport.can_edit)."""
    raise todo("update_eight_d")


def issue_eight_d(report: EightDReport, *, by: Any, password: str) -> EightDReport:
    """Issue: render the PDF through core.documents in the report's language, attach it
    (`document`), sign it and freeze the report (guard EightDReport.can_issue)."""
    raise todo("issue_eight_d")
