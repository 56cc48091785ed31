"""PLAT-2 / PLAT-10: large bulk creations (the import path) are audited like single saves —
on PostgreSQL through COPY with pre-allocated keys — and the trail still verifies."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction

from medvigil.accounts.models import Department
from medvigil.core.audit import audit_context, recorder
from medvigil.core.audit.bulk import COPY_MIN_ROWS, instance_maker
from medvigil.core.audit.verify import verify_trail
from medvigil.core.models import AuditChain, AuditEntry

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-2", "PLAT-10")]


def test_large_bulk_create_writes_one_verified_entry_per_row(quality_user):
    n = COPY_MIN_ROWS + 50
    with audit_context(actor=quality_user, source="import", request_id="IMP-2026-00009"):
        made = Department.objects.bulk_create(
            [Department(code=f"d{i}", name_zh=f"部门{i}", name_en=f"Dept {i}") for i in range(n)]
        )
    assert all(d.pk for d in made) and len({d.pk for d in made}) == n
    assert Department.objects.filter(code__startswith="d").count() == n
    ct = ContentType.objects.get_for_model(Department)
    entries = AuditEntry.objects.filter(content_type=ct, request_id="IMP-2026-00009")
    assert entries.count() == n
    e = entries.get(object_id=str(made[7].pk))
    assert e.action == "create" and e.actor == quality_user and e.source == "import"
    assert e.changes["name_zh"] == [None, "部门7"] and e.object_repr == "部门7 / Dept 7"
    assert AuditChain.objects.filter(content_type=ct, object_id=str(made[7].pk)).exists()
    # the rows behave like normal records afterwards: an edit continues the chain
    d = Department.objects.get(pk=made[7].pk)
    d.name_en = "Dept seven"
    d.save()
    assert verify_trail().ok


def test_large_bulk_create_with_a_duplicate_changes_nothing():
    Department.objects.create(code="dup", name_zh="重复", name_en="Dup")
    before = (Department.objects.count(), AuditEntry.objects.count())
    rows = [Department(code=f"x{i}", name_zh="x", name_en="x") for i in range(COPY_MIN_ROWS)]
    rows.append(Department(code="dup", name_zh="重复", name_en="Dup"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Department.objects.bulk_create(rows)
    assert (Department.objects.count(), AuditEntry.objects.count()) == before


def test_bulk_entries_hash_exactly_like_single_entries(quality_user):
    """The import's spliced payload must be byte-for-byte entry_payload() of the stored row."""
    from medvigil.core.audit.hashing import entry_hash

    with audit_context(actor=quality_user, source="import", reason='引号 "quoted" 原因\\n'):
        made = Department.objects.bulk_create(
            [Department(code=f"q{i}", name_zh='部门\\t"x"', name_en="é") for i in range(3)]
        )
    ct = ContentType.objects.get_for_model(Department)
    for d in made:
        e = AuditEntry.objects.get(content_type=ct, object_id=str(d.pk))
        assert e.hash == entry_hash(e, "accounts.department")
    assert verify_trail().ok


def test_bulk_update_writes_one_entry_per_changed_record(quality_user):
    with audit_context(actor=quality_user, source="test"):
        a, b = (Department.objects.create(code=c, name_zh=c, name_en=c) for c in ("bu-a", "bu-b"))
        ct = ContentType.objects.get_for_model(Department)
        before = AuditEntry.objects.filter(content_type=ct).count()
        a.name_en, b.name_en = "A2", "B2"
        Department.objects.bulk_update([a, b], ["name_en"])
    updates = AuditEntry.objects.filter(content_type=ct, action="update")
    assert AuditEntry.objects.filter(content_type=ct).count() - before == 2
    assert updates.filter(object_id=str(a.pk)).count() == 1
    assert updates.get(object_id=str(b.pk)).changes == {"name_en": ["bu-b", "B2"]}
    assert verify_trail().ok


