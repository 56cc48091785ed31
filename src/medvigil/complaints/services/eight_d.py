"""FBK-8: the 8D report. Model: EightDReport.

Drafted from the record in the customer's language (D1 team from the people who handled it,
D2 from the description and the device, D3 from the correction, D4 from the investigation,
D5/D6 from the resolution and the reply, D7 from quality's evaluation, D8 from the closure),
edited while a draft, then issued: rendered to PDF through core.documents in the report's
language, stored as an attachment on the report (`document`), signed (meaning "approved") and
frozen — an issued report is never edited; a new draft replaces it."""

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
from medvigil.core.records.issued import (
    DOCUMENT_LANGUAGES,
    check_editable,
    check_language,
    issue_document,
)

from ..models import EightDReport, Feedback

ADD_PERM = "complaints.add_eightdreport"
CHANGE_PERM = "complaints.change_eightdreport"
LANGUAGES = tuple(dict(DOCUMENT_LANGUAGES))
FIELD_LIMIT = 20_000


def _person(user: Any) -> str:
    if user is None:
        return ""
    return str(getattr(user, "printed_name", "") or user.get_username())


def _lines(*parts: Any) -> str:
    return "\n".join(str(p) for p in parts if p not in (None, "")).strip()


def _team(fb: Feedback) -> str:
    people: list[tuple[str, Any]] = []
    ev, inv, res = fb.current_evaluation, fb.current_investigation, fb.current_resolution
    people.append((_("handled by"), fb.owner))
    people.append((_("received by"), fb.received_by))
    if ev is not None:
        people.append((_("evaluated by"), ev.evaluated_by))
        people.append((_("approved by"), ev.approved_by))
    if inv is not None:
        people.append((_("investigator"), inv.investigator))
    if res is not None:
        people.append((_("agreed by"), res.agreed_by))
        people.append((_("reply sent by"), res.reply_sent_by))
    seen: set[int] = set()
    lines = []
    for role, user in people:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        dept = f" ({user.department})" if getattr(user, "department_id", None) else ""
        lines.append(f"{_person(user)}{dept}: {role}")
    depts = sorted({str(n.department) for n in fb.notices.all() if n.status != "voided"})
    if depts:
        lines.append(_("Departments notified: %(d)s") % {"d": ", ".join(depts)})
    return "\n".join(lines)


def _problem(fb: Feedback) -> str:
    device = fb.product.name if fb.product else fb.device_text
    ident = " / ".join(
        x for x in (fb.lot.lot_number if fb.lot else "", fb.unit.serial if fb.unit else "") if x
    )
    return _lines(
        f"{fb.number} {fb.title}",
        fb.description,
        _("Device: %(d)s") % {"d": device} if device else "",
        _("Lot / serial: %(s)s") % {"s": ident} if ident else "",
        _("Occurred: %(w)s")
        % {
            "w": " ".join(
                x
                for x in (f"{fb.occurred_at:%Y-%m-%d}" if fb.occurred_at else "", fb.occurred_where)
                if x
            )
        }
        if fb.occurred_at or fb.occurred_where
        else "",
        _("Quantity affected: %(n)s") % {"n": fb.quantity_affected},
        _("Impact: %(i)s") % {"i": fb.impact} if fb.impact else "",
    )


