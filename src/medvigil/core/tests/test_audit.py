"""PLAT-2: the audit trail."""

from __future__ import annotations

import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from medvigil.accounts.models import Department
from medvigil.core.audit import audit_context
from medvigil.core.audit.verify import verify_trail
from medvigil.core.models import AuditEntry, ConflictError

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-2")]


def entries_for(obj):
    ct = ContentType.objects.get_for_model(obj)
    return list(AuditEntry.objects.filter(content_type=ct, object_id=str(obj.pk)).order_by("seq"))


def test_create_change_delete_each_leave_one_entry_with_field_values(quality_user):
    with audit_context(actor=quality_user, source="ui", reason="set-up"):
        d = Department.objects.create(code="qa2", name_zh="质量二部", name_en="QA 2")
        d.name_en = "Quality 2"
        d.save()
        d.save()  # nothing changed: no entry
    e = entries_for(d)
    assert [x.action for x in e] == ["create", "update"]
    assert e[0].changes["code"] == [None, "qa2"]
    assert e[1].changes == {"name_en": ["QA 2", "Quality 2"]}
    assert e[1].actor == quality_user and e[1].source == "ui" and e[1].reason == "set-up"
    assert verify_trail().ok


def test_shell_change_is_attributed_to_a_named_system_actor():
    d = Department.objects.create(code="x", name_zh="x", name_en="x")
    e = entries_for(d)[0]
    assert e.actor is None and e.actor_name.startswith("system:")


def test_hard_delete_is_refused_for_regulated_records():
    d = Department.objects.create(code="x", name_zh="x", name_en="x")
    with pytest.raises(PermissionDenied):
        d.delete()
    with pytest.raises(PermissionDenied):
        Department.objects.filter(pk=d.pk).delete()
    assert Department.objects.filter(pk=d.pk).exists()


def test_queryset_update_and_bulk_operations_are_audited():
    a = Department.objects.create(code="a", name_zh="甲", name_en="A")
    b = Department.objects.create(code="b", name_zh="乙", name_en="B")
    n = Department.objects.filter(code__in=["a", "b"]).update(active=False)
    assert n == 2
    assert entries_for(a)[-1].changes == {"active": [True, False]}
    assert entries_for(b)[-1].changes == {"active": [True, False]}
    made = Department.objects.bulk_create(
        [
            Department(code="c", name_zh="丙", name_en="C"),
            Department(code="d", name_zh="丁", name_en="D"),
        ]
    )
    assert all(entries_for(m)[0].action == "create" for m in made)
    a.refresh_from_db()
    a.name_en = "AA"
    Department.objects.bulk_update([a], ["name_en"])
    assert entries_for(a)[-1].changes == {"name_en": ["A", "AA"]}
    assert verify_trail().ok


def test_audit_entries_cannot_be_changed_or_deleted_by_the_application():
    d = Department.objects.create(code="x", name_zh="x", name_en="x")
    e = entries_for(d)[0]
    e.reason = "forged"
    with pytest.raises(PermissionDenied):
        e.save()
    with pytest.raises(PermissionDenied):
        e.delete()
    with pytest.raises(PermissionDenied):
        AuditEntry.objects.all().update(reason="x")
    with pytest.raises(PermissionDenied):
        AuditEntry.objects.all().delete()


def test_concurrent_edit_is_refused_with_a_conflict():
    d = Department.objects.create(code="x", name_zh="x", name_en="x")
    first = Department.objects.get(pk=d.pk)
    second = Department.objects.get(pk=d.pk)
    first.name_en = "one"
    first.save()
    second.name_en = "two"
    with pytest.raises(ConflictError):
        second.save()
    d.refresh_from_db()
    assert d.name_en == "one"


def _raw_sql(sql, params):
    """Tamper as someone with database rights would. On PostgreSQL the append-only trigger
    stands in the way, so the attacker bypasses it as a superuser (replication role)."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET session_replication_role = replica")
        try:
            cur.execute(sql, params)
        finally:
            if connection.vendor == "postgresql":
                cur.execute("SET session_replication_role = origin")


def test_verify_detects_raw_sql_edit_removal_and_reordering():
    d = Department.objects.create(code="x", name_zh="x", name_en="x")
    for i in range(3):
        d.name_en = f"v{i}"
        d.save()
    assert verify_trail().ok
    e = entries_for(d)
    _raw_sql("UPDATE core_auditentry SET reason = %s WHERE id = %s", ["forged", e[1].id])
    res = verify_trail()
    assert not res.ok and res.entry_id == e[1].id and "altered" in res.problem
    # the command exits non-zero and names the entry
    with pytest.raises(CommandError, match=f"entry {e[1].id}"):
        call_command("audit", "verify", stdout=io.StringIO())
    _raw_sql("UPDATE core_auditentry SET reason = %s WHERE id = %s", ["", e[1].id])
    assert verify_trail().ok
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "intact" in out.getvalue()
    _raw_sql("DELETE FROM core_auditentry WHERE id = %s", [e[2].id])
    res = verify_trail()
    assert not res.ok and "removed" in res.problem


def test_verify_detects_an_entry_moved_out_of_order():
    d = Department.objects.create(code="x", name_zh="x", name_en="x")
    d.name_en = "y"
    d.save()
    first, second = entries_for(d)
    # swap the sequence numbers of the two entries
    _raw_sql("UPDATE core_auditentry SET seq = 99 WHERE id = %s", [first.id])
    _raw_sql("UPDATE core_auditentry SET seq = 1 WHERE id = %s", [second.id])
    _raw_sql("UPDATE core_auditentry SET seq = 2 WHERE id = %s", [first.id])
    res = verify_trail()
    assert not res.ok


def test_verify_detects_removed_last_entry():
    d = Department.objects.create(code="x", name_zh="x", name_en="x")
    d.name_en = "y"
    d.save()
    last = entries_for(d)[-1]
    _raw_sql("DELETE FROM core_auditentry WHERE id = %s", [last.id])
    res = verify_trail()
    assert not res.ok and "head" in res.problem


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_trigger_refuses_update_and_delete_of_audit_rows():
    d = Department.objects.create(code="x", name_zh="x", name_en="x")
    e = entries_for(d)[0]
    for sql in (
        "UPDATE core_auditentry SET reason = 'forged' WHERE id = %s",
        "DELETE FROM core_auditentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(sql, [e.id])
    assert AuditEntry.objects.get(pk=e.id).reason == ""


@pytest.mark.parametrize(
    ("argv", "source"),
    [
        (["medvigil", "shell"], "shell"),
        (["manage.py", "shell"], "shell"),
        (["medvigil", "demo"], "command:demo"),
        (["medvigil", "run_huey"], "task"),
    ],
)
def test_changes_outside_a_request_name_the_process_as_actor(monkeypatch, argv, source):
    monkeypatch.setattr("sys.argv", argv)
    d = Department.objects.create(code="sh", name_zh="x", name_en="x")
    e = entries_for(d)[0]
    assert e.actor is None and e.source == source and e.actor_name == f"system:{source}"
