"""Platform models. One module per concern; this package re-exports them for Django."""

from ..attachments.models import Attachment
from ..audit.models import (
    ANY_VERSION,
    AuditBatch,
    AuditChain,
    AuditedModel,
    AuditedQuerySet,
    AuditEntry,
    AuditSeal,
    AuditSealedHead,
    BatchAuditedMixin,
    ConflictError,
)
from ..calendar.models import CalendarYear, MarketCalendar
from ..imports.models import ImportBatch
from ..notifications.models import DeadlineAlert, Notification
from ..numbering.models import NumberingScheme, Sequence
from ..retention.models import DestructionRequest, RetentionRule
from ..signatures.models import Signature

__all__ = [
    "ANY_VERSION",
    "Attachment",
    "AuditBatch",
    "AuditChain",
    "AuditEntry",
    "AuditSeal",
    "AuditSealedHead",
    "AuditedModel",
    "AuditedQuerySet",
    "BatchAuditedMixin",
    "CalendarYear",
    "ConflictError",
    "DeadlineAlert",
    "DestructionRequest",
    "ImportBatch",
    "MarketCalendar",
    "Notification",
    "NumberingScheme",
    "RetentionRule",
    "Sequence",
    "Signature",
]
