"""Processing and writing an import batch (PLAT-10): the upload is checked and stored as a
batch, validated whole, then written in ONE transaction inside an audit context whose
source is ``import`` (each record gets its audit entry pointing at the batch), or not at
all."""

from __future__ import annotations

import hashlib
import logging
import time
import zlib
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from ..audit import audit_context
from ..i18n import gettext_msg as _
from ..i18n import validation_messages
from ..permissions import require
from ..types import UserLike
from .leases import Heartbeat, _beat, _Lost, _plain, lease_seconds
from .memory import paused_gc
from .models import ImportBatch
from .reading import ALLOWED_EXTENSIONS, ImportFileError, read_table
from .registry import get_importer
from .reports import _fail, set_message
from .spec import Importer, RowError, inline_max_bytes, max_upload_bytes
from .validation import run_importer

log = logging.getLogger(__name__)


def next_batch_number() -> str:
    """IMP-2026-00001 (PLAT-4); call inside the transaction that creates the batch."""
    return ImportBatch.next_number()


def check_upload(kind: str, uploaded: Any) -> type[Importer]:
    importer = get_importer(kind)
    if importer is None:
        raise ValidationError({"kind": _("Unknown import kind.")})
    name = getattr(uploaded, "name", "") or ""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in ALLOWED_EXTENSIONS:
        raise ValidationError(
            {"file": _("Upload a CSV or XLSX file (.csv, .xlsx, .xls, .txt).")},
        )
    size = getattr(uploaded, "size", 0) or 0
    if size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    if size > max_upload_bytes():
        raise ValidationError(
            {"file": _("The file is larger than %(n)d MB.") % {"n": max_upload_bytes() >> 20}}
        )
    return importer


def create_batch(*, user: UserLike, kind: str, uploaded: Any, run: bool = True) -> ImportBatch:
    """Store an uploaded file as a new import batch and start processing it (inline for a
    small file, as a Huey task for a large one). Raises PermissionDenied / ValidationError."""
    importer = get_importer(kind)
    if importer is None:
        raise ValidationError({"kind": _("Unknown import kind.")})
    require(user, "core.add_importbatch")
    require(user, importer.permission)
    check_upload(kind, uploaded)
    data = uploaded.read()
    name = (getattr(uploaded, "name", "") or "import.csv").rsplit("/", 1)[-1][-200:]
    with transaction.atomic(), audit_context(actor=user, source="import"):
        batch = ImportBatch(
            kind=kind,
            number=next_batch_number(),
            original_name=name,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            uploaded_by=user,
            created_at=timezone.now(),
        )
        batch.file.save(name, ContentFile(data), save=False)
        batch.save()
        if run and len(data) > inline_max_bytes():
            from . import process_import_task

            pk = batch.pk
            transaction.on_commit(lambda: process_import_task(pk))
    if run and len(data) <= inline_max_bytes():
        process_batch(batch.pk)
        batch.refresh_from_db()
    return batch


def _claim(batch_id: int) -> ImportBatch | None:
    with transaction.atomic():
        batch = (
            ImportBatch.objects.select_for_update(of=("self",))
            .select_related("uploaded_by")
            .filter(pk=batch_id)
            .first()
        )
        if batch is None or batch.status != ImportBatch.Status.PENDING:
            return None
        batch.status = ImportBatch.Status.VALIDATING
        batch.started_at = batch.heartbeat_at = timezone.now()
        batch.save(update_fields=["status", "started_at", "heartbeat_at"])
        return batch


def _kind_lock(kind: str) -> None:
    """Serialise the write phase of imports of one kind (PostgreSQL; SQLite serialises all
    writers already), so that recheck() sees every earlier import of the same kind."""
    if connection.vendor == "postgresql":
        key = zlib.crc32(f"medvigil-import:{kind}".encode())
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def process_batch(batch_id: int) -> ImportBatch | None:
    """Validate the whole file, then write it in one transaction or not at all. While it
    runs, a heartbeat renews the batch's lease (see fail_lost_imports)."""
    batch = _claim(batch_id)
    if batch is None:
        return None
    user = batch.uploaded_by
    with (
        Heartbeat(lambda: _beat(batch_id), lease_seconds() / 5),
        audit_context(actor=user, source="import", request_id=batch.number),
    ):
        try:
            with paused_gc():
                return _process(batch, user)
        except Exception as exc:  # never leave a batch running; the details go to the log
            log.exception("import %s failed", batch.number)
            batch.refresh_from_db()
            _fail(
                batch,
                [],
                _("The import stopped on an unexpected error; nothing was written. (%(e)s)")
                % {"e": type(exc).__name__},
            )
            return batch


