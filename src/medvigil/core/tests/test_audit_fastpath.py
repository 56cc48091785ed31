"""PLAT-2: the fast path that writes a new record's first audit entry (recorder._insert_first),
added for the audit-write benchmark (benchmarks/audit_write.py)."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from medvigil.accounts.models import Department
from medvigil.core.audit import bulk, fastpath, recorder
from medvigil.core.audit.verify import verify_trail
from medvigil.core.models import AuditChain, AuditEntry

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-2")]


def chain_of(model, oid):
    ct = ContentType.objects.get_for_model(model)
    entries = list(AuditEntry.objects.filter(content_type=ct, object_id=str(oid)).order_by("seq"))
    return AuditChain.objects.get(content_type=ct, object_id=str(oid)), entries


def test_a_create_writes_head_and_first_entry_without_reading_or_locking_the_chain():
    Department.objects.create(code="warm", name_zh="预热", name_en="warm")  # caches
    with CaptureQueriesContext(connection) as ctx:
        d = Department.objects.create(code="qa9", name_zh="质量九部", name_en="QA 9")
    sql = [q["sql"] for q in ctx.captured_queries]
    assert not any("core_auditchain" in s and s.lstrip().upper().startswith("SELECT") for s in sql)
    audit_statements = [s for s in sql if "core_auditentry" in s or "core_auditchain" in s]
    assert len(audit_statements) == (1 if connection.vendor == "postgresql" else 2)
    head, entries = chain_of(Department, d.pk)
    assert [e.seq for e in entries] == [1] and entries[0].action == "create"
    assert entries[0].changes["code"] == [None, "qa9"]
    assert head.last_seq == 1 and head.last_hash == entries[0].hash
    d.name_en = "Quality 9"
    d.save()  # the update path reads and locks the head as before
    head, entries = chain_of(Department, d.pk)
    assert [e.action for e in entries] == ["create", "update"] and head.last_seq == 2
    assert verify_trail().ok


def test_a_create_whose_chain_already_exists_falls_back_to_the_locked_path():
    first = recorder.append(Department, "777", "create", {"code": [None, "a"]})
    again = recorder.append(Department, "777", "create", {"code": [None, "b"]})
    assert first.pk and again.pk and again.pk != first.pk
    head, entries = chain_of(Department, "777")
    assert [e.seq for e in entries] == [1, 2]
    assert entries[1].prev_hash == entries[0].hash and head.last_hash == entries[1].hash
    assert verify_trail().ok


def test_a_failed_audit_write_rolls_back_the_change_only(monkeypatch):
    rows = recorder._Creations.rows

    def invalid_entry(self, obj, changes):
        entry_row, head_row = rows(self, obj, changes)
        entry_row = (*entry_row[:11], -1, *entry_row[12:])  # seq -1 breaks a CHECK constraint
        return entry_row, head_row

    monkeypatch.setattr(recorder._Creations, "rows", invalid_entry)
    with transaction.atomic():
        kept = Department.objects.filter(code="audit").count()
        with pytest.raises(IntegrityError):
            Department.objects.create(code="lost", name_zh="丢", name_en="lost")
        # The record's own savepoint took the change back; the outer transaction goes on.
        assert not Department.objects.filter(code="lost").exists()
        assert Department.objects.filter(code="audit").count() == kept
    monkeypatch.undo()
    assert not AuditEntry.objects.filter(object_repr__in=["丢", "lost"]).exists()
    assert verify_trail().ok


def test_many_creates_and_changes_keep_every_chain_verifiable():
    made = [
        Department.objects.create(code=f"d{i}", name_zh=f"部{i}", name_en=f"D{i}")
        for i in range(20)
    ]
    Department.objects.filter(code__in=["d1", "d2", "d3"]).update(active=False)
    for d in made[:5]:
        d.refresh_from_db()
        d.name_en += "!"
        d.save()
    result = verify_trail()
    assert result.ok, result.problem


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the one-statement create is PostgreSQL's"
)


@postgres_only
def test_on_postgresql_the_record_and_its_first_entry_are_one_statement():
    Department.objects.create(code="warm", name_zh="预热", name_en="warm")  # caches, keys
    with CaptureQueriesContext(connection) as ctx:
        d = Department.objects.create(code="qa8", name_zh="质量八部", name_en="QA 8")
    writes = [q["sql"] for q in ctx.captured_queries if "INSERT" in q["sql"]]
    assert len(writes) == 1
    assert all(
        t in writes[0] for t in ("accounts_department", "core_auditchain", "core_auditentry")
    )
    head, entries = chain_of(Department, d.pk)
    assert entries[0].changes["id"] == [None, d.pk] and head.last_hash == entries[0].hash
    assert verify_trail().ok


@postgres_only
def test_reserved_keys_rise_in_creation_order_within_a_process_even_around_a_bulk_copy():
    first = Department.objects.create(code="k1", name_zh="一", name_en="one")
    second = Department.objects.create(code="k2", name_zh="二", name_en="two")
    made = Department.objects.bulk_create(
        [
            Department(code=f"b{i}", name_zh=f"批{i}", name_en=f"B{i}")
            for i in range(bulk.COPY_MIN_ROWS)
        ]
    )
    third = Department.objects.create(code="k3", name_zh="三", name_en="three")
    assert first.pk < second.pk < min(b.pk for b in made)
    assert third.pk > max(b.pk for b in made)
    assert verify_trail().ok


@postgres_only
def test_a_refused_create_leaves_no_record_no_entry_and_no_key_on_the_instance():
    Department.objects.create(code="dup", name_zh="重", name_en="dup")
    again = Department(code="dup", name_zh="重复", name_en="dup again")
    with pytest.raises(IntegrityError), transaction.atomic():
        again.save()
    assert again.pk is None and again._state.adding
    assert not AuditEntry.objects.filter(object_repr__contains="dup again").exists()
    again.code = "dup2"
    again.save()  # the same instance can be saved once corrected
    head, entries = chain_of(Department, again.pk)
    assert [e.action for e in entries] == ["create"] and entries[0].changes["code"][1] == "dup2"
    assert verify_trail().ok


@postgres_only
def test_a_reserved_key_whose_chain_exists_still_gets_a_correct_chain(monkeypatch):
    key = fastpath.reserved_key(Department, "default")
    recorder.append(Department, key, "event", {"event": [None, "left over"]})
    monkeypatch.setattr(fastpath, "reserved_key", lambda model, using: key)
    d = Department.objects.create(code="reuse", name_zh="复用", name_en="reuse")
    assert d.pk == key
    head, entries = chain_of(Department, key)
    assert [e.action for e in entries] == ["event", "create"] and head.last_seq == 2
    assert verify_trail().ok


def test_values_set_while_inserting_are_the_ones_audited():
    from medvigil.accounts.models import APIToken, User

    user = User.objects.create(username="tok")
    token, _raw = APIToken.issue(user, "ci")
    token.refresh_from_db()
    head, entries = chain_of(APIToken, token.pk)
    assert entries[0].changes["created_at"] == [None, token.created_at.isoformat()]
    assert entries[0].changes["token_hash"][1].startswith("********#")  # masked, not stored
    assert verify_trail().ok
