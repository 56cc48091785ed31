"""Calibration of the machine a benchmark runs on, and the plainest way of doing its work.

Absolute figures move from machine to machine (and on a shared machine from minute to
minute); ratios measured in one run do not. Every script in benchmarks/ prints, beside its
figures, the line of ``calibration()``:

* ``python``: a fixed pure-Python loop (dict and string work, 1,000,000 iterations), best of
  3, as million iterations per second — the speed of one core for the interpreter;
* ``pg insert``: single-row INSERTs, one transaction (one WAL flush) each, for 3 seconds on
  one connection — with pgbench where installed, else psycopg in a loop (which adds the
  client's Python per statement); the speed of the database server and its disk;
* the cores, the load average (the machine may be shared) and PostgreSQL's version.

And for targets that are rates, the same work done the plainest way in the same run:
``plain_write()`` writes the given rows into a bare copy of a table (PostgreSQL: one
``COPY``; SQLite: one ``executemany``), in one transaction, and returns the seconds.

Imported by the scripts as ``import _calibrate`` (they run with benchmarks/ as sys.path[0]).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

PG_SECONDS = 3.0
CALIBRATION_TABLE = f"bench_calibrate_{os.getpid()}"  # several runs may share a database


def python_loop(n: int = 1_000_000, repeat: int = 3) -> float:
    """Million iterations per second of a fixed loop (best of `repeat`)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        d: dict[int, str] = {}
        acc = 0
        for i in range(n):
            key = i & 1023
            d[key] = f"{i:x}"
            acc += len(d[key]) + (i % 7)
        best = min(best, time.perf_counter() - t)
        assert acc > 0
    return n / best / 1e6


def _pg_parts(url: str) -> dict[str, str]:
    u = urlsplit(url)
    return {
        "host": u.hostname or "127.0.0.1",
        "port": str(u.port or 5432),
        "user": unquote(u.username or "postgres"),
        "password": unquote(u.password or ""),
        "dbname": (u.path or "/postgres").lstrip("/") or "postgres",
    }


def pg_insert_rate(url: str, seconds: float = PG_SECONDS) -> tuple[float, str, int]:
    """Single-row inserts per second on the database of `url` (a table of its own, made and
    dropped here), the tool that measured it, and the server version (e.g. 150020)."""
    import psycopg

    p = _pg_parts(url)
    conninfo = {k: v for k, v in p.items() if v}
    with psycopg.connect(**conninfo, autocommit=True) as conn:  # type: ignore[arg-type]
        version = conn.info.server_version
        conn.execute(f"DROP TABLE IF EXISTS {CALIBRATION_TABLE}")
        conn.execute(
            f"CREATE TABLE {CALIBRATION_TABLE} (id bigserial PRIMARY KEY, v integer, t text)"
        )
        try:
            pgbench = shutil.which("pgbench")
            if pgbench:
                with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
                    f.write(f"INSERT INTO {CALIBRATION_TABLE} (v, t) VALUES (1, 'calibration');\n")
                env = {**os.environ, "PGPASSWORD": p["password"]} if p["password"] else None
                try:
                    out = subprocess.run(  # noqa: S603
                        [
                            pgbench,
                            "-n",
                            "-c",
                            "1",
                            "-T",
                            str(int(seconds)),
                            "-f",
                            f.name,
                            "-h",
                            p["host"],
                            "-p",
                            p["port"],
                            "-U",
                            p["user"],
                            p["dbname"],
                        ],
                        capture_output=True,
                        text=True,
                        env=env,
                        timeout=seconds + 60,
                    )
                finally:
                    os.unlink(f.name)
                m = re.search(r"tps = ([\d.]+)", out.stdout)
                if m:
                    return float(m.group(1)), "pgbench", version
            n = 0
            t = time.perf_counter()
            end = t + seconds
            while time.perf_counter() < end:
                conn.execute(
                    f"INSERT INTO {CALIBRATION_TABLE} (v, t) VALUES (%s, 'calibration')", [n]
                )
                n += 1
            return n / (time.perf_counter() - t), "psycopg", version
        finally:
            conn.execute(f"DROP TABLE IF EXISTS {CALIBRATION_TABLE}")


def calibration(pg_url: str | None = None) -> str:
    """One line describing this machine now (see the module's docstring)."""
    parts = [f"python {python_loop():.2f} M loops/s"]
    if pg_url:
        try:
            rate, tool, version = pg_insert_rate(pg_url)
            parts.append(f"pg insert {rate:,.0f}/s ({tool}, PostgreSQL {version // 10000})")
        except Exception as exc:  # the figure is informative; say why it is missing
            parts.append(f"pg insert n/a ({type(exc).__name__}: {exc})")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    parts.append(f"cores {cpus}")
    if hasattr(os, "getloadavg"):
        parts.append("load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    return "calibration: " + ", ".join(parts)


def print_calibration(pg_url: str | None = None) -> str:
    line = calibration(pg_url)
    print(line, flush=True)
    return line


# --- the plainest way ------------------------------------------------------------------------


def plain_write(connection: Any, table: str, rows: Sequence[Sequence[Any]]) -> float:
    """Seconds to write `rows` (tuples in the column order of `table`) into a new bare copy of
    `table` — same columns, indexes, unique and check constraints; no trigger, no audit —
    in one transaction with its commit: PostgreSQL one COPY (rows streamed by psycopg),
    SQLite one executemany. `connection` is Django's; the copy is dropped afterwards."""
    from django.db import transaction

    plain = f"bench_plain_{table}"
    vendor = connection.vendor
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {plain}")
        if vendor == "postgresql":
            cur.execute(f"CREATE TABLE {plain} (LIKE {table} INCLUDING ALL)")
        else:
            cur.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
            ddl = cur.fetchone()[0]
            cur.execute(ddl.replace(f'"{table}"', f'"{plain}"', 1))
            cur.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                "AND sql IS NOT NULL",
                [table],
            )
            for name, sql in cur.fetchall():
                sql = sql.replace(f'"{name}"', f'"plain_{name}"', 1)
                cur.execute(sql.replace(f'"{table}"', f'"{plain}"', 1))
    try:
        t = time.perf_counter()
        with transaction.atomic():
            if vendor == "postgresql":
                connection.ensure_connection()
                raw = connection.connection.cursor()
                with raw.copy(f"COPY {plain} FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(rows[0]))
                with connection.cursor() as cur:
                    cur.executemany(f"INSERT INTO {plain} VALUES ({marks})", rows)
        return time.perf_counter() - t
    finally:
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {plain}")


def rows_of(connection: Any, table: str, where: str, params: Sequence[Any]) -> list[tuple]:
    """The rows of `table` matching `where`, all columns in table order (to write them again
    the plain way)."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY id", list(params))  # noqa: S608
        return [tuple(r) for r in cur.fetchall()]
