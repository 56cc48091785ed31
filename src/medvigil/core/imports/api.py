"""Imports through the API (PLAT-10): the same service as the upload page — the file is
validated row by row and lands whole or not at all, audited as one batch — for integrations
that push spreadsheets from an ERP or a warehouse system (docs/api.md, docs/import.md).

    POST /api/v1/imports              multipart: kind, file  -> 201 the batch
    GET  /api/v1/imports              the batches the caller may see (paginated)
    GET  /api/v1/imports/kinds        what the caller may import, with the column headers
    GET  /api/v1/imports/{number}     one batch: status, progress, counts, first errors
    GET  /api/v1/imports/{number}/errors.csv   the full error report

A small file is processed before the POST answers (status imported or failed); a large one
is queued for the background worker (status pending / validating / importing): poll its
GET until the status is final."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from ..api import Pagination, auth_with_perm, error_responses, paginate, require_perm
from ..models import ImportBatch
from ..permissions import get_object_for_user, scope_for_user
from . import create_batch, fail_lost_imports, importers_for, settle
from .views import error_report_response

# The operation IDs of the OpenAPI schema keep the module path these endpoints had before
# the capability layout (core/api_imports.py), so that generated clients keep their names.
_OLD_ID = "medvigil_core_api_imports_"

router = Router(tags=["import"])

VIEW_PERM = "core.view_importbatch"
ADD_PERM = "core.add_importbatch"


class RowErrorOut(Schema):
    row: int | None = Field(None, description="Spreadsheet row (the header is row 1).")
    column: str = Field(..., description="The column's header as in the file.")
    value: str
    message: str = Field(..., alias="msg")


class ImportBatchOut(Schema):
    number: str = Field(..., description="IMP-<year>-<seq>; also the audit request id.")
    kind: str
    file_name: str = Field(..., alias="original_name")
    size: int
    sha256: str
    uploaded_by: str | None
    status: str = Field(..., description="pending, validating, importing, imported, failed")
    final: bool = Field(..., description="True once the status will not change any more.")
    total_rows: int
    processed_rows: int
    created_rows: int
    error_count: int
    message: str
    errors: list[RowErrorOut] = Field(..., description="The first errors (see errors_url).")
    errors_url: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @staticmethod
    def resolve_uploaded_by(obj: ImportBatch) -> str | None:
        return obj.uploaded_by.get_username() if obj.uploaded_by_id else None

    @staticmethod
    def resolve_final(obj: ImportBatch) -> bool:
        return obj.status in (ImportBatch.Status.IMPORTED, ImportBatch.Status.FAILED)

    @staticmethod
    def resolve_message(obj: ImportBatch) -> str:
        return obj.message_text

    @staticmethod
    def resolve_errors(obj: ImportBatch) -> list[dict[str, Any]]:
        return obj.errors_shown

    @staticmethod
    def resolve_errors_url(obj: ImportBatch) -> str | None:
        return f"/api/v1/imports/{obj.number}/errors.csv" if obj.error_report else None


class ColumnOut(Schema):
    name: str
    header_en: str
    header_zh: str
    required: bool
    type: str


class KindOut(Schema):
    kind: str
    label: str
    columns: list[ColumnOut]


def _batch(request: HttpRequest, number: str) -> ImportBatch:
    require_perm(request, VIEW_PERM)
    qs = ImportBatch.objects.select_related("uploaded_by")
    return settle(get_object_for_user(request.user, qs, number=number))  # 404 if not visible


@router.get(
    "/imports/kinds",
    response={200: list[KindOut], **error_responses(403)},
    summary="Import kinds",
    operation_id=_OLD_ID + "list_kinds",
)
def list_kinds(request: HttpRequest) -> Any:
    """The kinds of data the caller may import, with the columns a file may have (either
    language's header is accepted)."""
    require_perm(request, ADD_PERM)
    return [
        {
            "kind": cls.kind,
            "label": str(cls.label),
            "columns": [
                {
                    "name": c.name,
                    "header_en": c.header("en"),
                    "header_zh": c.header("zh-hans"),
                    "required": c.required,
                    "type": c.type,
                }
                for c in cls.columns
            ],
        }
        for cls in importers_for(request.user)
    ]


@router.post(
    "/imports",
    response={201: ImportBatchOut, **error_responses(403, 422)},
    auth=auth_with_perm(ADD_PERM),
    summary="Import a CSV or XLSX file",
    operation_id=_OLD_ID + "create_import",
)
def create_import(
    request: HttpRequest,
    kind: str = Form(..., description="One of GET /imports/kinds."),  # noqa: B008
    file: UploadedFile = File(..., description="CSV (UTF-8, GB18030) or XLSX."),  # noqa: B008
) -> Any:
    """Store the file as a new import batch and process it: inline when it is at most
    IMPORT_INLINE_MAX_KB (the answer then has the final status), else in the background
    (poll GET /imports/{number}). A file with any invalid row changes nothing: the batch is
    failed and lists every error by row and column. 422 when the request itself is wrong
    (unknown kind, not a CSV/XLSX file, empty or too large)."""
    batch = create_batch(user=request.user, kind=kind, uploaded=file)
    return Status(201, ImportBatch.objects.select_related("uploaded_by").get(pk=batch.pk))


@router.get(
    "/imports",
    response={200: list[ImportBatchOut], **error_responses(403)},
    summary="Import batches",
    operation_id=_OLD_ID + "list_imports",
)
@paginate(Pagination)
def list_imports(request: HttpRequest, kind: str = "", status: str = "") -> Any:
    """Newest first: the caller's own imports, or all of them with
    core.view_all_importbatch."""
    require_perm(request, VIEW_PERM)
    fail_lost_imports()
    qs = scope_for_user(request.user, ImportBatch).select_related("uploaded_by")
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


@router.get(
    "/imports/{number}",
    response={200: ImportBatchOut, **error_responses(403, 404)},
    summary="One import batch",
    operation_id=_OLD_ID + "get_import",
)
def get_import(request: HttpRequest, number: str) -> Any:
    return _batch(request, number)


@router.get(
    "/imports/{number}/errors.csv",
    response={200: None, **error_responses(403, 404)},
    summary="The error report of a failed import (CSV)",
    operation_id=_OLD_ID + "get_import_errors",
)
def get_import_errors(request: HttpRequest, number: str) -> Any:
    return error_report_response(_batch(request, number))
