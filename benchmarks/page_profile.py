#!/usr/bin/env python
"""Server time of one page, in-process, and where it goes (issue #13: the pages' share of
`/me`).

    .venv/bin/python benchmarks/page_profile.py [--dbname medvigil_bench_requests]
        [--requests 200] [--profile] [--top 30] [PATH ...]

Uses the database that benchmarks/requests.py made (run that first, or pass its --dbname).
Through Django's test client (the whole middleware stack and the templates, no HTTP server),
signed in as requests.py's quality engineer, it requests each PATH (default: ``/api/v1/me``
with a token, the unit list ``/trace/units/`` and a unit's page) ``--requests`` times after
a warm-up and prints the median and p95 wall time and the queries of one request; the
ratio of each to `/me` is what requests.py's page target reads. ``--profile`` adds a cProfile
of the same requests per path (cumulative, ``--top`` lines)."""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = "postgres://postgres@127.0.0.1:5432/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dbname", default="medvigil_bench_requests")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sql", action="store_true", help="print the queries of one request")
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args()
    server = os.environ.get("DATABASE_URL", SERVER).rsplit("/", 1)[0]
    os.environ["DATABASE_URL"] = f"{server}/{args.dbname}"
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medvigil.settings")
    os.environ.setdefault("MEDVIGIL_DEV", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="medvigil-bench-media-"))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from medvigil.accounts.models import APIToken, User
    from medvigil.trace.models import Unit

    settings.ALLOWED_HOSTS = ["*"]
    user = User.objects.filter(username="bench-requests").first()
    if user is None:
        sys.exit("no bench user: run benchmarks/requests.py with this --dbname first")
    _token, raw = APIToken.issue(user, "page_profile")
    client = Client()
    client.force_login(user)
    unit = Unit.objects.order_by("pk")[500]
    paths = args.paths or ["/api/v1/me", "/trace/units/", f"/trace/units/{unit.pk}/"]
    print(f"load: {os.getloadavg()[0]:.1f}; {args.requests} requests per path")
    me_ms = me_cpu = None
    for path in paths:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"} if path.startswith("/api/") else {}
        for _ in range(10):
            resp = client.get(path, **headers)
            assert resp.status_code == 200, (path, resp.status_code)
        queries: list[str] = []

        def count(execute, sql, params, many, context, queries=queries):  # type: ignore[no-untyped-def]
            queries.append(sql)
            return execute(sql, params, many, context)

        # (CaptureQueriesContext sees nothing here: request_started empties the query log)
        with connection.execute_wrapper(count):
            client.get(path, **headers)
        if args.sql:
            for sql in queries:
                print(f"    {sql[:300]}")
        times, cpu_times = [], []
        for _ in range(args.requests):
            t, c = time.perf_counter(), time.thread_time()
            client.get(path, **headers)
            cpu_times.append((time.thread_time() - c) * 1000)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        med = statistics.median(times)
        cpu = statistics.median(cpu_times)
        me_ms = me_ms or med
        me_cpu = me_cpu or cpu
        # The CPU time (this thread's, without the database server's and without waiting for
        # a core) is the steadier figure on a loaded machine.
        print(
            f"{path:<32} median {med:6.2f} ms  p95 {times[int(0.95 * len(times))]:6.2f} ms  "
            f"cpu {cpu:6.2f} ms  {len(queries)} queries  /me-time ratio {me_ms / med:.3f}  "
            f"/me-cpu ratio {me_cpu / cpu:.3f}",
            flush=True,
        )
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(args.requests):
                client.get(path, **headers)
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(args.top)
            print(out.getvalue())
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(args.top)
            print(out.getvalue())


if __name__ == "__main__":
    main()
