#!/usr/bin/env python
"""Requests per second under the production server, as a ratio to the framework's floor.

    .venv/bin/python benchmarks/requests.py [--lots 1000] [--seconds 10] [--connections 8]
                                            [--workers N] [--threads N]
                                            [--client auto|wrk|python]

1. PostgreSQL database ``--dbname`` [medvigil_bench_requests] on DATABASE_URL's server,
   made and migrated if missing, filled (once) by benchmarks/trace.py's generator at
   ``--lots``/10,000 of its size — with the default 1,000 lots: 100 products, 100,000 units,
   10,000 customers, 200,000 sale lines, 10,000 installations and the units' 100,000 audit
   entries and chain heads (the full 1,000,000 units take minutes to generate; the pages and
   lookups measured here are index lookups whose cost barely depends on the table size).
2. The production server: ``medvigil serve --workers N --no-worker`` (gunicorn, one process
   per core by default) with ``DJANGO_SETTINGS_MODULE=bench_floor_settings``
   (benchmarks/floor/): MedVigil's settings plus one bare view, /bench/floor, that only this
   benchmark installs.
3. A load generator at ``--connections`` keep-alive connections for ``--seconds`` per
   endpoint (after a 2 s warm-up): wrk where installed (Debian package ``wrk``), else a
   bounded Python client (one thread per connection, http.client with keep-alive; it needs
   more CPU than wrk, on the same machine, so its figures are lower).
   * floor: ``GET /bench/floor`` (measured first and last; the mean is the floor);
   * ``GET /api/v1/me`` with an API token (``Authorization: Bearer``);
   * unit lookup by UDI: ``GET /api/v1/trace/units/lookup?code=(01)…(10)…(21)…`` of random
     units, token; beside it the raw SQL index lookup of the same units (psycopg, one
     connection per thread, ``--connections`` threads, no HTTP, no Django);
   * list page: ``GET /trace/units/`` (signed-in session, first page of 100,000 units);
   * record page: ``GET /trace/units/<id>/`` of random units (session).
4. Printed: the calibration line (benchmarks/_calibrate.py), req/s, p50 and p99 of each,
   ratios, and as the last line ``ratio app/floor: X.XX`` for ``/api/v1/me``.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import _calibrate

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
# This file is named like the HTTP library: take benchmarks/ off the path so that no
# `import requests` elsewhere finds it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
FLOOR = HERE / "floor"  # bench_floor_settings and its URLconf, for the server only
SERVER = "postgres://postgres@127.0.0.1:5432/"
DBNAME = "medvigil_bench_requests"
TARGET_ME_RATIO = 0.25


def _bench_trace() -> Any:
    """benchmarks/trace.py as a module (not `import trace`: the standard library has one)."""
    spec = importlib.util.spec_from_file_location("bench_trace", HERE / "trace.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _prepare(dbname: str, lots: int) -> str:
    server = os.environ.get("DATABASE_URL", SERVER).rsplit("/", 1)[0]
    url = f"{server}/{dbname}"
    os.environ["DATABASE_URL"] = url
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medvigil.settings")
    os.environ.setdefault("MEDVIGIL_DEV", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="medvigil-bench-media-"))
    bt = _bench_trace()
    scale = lots / bt.N_LOTS
    bt.N_LOTS = lots
    bt.N_DEALERS = max(10, round(bt.N_DEALERS * scale))
    bt.N_HOSPITALS = max(50, round(bt.N_HOSPITALS * scale))
    bt._prepare_database(regenerate=False)
    bt._setup_django()
    if bt._has_data():
        print(f"bench data found in {dbname}")
    else:
        print(f"generating bench data ({lots:,} lots) with benchmarks/trace.py ...", flush=True)
        bt._generate()
    return url


def _credentials() -> tuple[str, str, str]:
    """An API token and a session cookie of a quality engineer (made in this process, in the
    same database the server reads)."""
    from django.conf import settings
    from django.test import Client

    from medvigil.accounts.models import APIToken, Role, User

    user = User.objects.filter(username="bench-requests").first()
    if user is None:
        user = User.objects.create_user(username="bench-requests", password="bench-password-1")
        user.roles.set(Role.objects.filter(code="quality"))
    _token, raw = APIToken.issue(user, f"bench {time.strftime('%H%M%S')}")
    client = Client()
    client.force_login(user)
    return raw, settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value


def _samples(n: int) -> tuple[list[str], list[tuple[str, str]], list[int]]:
    """Lookup paths (UDI text of random units), their (udi_di, serial) and random unit ids."""
    from urllib.parse import quote

    from medvigil.trace.models import Unit

    top = Unit.objects.order_by("-id").values_list("id", flat=True).first() or 1
    ids = random.Random(5).sample(range(1, top + 1), min(n, top))
    units = list(
        Unit.objects.filter(pk__in=ids).values_list("id", "udi_di", "serial", "lot__lot_number")
    )
    paths = [
        "/api/v1/trace/units/lookup?code=" + quote(f"(01){g}(10){lot}(21){s}")
        for _i, g, s, lot in units
    ]
    return paths, [(g, s) for _i, g, s, _lot in units], [i for i, *_ in units]


# --- the server -------------------------------------------------------------------------------


def _start_server(port: int, workers: int, threads: int | None = None) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench_floor_settings",
        "PYTHONPATH": os.pathsep.join([str(FLOOR), str(ROOT / "src")]),
        "PYTHONUNBUFFERED": "1",
    }
    argv = [sys.executable, "-m", "medvigil.cli", "serve", "--no-worker", "--port", str(port)]
    argv += ["--workers", str(workers)]
    if threads:
        argv += ["--threads", str(threads)]
    log = open(Path(tempfile.gettempdir()) / f"medvigil-bench-serve-{port}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(  # noqa: S603
        argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited with code {proc.returncode}; see {log.name}")
        text = Path(log.name).read_text()
        if "MedVigil is at" in text:
            print("server: " + " ".join(argv[2:]))
            print("        " + next(ln for ln in text.splitlines() if ln.startswith("Web server")))
            return proc
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    sys.exit(f"the server did not start; see {log.name}")


def _stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _check(port: int, path: str, headers: dict[str, str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    if resp.status != 200:
        sys.exit(f"GET {path} answered {resp.status}: {body[:300]!r}")


# --- load generators ---------------------------------------------------------------------------


class Result:
    def __init__(self, rps: float, p50: float, p99: float, errors: int, n: int) -> None:
        self.rps, self.p50, self.p99, self.errors, self.n = rps, p50, p99, errors, n


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    assert m, text
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]


def _wrk(
    port: int, paths: list[str], headers: dict[str, str], seconds: float, conns: int
) -> Result:
    lua = ["local paths = {" + ", ".join(f'"{p}"' for p in paths) + "}"]
    lua += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    lua += [
        "request = function()",
        "  return wrk.format(nil, paths[math.random(#paths)])",
        "end",
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write("\n".join(lua) + "\n")
    try:
        out = subprocess.run(  # noqa: S603
            [
                shutil.which("wrk") or "wrk",
                "-t",
                str(min(2, conns)),
                "-c",
                str(conns),
                "-d",
                f"{seconds:g}s",
                "--timeout",
                "30s",
                "--latency",
                "-s",
                f.name,
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(f.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    dist = dict(re.findall(r"^\s+(\d+)%\s+(\S+)\s*$", out, re.M))
    n = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    sock = re.search(r"Socket errors: (.*)", out)
    if sock:
        errors += sum(int(x) for x in re.findall(r"\d+", sock.group(1)))
    if "50" not in dist or "99" not in dist:  # no request finished in time
        print(out, file=sys.stderr)
        return Result(rps, float("nan"), float("nan"), errors, n)
    return Result(rps, _ms(dist["50"]), _ms(dist["99"]), errors, n)


def _python_client(
    port: int, paths: list[str], headers: dict[str, str], seconds: float, conns: int
) -> Result:
    latencies: list[list[float]] = [[] for _ in range(conns)]
    errors = [0] * conns
    start = threading.Barrier(conns + 1)
    end_at = [0.0]

    def run(i: int) -> None:
        rnd = random.Random(i)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start.wait()
        mine = latencies[i]
        while True:
            t = time.perf_counter()
            if t >= end_at[0]:
                break
            try:
                conn.request("GET", rnd.choice(paths), headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status >= 400:
                    errors[i] += 1
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append((time.perf_counter() - t) * 1000)
        conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(conns)]
    for th in threads:
        th.start()
    t0 = time.perf_counter()
    end_at[0] = t0 + seconds
    start.wait()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t0
    every = sorted(x for lat in latencies for x in lat)
    if not every:
        return Result(0.0, 0.0, 0.0, sum(errors), 0)
    p99 = every[min(len(every) - 1, int(0.99 * len(every)))]
    return Result(len(every) / elapsed, statistics.median(every), p99, sum(errors), len(every))


def _raw_lookup(url: str, keys: list[tuple[str, str]], seconds: float, conns: int) -> Result:
    """The UDI lookup the plainest way: the same units by the same index (udi_di, serial),
    one psycopg connection per thread, as many threads as connections."""
    import psycopg

    latencies: list[list[float]] = [[] for _ in range(conns)]
    start = threading.Barrier(conns + 1)
    end_at = [0.0]

    def run(i: int) -> None:
        rnd = random.Random(i)
        with psycopg.connect(url, autocommit=True) as conn:
            start.wait()
            mine = latencies[i]
            while True:
                t = time.perf_counter()
                if t >= end_at[0]:
                    break
                g, s = rnd.choice(keys)
                row = conn.execute(
                    "SELECT id, lot_id, serial, status FROM trace_unit "
                    "WHERE udi_di = %s AND serial = %s",
                    [g, s],
                ).fetchone()
                assert row is not None
                mine.append((time.perf_counter() - t) * 1000)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(conns)]
    for th in threads:
        th.start()
    t0 = time.perf_counter()
    end_at[0] = t0 + seconds
    start.wait()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t0
    every = sorted(x for lat in latencies for x in lat)
    p99 = every[min(len(every) - 1, int(0.99 * len(every)))]
    return Result(len(every) / elapsed, statistics.median(every), p99, 0, len(every))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dbname", default=DBNAME)
    parser.add_argument("--lots", type=int, default=1000, help="trace.py's data at lots/10,000")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    parser.add_argument("--threads", type=int, default=None, help="default: serve's own")
    parser.add_argument("--port", type=int, default=18137)
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    args = parser.parse_args()
    url = _prepare(args.dbname, args.lots)
    _calibrate.print_calibration(url)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM trace_unit), (SELECT count(*) FROM trace_lot)")
        n_units, n_lots = cur.fetchone()
    print(f"data: {n_units:,} units in {n_lots:,} lots")
    token, cookie_name, session = _credentials()
    lookups, keys, unit_ids = _samples(1000)
    connection.close()
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
    drive = _wrk if use_wrk else _python_client
    print(
        f"load: {'wrk' if use_wrk else 'Python client'}, {args.connections} connections, "
        f"{args.seconds:g} s per endpoint"
    )
    bearer = {"Authorization": f"Bearer {token}"}
    cookie = {"Cookie": f"{cookie_name}={session}"}
    endpoints: list[tuple[str, list[str], dict[str, str]]] = [
        ("floor (bare Django view)", ["/bench/floor"], {}),
        ("/api/v1/me (token)", ["/api/v1/me"], bearer),
        ("unit lookup by UDI (API, token)", lookups, bearer),
        ("list page /trace/units/ (session)", ["/trace/units/"], cookie),
        ("record page /trace/units/<id>/", [f"/trace/units/{i}/" for i in unit_ids], cookie),
        ("floor again", ["/bench/floor"], {}),
    ]
    workers = args.workers or (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )
    server = _start_server(args.port, workers, args.threads)
    results: dict[str, Result] = {}
    try:
        for label, paths, headers in endpoints:
            _check(args.port, paths[0], headers)
            drive(args.port, paths, headers, 2.0, args.connections)  # warm-up
            r = drive(args.port, paths, headers, args.seconds, args.connections)
            results[label] = r
            note = f"   ERRORS {r.errors}" if r.errors else ""
            print(
                f"{label:<36} {r.rps:9,.1f} req/s   p50 {r.p50:7.2f} ms   "
                f"p99 {r.p99:7.2f} ms{note}",
                flush=True,
            )
    finally:
        _stop_server(server)
    raw = _raw_lookup(url, keys, args.seconds, args.connections)
    print(
        f"{'raw SQL index lookup (psycopg)':<36} {raw.rps:9,.1f} q/s     p50 {raw.p50:7.2f} ms   "
        f"p99 {raw.p99:7.2f} ms"
    )
    floor = (results["floor (bare Django view)"].rps + results["floor again"].rps) / 2
    me = results["/api/v1/me (token)"].rps
    lookup = results["unit lookup by UDI (API, token)"].rps
    print(f"floor (mean of first and last): {floor:,.1f} req/s")
    print(f"ratio lookup API / raw SQL lookup: {lookup / raw.rps:.3g}")
    print(f"ratio lookup / floor: {lookup / floor:.2f}")
    print(
        f"ratio list page / me: {results['list page /trace/units/ (session)'].rps / me:.2f}  "
        f"record page / me: {results['record page /trace/units/<id>/'].rps / me:.2f}  "
        "[target >= 0.5]"
    )
    verdict = "met" if me / floor >= TARGET_ME_RATIO else "MISSED"
    print(f"[target app/floor >= {TARGET_ME_RATIO}: {verdict}]")
    print(f"ratio app/floor: {me / floor:.2f}")


if __name__ == "__main__":
    main()
