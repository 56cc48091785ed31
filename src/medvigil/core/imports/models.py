"""One uploaded import file and its outcome (PLAT-10). The rows themselves are written by the
importer of its kind (see medvigil.core.imports); a batch lands whole or not at all."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..audit.models import AuditedModel
from ..records.contract import NumberedMixin


def import_file_path(instance: ImportBatch, filename: str) -> str:
    return f"imports/{instance.created_at:%Y/%m}/{instance.number}/{filename}"


def import_report_path(instance: ImportBatch, filename: str) -> str:
    return f"imports/{instance.created_at:%Y/%m}/{instance.number}/{filename}"


class ImportBatch(NumberedMixin, AuditedModel):
    numbering_type = "import"
    numbering_prefix = "IMP"

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        VALIDATING = "validating", _("validating")
        IMPORTING = "importing", _("writing")
        FAILED = "failed", _("failed")
        IMPORTED = "imported", _("imported")

    number = models.CharField(_("number"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=40)
    file = models.FileField(_("file"), upload_to=import_file_path, max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    # Progress counter, updated outside the audit (it is not a regulated value).
    processed_rows = models.PositiveIntegerField(_("processed rows"), default=0)
    created_rows = models.PositiveIntegerField(_("records created"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    message = models.TextField(_("message"), blank=True)
    # The same note as a message id and parameters, shown in each reader's language (see
    # core.i18n); empty for batches stored before, whose message is shown as written.
    message_data = models.JSONField(null=True, blank=True, editable=False)
    # The first errors, for display; the full list is in error_report (CSV).
    errors_preview = models.JSONField(default=list, blank=True)
    error_report = models.FileField(
        _("error report"), upload_to=import_report_path, max_length=300, blank=True
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # The last sign of life of the process working on the batch (its lease, renewed every
    # few seconds while it runs): a validating or importing batch whose heartbeat is older
    # than IMPORT_LEASE_SECONDS was lost with its process and is marked failed
    # (core.imports.fail_lost_imports). Not a regulated value: not audited.
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)

    audit_exclude = ("processed_rows", "errors_preview", "heartbeat_at", "message_data")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["uploaded_by", "created_at"], name="import_user_ts")]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        permissions = [("view_all_importbatch", _("Can view every user's import batches"))]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("import_detail", args=[self.pk])

    @classmethod
    def visible_to(cls, user: Any, qs: models.QuerySet) -> models.QuerySet:
        """Object rule (see core.permissions): one's own batches, or all with view_all."""
        if user.has_perm("core.view_all_importbatch"):
            return qs
        return qs.filter(uploaded_by=user)

    @property
    def message_text(self) -> str:
        """The note in the reader's (active) language."""
        from ..i18n import render

        return render(self.message_data) if self.message_data else self.message

    @property
    def errors_shown(self) -> list[dict[str, Any]]:
        """The first errors, each message in the reader's language."""
        from . import error_dicts

        return error_dicts(self.errors_preview or [])

    @property
    def is_running(self) -> bool:
        return self.status in {
            self.Status.PENDING,
            self.Status.VALIDATING,
            self.Status.IMPORTING,
        }

    @property
    def percent(self) -> int:
        if self.status in {self.Status.IMPORTED, self.Status.FAILED}:
            return 100
        if not self.total_rows:
            return 0
        return min(100, int(self.processed_rows * 100 / self.total_rows))

    @property
    def duration(self) -> Any:
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None
