"""IMDRF adverse-event terminology (VIG-5): the releases loaded, the terms of Annexes A–G with
their hierarchy, and the earlier text of every term a later release changed.

Reference data, audited like every record (each write has its audit entry) and never deleted:
a code a newer release drops is marked retired, so events coded with it stay readable."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from medvigil.core.models import AuditedModel


class Annex(models.TextChoices):
    A = "A", _("Annex A: medical device problem")
    B = "B", _("Annex B: type of investigation")
    C = "C", _("Annex C: investigation findings")
    D = "D", _("Annex D: investigation conclusion")
    E = "E", _("Annex E: health effects – clinical signs and symptoms or conditions")
    F = "F", _("Annex F: health effects – health impact")
    G = "G", _("Annex G: medical device component")


def is_chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


class Release(AuditedModel):
    """One loaded release of the terminology (the shipped one, or one an administrator
    uploaded). `summary` keeps what the load did: the codes added, changed, retired and
    restored."""

    label = models.CharField(_("release"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=300, blank=True)
    source = models.CharField(_("source files"), max_length=500, blank=True)
    sha256 = models.CharField(_("checksum (SHA-256)"), max_length=64, blank=True)
    note = models.TextField(_("note"), blank=True)
    shipped = models.BooleanField(_("shipped with MedVigil"), default=False)
    annexes = models.CharField(_("annexes"), max_length=10, blank=True)
    loaded_at = models.DateTimeField(_("loaded at"))
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("loaded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    terms = models.PositiveIntegerField(_("terms"), default=0)
    added = models.PositiveIntegerField(_("added"), default=0)
    changed = models.PositiveIntegerField(_("changed"), default=0)
    retired = models.PositiveIntegerField(_("retired"), default=0)
    restored = models.PositiveIntegerField(_("restored"), default=0)
    summary = models.JSONField(_("summary"), default=dict, blank=True)

    retention_destroyable = False

    class Meta:
        ordering = ["-id"]
        verbose_name = _("IMDRF release")
        verbose_name_plural = _("IMDRF releases")

    def __str__(self) -> str:
        return f"IMDRF {self.label}"

    def get_absolute_url(self) -> str:
        return reverse("imdrf:release_detail", args=[self.pk])


class Term(AuditedModel):
    """One IMDRF code with its term and definition (English as published; Chinese as
    translated here, the published data has none), its place in the hierarchy and its life:
    the release that added it, last changed it, or retired it."""

    code = models.CharField(_("code"), max_length=16, primary_key=True)
    annex = models.CharField(_("annex"), max_length=1, choices=Annex.choices, db_index=True)
    term_en = models.CharField(_("term (English)"), max_length=300)
    definition_en = models.TextField(_("definition (English)"), blank=True)
    term_zh = models.CharField(_("term (Chinese)"), max_length=300, blank=True)
    definition_zh = models.TextField(_("definition (Chinese)"), blank=True)
    zh_outdated = models.BooleanField(
        _("Chinese text older than the English"),
        default=False,
        help_text=_("A later release changed the English text after it was translated."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent term"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    level = models.PositiveSmallIntegerField(_("level"), default=1)
    selectable = models.BooleanField(_("selectable"), default=True)
    status = models.CharField(_("IMDRF status"), max_length=80, blank=True)
    status_note = models.TextField(_("IMDRF status description"), blank=True)
    mapping = models.CharField(_("non-IMDRF code"), max_length=300, blank=True)
    retired = models.BooleanField(_("retired"), default=False)
    added_in = models.ForeignKey(
        Release, verbose_name=_("added in"), on_delete=models.PROTECT, related_name="+"
    )
    changed_in = models.ForeignKey(
        Release,
        verbose_name=_("last changed in"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    retired_in = models.ForeignKey(
        Release,
        verbose_name=_("retired in"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    retention_destroyable = False

    class Meta:
        ordering = ["code"]
        verbose_name = _("IMDRF term")
        verbose_name_plural = _("IMDRF terms")

    def __str__(self) -> str:
        return f"{self.code} {self.term_en}"

    def get_absolute_url(self) -> str:
        return reverse("imdrf:term_detail", args=[self.code])

    @property
    def label(self) -> str:
        """The term in the reader's language (English where no translation exists)."""
        return self.term_zh if is_chinese() and self.term_zh else self.term_en

    @property
    def other_label(self) -> str:
        """The term in the other language, when there is one."""
        if is_chinese():
            return self.term_en if self.term_zh else ""
        return self.term_zh

    @property
    def definition(self) -> str:
        return self.definition_zh if is_chinese() and self.definition_zh else self.definition_en

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "annex": self.annex,
            "term_en": self.term_en,
            "term_zh": self.term_zh,
            "retired": self.retired,
        }


class Placement(AuditedModel):
    """A further place of a term in the hierarchy. Annex E lists some terms under two parents
    (E0102 "Brain Injury" under E01 "Nervous System" and E20 "Injury"); the first is the
    term's `parent`, the others are placements."""

    term = models.ForeignKey(
        Term, verbose_name=_("IMDRF term"), on_delete=models.PROTECT, related_name="placements"
    )
    parent = models.ForeignKey(
        Term, verbose_name=_("parent term"), on_delete=models.PROTECT, related_name="+"
    )
    retired = models.BooleanField(_("retired"), default=False)

    retention_destroyable = False

    class Meta:
        verbose_name = _("IMDRF term placement")
        verbose_name_plural = _("IMDRF term placements")
        constraints = [
            models.UniqueConstraint(fields=["term", "parent"], name="imdrf_placement_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.parent_id} > {self.term_id}"


class TermVersion(AuditedModel):
    """The text a term had up to and including `release`, replaced in `replaced_in`: old
    events coded under that release still read the words they were coded with."""

    term = models.ForeignKey(
        Term, verbose_name=_("IMDRF term"), on_delete=models.PROTECT, related_name="versions"
    )
    release = models.ForeignKey(
        Release, verbose_name=_("release"), on_delete=models.PROTECT, related_name="+"
    )
    replaced_in = models.ForeignKey(
        Release, verbose_name=_("replaced in"), on_delete=models.PROTECT, related_name="+"
    )
    term_en = models.CharField(_("term (English)"), max_length=300)
    definition_en = models.TextField(_("definition (English)"), blank=True)
    term_zh = models.CharField(_("term (Chinese)"), max_length=300, blank=True)
    definition_zh = models.TextField(_("definition (Chinese)"), blank=True)
    status = models.CharField(_("IMDRF status"), max_length=80, blank=True)

    retention_destroyable = False

    class Meta:
        ordering = ["term", "-release_id"]
        verbose_name = _("earlier IMDRF term text")
        verbose_name_plural = _("earlier IMDRF term texts")
        constraints = [
            models.UniqueConstraint(fields=["term", "release"], name="imdrf_termversion_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.term_id} ({self.release_id}) {self.term_en}"
