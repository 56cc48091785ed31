"""In-app notifications and deadline alerts (PLAT-8)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """A message to one user. Not a regulated record: reading it is not a quality event."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    # Title and body as message ids and parameters (core.i18n), shown in the language the
    # user reads in *now*; empty for plain text and for rows stored before.
    title_data = models.JSONField(null=True, blank=True, editable=False)
    body_data = models.JSONField(null=True, blank=True, editable=False)
    url = models.CharField(max_length=300, blank=True)
    level = models.CharField(max_length=16, default="info")  # info, warning, danger
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"], name="notif_user_unread")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.title

    @property
    def title_text(self) -> str:
        from ..i18n import render

        return render(self.title_data)[:200] if self.title_data else self.title

    @property
    def body_text(self) -> str:
        from ..i18n import render

        return render(self.body_data) if self.body_data else self.body


class DeadlineAlert(models.Model):
    """One row per (deadline, level) ever alerted: claimed by an insert under a unique
    constraint, so two workers never send the same alert twice (outbox by compare-and-set)."""

    key = models.CharField(max_length=200)
    level = models.CharField(max_length=16)  # due_soon, overdue, escalated
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "level"], name="deadline_alert_once")]
