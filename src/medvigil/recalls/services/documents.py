"""RCL-5: the recall plan, the customer notice (field safety notice) and the final evaluation
report — drafted bilingually from the record, edited while drafts, then approved with an
electronic signature by the division head or general manager (the management representative
for an advisory notice, RCL-6), rendered to PDF through core.documents and frozen."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medvigil.core.audit import audit_context
from medvigil.core.documents import render_pdf
from medvigil.core.permissions import require
from medvigil.core.records import issued

from ..models import DocumentKind, Recall, RecallDocument
from .execution import effectiveness

DOC_FIELDS = ("body_zh", "body_en")
DESCRIPTION = gettext_lazy("Issued recall document")


def _draft_text(recall: Recall, kind: str, language: str) -> str:
    """A starting text from the record, in `language`."""
    zh = language.startswith("zh")
    with translation.override(language):
        title = recall.title if zh or not recall.title_en else recall.title_en
        reason = recall.reason if zh or not recall.reason_en else recall.reason_en
        action = recall.action if zh or not recall.action_en else recall.action_en
        level = recall.get_level_display() if recall.level else str(recall.get_kind_display())
        lines = [f"{recall.number} {title}", f"{_('Level')}: {level}", "", reason]
        if kind == DocumentKind.NOTICE:
            lines += ["", _("What we ask you to do:"), action]
            lines += ["", _("Please confirm receipt of this notice to us.")]
        elif kind == DocumentKind.PLAN:
            lines += [
                "",
                _("Scope: %(u)s units at %(c)s customers.")
                % {"u": recall.unit_count, "c": recall.consignee_count},
                _("Lots: %(l)s") % {"l": ", ".join(recall.scope_lots.split()) or "—"},
                "",
                _("Action: %(a)s") % {"a": action},
            ]
        else:
            eff = effectiveness(recall)
            lines += [
                "",
                _("Effectiveness: %(p)s %% of %(u)s units corrected, returned or destroyed.")
                % {"p": eff["percent"], "u": eff["units"]},
                _("Consignees notified: %(n)s of %(c)s; acknowledged: %(a)s.")
                % {"n": eff["notified"], "c": eff["consignees"], "a": eff["acknowledged"]},
            ]
    return "\n".join(lines).strip()


def draft_document(recall: Recall, *, by: Any, kind: str) -> RecallDocument:
    """A new draft, its two texts prefilled from the record (one draft per kind at a time)."""
    require(by, "recalls.add_recalldocument")
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": _("Choose from the list.")})
    with transaction.atomic(), audit_context(actor=by):
        recall = Recall.objects.select_for_update().get(pk=recall.pk)
        if recall.status in (Recall.Status.CLOSED, Recall.Status.VOIDED):
            raise ValidationError(_("The recall is closed."))
        if RecallDocument.objects.filter(
            recall=recall, kind=kind, status=RecallDocument.Status.DRAFT
        ).exists():
            raise ValidationError(_("A draft of this document exists; edit it."))
        doc = RecallDocument(
            recall=recall,
            kind=kind,
            body_zh=_draft_text(recall, kind, "zh-hans"),
            body_en=_draft_text(recall, kind, "en"),
        )
        doc.assign_number()
        doc.full_clean()
        doc.save()
    return doc


def update_document(doc: RecallDocument, *, by: Any, version: Any, **fields: Any) -> RecallDocument:
    require(by, "recalls.change_recalldocument")
    unknown = set(fields) - set(DOC_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown field: %(f)s") % {"f": ", ".join(sorted(unknown))})
    with transaction.atomic(), audit_context(actor=by):
        doc = RecallDocument.objects.select_for_update().get(pk=doc.pk)
        doc.check_version(version)
        issued.check_editable(doc)
        for name, value in fields.items():
            setattr(doc, name, value)
        doc.full_clean()
        doc.save()
    return doc


def document_pdf(doc: RecallDocument, *, user: Any) -> bytes:
    """The bilingual PDF (Chinese first, then English)."""
    recall = doc.recall
    return render_pdf(
        "recalls/documents/recall_document.html",
        {
            "d": doc,
            "recall": recall,
            "kind_zh": _kind_label(doc, "zh-hans"),
            "kind_en": _kind_label(doc, "en"),
        },
        record=doc,
        title=f"{_kind_label(doc, 'zh-hans')} / {_kind_label(doc, 'en')}",
        language="zh-hans",
        user=user,
    )


def _kind_label(doc: RecallDocument, language: str) -> str:
    with translation.override(language):
        return str(DocumentKind(doc.kind).label)


def issue_document(
    doc: RecallDocument, *, by: Any, password: str, request: Any = None, comment: str = ""
) -> RecallDocument:
    """Approve and issue (signed): a recall's documents by the division head / general
    manager, an advisory notice's by the management representative. The PDF is rendered,
    attached and the document frozen (core.records.issued.issue_document; the guard is
    RecallDocument.issue_error)."""
    return issued.issue_document(
        doc,
        render=document_pdf,
        by=by,
        password=password,
        perm=doc.recall.approve_perm,
        description=DESCRIPTION,
        request=request,
        comment=comment,
        reason=gettext_lazy("Document issued"),
    )


def apply_issue(doc: RecallDocument, *, by: Any, check: Any, comment: str = "") -> RecallDocument:
    """issue_document's second phase, after the password check (the demo passes its own)."""
    return issued.apply_issue(
        doc,
        render=document_pdf,
        by=by,
        check=check,
        description=DESCRIPTION,
        comment=comment,
        reason=gettext_lazy("Document issued"),
    )
