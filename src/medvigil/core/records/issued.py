"""Issued documents: a record drafted, then issued once as a signed PDF and frozen
(docs/documents.md, "Issued documents"). The 8D report (FBK-8), the recall documents (RCL-5)
and the CAPA report (CAPA-1) are such records.

- :class:`IssuedDocumentMixin` — the fields (``status``, ``issued_at``, ``issued_by``,
  ``document``: the issued PDF as a ``core.Attachment``), the statuses draft → issued →
  voided, and the guards ``can_edit()``, ``issue_error()`` / ``can_issue()``;
- :func:`issue_document` — the one issue service: permission, guard, e-signature (meaning
  "approved", password re-checked), frozen content, the PDF rendered through
  ``core.documents`` and attached, one audited transaction;
- the pages are in :mod:`.issued_views` (``IssuedDocumentPages``), the page template is
  ``records/issued_document.html``.

Put the mixin before ``VoidableMixin``::

    class EightDReport(IssuedDocumentMixin, CreatedByMixin, VoidableMixin, RegulatedRecord):
        document_parent = "feedback"      # the record the document belongs to

        def issue_error(self) -> str:     # why it cannot be issued now ("" = it can)
            return super().issue_error() or (_("Fill in D1 to D8.") if ... else "")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

__all__ = [
    "DOCUMENT_LANGUAGES",
    "DocumentStatus",
    "IssuedDocumentMixin",
    "apply_issue",
    "check_editable",
    "check_language",
    "issue_document",
    "language_field",
]


#: The languages a single-language document (an 8D report, a CAPA report) is written in.
DOCUMENT_LANGUAGES = (("zh-hans", "简体中文"), ("en", "English"))


def language_field() -> models.CharField:
    """The ``language`` field of a single-language document (default Chinese)."""
    return models.CharField(
        gettext_lazy("language"),
        max_length=10,
        choices=list(DOCUMENT_LANGUAGES),
        default="zh-hans",
    )


def check_language(language: Any) -> str:
    """`language` when it is one of :data:`DOCUMENT_LANGUAGES`, else a ValidationError on the
    ``language`` field (nothing changed)."""
    if language not in dict(DOCUMENT_LANGUAGES):
        raise ValidationError({"language": _("Choose Chinese or English.")}, code="invalid")
    return str(language)


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", gettext_lazy("draft")
    ISSUED = "issued", gettext_lazy("issued")
    VOIDED = "voided", gettext_lazy("voided")


class IssuedDocumentMixin(models.Model):
    """A document record that is drafted, issued once (signed, rendered to PDF, attached) and
    frozen from then on. Use with ``VoidableMixin`` (an issued document is voided, never
    edited or deleted)."""

    Status: ClassVar[type[DocumentStatus]] = DocumentStatus

    #: The forward relation to the record the document belongs to (the complaint, the recall,
    #: the CAPA): fetched with the document under the issue lock, and its access rule applies
    #: to the document's pages too (``IssuedDocumentPages.get``).
    document_parent: ClassVar[str] = ""
    #: The issued PDF is a rendering of the signed content, attached after signing.
    signature_exclude: ClassVar[tuple[str, ...]] = ("document",)
    transitions: ClassVar[dict[str, set[str]]] = {
        DocumentStatus.DRAFT: {DocumentStatus.ISSUED, DocumentStatus.VOIDED},
        DocumentStatus.ISSUED: {DocumentStatus.VOIDED},
    }

    status = models.CharField(
        gettext_lazy("status"), max_length=8, choices=DocumentStatus, default=DocumentStatus.DRAFT
    )
    issued_at = models.DateTimeField(gettext_lazy("issued at"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("issued by"),
    )
    document = models.ForeignKey(
        "core.Attachment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("issued document"),
    )

    class Meta:
        abstract = True

    @property
    def is_frozen(self) -> bool:
        """Issued (or voided): the content never changes again."""
        return self.status != DocumentStatus.DRAFT

    def can_edit(self) -> bool:
        return not self.is_frozen

    def issue_error(self) -> str:
        """Why the document cannot be issued now ("" when it can). Override to add the
        document's own rules (call ``super()`` first)."""
        if self.status != DocumentStatus.DRAFT:
            return _("The document is issued and frozen.")
        return ""

    def can_issue(self) -> bool:
        return not self.issue_error()

    def freeze_content(self) -> None:
        """Called under the issue lock just before the document is signed: copy into the
        document whatever it shows from elsewhere (the CAPA report's snapshot of its CAPA), so
        the signature and the PDF bind to content that cannot change. Default: nothing (the
        document's own fields are its content)."""