@pytest.mark.parametrize(
    "values",
    [
        {"serial": "SN-1", "production_date": dt.date(2026, 1, 5), "lot_id": None},
        {
            "serial": 'quote " back \\ tab \t nl \n nul \x00 监护仪 \u2028 é',
            "udi_di": True,
            "udi_pi": False,
            "version": 0,
            "product_id": -7,
            "status": 3.25,
            "production_record": Decimal("1.50"),
            "expiry_date": dt.datetime(2026, 1, 5, 8, 30, tzinfo=dt.UTC),
            "holder_id": {"b": [1, "é", None], "a": {"z": 1.0, "y": True}},
            "lot_id": uuid.UUID(int=7),
        },
        {"serial": "", "udi_di": "", "production_date": None, "expiry_date": None},
    ],
)
def test_the_direct_changes_json_of_a_creation_is_the_canonical_one(values):
    """bulk.record_bulk_create serialises a new record's changes without the encoder; the
    payload hashed and stored must be what _CANONICAL(changes) gives, byte for byte."""
    from medvigil.trace.models import Unit

    unit = Unit(pk=12, serial="x")
    for name, value in values.items():
        setattr(unit, name, value)
    expected = recorder._CANONICAL(recorder._Creations.values(unit)[1])
    assert recorder.creation_changes_json(unit) == expected


def test_the_direct_changes_json_masks_secrets_like_the_snapshot():
    from medvigil.accounts.models import User

    for password in ["pbkdf2_sha256$1$salt$hash", "", None]:
        user = User(pk=3, username="ü", password=password)
        expected = recorder._CANONICAL(recorder._Creations.values(user)[1])
        assert recorder.creation_changes_json(user) == expected
        assert "pbkdf2" not in expected


def test_instance_maker_makes_what_the_constructor_makes():
    from medvigil.trace.models import Unit

    values = [f.get_default() for f in Unit._meta.concrete_fields]
    values[[f.attname for f in Unit._meta.concrete_fields].index("serial")] = "SN-9"
    made, built = instance_maker(Unit)(values), Unit(*values)
    assert made.__dict__.keys() == built.__dict__.keys()
    assert {k: v for k, v in made.__dict__.items() if k != "_state"} == {
        k: v for k, v in built.__dict__.items() if k != "_state"
    }
    assert made._state.adding and made._state.db is None and made.pk is None
    with pytest.raises(ValueError):
        instance_maker(Unit)(values[:-1])


@pytest.mark.parametrize(
    "columns",
    [
        # every value of a field of one plain type: rendered column by column
        {"serial": ["a", 'q " \\ \t é'], "production_date": [dt.date(2026, 1, 5)] * 2},
        {"version": [True, False], "status": [3.5, Decimal("1.50")], "lot_id": [None, None]},
        # a field None in one record only, or of several types: record by record
        {"expiry_date": [None, dt.date(2027, 1, 1)], "udi_pi": ["x", 7]},
    ],
)
def test_the_column_rendering_of_many_creations_is_the_record_by_record_one(columns):
    """creation_changes_jsons (the import's path) gives creation_changes_json of each record,
    and rows_many the rows rows_json gives, byte for byte."""
    from medvigil.trace.models import Unit, UnitStatus

    units = [Unit(pk=40 + i, serial=f"s{i}", status=UnitStatus.IN_STOCK) for i in range(2)]
    for name, values in columns.items():
        for unit, value in zip(units, values, strict=True):
            setattr(unit, name, value)
    expected = [recorder.creation_changes_json(u) for u in units]
    assert recorder.creation_changes_jsons(units) == expected
    with audit_context(source="import", request_id="IMP-1", reason='原因 "x"'):
        creations = recorder._Creations(Unit)
        entries, heads = creations.rows_many(units)
        one_by_one = [creations.rows_json(u, j) for u, j in zip(units, expected, strict=True)]
    assert entries == [e for e, _h in one_by_one] and heads == [h for _e, h in one_by_one]
