#!/usr/bin/env python
"""Audit seals at scale (PLAT-2): how long do a seal and verify's seal checks take on a
trail of a million records?

    .venv/bin/python benchmarks/audit_seal.py [--chains 1000000] [--fresh]

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/medvigil_seal_bench; the script
creates and migrates that database if it is missing (``--fresh`` recreates it) and fills it
once, with SQL, with ``--chains`` chain heads and one entry each (synthetic hashes: the seal
compares positions and hashes, it does not recompute entries — verify's chain walk does,
and is not measured here).

Printed, in seconds: the first seal (every position inserted), a seal when nothing moved,
a seal after 1 % of the records got a new entry, and verify's seal checks (the sealed
positions' digest, and the set-based rollback query over positions, heads and entries).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/medvigil_seal_bench"


def _environment() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medvigil.settings")
    os.environ.setdefault("MEDVIGIL_DEV", "1")
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def _prepare(fresh: bool, chains: int) -> None:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
    admin = psycopg.connect(
        host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"], dbname="postgres"
    )
    admin.autocommit = True
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone()
    if exists and fresh:
        admin.execute(f'DROP DATABASE "{cfg["NAME"]}"')
        exists = None
    if not exists:
        admin.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    admin.close()

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection

    from medvigil.core.models import AuditChain

    # the migrations' seed data has chains of its own: look for the filled ones
    if AuditChain.objects.filter(content_type_id=1).count() >= chains:
        return
    print(f"filling {chains:,} chains and entries …", flush=True)
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO core_auditchain (content_type_id, object_id, last_seq, last_hash, mac) "
            "SELECT 1, g::text, 1, md5(g::text) || md5(g::text), '' "
            "FROM generate_series(1, %s) g",
            [chains],
        )
        cur.execute(
            "INSERT INTO core_auditentry (timestamp, actor_name, source, request_id, "
            "content_type_id, object_id, object_repr, action, changes, reason, seq, "
            "prev_hash, hash) SELECT now(), 'bench', 'bench', '', 1, g::text, '', 'create', "
            "'{}', '', 1, '', md5(g::text) || md5(g::text) FROM generate_series(1, %s) g",
            [chains],
        )
        cur.execute("ANALYZE")


def _timed(label: str, fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    result = fn()
    print(f"{label:<40} {time.perf_counter() - t0:7.2f} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chains", type=int, default=1_000_000)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    _environment()
    _prepare(args.fresh, args.chains)
    import _calibrate

    _calibrate.print_calibration(os.environ["DATABASE_URL"])
    from django.db import connection

    from medvigil.core.audit.seal import latest_seal, seal, seal_problems

    first = latest_seal() is None
    kind = "periodic" if first else "after_restore"  # a re-run re-bases on its own data
    item = _timed(
        "first seal" if first else "seal (re-run)", lambda: seal(kind=kind, reason="bench")
    )
    print(f"  {item.chains:,} chains sealed")
    _timed("seal, nothing moved", lambda: seal(kind="periodic"))
    where = "object_id ~ '^[0-9]+$' AND object_id::int % 100 = 7"
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE core_auditchain SET last_seq = last_seq + 1, "
            f"last_hash = md5(random()::text) || md5(random()::text) WHERE {where}"
        )
        cur.execute(
            "INSERT INTO core_auditentry (timestamp, actor_name, source, request_id, "
            "content_type_id, object_id, object_repr, action, changes, reason, seq, "
            "prev_hash, hash) SELECT now(), 'bench', 'bench', '', content_type_id, object_id, "
            f"'', 'update', '{{}}', '', last_seq, '', last_hash FROM core_auditchain WHERE {where}"
        )
    item = _timed("seal, 1 % of the records moved", lambda: seal(kind="periodic"))
    print(f"  {item.advanced:,} positions moved")
    problems = _timed("verify: seal checks", seal_problems)
    print("  problems:", problems or "none")


if __name__ == "__main__":
    main()
