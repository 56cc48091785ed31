"""The lease: a process working on a batch writes a heartbeat; a batch whose heartbeat
stopped (the worker died) is found on read or by the periodic task and failed, so that
nobody waits for it forever."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from ..audit import audit_context
from .models import ImportBatch
from .reports import _fail

log = logging.getLogger(__name__)


def lease_seconds() -> int:
    """A validating or importing batch whose process gave no sign of life for this long was
    lost with it (the process was killed, the machine stopped): it is marked failed."""
    return max(10, int(getattr(settings, "IMPORT_LEASE_SECONDS", 300)))


# --- services --------------------------------------------------------------------------------


def _plain(model: type[models.Model]) -> models.QuerySet:
    """Unaudited queryset, used ONLY for the progress counter (not a regulated value)."""
    return models.QuerySet(model=model)


# --- the lease: a lost import is detected and failed ------------------------------------------

# The states in which a process is working on the batch (pending batches wait in the job
# queue, which survives a restart of the worker).
WORKING = (ImportBatch.Status.VALIDATING, ImportBatch.Status.IMPORTING)


def _beat(batch_id: int) -> None:
    _plain(ImportBatch).filter(pk=batch_id, status__in=WORKING).update(heartbeat_at=timezone.now())


class Heartbeat:
    """Call `beat` every `interval` seconds in a daemon thread until stopped: the batch's
    lease is renewed while its process lives, whatever the process is doing (reading,
    validating, or waiting on the database in the write transaction), and stops with it.
    A failed beat is logged and retried; the thread closes its own database connection."""

    def __init__(self, beat: Callable[[], None], interval: float) -> None:
        self._beat = beat
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="import-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 30)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    self._beat()
                except DatabaseError as exc:  # e.g. SQLite busy with the batch's own write
                    log.info("import heartbeat not written: %s", exc)
        finally:
            connection.close()


def _lease_expired(cutoff: dt.datetime) -> Q:
    return Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)


def is_lost(batch: ImportBatch, now: dt.datetime | None = None) -> bool:
    """True if the batch is being worked on but its process stopped renewing the lease."""
    if batch.status not in WORKING:
        return False
    seen = batch.heartbeat_at or batch.started_at or batch.created_at
    return seen < (now or timezone.now()) - dt.timedelta(seconds=lease_seconds())


def fail_lost_imports(
    pks: Iterable[int] | None = None, now: dt.datetime | None = None
) -> list[str]:
    """Mark failed every validating or importing batch whose lease expired (of `pks`, or
    all), with a message saying that nothing was saved — true because the rows are written
    in one transaction, which the database rolled back when the process died. Called by the
    periodic job and when a batch's status is read, so a client polling for `final` gets it.

    Compare-and-set under the batch's row lock: the writer checks, under the same lock,
    that its batch is still importing before it commits, so a batch marked lost never
    commits afterwards, and a batch that committed is not marked lost. Returns the numbers."""
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=lease_seconds())
    qs = ImportBatch.objects.filter(status__in=WORKING).filter(_lease_expired(cutoff))
    if pks is not None:
        qs = qs.filter(pk__in=list(pks))
    failed = []
    for pk in qs.values_list("pk", flat=True):
        number = _fail_if_lost(pk, cutoff)
        if number:
            failed.append(number)
    return failed


def settle(batch: ImportBatch) -> ImportBatch:
    """The batch as a reader should see it: failed if its lease expired (read paths)."""
    if is_lost(batch) and fail_lost_imports([batch.pk]):
        batch.refresh_from_db()
    return batch


def _fail_if_lost(pk: int, cutoff: dt.datetime) -> str | None:
    from ..audit.context import _current

    token = _current.set(None)  # the system, not whoever happens to read the status
    try:
        with _no_wait(), transaction.atomic():
            batch = (
                ImportBatch.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("uploaded_by")
                .filter(pk=pk, status__in=WORKING)
                .filter(_lease_expired(cutoff))
                .first()
            )
            if batch is None:
                return None
            with (
                audit_context(source="import", actor_name="system:import-lease"),
                translation.override(batch.uploaded_by.language or settings.LANGUAGE_CODE),
            ):
                _fail(batch, [], LOST_MESSAGE)
            log.warning(
                "import %s lost: no heartbeat since %s; marked failed",
                batch.number,
                batch.heartbeat_at or batch.started_at,
            )
            return batch.number
    except DatabaseError as exc:
        # SQLite: another connection holds the write lock (perhaps this very import,
        # writing): the batch is not lost now, or the next check will find it.
        log.info("import lease check of batch %s skipped: %s", pk, exc)
        return None
    finally:
        _current.reset(token)


class _no_wait:
    """On SQLite, do not wait for the database's write lock (the default waits 20 s): a
    status read must not hang while a long import is writing."""

    def __enter__(self) -> None:
        self.sqlite = connection.vendor == "sqlite"
        if self.sqlite:
            with connection.cursor() as cur:
                cur.execute("PRAGMA busy_timeout")
                self.previous = cur.fetchone()[0]
                cur.execute("PRAGMA busy_timeout = 200")

    def __exit__(self, *exc: Any) -> None:
        if self.sqlite:
            with connection.cursor() as cur:
                cur.execute(f"PRAGMA busy_timeout = {int(self.previous)}")


LOST_MESSAGE = gettext_lazy(
    "The import was interrupted: the process working on it stopped before it finished. "
    "Nothing was saved; upload the file again."
)


class _Lost(Exception):
    """The batch was marked lost while this process was still writing it."""
