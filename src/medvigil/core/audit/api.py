"""The audit trail through the API (PLAT-2): search, one entry, a record's history, the record
types, and the chain verification — mounted at /api/v1/audit/."""

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from ..api import Id, Pagination, api_get_object, api_user, error_responses, require_perm
from ..permissions import check_history_access
from .models import AuditEntry
from .search import (
    AuditFilter,
    change_rows,
    content_type_for,
    record_type_label,
    record_types,
    search_entries,
)

router = Router(tags=["audit trail"])

AUDIT_PERM = "core.view_auditentry"
VERIFY_PERM = "core.view_auditchain"


class FieldChangeOut(Schema):
    field: str = Field(..., description="Field name as stored (foreign keys as <name>_id).")
    label: str = Field(..., description="Field name in the user's language.")
    old: Any = None
    new: Any = None


class AuditEntryOut(Schema):
    id: int
    timestamp: dt.datetime = Field(..., description="UTC.")
    actor_id: int | None
    actor_username: str | None
    actor_name: str = Field(..., description="Name of the actor when the entry was written.")
    source: str
    request_id: str
    record_type: str = Field(..., description="app_label.model")
    object_id: str
    object_repr: str
    action: str
    seq: int = Field(..., description="Position in the record's own hash chain (1, 2, ...).")
    reason: str
    changes: list[FieldChangeOut]

    @staticmethod
    def resolve_actor_username(obj: AuditEntry) -> str | None:
        return obj.actor.get_username() if obj.actor_id else None

    @staticmethod
    def resolve_record_type(obj: AuditEntry) -> str:
        return record_type_label(obj.content_type)

    @staticmethod
    def resolve_changes(obj: AuditEntry, context: dict[str, Any]) -> list[dict[str, Any]]:
        return change_rows(obj, context["request"].user)


Action = Literal["create", "update", "delete", "sign", "event"]


class AuditQuery(Schema):
    record_type: str = Field("", description="app_label.model, e.g. accounts.department")
    object_id: str = Field("", description="Exact record id (with record_type).")
    q: str = Field("", description="Record id, or text contained in the record's name.")
    user: str = Field("", description="User name (exact) or part of the actor's name.")
    actor_id: Id | None = Field(None, description="User id of the actor.")
    action: Action | None = None
    source: str = Field("", description="ui, api, admin, shell, command:<name>, task:<name>…")
    request_id: str = ""
    date_from: dt.date | None = Field(None, description="First day, company time zone.")
    date_to: dt.date | None = Field(None, description="Last day (inclusive), company time zone.")
    since: dt.datetime | None = Field(None, description="From this instant (inclusive).")
    until: dt.datetime | None = Field(None, description="Before this instant (exclusive).")

    def to_filter(self) -> AuditFilter:
        return AuditFilter(
            record_type=self.record_type,
            object_id=self.object_id,
            record=self.q,
            user=self.user,
            actor_id=self.actor_id,
            action=self.action or "",
            source=self.source,
            request_id=self.request_id,
            date_from=self.date_from,
            date_to=self.date_to,
            since=self.since,
            until=self.until,
        )


class RecordTypeOut(Schema):
    record_type: str
    name: str


class VerifyOut(Schema):
    ok: bool
    entries: int
    chains: int
    problem: str
    entry_id: int | None


@router.get(
    "/entries",
    response={200: list[AuditEntryOut], **error_responses(403)},
    summary="Search the audit trail",
)
@paginate(Pagination)
def list_entries(request: HttpRequest, filters: Query[AuditQuery]) -> Any:
    """Every create, change, delete, signature and event, newest first (perm
    core.view_auditentry). Filters combine with AND."""
    require_perm(request, AUDIT_PERM)
    return search_entries(filters.to_filter())


@router.get(
    "/entries/{entry_id}",
    response={200: AuditEntryOut, **error_responses(403, 404)},
    summary="One audit entry",
)
def get_entry(request: HttpRequest, entry_id: Id) -> Any:
    require_perm(request, AUDIT_PERM)
    return api_get_object(
        request, AuditEntry.objects.select_related("actor", "content_type"), "view", pk=entry_id
    )


@router.get(
    "/records/{record_type}/{object_id}/history",
    response={200: list[AuditEntryOut], **error_responses(403, 404)},
    summary="A record's history",
)
@paginate(Pagination)
def record_history(request: HttpRequest, record_type: str, object_id: str) -> Any:
    """The record's entries in chain order (oldest first). An unknown record type is a 422;
    a record without entries gives an empty list. Besides core.view_auditentry, the user
    needs access to the record, as for the history panel of its page
    (core.permissions.check_history_access): 404 for a record the user may not see."""
    require_perm(request, AUDIT_PERM)
    qs = search_entries(AuditFilter(record_type=record_type, object_id=object_id))
    ct = content_type_for(record_type)
    if ct is not None:
        check_history_access(api_user(request), ct, object_id)
    return qs.order_by("seq")


@router.get(
    "/record-types",
    response={200: list[RecordTypeOut], **error_responses(403)},
    summary="Audited record types",
)
def list_record_types(request: HttpRequest) -> Any:
    require_perm(request, AUDIT_PERM)
    return [{"record_type": label, "name": name} for label, name in record_types()]


@router.get(
    "/verify",
    response={200: VerifyOut, **error_responses(403)},
    summary="Verify the hash chains",
)
def verify(request: HttpRequest) -> Any:
    """Walk the whole trail as `medvigil audit verify` does (read-only; perm
    core.view_auditchain). `ok` is false and `problem` names the first bad entry if any entry
    was altered, removed or inserted."""
    from .verify import verify_trail

    require_perm(request, AUDIT_PERM)
    require_perm(request, VERIFY_PERM)
    r = verify_trail()
    return {
        "ok": r.ok,
        "entries": r.entries,
        "chains": r.chains,
        "problem": r.problem,
        "entry_id": r.entry_id,
    }
