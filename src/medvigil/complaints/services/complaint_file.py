"""FBK-9: the complaint file (ISO 13485 8.2.2, 21 CFR 820.35(a)) on one screen and as a PDF.

One function gathers it for both, masked for the reader (PLAT-11): the complainant's name,
address, phone and e-mail (and the addresses of the messages) only with
complaints.view_contact_data, the patient details only with complaints.view_patient_data —
in the history as well (core's history rows hide the same fields)."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from medvigil.core.audit import audit_context
from medvigil.core.audit.recorder import record_event
from medvigil.core.documents import render_pdf
from medvigil.core.models import AuditEntry
from medvigil.core.signatures.services import STATE_LABELS, signature_state, signatures_for
from medvigil.core.templatetags.records import history_rows

from ..models import (
    CONTACT_PERM,
    PATIENT_PERM,
    Answer,
    ClockPause,
    Correspondence,
    EightDReport,
    Evaluation,
    Feedback,
    Investigation,
    Party,
    ProblemNotice,
    Resolution,
    ResolutionApproval,
    Want,
)

MASK = "***"


def _mask(value: Any, allowed: bool) -> str:
    if not value:
        return ""
    return str(value) if allowed else MASK


def _labels(values: list[str], choices: Any) -> list[str]:
    names = dict(choices.choices)
    return [str(names.get(v, v)) for v in values or []]


def _person(user: Any) -> str:
    if user is None:
        return ""
    return str(getattr(user, "printed_name", "") or user.get_username())


def _signatures(records: list[Any]) -> list[dict[str, Any]]:
    out = []
    for record in records:
        for sig in signatures_for(record):
            out.append(
                {
                    "record": record._meta.verbose_name,
                    "record_name": str(getattr(record, "number", "") or record),
                    "signer": sig.printed_name,
                    "meaning": sig.get_meaning_display(),
                    "at": sig.signed_at,
                    "comment": sig.reason,
                    "state": STATE_LABELS[signature_state(sig, record)],
                }
            )
    return sorted(out, key=lambda s: s["at"])


def _history(records: list[Any], user: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    by_model: dict[type, list[Any]] = {}
    for r in records:
        by_model.setdefault(type(r), []).append(r)
    for model, objs in by_model.items():
        ct = ContentType.objects.get_for_model(model, for_concrete_model=True)
        entries = list(
            AuditEntry.objects.filter(content_type=ct, object_id__in=[str(o.pk) for o in objs])
            .select_related("actor")
            .order_by("timestamp", "seq")
        )
        for item in history_rows(entries, model, user=user):
            item["model"] = model._meta.verbose_name
            rows.append(item)
    return sorted(rows, key=lambda r: (r["entry"].timestamp, r["entry"].pk))


def _evaluation(ev: Evaluation) -> dict[str, Any]:
    answers = dict(Answer.choices)
    return {
        "obj": ev,
        "questions": [
            {
                "label": ev._meta.get_field(q).verbose_name,
                "answer": answers.get(getattr(ev, q), "—") if getattr(ev, q) else "—",
                "note": (ev.question_notes or {}).get(q, "")
                if isinstance(ev.question_notes, dict)
                else "",
            }
            for q in Evaluation.QUESTIONS
        ],
        "evaluated_by": _person(ev.evaluated_by),
        "approved_by": _person(ev.approved_by),
    }


def complaint_file(feedback: Feedback, *, user: Any) -> dict[str, Any]:
    """Everything FBK-9 lists, masked for the user (PLAT-11): device name, date received, UDI or
    other identification, complainant name/address/phone, nature and details, correction or
    corrective action, replies, review/evaluation/investigation records (dates, results, who),
    justification when not investigated, history and signatures."""
    fb = (
        Feedback.objects.select_related(
            "product",
            "lot",
            "unit",
            "customer",
            "end_user",
            "dealer",
            "department",
            "received_by",
            "owner",
        )
        .prefetch_related("evaluations", "investigations", "resolutions", "pauses")
        .get(pk=feedback.pk)
    )
    contacts = bool(user.has_perm(CONTACT_PERM))
    patient = bool(user.has_perm(PATIENT_PERM))
    evaluations = list(
        Evaluation.objects.filter(feedback=fb).select_related(
            "evaluated_by", "approved_by", "same_as"
        )
    )
    investigations = list(
        Investigation.objects.filter(feedback=fb).select_related("investigator", "return_record")
    )
    resolutions = list(
        Resolution.objects.filter(feedback=fb).select_related(
            "agreed_by", "reply_sent_by", "callback_by"
        )
    )
    approvals = list(
        ResolutionApproval.objects.filter(resolution__feedback=fb).select_related("decided_by")
    )
    notices = list(
        ProblemNotice.objects.filter(feedback=fb).select_related("department", "acknowledged_by")
    )
    messages = list(Correspondence.objects.filter(feedback=fb).order_by("at", "id"))
    pauses = list(ClockPause.objects.filter(feedback=fb).select_related("started_by", "ended_by"))
    reports = list(EightDReport.objects.filter(feedback=fb).select_related("issued_by"))
    identification = " / ".join(
        x
        for x in (
            fb.udi_text,
            _("serial %(s)s") % {"s": fb.unit.serial} if fb.unit else "",
            _("lot %(l)s") % {"l": fb.lot.lot_number} if fb.lot else "",
            fb.device_text if fb.product else "",
        )
        if x
    )
    corrections = [
        {"source": _("investigation"), "text": i.correction} for i in investigations if i.correction
    ] + [
        {"source": _("resolution"), "text": r.corrective_action}
        for r in resolutions
        if r.corrective_action
    ]
    replies = [
        {
            "at": r.reply_sent_at,
            "by": _person(r.reply_sent_by),
            "text": r.reply_text,
            "channel": r.get_reply_channel_display(),
        }
        for r in resolutions
        if r.reply_sent_at
    ]
    if fb.answer:
        replies.append(
            {"at": fb.first_response_at or fb.closed_at, "by": "", "text": fb.answer, "channel": ""}
        )
    not_investigated = [
        {
            "text": ev.not_investigated_justification,
            "same_as": ev.same_as,
            "approved_by": _person(ev.approved_by),
            "approved_at": ev.approved_at,
        }
        for ev in evaluations
        if not ev.investigate and ev.evaluated_at
    ]
    records: list[Any] = [
        fb,
        *evaluations,
        *investigations,
        *resolutions,
        *approvals,
        *notices,
        *reports,
        *messages,
        *pauses,
    ]
    return {
        "feedback": fb,
        "device_name": fb.product.name if fb.product else fb.device_text,
        "model": getattr(fb.product, "model_spec", "") if fb.product else "",
        "received_at": fb.received_at,
        "identification": identification,
        "complainant": {
            "name": _mask(fb.complainant_name, contacts),
            "organisation": fb.complainant_organisation,
            "address": _mask(fb.complainant_address, contacts),
            "phone": _mask(fb.complainant_phone, contacts),
            "email": _mask(fb.complainant_email, contacts),
        },
        "patient_details": _mask(fb.patient_details, patient),
        "wants": _labels(fb.customer_wants, Want),
        "parties": _labels(fb.outside_parties, Party),
        "corrections": corrections,
        "replies": replies,
        "evaluations": [_evaluation(ev) for ev in evaluations],
        "investigations": investigations,
        "resolutions": resolutions,
        "approvals": approvals,
        "not_investigated": not_investigated,
        "notices": notices,
        "messages": [{"obj": m, "address": _mask(m.address, contacts)} for m in messages],
        "pauses": pauses,
        "reports": reports,
        "signatures": _signatures(records),
        "history": _history(records, user),
        "may_see_contacts": contacts,
        "may_see_patient": patient,
    }


def complaint_file_pdf(feedback: Feedback, *, user: Any, language: str) -> bytes:
    """The complaint file as one PDF through core.documents."""
    ctx = complaint_file(feedback, user=user)
    pdf = render_pdf(
        "complaints/documents/complaint_file.html",
        {"file": ctx, "feedback": ctx["feedback"]},
        record=ctx["feedback"],
        title=gettext_lazy("Complaint file"),
        language=language,
        user=user,
    )
    # who took the file out of the system, and whether it held contact and patient data
    with audit_context(actor=user):
        record_event(
            ctx["feedback"],
            gettext_noop("complaint file exported"),
            {
                "language": language,
                "contact data": ctx["may_see_contacts"],
                "patient data": ctx["may_see_patient"],
            },
        )
    return pdf
