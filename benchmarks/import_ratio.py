#!/usr/bin/env python
"""The import's speed as a ratio to the plainest write of the same rows (PLAT-10).

    .venv/bin/python benchmarks/import_ratio.py [--db pg|sqlite] [--rows 20000] [--runs 3]
                                                [--profile]

On a new database (PostgreSQL: DATABASE_URL's server, database ``--dbname`` [medvigil_bench_import],
dropped and made again; SQLite: a temporary file), migrated, with one product: each run adds a
lot and imports ``--rows`` unit serial numbers of it through ``core.imports`` (upload service;
``process_batch`` reads, validates, looks up, writes the units, their audit entries and chain
heads in one transaction — timed). Then the very rows the import wrote are read back and
written again the plainest way into a bare copy of the units table (same indexes and unique
constraints, no audit): PostgreSQL one ``COPY``, SQLite one ``executemany``, one transaction
(``_calibrate.plain_write``). Printed per run: both rates and their ratio; then the median
ratio [target >= 0.25].

``--profile`` runs one more import under cProfile and prints where its time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _calibrate

ROOT = Path(__file__).resolve().parents[1]
SERVER = "postgres://postgres@127.0.0.1:5432/"
DBNAME = "medvigil_bench_import"
TARGET_RATIO = 0.25


def _environment(db: str, dbname: str) -> str | None:
    """Point Django at a new database; return its PostgreSQL URL (None on SQLite)."""
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medvigil.settings")
    os.environ.setdefault("MEDVIGIL_DEV", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    tmp = tempfile.mkdtemp(prefix="medvigil-bench-import-")
    os.environ.setdefault("MEDIA_ROOT", tmp)
    if db == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        return None
    server = os.environ.get("DATABASE_URL", SERVER).rsplit("/", 1)[0]
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{dbname}"')
    os.environ["DATABASE_URL"] = f"{server}/{dbname}"
    return os.environ["DATABASE_URL"]


def _setup() -> tuple[Any, Any]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from medvigil.accounts.models import Role, User
    from medvigil.trace import services
    from medvigil.trace.models import RiskClass, gtin_check_digit

    user = User.objects.create_user(username="bench-quality", password="bench-password-1")
    user.roles.set(Role.objects.filter(code="quality"))
    payload = "0690999000001"
    product = services.create_product(
        code="BENCH-P",
        name="监护仪",
        model_spec="M1",
        manufacturer="医械科技有限公司",
        risk_class=RiskClass.III,
        gtin=payload + str(gtin_check_digit(payload)),
        warranty_months=12,
    )
    return User.objects.get(pk=user.pk), product


def one_run(user: Any, product: Any, rows: int, n: int, profile: bool = False) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection

    from medvigil.core.imports import create_batch, process_batch
    from medvigil.trace import services
    from medvigil.trace.models import Unit

    lot = services.create_lot(
        product=product,
        lot_number=f"IMP-{n:03d}",
        production_date=dt.date(2026, 1, 5),
        quantity=rows,
        production_record=f"DHR-IMP-{n:03d}",
    )
    buf = io.StringIO()
    buf.write("产品,出厂编号,批号,生产日期\n")
    for i in range(rows):
        buf.write(f"{product.gtin},IMP{n:03d}-{i:07d},{lot.lot_number},2026-01-05\n")
    batch = create_batch(
        user=user,
        kind="units",
        uploaded=SimpleUploadedFile("units.csv", buf.getvalue().encode()),
        run=False,
    )
    profiler = cProfile.Profile() if profile else None
    t = time.perf_counter()
    if profiler:
        profiler.enable()
    process_batch(batch.pk)
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - t
    batch.refresh_from_db()
    assert batch.status == "imported", (batch.status, batch.message, batch.errors_preview[:3])
    written = _calibrate.rows_of(connection, Unit._meta.db_table, "lot_id = %s", [lot.pk])
    assert len(written) == rows, len(written)
    plain = _calibrate.plain_write(connection, Unit._meta.db_table, written)
    return {
        "import": rows / elapsed,
        "plain": rows / plain,
        "ratio": plain / elapsed,
        "profiler": profiler,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["pg", "sqlite"], default="pg")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--dbname", default=DBNAME, help="PostgreSQL database (made anew)")
    args = parser.parse_args()
    pg_url = _environment(args.db, args.dbname)
    _calibrate.print_calibration(pg_url or os.environ.get("CALIBRATE_PG_URL"))
    user, product = _setup()
    from django.db import connection

    plain_way = "COPY" if connection.vendor == "postgresql" else "executemany"
    print(f"database: {connection.vendor}, {args.rows:,} units per import, {args.runs} runs")
    ratios = []
    for n in range(1, args.runs + 1):
        r = one_run(user, product, args.rows, n)
        ratios.append(r["ratio"])
        print(
            f"run {n}: import {r['import']:9,.0f} rows/s   plain {plain_way} "
            f"{r['plain']:9,.0f} rows/s   ratio {r['ratio']:.3f}",
            flush=True,
        )
    if args.profile:
        r = one_run(user, product, args.rows, args.runs + 1, profile=True)
        out = io.StringIO()
        stats = pstats.Stats(r["profiler"], stream=out)
        stats.sort_stats("cumulative").print_stats(40)
        print(out.getvalue())
    ratio = statistics.median(ratios)
    verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
    print(
        f"ratio import/plain {plain_way} (median of {args.runs}): {ratio:.3f} "
        f"[target >= {TARGET_RATIO}: {verdict}]"
    )


if __name__ == "__main__":
    main()
