"""The recall services, one module per stage (the pages, the API and the demo call these):

- records (RCL-1/3): create_recall, create_recall_from, update_recall, decide_recall,
  meet_clock, complete_execution, record_eu_report, close_recall, void_recall, link_source
- scope (RCL-2): scope_criteria, preview_scope, resolve_scope
- execution (RCL-4/6): record_notice, send_email_notices, record_acknowledgement,
  record_outcome, effectiveness, chase_unacknowledged
- documents (RCL-5): draft_document, update_document, issue_document, document_pdf
- work: "My work", deadline source, unit timeline

Every function takes the acting user as `by=` (keyword), checks the permission with
core.permissions.require, works in one transaction with `select_for_update()`, writes under
`audit_context(actor=by, reason=...)`, and raises ValidationError for a broken rule and
ConflictError for a stale `version`.
"""

from .documents import document_pdf, draft_document, issue_document, update_document
from .execution import (
    chase_unacknowledged,
    effectiveness,
    record_acknowledgement,
    record_notice,
    record_outcome,
    send_email_notices,
)
from .records import (
    close_recall,
    complete_execution,
    create_recall,
    create_recall_from,
    decide_recall,
    link_source,
    meet_clock,
    record_eu_report,
    update_recall,
    void_recall,
)
from .scope import preview_scope, resolve_scope, scope_criteria

__all__ = [
    "chase_unacknowledged",
    "close_recall",
    "complete_execution",
    "create_recall",
    "create_recall_from",
    "decide_recall",
    "document_pdf",
    "draft_document",
    "effectiveness",
    "issue_document",
    "link_source",
    "meet_clock",
    "preview_scope",
    "record_acknowledgement",
    "record_eu_report",
    "record_notice",
    "record_outcome",
    "resolve_scope",
    "scope_criteria",
    "send_email_notices",
    "update_document",
    "update_recall",
    "void_recall",
]
