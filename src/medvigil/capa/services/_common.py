"""Small helpers the CAPA services share."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _


def lock(model: type[models.Model], pk: Any) -> Any:
    return model._default_manager.select_for_update(of=("self",)).get(pk=pk)


def only_fields(fields: dict[str, Any], allowed: tuple[str, ...] | set[str]) -> None:
    """Refuse a field this step does not edit (a programming error or a crafted request)."""
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValidationError(_("Unknown field: %(f)s") % {"f": ", ".join(unknown)})


def clean_text(value: Any, field: str, *, required: bool = False, max_length: int = 20000) -> str:
    """A text from a form, the API or an importer: no NUL byte, not too long, present when
    required; a clear message on the field otherwise."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({field: _("Enter text.")})
    if "\x00" in value:
        raise ValidationError({field: _("Null characters are not allowed.")})
    value = value.strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > max_length:
        raise ValidationError({field: _("The text is too long.")})
    return value