def check_editable(record: IssuedDocumentMixin, message: str | None = None) -> None:
    """Raise ValidationError (nothing changed) when `record` is issued and frozen; the update
    service of a document calls it under its row lock."""
    if not record.can_edit():
        raise ValidationError(message or _("The document is issued and frozen."), code="frozen")


def _locked(record: IssuedDocumentMixin) -> Any:
    qs = type(record)._default_manager.select_for_update()
    if record.document_parent:
        qs = qs.select_related(record.document_parent)
    return qs.get(pk=record.pk)


def _refuse(record: IssuedDocumentMixin) -> None:
    error = record.issue_error()
    if error:
        raise ValidationError(error, code="issue")


def issue_document(
    record: IssuedDocumentMixin,
    *,
    render: Callable[..., bytes],
    by: Any,
    password: str,
    perm: str,
    description: Any,
    request: Any = None,
    comment: str = "",
    reason: Any = None,
) -> Any:
    """Issue `record`: `by` needs `perm`; the guard ``record.issue_error()`` must be empty;
    the password is re-checked through ``core.signatures`` (meaning "approved"; a wrong one
    counts like a failed login). Then :func:`apply_issue`. Returns the issued record."""
    from medvigil.core.models import Signature
    from medvigil.core.permissions import require
    from medvigil.core.signatures.services import check_signer

    require(by, perm)
    _refuse(record)
    check = check_signer(
        record,
        user=by,
        password=password or "",
        request=request,
        meaning=Signature.Meaning.APPROVED,
    )
    return apply_issue(
        record,
        render=render,
        by=by,
        check=check,
        description=description,
        comment=comment,
        reason=reason,
    )


def apply_issue(
    record: IssuedDocumentMixin,
    *,
    render: Callable[..., bytes],
    by: Any,
    check: Any,
    description: Any,
    comment: str = "",
    reason: Any = None,
) -> Any:
    """:func:`issue_document`'s second phase, after the password check (the demo passes its
    own check). In one transaction, under the record's row lock (and its parent's): the guard
    again, ``freeze_content()``, status issued with the time and the issuer, the signature
    (``check``; the comment as its reason), then ``render(record, user=by)`` → PDF attached as
    ``document`` (`description`, e.g. "Issued 8D report"). The audit entries carry the comment,
    else `reason`. Anything failing rolls all of it back."""
    from django.core.files.base import ContentFile
    from django.db import transaction
    from django.utils import timezone

    from medvigil.core.attachments.services import attach
    from medvigil.core.audit import audit_context
    from medvigil.core.documents import PDF_TYPE
    from medvigil.core.signatures.services import apply_signature

    audit_reason = comment or (str(reason) if reason else None)
    with transaction.atomic(), audit_context(actor=by, reason=audit_reason):
        obj = _locked(record)
        _refuse(obj)
        obj.freeze_content()
        obj.status = DocumentStatus.ISSUED
        obj.issued_at = timezone.now()
        obj.issued_by = by
        obj.save()
        # Signed first, so that the issued PDF prints the signature.
        apply_signature(obj, check, reason=comment)
        upload = ContentFile(render(obj, user=by), name=f"{obj.number}.pdf")
        upload.content_type = PDF_TYPE  # type: ignore[attr-defined]
        obj.document = attach(
            obj, uploaded_file=upload, by=by, description=str(description), check_access=False
        )
        obj.save()
    return obj
