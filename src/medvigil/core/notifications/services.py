"""Notifications (PLAT-8): one call creates the in-app rows and queues the e-mails.

    from medvigil.core.notifications.services import notify
    notify([owner], _("Complaint assigned to you"), body=c.number, url=c.get_absolute_url())

Titles and bodies may be lazy translations (gettext_lazy, format_lazy) or core.i18n messages:
they are stored untranslated too, so each recipient reads them in the language they use when
reading (the e-mail goes out in the language of their profile). E-mails are queued only when
the transaction commits, so a rolled-back change never sends mail.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation

LEVELS = ("info", "success", "warning", "danger")


def user_language(user: Any) -> str:
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


def _as_users(users: Any) -> list[Any]:
    if users is None:
        return []
    if hasattr(users, "pk") and not isinstance(users, Iterable):
        users = [users]
    seen: dict[Any, Any] = {}
    for u in users:
        if u is None or not getattr(u, "is_active", True) or u.pk in seen:
            continue
        seen[u.pk] = u
    return list(seen.values())


def notify(
    users: Any,
    title: Any,
    body: Any = "",
    url: str = "",
    level: str = "info",
    email: bool = True,
) -> list[Any]:
    """Create a Notification for each (active, distinct) user; on commit, e-mail each one
    that has an address. Returns the created notifications."""
    return notify_each([(users, title, body, url, level)], email=email)


def notify_each(
    messages: Iterable[tuple[Any, Any, Any, str, str]], *, email: bool = True
) -> list[Any]:
    """Several messages at once, each ``(users, title, body, url, level)`` as for
    :func:`notify`: the rows of all of them in one INSERT (a record created with several
    notices to several departments). Returns the created notifications."""
    from ..models import Notification

    rows = []
    for users, title, body, url, level in messages:
        if level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
        title_data, body_data = _data(title), _data(body)
        for user in _as_users(users):
            with translation.override(user_language(user)):
                title_text = str(title).strip()[:200]
                body_text = str(body or "").strip()
            rows.append(
                Notification(
                    user=user,
                    title=title_text,
                    body=body_text,
                    title_data=title_data,
                    body_data=body_data,
                    url=(url or "")[:300],
                    level=level,
                )
            )
    if not rows:
        return []
    created = Notification.objects.bulk_create(rows)
    if email:
        from ..tasks import send_notification_email

        for n in created:
            if n.user.email:
                transaction.on_commit(partial(send_notification_email, n.pk))
    return created


def _data(text: Any) -> Any:
    """The untranslated form of a title or body (None for plain text)."""
    from ..i18n import to_data

    data = to_data(text) if text else None
    return data if isinstance(data, dict) else None


def mark_read(user: Any, notification_id: int) -> Any:
    """Mark one of the user's own notifications read (DoesNotExist for anyone else's)."""
    from django.utils import timezone

    from ..models import Notification

    n = Notification.objects.get(pk=notification_id, user=user)
    if n.read_at is None:
        n.read_at = timezone.now()
        Notification.objects.filter(pk=n.pk, read_at__isnull=True).update(read_at=n.read_at)
    return n


def mark_all_read(user: Any) -> int:
    from django.utils import timezone

    from ..models import Notification

    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def unread_count(user: Any) -> int:
    from ..models import Notification

    return Notification.objects.filter(user=user, read_at__isnull=True).count()
