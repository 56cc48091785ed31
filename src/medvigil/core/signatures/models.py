"""Electronic signatures (PLAT-3)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _


class Signature(models.Model):
    class Meaning(models.TextChoices):
        AUTHORED = "authored", _("authored")
        REVIEWED = "reviewed", _("reviewed")
        APPROVED = "approved", _("approved")
        VERIFIED = "verified", _("verified")
        CLOSED = "closed", _("closed")

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    record = GenericForeignKey("content_type", "object_id")
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures"
    )
    printed_name = models.CharField(_("printed name"), max_length=200)
    signed_at = models.DateTimeField(_("signed at"))
    meaning = models.CharField(_("meaning"), max_length=16, choices=Meaning.choices)
    reason = models.TextField(_("comment"), blank=True)
    content_hash = models.CharField(max_length=64)
    content = models.JSONField(default=dict)  # the exact content that was signed

    class Meta:
        ordering = ["signed_at"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="sig_record")]
        verbose_name = _("electronic signature")
        verbose_name_plural = _("electronic signatures")

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self._state.adding:
            raise PermissionDenied("Signatures cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionDenied("Signatures cannot be deleted.")

    def __str__(self) -> str:
        return (
            f"{self.printed_name} — {self.get_meaning_display()} — {self.signed_at:%Y-%m-%d %H:%M}"
        )
