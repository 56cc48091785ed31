"""Root-cause analysis vocabulary shared by every record that analyses a cause: the complaint
investigation (FBK-6) and the CAPA (CAPA-1). Seed 000 8.2.2 names the methods — fault tree
(故障树分析), fishbone (鱼骨图分析) and 5M1E (人、机、料、法、环、测) — and the six 5M1E factors.

A model uses them as its field choices (``choices=RootCauseMethod``); changing a value here
changes every app's field, so values are only ever added."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["CauseFactor", "RootCauseMethod", "clean_whys"]


class RootCauseMethod(models.TextChoices):
    """Seed 000 8.2.2: how the root cause was found."""

    FIVE_M_ONE_E = "5m1e", _("5M1E (man, machine, material, method, environment, measurement)")
    FISHBONE = "fishbone", _("fishbone diagram")
    FAULT_TREE = "fault_tree", _("fault tree")
    OTHER = "other", _("other")


class CauseFactor(models.TextChoices):
    """Seed 000 8.2.2 (5M1E): the factor the root cause belongs to (the fishbone's bones)."""

    MAN = "man", _("man")
    MACHINE = "machine", _("machine")
    MATERIAL = "material", _("material")
    METHOD = "method", _("method")
    ENVIRONMENT = "environment", _("environment")
    MEASUREMENT = "measurement", _("measurement")


MAX_WHYS = 5
MAX_WHY_LENGTH = 500


def clean_whys(value: object) -> list[str]:
    """A "why" chain (5 whys) as stored: a list of at most five non-empty answers, each at
    most 500 characters. Raises ValidationError with a clear message for anything else."""
    from django.core.exceptions import ValidationError

    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
        raise ValidationError(_("Give the answers to “why?” as a list of texts."))
    whys = [v.strip() for v in value if v.strip()]
    if len(whys) > MAX_WHYS:
        raise ValidationError(_("At most five answers to “why?”."))
    if any(len(v) > MAX_WHY_LENGTH or "\x00" in v for v in whys):
        raise ValidationError(_("An answer to “why?” is too long or holds invalid characters."))
    return whys
