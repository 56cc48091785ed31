"""The audit trail (PLAT-2): context, recording and verification.

Every change to a model that inherits :class:`medvigil.core.models.AuditedModel` is written
to :class:`medvigil.core.models.AuditEntry` in the same transaction, whatever path made it
(UI, API, admin, shell, management command, task, import, queryset bulk operation).
"""

from .context import AuditContext, audit_context, current_context, system_actor_name

__all__ = ["AuditContext", "audit_context", "current_context", "system_actor_name"]