def _process(batch: ImportBatch, user: UserLike) -> ImportBatch:
    cls = get_importer(batch.kind)
    if cls is None:
        _fail(batch, [], _("Unknown import kind %(kind)s.") % {"kind": batch.kind})
        return batch
    if not cls.allowed(user):
        _fail(batch, [], _("You are not allowed to import this kind of data."))
        return batch
    importer = cls(user=user, batch=batch)
    pk = batch.pk
    try:
        with batch.file.open("rb") as fh:
            data = fh.read()
        table = read_table(data, batch.original_name)
        lang = user.language or settings.LANGUAGE_CODE
        with translation.override(lang):

            def progress(n: int, total: int) -> None:
                _plain(ImportBatch).filter(pk=pk).update(
                    processed_rows=n, total_rows=total, heartbeat_at=timezone.now()
                )

            result = run_importer(importer, table, progress)
    except ImportFileError as exc:
        message = exc.args[0] if exc.args else str(exc)
        _fail(batch, [RowError(None, "", "", message)], message)
        return batch
    batch.refresh_from_db()
    if batch.status != ImportBatch.Status.VALIDATING:
        return batch  # marked lost meanwhile: it is failed already
    total = len(result.rows)
    batch.total_rows = total
    notes: Any = ""
    if result.ignored_headers:
        notes = _("Columns not used: %(cols)s.") % {"cols": ", ".join(result.ignored_headers)}
    if result.errors:
        _fail(batch, result.errors, notes)
        return batch

    with transaction.atomic():
        current = ImportBatch.objects.select_for_update(of=("self",)).get(pk=pk)
        if current.status != ImportBatch.Status.VALIDATING:
            return current  # marked lost meanwhile: it is failed already
        batch.status = ImportBatch.Status.IMPORTING
        set_message(batch, notes)
        batch.heartbeat_at = timezone.now()
        batch.save(
            update_fields=["status", "message", "message_data", "total_rows", "heartbeat_at"]
        )
    started = time.perf_counter()
    try:
        with transaction.atomic():
            _kind_lock(batch.kind)
            late = importer.recheck(result.items)
            if late:
                raise _Late(late)
            created = importer.save_rows(result.items, lambda n: None)
            # Still ours? Under the row lock, so that a batch marked lost (its lease expired
            # while this transaction was held up) is never committed after all.
            locked = ImportBatch.objects.select_for_update(of=("self",)).filter(pk=pk)
            if locked.values_list("status", flat=True).first() != ImportBatch.Status.IMPORTING:
                raise _Lost()
            batch.refresh_from_db()
            batch.status = ImportBatch.Status.IMPORTED
            batch.created_rows = created
            batch.processed_rows = total
            batch.finished_at = timezone.now()
            batch.save()
    except _Late as late:
        batch.refresh_from_db()
        _fail(batch, late.errors, notes)
        return batch
    except _Lost:
        log.warning("import %s was marked lost while writing; rolled back", batch.number)
        batch.refresh_from_db()
        return batch
    except (ValidationError, PermissionDenied) as exc:
        batch.refresh_from_db()
        msgs = (
            [m for _f, m in validation_messages(exc)]
            if isinstance(exc, ValidationError)
            else [str(exc)]
        )
        _fail(batch, [RowError(None, "", "", m) for m in msgs], notes)
        return batch
    except Exception as exc:
        # Typically a unique constraint hit by a concurrent change. Nothing was written.
        log.warning("import %s rolled back: %s", batch.number, exc)
        batch.refresh_from_db()
        _fail(
            batch,
            [],
            _(
                "The data changed while the file was being imported (%(e)s); nothing was "
                "written. Upload the file again."
            )
            % {"e": type(exc).__name__},
        )
        return batch
    log.info(
        "import %s: %d rows (%s), written in %.2fs",
        batch.number,
        total,
        ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items()),
        time.perf_counter() - started,
    )
    return batch


class _Late(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("late errors")
        self.errors = errors


# labels used by the pages (kept here so that makemessages finds them once)
KIND_HELP = gettext_lazy(
    "An import lands whole or not at all: if any row has an error, nothing is written and "
    "you can download a report listing every error by row and column."
)
