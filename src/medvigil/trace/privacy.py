"""Customer privacy (PLAT-11, seed 001 ch.3-4): addresses, phones, e-mails and contact persons
are shown only to roles holding trace.view_contact_data; everyone else sees a mask, in pages,
exports and the API alike."""

from __future__ import annotations

from typing import Any

CONTACT_PERM = "trace.view_contact_data"
MASK = "***"


def can_view_contacts(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm(CONTACT_PERM))


def mask(value: str | None, allowed: bool) -> str:
    """The value if allowed; else a mask (empty stays empty, so "no phone" is still visible)."""
    if not value:
        return ""
    return value if allowed else MASK


def masked_contacts(obj: Any, fields: tuple[str, ...], allowed: bool) -> dict[str, str]:
    return {name: mask(getattr(obj, name, ""), allowed) for name in fields}
