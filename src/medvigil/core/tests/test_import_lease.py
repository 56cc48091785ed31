"""PLAT-10 / PLAT-8: an import whose process dies is not left running for ever. While a
batch is validated or written, a heartbeat renews its lease; a batch whose lease expired is
marked failed — by the periodic job and when its status is read — with a message saying that
nothing was saved, which is true because the rows are written in one transaction."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from medvigil.accounts.models import APIToken, Department
from medvigil.core import imports, tasks
from medvigil.core.imports import leases
from medvigil.core.models import AuditEntry, ImportBatch

from .test_imports import GOOD, DepartmentImporter, csv_bytes, upload

pytestmark = [pytest.mark.req("PLAT-10", "PLAT-8")]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "en"
    settings.IMPORT_LEASE_SECONDS = 60


@pytest.fixture
def importer_user(make_user):
    return make_user("imp", "quality", "admin", department="quality")


def left_running(user, status, heartbeat_age_s):
    """A batch as a killed worker leaves it: running, its heartbeat `heartbeat_age_s` old."""
    batch = upload(user, csv_bytes(GOOD))  # imported; then put back as a dead worker left it
    seen = timezone.now() - dt.timedelta(seconds=heartbeat_age_s)
    leases._plain(ImportBatch).filter(pk=batch.pk).update(
        status=status, heartbeat_at=seen, finished_at=None, created_rows=0
    )
    batch.refresh_from_db()
    return batch


@pytest.mark.django_db
def test_a_worker_killed_mid_write_saves_nothing_and_the_periodic_job_fails_the_batch(
    importer_user, monkeypatch
):
    """The write is one transaction: a process that stops half-way (here: interrupted after
    writing part of the rows) leaves no row; the batch stays 'importing' until its lease
    expires, then the job marks it failed, final, with a clear message."""
    real_save = DepartmentImporter.save_rows

    def dies_half_way(self, items, progress):
        real_save(self, items[:2], progress)
        assert Department.objects.filter(code__in=["d1", "d2"]).count() == 2
        raise KeyboardInterrupt  # like SIGINT/SIGKILL: not handled by the importer

    monkeypatch.setattr(DepartmentImporter, "save_rows", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        upload(importer_user, csv_bytes(GOOD))
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.IMPORTING
    assert not Department.objects.filter(code__in=["d1", "d2", "d3"]).exists()
    assert batch.heartbeat_at is not None

    assert imports.fail_lost_imports() == []  # the lease has not expired yet
    leases._plain(ImportBatch).filter(pk=batch.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(seconds=61)
    )
    tasks.fail_lost_imports()  # the periodic job (run inline in tests)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert "interrupted" in batch.message and "Nothing was saved" in batch.message
    assert batch.finished_at is not None and not batch.is_running
    entry = AuditEntry.objects.filter(object_id=str(batch.pk), action="update").latest("id")
    assert entry.actor_name == "system:import-lease" and entry.changes["status"] == [
        "importing",
        "failed",
    ]


@pytest.mark.django_db
def test_reading_the_status_of_a_lost_batch_makes_it_final(importer_user, client):
    batch = left_running(importer_user, ImportBatch.Status.IMPORTING, heartbeat_age_s=120)
    _token, raw = APIToken.issue(importer_user, "poller")
    r = client.get(f"/api/v1/imports/{batch.number}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "failed" and body["final"] is True
    assert "Nothing was saved" in body["message"]


@pytest.mark.django_db
def test_the_progress_fragment_of_a_lost_batch_stops_polling(importer_user, client_for):
    batch = left_running(importer_user, ImportBatch.Status.VALIDATING, heartbeat_age_s=120)
    r = client_for(importer_user).get(f"/imports/{batch.pk}/status/", HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    assert r.headers.get("HX-Refresh") == "true"  # finished: the page reloads once
    assert "hx-trigger" not in r.content.decode()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED


@pytest.mark.django_db
def test_live_pending_and_finished_batches_are_left_alone(importer_user):
    alive = left_running(importer_user, ImportBatch.Status.IMPORTING, heartbeat_age_s=30)
    pending = left_running(importer_user, ImportBatch.Status.PENDING, heartbeat_age_s=9999)
    done = upload(importer_user, csv_bytes([GOOD[0], ["d9", "九部", "Nine", "1"]]))
    leases._plain(ImportBatch).filter(pk=done.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(days=1)
    )
    lost = left_running(importer_user, ImportBatch.Status.VALIDATING, heartbeat_age_s=61)
    assert imports.fail_lost_imports() == [lost.number]
    statuses = dict(ImportBatch.objects.values_list("pk", "status"))
    assert statuses[alive.pk] == "importing"
    assert statuses[pending.pk] == "pending"  # waits in the job queue, which survives restarts
    assert statuses[done.pk] == "imported"
    assert statuses[lost.pk] == "failed"


@pytest.mark.django_db
def test_a_writer_whose_batch_was_marked_lost_meanwhile_commits_nothing(importer_user, monkeypatch):
    """Compare-and-set: if the lease expired while the write transaction was held up and the
    batch was failed, the writer finds it under the row lock and rolls back, so the failed
    batch's "nothing was saved" stays true."""
    real_save = DepartmentImporter.save_rows

    def slow_then_marked_lost(self, items, progress):
        done = real_save(self, items, progress)
        # another process's lease check, as it would have committed meanwhile
        leases._plain(ImportBatch).filter(pk=self.batch.pk).update(
            status=ImportBatch.Status.FAILED, message=str(imports.LOST_MESSAGE)
        )
        return done

    monkeypatch.setattr(DepartmentImporter, "save_rows", slow_then_marked_lost)
    batch = upload(importer_user, csv_bytes(GOOD))
    # (Here the "other process" wrote inside this transaction, so its mark is rolled back
    # with the rows; in production it was committed by another connection and stays.)
    assert batch.status != ImportBatch.Status.IMPORTED and batch.created_rows == 0
    assert not Department.objects.filter(code__in=["d1", "d2", "d3"]).exists()


