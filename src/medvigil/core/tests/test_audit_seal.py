"""PLAT-2: sealed checkpoints make a rollback of the audit trail detectable — a record's
newest entries deleted and an old copy of its chain head put back (from any backup), seals
or sealed positions removed or altered, an older database restored — and TRUNCATE of the
audit tables is refused on PostgreSQL."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from medvigil.accounts.models import Department
from medvigil.core import tasks
from medvigil.core.audit.seal import SealRefused, seal
from medvigil.core.audit.verify import verify_trail
from medvigil.core.models import AuditChain, AuditEntry, AuditSeal, AuditSealedHead

from .test_audit import _raw_sql, entries_for

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-2")]


def department(code="x", changes=0):
    d = Department.objects.create(code=code, name_zh=code, name_en=code)
    for i in range(changes):
        d.name_en = f"{code}{i}"
        d.save()
    return d


def head_of(obj):
    ct = ContentType.objects.get_for_model(obj)
    return AuditChain.objects.get(content_type=ct, object_id=str(obj.pk))


def roll_back(obj, old_head):
    """The attack: delete the record's entries after the old head, put the old head back."""
    newer = [e.id for e in entries_for(obj) if e.seq > old_head.last_seq]
    for entry_id in newer:
        _raw_sql("DELETE FROM core_auditentry WHERE id = %s", [entry_id])
    _raw_sql(
        "UPDATE core_auditchain SET last_seq = %s, last_hash = %s, mac = %s WHERE id = %s",
        [old_head.last_seq, old_head.last_hash, old_head.mac, old_head.pk],
    )


def test_a_rollback_with_an_old_chain_head_passes_the_chains_but_not_the_seal(caplog):
    d = department("dx", changes=1)
    backup = head_of(d)  # an old copy of the head, as any backup has it
    d.name_en = "later 1"
    d.save()
    d.name_en = "later 2"
    d.save()
    department("other", changes=2)
    tasks.seal_audit_trail()  # the periodic job
    assert AuditSeal.objects.count() == 1
    assert verify_trail().ok

    roll_back(d, backup)
    assert len(entries_for(d)) == 2  # consistent on its own: each chain still walks
    res = verify_trail()
    assert not res.ok
    assert f"record accounts.department:{d.pk} was rolled back" in res.problem
    assert "sealed at seq 4" in res.problem and "now ends at seq 2" in res.problem
    with pytest.raises(CommandError, match=f"accounts.department:{d.pk} was rolled back"):
        call_command("audit", "verify", stdout=io.StringIO())

    # the next periodic seal refuses to bless it, loudly
    caplog.set_level(logging.ERROR, logger="medvigil.core.tasks")
    tasks.seal_audit_trail()
    assert AuditSeal.objects.count() == 1
    assert any("NOT SEALED" in r.getMessage() for r in caplog.records)
    with pytest.raises(CommandError, match="after-restore"):
        call_command("audit", "seal", stdout=io.StringIO())


def test_a_rolled_back_chain_grown_again_to_its_sealed_length_is_caught_by_the_hash():
    d = department("dx", changes=1)
    backup = head_of(d)
    d.name_en = "sealed value"
    d.save()
    seal(kind="manual")
    roll_back(d, backup)
    d.refresh_from_db()
    d.name_en = "rewritten history"
    d.save()  # the application appends a new seq 3: same length, other content
    res = verify_trail()
    assert not res.ok and "entry at sealed seq 3 was replaced" in res.problem


def test_altered_sealed_positions_and_altered_or_removed_seals_are_detected():
    d = department("dx", changes=2)
    seal(kind="manual")
    department("dy")
    second = seal(kind="manual")
    assert second.prev_mac == AuditSeal.objects.order_by("id").first().mac
    assert second.advanced == 2 and verify_trail().ok  # dy, and the first seal's own event

    # lowering a sealed position (to hide a rollback) breaks the seal's digest
    ct = ContentType.objects.get_for_model(d)
    _raw_sql(
        "UPDATE core_auditsealedhead SET seq = 1 WHERE content_type_id = %s AND object_id = %s",
        [ct.pk, str(d.pk)],
    )
    res = verify_trail()
    assert not res.ok and "sealed positions do not match seal" in res.problem
    _raw_sql(
        "UPDATE core_auditsealedhead SET seq = 3 WHERE content_type_id = %s AND object_id = %s",
        [ct.pk, str(d.pk)],
    )
    assert verify_trail().ok

    _raw_sql("UPDATE core_auditseal SET chains = chains + 1 WHERE id = %s", [second.pk])
    res = verify_trail()
    assert not res.ok and f"seal #{second.pk} was altered" in res.problem
    _raw_sql("UPDATE core_auditseal SET chains = chains - 1 WHERE id = %s", [second.pk])
    department("dz")
    seal(kind="manual")
    _raw_sql("DELETE FROM core_auditseal WHERE id = %s", [second.pk])
    res = verify_trail()
    assert not res.ok and "a seal was removed" in res.problem


