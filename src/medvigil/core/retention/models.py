"""Record retention and controlled destruction (PLAT-5, TRC-9)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..audit.models import AuditedModel
from ..records.contract import NumberedMixin


class RetentionRule(AuditedModel):
    retention_destroyable = False  # the rules are kept (what was kept, and why)

    class Basis(models.TextChoices):
        CREATED = "created", _("years from creation")
        EXPIRY = "expiry", _("years after product expiry (minimum from creation)")
        LIFETIME = "lifetime", _("device lifetime (minimum from release)")
        PERMANENT = "permanent", _("permanent")

    content_type = models.OneToOneField(
        ContentType, on_delete=models.PROTECT, verbose_name=_("record type")
    )
    basis = models.CharField(
        _("basis"), max_length=16, choices=Basis.choices, default=Basis.CREATED
    )
    years = models.PositiveIntegerField(_("years"), default=5)
    minimum_years = models.PositiveIntegerField(_("minimum years"), default=0)
    permanent_if_implantable = models.BooleanField(_("permanent for implantables"), default=False)
    citation = models.CharField(_("citation"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("retention rule")
        verbose_name_plural = _("retention rules")

    def __str__(self) -> str:
        return f"{self.content_type}: {self.get_basis_display()} {self.years}"


class DestructionRequest(NumberedMixin, AuditedModel):
    retention_destroyable = False  # the trace of every destruction is kept
    numbering_type = "destruction"
    numbering_prefix = "DR"

    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        APPROVED = "approved", _("approved and destroyed")
        REJECTED = "rejected", _("rejected")

    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, verbose_name=_("record type")
    )
    object_id = models.CharField(_("record id"), max_length=64)
    object_repr = models.CharField(_("record"), max_length=200)
    retain_until = models.DateField(_("retain until"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("destruction request")
        verbose_name_plural = _("destruction requests")
        permissions = [("approve_destructionrequest", _("Can approve record destruction"))]

    def __str__(self) -> str:
        return f"{self.number} {self.object_repr}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("destruction_detail", args=[self.pk])
