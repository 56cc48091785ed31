"""Platform models. One module per concern; this package re-exports them for Django."""

from ..calendar.models import CalendarYear, MarketCalendar
from .attachments import Attachment
from .audit import (
    ANY_VERSION,
    AuditChain,
    AuditedModel,
    AuditedQuerySet,
    AuditEntry,
    AuditSeal,
    AuditSealedHead,
    ConflictError,
)
from .imports import ImportBatch
from .notifications import DeadlineAlert, Notification
from .numbering import NumberingScheme, Sequence
from .retention import DestructionRequest, RetentionRule
from .signatures import Signature

__all__ = [
    "ANY_VERSION",
    "Attachment",
    "AuditChain",
    "AuditEntry",
    "AuditSeal",
    "AuditSealedHead",
    "AuditedModel",
    "AuditedQuerySet",
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
