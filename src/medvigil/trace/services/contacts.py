"""Customer contact data (PLAT-11): who may write it, and the one write guard that forms,
the API and the importers call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy

from medvigil.core.types import Actor

from ..privacy import can_view_contacts

if TYPE_CHECKING:
    pass


# --- contact data (PLAT-11) ------------------------------------------------------------------


class ContactDataRefused(PermissionDenied):
    """A write of contact fields by a user without trace.view_contact_data (an API 403)."""

    def __init__(self, fields: Sequence[str]) -> None:
        self.fields = tuple(fields)
        self.message = str(CONTACT_REFUSED)
        super().__init__(self.message)


CONTACT_REFUSED = gettext_lazy("Your role may not record customer contact data.")


def may_write_contacts(user: Actor) -> bool:
    """Whether `user` may record addresses, phones, e-mails and contact persons (the same
    permission that shows them, PLAT-11). No user (shell, system task): yes."""
    return user is None or can_view_contacts(user)


def contact_fields_written(
    model: type[models.Model], values: dict[str, Any], instance: Any = None
) -> list[str]:
    """The contact fields of `model` that `values` would set: filled in on a new record,
    changed on an existing one."""
    fields = getattr(model, "CONTACT_FIELDS", ())
    if instance is None:
        return [f for f in fields if values.get(f)]
    return [f for f in fields if f in values and (values[f] or "") != (getattr(instance, f) or "")]


def check_contact_write(
    user: Actor, model: type[models.Model], values: dict[str, Any], instance: Any = None
) -> None:
    """The contact-data write guard (PLAT-11), for forms, the API and imports alike: raise
    ContactDataRefused if `user` may not write contact data and `values` would."""
    if may_write_contacts(user):
        return
    written = contact_fields_written(model, values, instance)
    if written:
        raise ContactDataRefused(written)