def test_the_seal_file_reveals_a_restored_older_database_until_the_restore_is_acknowledged(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.AUDIT_SEAL_FILE = str(tmp_path / "seals.jsonl")
    d = department("dx", changes=1)
    with django_capture_on_commit_callbacks(execute=True):
        first = seal(kind="manual")
    sealed_positions = list(AuditSealedHead.objects.values_list("object_id", "seq", "hash"))
    d.name_en = "after the backup"
    d.save()
    with django_capture_on_commit_callbacks(execute=True):
        newest = seal(kind="periodic")
    lines = [json.loads(x) for x in (tmp_path / "seals.jsonl").read_text().splitlines()]
    assert [x["mac"] for x in lines] == [first.mac, newest.mac]
    assert verify_trail().ok

    # "restore" the backup taken after the first seal: the newest seal, the sealed
    # positions and the record's newest entry are back to their earlier state
    _raw_sql("DELETE FROM core_auditseal WHERE id = %s", [newest.pk])
    for oid, seq, head_hash in sealed_positions:
        _raw_sql(
            "UPDATE core_auditsealedhead SET seq = %s, hash = %s WHERE object_id = %s",
            [seq, head_hash, oid],
        )
    roll_back(d, AuditChain(pk=head_of(d).pk, **_head_at(d, 2)))
    res = verify_trail()
    assert not res.ok
    assert f"seal #{newest.pk}" in res.problem and "not in the database" in res.problem

    with pytest.raises(CommandError, match="--reason"):
        call_command("audit", "seal", "--after-restore", stdout=io.StringIO())
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "audit", "seal", "--after-restore", "--reason", "restored backup of 1 Dec", stdout=out
        )
    assert "Sealed" in out.getvalue()
    assert verify_trail().ok
    ack = AuditSeal.objects.order_by("-id").first()
    assert ack.kind == "after_restore" and ack.reason == "restored backup of 1 Dec"
    event = AuditEntry.objects.get(
        content_type=ContentType.objects.get_for_model(AuditSeal), object_id=str(ack.pk)
    )
    assert event.reason == "restored backup of 1 Dec"
    assert any("not in the database" in p for p in event.changes["acknowledged"][1])
    # the file goes on: a later rollback is caught again
    with django_capture_on_commit_callbacks(execute=True):
        later = seal(kind="periodic")
    _raw_sql("DELETE FROM core_auditseal WHERE id = %s", [later.pk])
    assert "not in the database" in verify_trail().problem


def _head_at(obj, seq):
    from medvigil.core.audit.hashing import chain_mac

    entry = next(e for e in entries_for(obj) if e.seq == seq)
    ct = ContentType.objects.get_for_model(obj)
    label = f"{ct.app_label}.{ct.model}"
    return {
        "last_seq": seq,
        "last_hash": entry.hash,
        "mac": chain_mac(label, str(obj.pk), seq, entry.hash),
    }


def test_verify_says_when_the_trail_was_never_sealed_and_seals_are_append_only():
    department("dx")
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "Not sealed yet" in out.getvalue()
    call_command("audit", "seal", stdout=io.StringIO())
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "Checked against the seal of" in out.getvalue()
    item = AuditSeal.objects.get()
    with pytest.raises(PermissionDenied):
        item.save()
    with pytest.raises(PermissionDenied):
        item.delete()
    with pytest.raises(PermissionDenied):
        AuditSeal.objects.all().delete()
    with pytest.raises(PermissionDenied):
        AuditSeal.objects.update(reason="x")
    with pytest.raises(SealRefused):
        roll_back_everything_and_seal()


def roll_back_everything_and_seal():
    _raw_sql("DELETE FROM core_auditentry", [])
    return seal(kind="manual")


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the triggers are PostgreSQL's"
)


@pytest.mark.postgres
@postgres_only
@pytest.mark.parametrize(
    "table",
    [
        "core_auditentry",
        "core_auditchain",
        "core_signature",
        "core_auditseal",
        "core_auditsealedhead",
    ],
)
def test_postgresql_refuses_truncate_of_the_audit_tables(table):
    department("dx", changes=1)
    seal(kind="manual")
    with (
        pytest.raises(DatabaseError, match="append-only: TRUNCATE"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(f"TRUNCATE {table}")
    assert AuditEntry.objects.exists() and AuditSeal.objects.exists()


@pytest.mark.postgres
@postgres_only
def test_postgresql_refuses_update_and_delete_of_seals_and_detects_the_superuser_rollback():
    d = department("dx", changes=1)
    backup = head_of(d)
    d.name_en = "newest"
    d.save()
    item = seal(kind="manual")
    for sql in (
        "UPDATE core_auditseal SET reason = 'forged' WHERE id = %s",
        "DELETE FROM core_auditseal WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(sql, [item.pk])
    # a superuser bypasses the triggers (replication role) to remove the newest entry and
    # put the old head back: the chains verify, the seal does not
    roll_back(d, backup)
    res = verify_trail()
    assert not res.ok and f"accounts.department:{d.pk} was rolled back" in res.problem


def test_a_seal_after_a_restore_drops_positions_of_records_the_restored_database_lacks():
    from medvigil.core.audit.seal import seal_problems

    d = department("dx", changes=1)
    department("dy")
    seal(kind="manual")
    _raw_sql("DELETE FROM core_auditchain WHERE id = %s", [head_of(d).pk])
    assert any(f"accounts.department:{d.pk}: its chain head is gone" in p for p in seal_problems())
    with pytest.raises(SealRefused):
        seal(kind="manual")
    item = seal(kind="after_restore", reason="restored")
    assert item.advanced >= 1
    assert seal_problems() == []  # the incrementally computed digest matches the table
