"""Prepared statements on PostgreSQL (issue #13; docs/deployment.md, "Prepared statements and
connection poolers"): the ORM's queries bind their parameters on the server and are
prepared on their second run on a connection; DATABASE_PREPARED_STATEMENTS=0 returns to
Django's default; the audit trail's own prepared statement works either way (its tests:
test_audit_fastpath.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from medvigil.accounts.models import Role

SRC = Path(__file__).resolve().parents[3]


def database_options(tmp_path: Path, **env: str) -> dict[str, object]:
    """settings.DATABASES["default"]["OPTIONS"] for a PostgreSQL URL and this environment."""
    code = (
        "import json, medvigil.settings as s; "
        "print(json.dumps({**s.DATABASES['default']['OPTIONS'], "
        "'prepared_max': s.DATABASE_PREPARED_MAX}))"
    )
    full = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")},
        "DATABASE_URL": "postgres://someone@db.example:5432/medvigil",
        "MEDVIGIL_TESTING": "1",
        "MEDVIGIL_DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(SRC),
        **env,
    }
    out = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], env=full, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_postgresql_prepares_by_default_and_can_be_switched_off(tmp_path):
    on = database_options(tmp_path)
    assert on["server_side_binding"] is True and on["prepare_threshold"] == 1
    assert on["prepared_max"] == 500
    off = database_options(tmp_path, DATABASE_PREPARED_STATEMENTS="0")
    assert "server_side_binding" not in off
    # the audit trail's explicit preparation needs a threshold that counting never reaches
    assert off["prepare_threshold"] == 2**31 - 1
    tuned = database_options(tmp_path, DATABASE_PREPARE_THRESHOLD="5", DATABASE_PREPARED_MAX="50")
    assert tuned["prepare_threshold"] == 5 and tuned["prepared_max"] == 50


@pytest.mark.django_db
def test_an_orm_query_run_twice_is_prepared_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    for _ in range(3):
        assert Role.objects.filter(code="quality").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    assert any('"accounts_role"' in s and "$1" in s for s in statements), statements
    assert connection.connection.prepared_max == 500
