#!/usr/bin/env python
"""CPU of one complaint intake, in process, beside the bare authenticated request (issue #9).

    DATABASE_URL=postgres://…/mv_fbkana_bench .venv/bin/python benchmarks/intake_profile.py
        [--requests 200] [--rounds 2] [--sql] [--profile] [--top 40]

Uses the database that benchmarks/complaints.py made (run that first). Through Django's test
client (the whole middleware stack, no HTTP server), with the bench quality user's Bearer
token, it alternates ``--rounds`` times: ``--requests`` of ``GET /api/v1/me`` and as many of
``POST /api/v1/complaints`` (the body complaints.py sends), and prints for each the CPU time
per request of this thread and of the PostgreSQL backend serving it (from /proc), their sum
and the ratio bare ÷ intake — what complaints.py's "CPU bound" reads, without a server, the
client or the other sessions' load in the figure. ``--sql`` prints the statements of one
intake; ``--profile`` a cProfile of the intakes (cumulative and own time, ``--top`` lines)."""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")


def _backend_cpu(pid: int) -> float:
    text = Path(f"/proc/{pid}/stat").read_text()
    f = text[text.rindex(")") + 2 :].split()
    return (int(f[11]) + int(f[12])) / TICK


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sql", action="store_true", help="print the statements of one intake")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--dump", help="with --profile: also write the pstats file here")
    args = parser.parse_args()
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
    from medvigil.trace.models import Product

    if connection.vendor != "postgresql":
        sys.exit("needs the PostgreSQL bench database of benchmarks/complaints.py")
    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False
    user = User.objects.filter(username="bench-quality").first()
    if user is None:
        sys.exit("no bench user: run benchmarks/complaints.py on this database first")
    products = list(
        Product.objects.filter(code__startswith="BENCH-C-P-").values_list("pk", flat=True)
    )
    _token, raw = APIToken.issue(user, "intake_profile")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    counter = iter(range(10**9))

    def me() -> None:
        assert client.get("/api/v1/me").status_code == 200

    def intake() -> None:
        i = next(counter)
        body = {
            "channel": "phone",
            "title": f"profile intake {i}",
            "description": "输注泵堵塞报警未响, 未影响患者。",
            "complainant_organisation": "人民医院",
            "product_id": products[(i * 7919) % len(products)],
            "category": "product_quality",
            "patient_involvement": "no_harm",
        }
        resp = client.post("/api/v1/complaints", json.dumps(body), content_type="application/json")
        assert resp.status_code == 201, resp.content[:500]

    for _ in range(10):  # warm: connection, permission cache, prepared statements
        me()
        intake()
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        (backend,) = cur.fetchone()
    queries: list[str] = []

    def log(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries.append(sql)
        return execute(sql, params, many, context)

    # (CaptureQueriesContext sees nothing: request_started empties the query log)
    with connection.execute_wrapper(log):
        intake()
    print(f"load {os.getloadavg()[0]:.1f}; one intake: {len(queries)} statements")
    if args.sql:
        for sql in queries:
            print(f"    {sql[:240]}")

    def measure(fn: object) -> tuple[float, float]:
        pg0, py0 = _backend_cpu(backend), time.thread_time()
        for _ in range(args.requests):
            fn()  # type: ignore[operator]
        py = (time.thread_time() - py0) * 1000 / args.requests
        return py, (_backend_cpu(backend) - pg0) * 1000 / args.requests

    for r in range(args.rounds):
        me_py, me_pg = measure(me)
        in_py, in_pg = measure(intake)
        print(
            f"round {r + 1}: /me {me_py:5.2f} + {me_pg:4.2f} ms   intake {in_py:6.2f} + "
            f"{in_pg:5.2f} ms (Python + PostgreSQL CPU per request)   ratio "
            f"{(me_py + me_pg) / (in_py + in_pg):.3f}   load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    if args.profile:
        prof = cProfile.Profile(time.thread_time)  # CPU time: waits and other processes left out
        prof.enable()
        for _ in range(args.requests):
            intake()
        prof.disable()
        if args.dump:
            prof.dump_stats(args.dump)
        for key in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(key).print_stats(args.top)
            print(out.getvalue())


if __name__ == "__main__":
    main()
