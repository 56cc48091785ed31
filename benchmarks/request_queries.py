#!/usr/bin/env python
"""Queries and time of one request, and what PostgreSQL prepared statements change
(issue #13 items 1 and 3).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/medvigil_bench_requests \\
        .venv/bin/python benchmarks/request_queries.py [--requests 200] [--rounds 5]
        [--src PATH]

Creates the database if it is missing, migrates it and loads the demo data once. Then, in
one process, through Django's test client (the whole middleware stack, no HTTP server):

* GET /api/v1/me with an API token (the quality engineer's),
* GET of a unit's page (/trace/units/<id>/) with a signed-in session,

each ``--requests`` times per round, in every database mode below, the modes interleaved
round by round (``--rounds``) so that the machine's load falls on all of them alike:

* ``client``: Django's default, parameters bound client-side, nothing prepared (what
  settings.py used before issue #13);
* ``server``: ``server_side_binding`` — parameters sent apart, nothing prepared;
* ``prepared``: ``server_side_binding`` and ``prepare_threshold=1`` — a statement is
  prepared on its second run on a connection and then only executed.

Printed per request and mode: the number of queries, the median and p95 wall time (ms), and
the CPU time per request of this process plus its PostgreSQL backend (read from /proc when
the server is on this machine) — on a loaded machine wall times include the wait for a core,
CPU time is the work done — each with its ratio to ``client``. ``--src`` runs another
checkout's code (e.g. an export of main, for the permission queries before issue #13)
against its own DATABASE_URL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/medvigil_bench_requests"
MODES: dict[str, dict[str, Any]] = {
    "client": {"prepare_threshold": None},
    "server": {"server_side_binding": True, "prepare_threshold": None},
    "prepared": {"server_side_binding": True, "prepare_threshold": 1},
}


def _environment(src: Path) -> None:
    sys.path.insert(0, str(src))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medvigil.settings")
    os.environ.setdefault("MEDVIGIL_DEV", "1")
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="medvigil-bench-media-"))
    os.environ.setdefault("MEDVIGIL_DATA_DIR", tempfile.mkdtemp(prefix="medvigil-bench-data-"))


def _ensure_database() -> None:
    import psycopg
    from django.conf import settings

    s = settings.DATABASES["default"]
    if not s["ENGINE"].endswith("postgresql"):
        sys.exit("request_queries.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    params = {k: v for k, v in (("host", s["HOST"]), ("port", s["PORT"])) if v}
    with psycopg.connect(
        dbname="postgres", user=s["USER"], password=s["PASSWORD"] or None, autocommit=True, **params
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [s["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{s["NAME"]}"')


def _setup() -> tuple[str, Any]:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from medvigil.accounts.models import APIToken, User
    from medvigil.trace.models import Unit

    if not Unit.objects.exists():
        from medvigil.accounts.demo import load_all

        load_all()
    user = User.objects.get(username="qe") if User.objects.filter(username="qe").exists() else None
    if user is None:
        from medvigil.accounts.models import Role

        user = User.objects.create_user(username="qe", password="Bench-Password-1")
        user.roles.set(Role.objects.filter(code="quality"))
        user = User.objects.get(pk=user.pk)
    _token, raw = APIToken.issue(user, "benchmark")
    unit = Unit.objects.order_by("pk").first()
    assert unit is not None
    return raw, (user, unit)


def _use_mode(mode: str) -> None:
    from django.db import connection

    connection.close()
    options = connection.settings_dict.setdefault("OPTIONS", {})
    options.pop("server_side_binding", None)
    options.update(MODES[mode])
    if options.get("prepare_threshold") is None:
        # settings.py's own value (the audit trail's explicit preparation needs one)
        options["prepare_threshold"] = 2**31 - 1
    connection.ensure_connection()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process on this machine (the PostgreSQL backend)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _time(
    client: Any, path: str, n: int, headers: dict[str, str]
) -> tuple[list[float], int, float]:
    """Wall times (ms) of n requests, the queries of one, and the CPU time per request (ms) of
    this process plus its PostgreSQL backend: the work done, whatever else the machine runs
    (wall times on a loaded machine include the wait for a core)."""
    from django.db import connection

    for _ in range(5):  # warm: caches, prepared statements
        resp = client.get(path, **headers)
        assert resp.status_code == 200, (path, resp.status_code)
    connection.queries_log.clear()
    connection.force_debug_cursor = True
    try:
        client.get(path, **headers)
        count = len(connection.queries_log)
    finally:
        connection.force_debug_cursor = False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    local = Path(f"/proc/{backend}/stat").exists()
    cpu_start = time.process_time() + (_cpu_seconds(backend) if local else 0.0)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        client.get(path, **headers)
        times.append((time.perf_counter() - start) * 1000)
    cpu = time.process_time() + (_cpu_seconds(backend) if local else 0.0) - cpu_start
    return times, count, cpu * 1000 / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--src", type=Path, default=ROOT / "src")
    args = parser.parse_args()
    _environment(args.src.resolve())
    import django

    django.setup()
    _ensure_database()
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    raw, (user, unit) = _setup()
    session = Client()
    session.force_login(user)
    requests = {
        "GET /api/v1/me (token)": (Client(), "/api/v1/me", {"HTTP_AUTHORIZATION": f"Bearer {raw}"}),
        "GET unit page (session)": (session, unit.get_absolute_url(), {}),
    }
    modes = args.modes.split(",")
    times: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    queries: dict[tuple[str, str], int] = {}
    for rnd in range(args.rounds):
        for mode in modes[rnd % len(modes) :] + modes[: rnd % len(modes)]:
            _use_mode(mode)
            for label, (client, path, headers) in requests.items():
                t, q, c = _time(client, path, args.requests, headers)
                times.setdefault((label, mode), []).extend(t)
                cpu.setdefault((label, mode), []).append(c)
                queries[(label, mode)] = q
    import platform

    print(f"# {platform.node()}, {os.cpu_count()} cores, source {args.src}")
    print(f"# {args.rounds} rounds x {args.requests} requests per mode, modes interleaved")
    for label in requests:
        print(label)
        base = statistics.median(times[(label, modes[0])])
        base_cpu = statistics.median(cpu[(label, modes[0])])
        for mode in modes:
            t = sorted(times[(label, mode)])
            p50 = statistics.median(t)
            p95 = t[int(len(t) * 0.95) - 1]
            c = statistics.median(cpu[(label, mode)])
            print(
                f"  {mode:9} {queries[(label, mode)]:3d} queries  p50 {p50:6.2f} ms  "
                f"p95 {p95:6.2f} ms  x{p50 / base:.2f}  |  CPU {c:6.2f} ms/request "
                f"(app + PostgreSQL backend)  x{c / base_cpu:.2f} of {modes[0]}"
            )


if __name__ == "__main__":
    main()
