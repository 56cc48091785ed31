"""Place 2 of 5: the regulated record. Number, created at/by, owner, status guards, voiding,
audit, "never destroyed" come from the record contract (core.records.contract)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from medvigil.core.records.contract import (
    CreatedByMixin,
    OwnedMixin,
    RegulatedRecord,
    VoidableMixin,
)
from medvigil.core.records.issued import IssuedDocumentMixin


class Inspection(OwnedMixin, CreatedByMixin, VoidableMixin, RegulatedRecord):
    class Status(models.TextChoices):
        OPEN = "open", "open"
        CLOSED = "closed", "closed"
        VOIDED = "voided", "voided"

    numbering_type = "example_inspection"
    numbering_prefix = "EX"
    transitions = {Status.OPEN: {Status.CLOSED, Status.VOIDED}}
    # Contact data: shown (also in the history) only with the sensitive permission.
    audit_view_perms = {"site_contact": "exampleapp.view_site_contact"}

    # Labels reuse the platform's translated words (every audited field has a zh-Hans label).
    title = models.CharField(_("title"), max_length=200)
    site_contact = models.CharField(_("contact person"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.OPEN)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    conclusion = models.TextField(_("conclusion"), blank=True)

    class Meta:
        ordering = ["-id"]
        permissions = [
            ("view_site_contact", "Can view inspection site contacts"),
            ("view_all_inspection", "Can view every inspection"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("exampleapp:inspection_detail", args=[self.pk])

    def can_close(self) -> bool:
        return self.can_transition(self.Status.CLOSED) and bool(self.conclusion.strip())

    @classmethod
    def visible_to(cls, user: Any, qs: models.QuerySet) -> models.QuerySet:
        """Object rule: one's own inspections (owner or creator), all of them with
        view_all_inspection."""
        if user.has_perm("exampleapp.view_all_inspection"):
            return qs
        return qs.filter(Q(owner=user) | Q(created_by=user))


class InspectionReport(IssuedDocumentMixin, CreatedByMixin, VoidableMixin, RegulatedRecord):
    """An issued document of an inspection (core.records.issued): drafted, issued once as a
    signed PDF, frozen. Its pages are the kit's IssuedDocumentPages (urls.py)."""

    numbering_type = "example_inspection_report"
    numbering_prefix = "EXR"
    document_parent = "inspection"

    inspection = models.ForeignKey(
        Inspection, on_delete=models.PROTECT, related_name="reports", verbose_name=_("title")
    )
    text = models.TextField(_("text"), blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("exampleapp:inspectionreport_detail", args=[self.pk])

    def issue_error(self) -> str:
        return super().issue_error() or ("" if self.text.strip() else "Write the text first.")
