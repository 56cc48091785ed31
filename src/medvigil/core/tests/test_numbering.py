"""PLAT-4: record numbers are unique, gapless per type and year, and human-readable."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection, transaction

from medvigil.accounts.models import Department
from medvigil.core.models import NumberingScheme, Sequence
from medvigil.core.numbering.services import next_number, next_numbers, validate_pattern

pytestmark = pytest.mark.req("PLAT-4")

SRC = str(Path(__file__).resolve().parents[3])
CST = ZoneInfo("Asia/Shanghai")
IN_2026 = dt.datetime(2026, 3, 1, 10, tzinfo=CST)
IN_2027 = dt.datetime(2027, 3, 1, 10, tzinfo=CST)


@pytest.fixture(autouse=True)
def _pattern(settings):
    settings.NUMBER_PATTERN = "{prefix}-{year}-{seq:05d}"
    settings.TIME_ZONE = "Asia/Shanghai"


class Boom(Exception):
    pass


@pytest.mark.django_db
def test_format_is_prefix_year_and_zero_padded_sequence():
    assert next_number("fb", prefix="FB", when=IN_2026) == "FB-2026-00001"
    assert next_number("fb", prefix="FB", when=IN_2026) == "FB-2026-00002"
    # Without a prefix the record type, upper-cased, is the prefix.
    assert next_number("capa", when=IN_2026) == "CAPA-2026-00001"


@pytest.mark.django_db
def test_numbers_restart_each_year_and_the_year_is_the_company_year():
    assert next_number("fb", prefix="FB", when=IN_2026) == "FB-2026-00001"
    assert next_number("fb", prefix="FB", when=IN_2026) == "FB-2026-00002"
    assert next_number("fb", prefix="FB", when=IN_2027) == "FB-2027-00001"
    # 2026-12-31 17:00 UTC is already 2027-01-01 01:00 in Shanghai.
    new_year = dt.datetime(2026, 12, 31, 17, tzinfo=dt.UTC)
    assert next_number("fb", prefix="FB", when=new_year) == "FB-2027-00002"
    assert next_number("fb", prefix="FB", when=IN_2026) == "FB-2026-00003"


@pytest.mark.django_db
def test_several_numbers_at_once_are_consecutive_and_take_one_round_trip():
    from django.test.utils import CaptureQueriesContext

    assert next_numbers("pn", 3, prefix="PN", when=IN_2026) == [
        "PN-2026-00001",
        "PN-2026-00002",
        "PN-2026-00003",
    ]
    with CaptureQueriesContext(connection) as ctx:
        assert next_numbers("pn", 2, prefix="PN", when=IN_2026) == [
            "PN-2026-00004",
            "PN-2026-00005",
        ]
    # one UPDATE … RETURNING that reads the scheme's row too (where the database has
    # RETURNING): one round trip while the counter's row lock is held
    if connection.features.can_return_columns_from_insert:
        assert len(ctx.captured_queries) == 1
    assert next_number("pn", prefix="PN", when=IN_2026) == "PN-2026-00006"
    with pytest.raises(ValueError):
        next_numbers("pn", 0, prefix="PN", when=IN_2026)


@pytest.mark.django_db
def test_record_types_are_numbered_independently():
    assert next_number("fb", prefix="FB", when=IN_2026) == "FB-2026-00001"
    assert next_number("capa", prefix="CAPA", when=IN_2026) == "CAPA-2026-00001"
    assert next_number("fb", prefix="FB", when=IN_2026) == "FB-2026-00002"
    assert next_number("capa", prefix="CAPA", when=IN_2026) == "CAPA-2026-00002"
    assert Sequence.objects.get(record_type="fb", year=2026).last_value == 2


@pytest.mark.django_db
def test_a_numbering_scheme_row_sets_prefix_and_pattern_and_can_change():
    assert next_number("fb", prefix="FB", when=IN_2026) == "FB-2026-00001"
    scheme = NumberingScheme.objects.create(
        record_type="fb", prefix="KS", pattern="{prefix}{year}-{seq:04d}"
    )
    assert next_number("fb", prefix="FB", when=IN_2026) == "KS2026-0002"
    scheme.pattern = "{year}/{prefix}/{seq:06d}"
    scheme.save()
    assert next_number("fb", when=IN_2026) == "2026/KS/000003"


@pytest.mark.django_db
def test_the_default_pattern_is_a_setting(settings):
    settings.NUMBER_PATTERN = "{prefix}{year}{seq:06d}"
    assert next_number("rc", prefix="RC", when=IN_2026) == "RC2026000001"


@pytest.mark.django_db
def test_a_rolled_back_creation_gives_its_number_back():
    with transaction.atomic():
        assert next_number("fb", prefix="FB", when=IN_2026) == "FB-2026-00001"
    with pytest.raises(Boom), transaction.atomic():
        assert next_number("fb", prefix="FB", when=IN_2026) == "FB-2026-00002"
        raise Boom
    with transaction.atomic():
        assert next_number("fb", prefix="FB", when=IN_2026) == "FB-2026-00002"
    # The very first number of a year rolled back too: the sequence row goes with it.
    with pytest.raises(Boom), transaction.atomic():
        assert next_number("fb", prefix="FB", when=IN_2027) == "FB-2027-00001"
        raise Boom
    assert not Sequence.objects.filter(record_type="fb", year=2027).exists()
    assert next_number("fb", prefix="FB", when=IN_2027) == "FB-2027-00001"


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_next_number_is_refused():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        next_number("fb", prefix="FB", when=IN_2026)
    assert not Sequence.objects.exists()


@pytest.mark.django_db
def test_bad_input_is_refused_without_using_a_number():
    with pytest.raises(ValueError, match="aware"):
        next_number("fb", when=dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="record type"):
        next_number("  ")
    NumberingScheme.objects.create(record_type="bad", prefix="B", pattern="{prefix}-{seq}")
    with pytest.raises(ImproperlyConfigured, match="year"):
        next_number("bad", when=IN_2026)
    assert not Sequence.objects.exists()


@pytest.mark.parametrize(
    ("pattern", "ok"),
    [
        ("{prefix}-{year}-{seq:05d}", True),
        ("{year}{seq:04d}", True),
        ("{prefix}-{seq:05d}", False),  # would repeat every year
        ("{prefix}-{year}", False),
        ("{prefix}-{year}-{seq}-{site}", False),
        ("{prefix}-{year}-{seq:05x", False),
        ("{prefix}-{year}-{seq:%Y}", False),
    ],
)
def test_validate_pattern(pattern, ok):
    if ok:
        validate_pattern(pattern)
    else:
        with pytest.raises(ValidationError):
            validate_pattern(pattern)


THREADS = 8
PER_THREAD = 25


def run_workload(threads: int = THREADS, per_thread: int = PER_THREAD) -> list[str]:
    """`threads` writers x `per_thread` creations, each in its own transaction, each creating
    a record (an audited Department) with its number. Writer 0 also rolls back a creation
    after taking a number every fifth time. Returns the numbers of the committed records."""
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def writer(k: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    n = next_number("conc", prefix="CONC", when=IN_2026)
                    Department.objects.create(code=f"c-{n.lower()}", name_zh=n, name_en=n)
                    with lock:
                        numbers.append(n)
                if k == 0 and i % 5 == 0:
                    try:
                        with transaction.atomic():
                            next_number("conc", prefix="CONC", when=IN_2026)
                            raise Boom
                    except Boom:
                        pass
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=writer, args=(k,)) for k in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    if errors:
        raise AssertionError(f"{len(errors)} writer(s) failed: {errors[:3]!r}")
    stored = sorted(
        Department.objects.filter(code__startswith="c-conc").values_list("name_en", flat=True)
    )
    assert stored == sorted(numbers)
    last = Sequence.objects.get(record_type="conc", year=2026).last_value
    assert last == len(numbers)
    return numbers


def _in_memory_sqlite() -> bool:
    return connection.vendor == "sqlite" and connection.is_in_memory_db()


# The SQLite test database is in memory with a shared cache: there concurrent writers get
# SQLITE_LOCKED ("database table is locked") at once, which no busy timeout waits for. A real
# SQLite install is a WAL file with IMMEDIATE transactions, so on SQLite the same workload
# runs in a child process against a fresh, migrated SQLite file configured like production.
SQLITE_CHILD = """
import json, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from medvigil.core.tests.test_numbering import run_workload
print(json.dumps(run_workload()))
"""


@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_get_distinct_gapless_numbers(tmp_path):
    """8 writers x 25 creations in their own transactions: 200 distinct numbers 1..200, no
    gap (PostgreSQL: row lock on the sequence row; SQLite: IMMEDIATE transactions)."""
    if _in_memory_sqlite():
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'numbering.sqlite3'}",
            "MEDVIGIL_DATA_DIR": str(tmp_path),
            "MEDVIGIL_TESTING": "1",
            "DJANGO_SETTINGS_MODULE": "medvigil.settings",
            "NUMBER_PATTERN": "{prefix}-{year}-{seq:05d}",
            "COMPANY_TIME_ZONE": "Asia/Shanghai",
            "PYTHONPATH": os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")])),
        }
        proc = subprocess.run(
            [sys.executable, "-c", SQLITE_CHILD],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        numbers = json.loads(proc.stdout.strip().splitlines()[-1])
    else:
        numbers = run_workload()
    expected = [f"CONC-2026-{i:05d}" for i in range(1, THREADS * PER_THREAD + 1)]
    assert sorted(numbers) == expected
