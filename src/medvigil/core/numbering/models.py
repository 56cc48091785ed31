"""Gapless record numbers per type and year (PLAT-4)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..audit.models import AuditedModel


class NumberingScheme(AuditedModel):
    """The pattern for one record type, e.g. prefix FB and `{prefix}-{year}-{seq:05d}`."""

    record_type = models.CharField(_("record type"), max_length=64, unique=True)
    prefix = models.CharField(_("prefix"), max_length=16)
    pattern = models.CharField(
        _("pattern"),
        max_length=64,
        default="{prefix}-{year}-{seq:05d}",
        help_text=_("Placeholders: {prefix}, {year}, {seq}, e.g. {prefix}-{year}-{seq:05d}"),
    )

    class Meta:
        verbose_name = _("numbering scheme")
        verbose_name_plural = _("numbering schemes")

    def __str__(self) -> str:
        return f"{self.record_type}: {self.pattern}"


class Sequence(models.Model):
    """The last number issued for (record type, year). Incremented inside the transaction
    that creates the record, so a rolled-back creation gives its number back: no gaps."""

    record_type = models.CharField(max_length=64)
    year = models.PositiveIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_type", "year"], name="sequence_type_year")
        ]

    def __str__(self) -> str:
        return f"{self.record_type}/{self.year}: {self.last_value}"
