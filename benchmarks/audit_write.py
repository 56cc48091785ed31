#!/usr/bin/env python
"""Audited write throughput (PLAT-2): how much does the audit trail cost per record created,
and do concurrent writers scale?

    .venv/bin/python benchmarks/audit_write.py [--seconds 5] [--writers 4] [--rounds 3] [--fresh]

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/medvigil_bench; the script
creates that database if it is missing (``--fresh`` drops and recreates it) and migrates it
with Django's ``migrate``. A SQLite URL works too (expect no gain from more writers there:
SQLite has one writer at a time).

What is measured: writers are separate processes (no shared GIL), each creating
``accounts.Department`` rows with codes of its own, one row per transaction, for a fixed
duration after a common start barrier (and after a short warm-up). Four runs:

* audited, 1 writer and N writers: ``Department(...).save()`` — the normal path,
  ``AuditedModel.save`` inside its own transaction, writing the row, its audit entry
  (field-by-field, HMAC-chained) and its chain head (on PostgreSQL in one statement).
* plain, 1 writer and N writers — the non-audited twin: the same ``Department(...)``
  instance saved with ``django.db.models.Model.save(obj)`` inside ``transaction.atomic()``,
  i.e. exactly the Django insert that ``AuditedModel.save`` wraps, without the audit.

Printed: creations per second for each round and their medians, the throughput the audit
costs (``1 - audited_rate / plain_rate``; the issue's target: "audit costs no more than 30 %
of throughput"), the extra time per creation (``plain_rate / audited_rate - 1``, for
reference), and whether N writers beat 1 writer (target: yes, on PostgreSQL). Run it on a quiet
machine: other load on the CPUs shows up as noise (rounds are interleaved to share it).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/medvigil_bench"
TARGET_COST = 30.0  # % of throughput
WARMUP = 20


def _environment() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medvigil.settings")
    os.environ.setdefault("MEDVIGIL_DEV", "1")
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def _prepare_database(fresh: bool) -> None:
    """Create (or recreate) the PostgreSQL database, then migrate it."""
    import dj_database_url

    cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
    if cfg["ENGINE"].endswith("postgresql"):
        import psycopg
        from psycopg import sql

        admin = psycopg.connect(
            host=cfg.get("HOST") or None,
            port=cfg.get("PORT") or None,
            user=cfg.get("USER") or None,
            password=cfg.get("PASSWORD") or None,
            dbname="postgres",
            autocommit=True,
        )
        with admin:
            name = cfg["NAME"]
            exists = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if exists and fresh:
                admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
                exists = None
            if not exists:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    elif fresh and cfg["NAME"] and Path(cfg["NAME"]).exists():
        for suffix in ("", "-wal", "-shm"):
            Path(cfg["NAME"] + suffix).unlink(missing_ok=True)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from django.db import connections

    connections.close_all()


def _writer(
    mode: str, tag: str, seconds: float, barrier: Any, results: Any, index: int
) -> None:  # runs in a child process
    _environment()
    import django

    django.setup()
    from django.db import connection, models, transaction

    from medvigil.accounts.models import Department
    from medvigil.core.audit import audit_context

    def create(i: int) -> None:
        code = f"{tag}-{index}-{i}"
        obj = Department(code=code, name_zh=f"部门 {code}", name_en=f"Department {code}")
        if mode == "audited":
            obj.save()  # AuditedModel.save: its own transaction, row + entry + chain head
        else:
            with transaction.atomic():
                models.Model.save(obj)  # the same insert, without the audit

    with audit_context(actor_name="system:benchmark", source="benchmark"):
        i = 0
        for _ in range(WARMUP):
            create(i)
            i += 1
        barrier.wait()
        start = time.perf_counter()
        deadline = start + seconds
        done = 0
        while time.perf_counter() < deadline:
            create(i)
            i += 1
            done += 1
        elapsed = time.perf_counter() - start
    connection.close()
    results.put((index, done, elapsed))


def run(mode: str, writers: int, seconds: float) -> float:
    """Creations per second of `writers` concurrent processes in `mode`."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(writers)
    results = ctx.Queue()
    tag = f"b{uuid.uuid4().hex[:8]}{mode[0]}{writers}"
    procs = [
        ctx.Process(target=_writer, args=(mode, tag, seconds, barrier, results, k))
        for k in range(writers)
    ]
    for p in procs:
        p.start()
    rows = [results.get(timeout=seconds + 300) for _ in procs]
    for p in procs:
        p.join()
        if p.exitcode:
            raise SystemExit(f"a {mode} writer failed (exit code {p.exitcode})")
    total = sum(r[1] for r in rows)
    window = max(r[2] for r in rows)
    return total / window


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each run")
    parser.add_argument("--writers", type=int, default=4, help="concurrent writers to compare")
    parser.add_argument("--rounds", type=int, default=3, help="repeat and take the median")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database")
    args = parser.parse_args()

    _environment()
    _prepare_database(args.fresh)
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"database: {engine} {settings.DATABASES['default']['NAME']}")
    print(f"cpus: {os.cpu_count()}, run: {args.seconds:g} s each, rounds: {args.rounds}")
    import _calibrate

    if engine == "postgresql":
        _calibrate.print_calibration(os.environ["DATABASE_URL"])
    else:
        _calibrate.print_calibration(os.environ.get("CALIBRATE_PG_URL"))

    # Rounds are the outer loop and each round runs plain and audited back to back, so a
    # machine that gets busier or quieter during the run affects both sides alike; the
    # overhead is the median of the per-round (paired) figures.
    samples: dict[tuple[str, int], list[float]] = {}
    counts = (1, args.writers)
    for r in range(args.rounds):
        line = []
        for n in counts:
            for mode in ("plain", "audited"):
                rate = run(mode, n, args.seconds)
                samples.setdefault((mode, n), []).append(rate)
                line.append(f"{mode} x{n}: {rate:7.1f}/s")
        print(f"  round {r + 1}: " + ", ".join(line), flush=True)

    print()
    for n in counts:
        for mode in ("plain", "audited"):
            rate = statistics.median(samples[mode, n])
            print(f"{mode:8s} {n} writer(s): {rate:8.1f} creations/s (median)")
    print()
    ok = True
    for n in counts:
        pairs = list(zip(samples["plain", n], samples["audited", n], strict=True))
        overhead = statistics.median((p / a - 1) * 100 for p, a in pairs)
        lost = statistics.median((1 - a / p) * 100 for p, a in pairs)
        cost_ms = statistics.median((1000 / a - 1000 / p) * n for p, a in pairs)
        met = lost <= TARGET_COST
        ok &= met
        print(
            f"audit cost, {n} writer(s): {lost:4.1f} % of throughput "
            f"- target <= {TARGET_COST:.0f} %: {'met' if met else 'MISSED'} "
            f"({overhead:.1f} % more time per creation, +{cost_ms:.2f} ms per creation "
            f"per writer)"
        )
    scale = statistics.median(
        b / a for a, b in zip(samples["audited", 1], samples["audited", args.writers], strict=True)
    )
    beats = scale > 1
    ok &= beats
    print(
        f"{args.writers} audited writers vs 1: x{scale:.2f} - "
        f"{'beats 1 writer' if beats else 'does NOT beat 1 writer'}"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
