"""Signal handlers of the platform: many-to-many changes on regulated models (e.g. a user's
roles, a role's permissions) are audited like field changes."""

from __future__ import annotations

from typing import Any

from django.db.backends.signals import connection_created
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from .audit import recorder


@receiver(m2m_changed)
def audit_m2m(
    sender: Any, instance: Any, action: str, reverse: bool, model: Any, pk_set: Any, **kwargs: Any
) -> None:
    from .models import AuditedModel

    if action not in {"post_add", "post_remove", "post_clear", "pre_clear"}:
        return
    if reverse or not isinstance(instance, AuditedModel):
        return
    field = next(
        (f.name for f in type(instance)._meta.many_to_many if f.remote_field.through is sender),
        "m2m",
    )
    if action == "pre_clear":
        instance._audit_m2m_cleared = sorted(
            str(pk) for pk in getattr(instance, field).values_list("pk", flat=True)
        )
        return
    if action == "post_clear":
        removed = getattr(instance, "_audit_m2m_cleared", [])
        if removed:
            recorder.append(
                instance,
                instance.pk,
                "update",
                {field: [removed, []]},
                object_repr=str(instance)[:200],
            )
        return
    pks = sorted(str(pk) for pk in (pk_set or []))
    if not pks:
        return
    change = [[], pks] if action == "post_add" else [pks, []]
    recorder.append(
        instance, instance.pk, "update", {f"{field}": change}, object_repr=str(instance)[:200]
    )


@receiver(connection_created, dispatch_uid="medvigil_prepared_max")
def keep_more_prepared_statements(sender: Any, connection: Any, **kwargs: Any) -> None:
    """psycopg keeps 100 prepared statements per connection by default; the application has
    more distinct queries than that, and an evicted one is planned again (settings.py,
    DATABASE_PREPARED_MAX; docs/deployment.md, "Prepared statements")."""
    if connection.vendor == "postgresql" and hasattr(connection.connection, "prepared_max"):
        from django.conf import settings

        connection.connection.prepared_max = settings.DATABASE_PREPARED_MAX