def test_the_heartbeat_beats_until_stopped_and_survives_a_failed_beat():
    from django.db import OperationalError

    beats: list[float] = []
    went_wrong = threading.Event()

    def beat():
        beats.append(time.monotonic())
        if len(beats) == 2:
            went_wrong.set()
            raise OperationalError("database is locked")

    with imports.Heartbeat(beat, 0.02):
        deadline = time.monotonic() + 5
        while len(beats) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
    stopped_at = len(beats)
    time.sleep(0.1)
    assert went_wrong.is_set() and stopped_at >= 4
    assert len(beats) == stopped_at  # no beat after the with block


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite lets no other writer in meanwhile"
)
def test_on_postgresql_a_batch_failed_by_another_process_while_it_was_writing_commits_nothing(
    transactional_db, importer_user, monkeypatch
):
    """The real race, with two connections: the writer is held up inside its write
    transaction, its lease expires and another process fails the batch; the writer then
    finds the batch failed under the row lock and rolls back."""
    entered, release = threading.Event(), threading.Event()
    real_save = DepartmentImporter.save_rows

    def held_up(self, items, progress):
        done = real_save(self, items, progress)
        entered.set()
        assert release.wait(30)
        return done

    monkeypatch.setattr(DepartmentImporter, "save_rows", held_up)
    outcome = {}

    def writer():
        try:
            outcome["batch"] = upload(importer_user, csv_bytes(GOOD))
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert entered.wait(30)
        batch = ImportBatch.objects.get()
        assert batch.status == ImportBatch.Status.IMPORTING
        leases._plain(ImportBatch).filter(pk=batch.pk).update(
            heartbeat_at=timezone.now() - dt.timedelta(seconds=61)
        )
        assert imports.fail_lost_imports() == [batch.number]
    finally:
        release.set()
        thread.join(30)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED and "Nothing was saved" in batch.message
    assert outcome["batch"].status == ImportBatch.Status.FAILED
    assert not Department.objects.filter(code__in=["d1", "d2", "d3"]).exists()