def _draft_fields(fb: Feedback) -> dict[str, str]:
    ev, inv, res = fb.current_evaluation, fb.current_investigation, fb.current_resolution
    d3 = inv.correction if inv is not None else ""
    d4 = ""
    if inv is not None:
        d4 = _lines(
            _("Method: %(m)s") % {"m": inv.get_method_display()} if inv.method else "",
            _("Cause factor: %(f)s") % {"f": inv.get_factor_display()} if inv.factor else "",
            inv.root_cause,
            inv.analysis,
            _("Responsibility: %(r)s") % {"r": inv.get_responsibility_display()}
            if inv.responsibility
            else "",
            _("Returned-product test results: %(t)s") % {"t": inv.test_results}
            if inv.test_results
            else "",
        )
    d5 = d6 = ""
    if res is not None:
        d5 = _lines(res.corrective_action, res.remedy_detail)
        d6 = _lines(
            _("Reply sent on %(d)s.") % {"d": f"{timezone.localtime(res.reply_sent_at):%Y-%m-%d}"}
            if res.reply_sent_at
            else "",
            res.reply_text,
            _("Customer's confirmation: %(c)s") % {"c": res.get_confirmation_display()}
            if res.confirmation
            else "",
        )
    d7 = ""
    if ev is not None:
        if ev.capa_needed:
            d7 = _("Corrective and preventive action (CAPA) %(ref)s.") % {
                "ref": ev.capa_reference or _("requested")
            }
        else:
            d7 = ev.no_capa_justification
    d8 = ""
    if fb.closed_at:
        d8 = _("Closed on %(d)s.") % {"d": f"{timezone.localtime(fb.closed_at):%Y-%m-%d}"}
    return {
        "d1_team": _team(fb),
        "d2_problem": _problem(fb),
        "d3_containment": d3,
        "d4_root_cause": d4,
        "d5_corrective_actions": d5,
        "d6_implementation": d6,
        "d7_prevention": d7,
        "d8_closure": d8,
    }


def draft_eight_d(feedback: Feedback, *, by: Any, language: str) -> EightDReport:
    """A new draft with D1 … D8 prefilled from the record (team from the people involved, D2 from
    the description, D4 from the investigation, D5/D6 from the resolution, …) in `language`."""
    require(by, ADD_PERM)
    check_language(language)
    with transaction.atomic(), audit_context(actor=by):
        fb = Feedback.objects.select_for_update().get(pk=feedback.pk)
        if not fb.is_complaint:
            raise ValidationError(_("An 8D report is made for complaints only."))
        if fb.status == Feedback.Status.VOIDED:
            raise ValidationError(_("The complaint is voided."))
        with translation.override(language):
            fields = _draft_fields(fb)
        report = EightDReport(feedback=fb, language=language, **fields)
        report.assign_number()
        report.full_clean()
        report.save()
    return report


def update_eight_d(report: EightDReport, *, by: Any, version: Any, **fields: Any) -> EightDReport:
    """Edit the D fields (and the language) of a draft (refused once issued:
    EightDReport.can_edit)."""
    require(by, CHANGE_PERM)
    allowed = {*EightDReport.TEXT_FIELDS, "language"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    errors = {}
    for name, value in fields.items():
        if not isinstance(value, str):
            errors[name] = _("Enter text.")
        elif len(value) > FIELD_LIMIT:
            errors[name] = _("Keep it to %(n)s characters.") % {"n": FIELD_LIMIT}
    if fields.get("language", "zh-hans") not in LANGUAGES:
        errors["language"] = _("Choose Chinese or English.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), audit_context(actor=by):
        obj = EightDReport.objects.select_for_update().get(pk=report.pk)
        obj.check_version(version)
        check_editable(obj, _("The 8D report is issued and frozen; draft a new one."))
        for name, value in fields.items():
            setattr(obj, name, value.strip() if name != "language" else value)
        obj.full_clean()
        obj.save()
    return obj


def eight_d_pdf(report: EightDReport, *, user: Any) -> bytes:
    """The report as a PDF in its language (a draft's preview, or the issued document)."""
    with translation.override(report.language):
        sections = [
            (str(report._meta.get_field(name).verbose_name), getattr(report, name))
            for name in EightDReport.TEXT_FIELDS
        ]
    return render_pdf(
        "complaints/documents/eight_d.html",
        {"report": report, "feedback": report.feedback, "sections": sections},
        record=report,
        title=gettext_lazy("8D report"),
        language=report.language,
        user=user,
    )


def issue_eight_d(
    report: EightDReport, *, by: Any, password: str, request: Any = None, comment: str = ""
) -> EightDReport:
    """Issue: signed (meaning "approved"), rendered to PDF through core.documents in the
    report's language, attached (`document`) and frozen — core.records.issued.issue_document
    with the guard EightDReport.issue_error."""
    return issue_document(
        report,
        render=eight_d_pdf,
        by=by,
        password=password,
        perm=CHANGE_PERM,
        description=gettext_lazy("Issued 8D report"),
        request=request,
        comment=comment,
    )
