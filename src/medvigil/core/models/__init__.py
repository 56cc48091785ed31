"""Platform models. One module per concern; this package re-exports them for Django."""

from .attachments import Attachment
from .audit import (
    ANY_VERSION,
    AuditChain,
    AuditedModel,
    AuditedQuerySet,
    AuditEntry,
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
    "AuditedModel",
    "AuditedQuerySet",
    "ConflictError",
    "DeadlineAlert",
    "DestructionRequest",
    "ImportBatch",
    "Notification",
    "NumberingScheme",
    "RetentionRule",
    "Sequence",
    "Signature",
]
