#!/usr/bin/env python
"""Complaints at scale (FBK-1, FBK-10, PLAT-10): intake through the API against a real server
process at 8 concurrent clients, beside that server's bare authenticated request; the "My
work" page and the complaint list filtered by state and product; the FBK-10 analysis and
early-warning queries.

    .venv/bin/python benchmarks/complaints.py [--regenerate] [--seconds 20] [--clients 8]
                                              [--samples 200] [--port 18391] [--drop]
                                              [--workers N] [--threads N] [--intake-only]

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/mv_fbkana_bench; the script
creates the database if missing (``--regenerate`` drops and recreates it), migrates it and,
if the bench data is not there yet, generates it by the RAW PATH of benchmarks/trace.py
(PostgreSQL COPY in one transaction, no ORM, no audit):

* 100 products; 1,000,000 complaints over four years, 96 % closed and the rest spread over
  the open states, with category, severity, department and product; one bench quality user
  owns 2,000 of them (400 open: the "My work" page); 200,000 investigations with a root-cause
  factor (the analysis by root cause).

Then it starts the production server, ``medvigil serve --workers N --no-worker`` (gunicorn, N
processes, default one per core, as benchmarks/requests.py does; ``--workers 1`` is the old
single waitress process), as a separate process on ``--port`` and measures with ``--clients``
client threads on keep-alive connections, each after a 2 s warm-up:

* bare: GET /api/v1/me with a Bearer token for ``--seconds`` — requests/s and p95;
* intake: POST /api/v1/complaints (a complaint with product and category: severity rules,
  routing, three problem notices, audit entries, notifications) for ``--seconds`` —
  requests/s and p95 [target: at least half the bare rate, p95 < 100 ms];
* for both, the CPU time per request of the server's processes, of the PostgreSQL backends
  serving them and of the client (from /proc): on a machine whose cores are all busy, the
  ratio of the two rates cannot exceed the inverse ratio of their CPU costs — printed as the
  "CPU bound" beside the measured ratio;
* pages, one client, ``--samples`` each, signed-in session: "My work" (/) and the complaint
  list filtered by state and product (/complaints/?status=…&product=…) [p95 < 150 ms];
``--intake-only`` stops there (for before/after runs). Then:

* in-process: the quarter analysis and the year-end summary over the 1,000,000 rows, and one
  early-warning scan (services.analysis), each timed; EXPLAIN of the quarter's GROUP BY.

The calibration line (benchmarks/_calibrate.py: Python loop speed, single-row PostgreSQL
commits per second, cores, load average) is printed first, so runs on different machines can
be compared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mv_fbkana_bench"

N_PRODUCTS = 100
N_COMPLAINTS = 1_000_000
N_INVESTIGATIONS = 200_000
MINE = 2_000  # complaints owned by the bench quality user
MARKER = "BENCH-C-P-0001"

TARGET_INTAKE_P95_MS = 100.0
TARGET_LIST_P95_MS = 150.0

OPEN = ["received", "routed", "evaluation", "investigation", "resolution", "replied"]
CATEGORIES = ["product_quality", "service_attitude", "installation", "delivery", "usage"]
SEVERITIES = ["general", "general", "general", "major", "serious"]
FACTORS = ["man", "machine", "material", "method", "environment", "measurement"]


def _environment(dbname: str | None) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medvigil.settings")
    os.environ.setdefault("MEDVIGIL_DEV", "1")
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="medvigil-bench-media-"))


def _admin() -> Any:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
    if not cfg["ENGINE"].endswith("postgresql"):
        sys.exit("benchmarks/complaints.py needs PostgreSQL (DATABASE_URL=postgres://...)")
    conn = psycopg.connect(
        host=cfg.get("HOST") or None,
        port=cfg.get("PORT") or None,
        user=cfg.get("USER") or None,
        password=cfg.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    )
    return conn, cfg["NAME"]


def _prepare_database(regenerate: bool) -> None:
    from psycopg import sql

    admin, name = _admin()
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and regenerate:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _drop_database() -> None:
    from django.db import connections
    from psycopg import sql

    connections.close_all()
    admin, name = _admin()
    with admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
    print(f"dropped database {name}")


def _setup_django() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


# --- generation (raw path: COPY, no audit) ---------------------------------------------------


class _Copier:
    """COPY rows of one model: values by attname, the other columns from field defaults
    (JSON defaults adapted as jsonb)."""

    def __init__(self, cursor: Any, model: Any, attnames: list[str]) -> None:
        from django.db.models import JSONField
        from django.utils import timezone
        from psycopg.types.json import Jsonb

        self.cursor = cursor
        fields = list(model._meta.concrete_fields)
        self.rest = [f for f in fields if f.attname not in attnames and not f.primary_key]
        now = timezone.now()

        def default(f: Any) -> Any:
            if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
                return now
            value = f.get_default()
            return Jsonb(value) if isinstance(f, JSONField) else value

        self.defaults = tuple(default(f) for f in self.rest)
        column = {f.attname: f.column for f in fields}
        cols = [column[a] for a in attnames] + [f.column for f in self.rest]
        self.sql = f"COPY {model._meta.db_table} ({', '.join(cols)}) FROM STDIN"

    def __enter__(self) -> _Copier:
        self._cm = self.cursor.copy(self.sql)
        self.copy = self._cm.__enter__()
        return self

    def row(self, *values: Any) -> None:
        self.copy.write_row(values + self.defaults)

    def __exit__(self, *exc: Any) -> None:
        self._cm.__exit__(*exc)


def _gtin(n: int) -> str:
    from medvigil.trace.models import gtin_check_digit

    payload = f"0690998{n:06d}"
    return payload + str(gtin_check_digit(payload))


def _has_data() -> bool:
    from medvigil.complaints.models import Feedback
    from medvigil.trace.models import Product

    return (
        Product.objects.filter(code=MARKER).exists()
        and Feedback.objects.filter(number__startswith="FBB-").count() >= N_COMPLAINTS
    )


def _user() -> Any:
    from medvigil.accounts.models import Department, Role, User

    user = User.objects.filter(username="bench-quality").first()
    if user is None:
        user = User.objects.create_user(username="bench-quality", password="bench-password-1")
        user.roles.set(Role.objects.filter(code="quality"))
        user.department = Department.objects.get(code="quality")
        user.save()
    return User.objects.get(pk=user.pk)


def _generate(user: Any) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from medvigil.accounts.models import Department
    from medvigil.complaints.models import Feedback, Investigation
    from medvigil.trace.models import Product

    rnd = random.Random(20261202)
    depts = list(Department.objects.values_list("pk", flat=True))
    t0 = time.perf_counter()
    now = timezone.now()
    span = 4 * 365 * 86400
    with transaction.atomic():
        connection.ensure_connection()
        cur = connection.connection.cursor()
        cur.execute("SELECT coalesce(max(id), 0) FROM trace_product")
        p0 = cur.fetchone()[0]
        with _Copier(
            cur, Product, ["id", "code", "name", "model_spec", "manufacturer", "risk_class", "gtin"]
        ) as c:
            for p in range(1, N_PRODUCTS + 1):
                c.row(
                    p0 + p,
                    f"BENCH-C-P-{p:04d}",
                    f"输注泵 {p}",
                    f"IP-{p:03d}",
                    "医械科技有限公司",
                    "III" if p % 2 else "II",
                    _gtin(p),
                )
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('trace_product', 'id'), {p0 + N_PRODUCTS})"
        )
        cur.execute("SELECT coalesce(max(id), 0) FROM complaints_feedback")
        f0 = cur.fetchone()[0]
        cols = [
            "id",
            "number",
            "kind",
            "channel",
            "received_at",
            "title",
            "description",
            "complainant_organisation",
            "product_id",
            "category",
            "severity",
            "severity_proposed",
            "department_id",
            "status",
            "owner_id",
            "received_by_id",
            "created_by_id",
            "closed_at",
        ]
        mine = set(rnd.sample(range(1, N_COMPLAINTS + 1), MINE))
        with _Copier(cur, Feedback, cols) as c:
            for i in range(1, N_COMPLAINTS + 1):
                received = now - dt.timedelta(seconds=span * (N_COMPLAINTS - i) / N_COMPLAINTS)
                is_mine = i in mine
                if is_mine:
                    status = OPEN[i % len(OPEN)] if i % 5 == 0 else "closed"
                else:
                    status = OPEN[i % len(OPEN)] if rnd.random() < 0.04 else "closed"
                sev = rnd.choice(SEVERITIES)
                c.row(
                    f0 + i,
                    f"FBB-{i:07d}",
                    "complaint",
                    rnd.choice(["phone", "email", "dealer", "api"]),
                    received,
                    f"投诉 {i}",
                    "设备报警异常, 已联系客户。",
                    f"人民医院 {i % 5000}",
                    p0 + rnd.randint(1, N_PRODUCTS),
                    rnd.choice(CATEGORIES),
                    sev,
                    sev,
                    rnd.choice(depts),
                    status,
                    user.pk if is_mine else None,
                    user.pk,
                    user.pk,
                    received + dt.timedelta(days=7) if status == "closed" else None,
                )
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('complaints_feedback', 'id'), "
            f"{f0 + N_COMPLAINTS})"
        )
        print(f"  complaints ... {time.perf_counter() - t0:.0f} s", flush=True)
        with _Copier(
            cur, Investigation, ["feedback_id", "method", "factor", "root_cause", "responsibility"]
        ) as c:
            for fid in rnd.sample(range(1, N_COMPLAINTS + 1), N_INVESTIGATIONS):
                c.row(f0 + fid, "5m1e", rnd.choice(FACTORS), "根因", "company")
        print(f"  investigations ... {time.perf_counter() - t0:.0f} s", flush=True)
    _fill_due_times()
    print(f"  generated in {time.perf_counter() - t0:.0f} s", flush=True)


def _fill_due_times() -> None:
    """The stored FBK-4 due times of the open complaints (COPY bypasses Feedback.save)."""
    from medvigil.complaints.services.clocks import refresh_due_times

    t = time.perf_counter()
    n = refresh_due_times()
    print(f"  due times of {n:,} open complaints ... {time.perf_counter() - t:.0f} s", flush=True)


# --- measurements -----------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _line(label: str, ms: list[float], target: float | None = None) -> str:
    p50, p95 = statistics.median(ms), _pct(ms, 0.95)
    verdict = ""
    if target is not None:
        verdict = f"  [target p95 < {target:.0f} ms: {'met' if p95 < target else 'MISSED'}]"
    return f"{label:<44} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   (n={len(ms)}){verdict}"


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Server:
    """`medvigil serve --workers N --no-worker` in its own process (and session) on the bench
    database: gunicorn with N processes, or waitress in one process when N is 1."""

    def __init__(self, port: int, workers: int, threads: int | None) -> None:
        self.port = port
        env = {**os.environ, "LOG_LEVEL": "WARNING", "ALLOWED_HOSTS": "127.0.0.1,localhost"}
        argv = [sys.executable, "-m", "medvigil.cli", "serve", "--no-worker"]
        argv += ["--port", str(port), "--workers", str(workers)]
        if threads:
            argv += ["--threads", str(threads)]
        self.log = Path(tempfile.gettempdir()) / f"medvigil-bench-complaints-{port}.log"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(  # noqa: S603
                argv,
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"server did not start: {self.log.read_text()[-2000:]}")
            text = self.log.read_text()
            if "MedVigil is at" in text:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    conn.request("GET", "/api/v1/me")
                    conn.getresponse().read()
                    web = [ln for ln in text.splitlines() if ln.startswith("Web server")]
                    print("server: " + " ".join(argv[2:]) + (f" — {web[0]}" if web else ""))
                    return
                except OSError:
                    pass
            time.sleep(0.3)
        self.stop()
        sys.exit("server did not answer within 120 s")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) so far of the server's processes (serve, gunicorn and its
        workers: the process tree), children that have ended included."""
        return sum(_proc_cpu(pid, children=True) for pid in _tree_pids(self.proc.pid))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def _proc_cpu(pid: int, children: bool = False) -> float:
    """utime + stime of a process (+ its waited-for children's), in seconds; 0 if gone."""
    f = _proc_stat(pid)
    if f is None:
        return 0.0
    ticks = int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if children else 0)
    return ticks / _TICK


def _tree_pids(root: int) -> list[int]:
    """`root` and its descendants."""
    parent: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            f = _proc_stat(int(entry.name))
            if f is not None:
                parent[int(entry.name)] = int(f[1])
    tree, todo = [root], [root]
    while todo:
        pid = todo.pop()
        kids = [c for c, p in parent.items() if p == pid]
        tree += kids
        todo += kids
    return tree


class CpuMeter:
    """CPU seconds spent during a load phase by the server, by the PostgreSQL backends
    connected to the bench database (persistent connections: CONN_MAX_AGE) and by this
    client process."""

    def __init__(self, server: Server) -> None:
        self.server = server

    @staticmethod
    def _backends() -> dict[int, float]:
        admin, name = _admin()
        with admin:
            pids = [
                r[0]
                for r in admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> "
                    "pg_backend_pid()",
                    [name],
                ).fetchall()
            ]
        return {pid: _proc_cpu(pid) for pid in pids}

    def __enter__(self) -> CpuMeter:
        self.pg0 = self._backends()
        self.server0 = self.server.cpu_seconds()
        self.client0 = time.process_time()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.client = time.process_time() - self.client0
        self.srv = self.server.cpu_seconds() - self.server0
        pg1 = self._backends()
        self.pg = sum(cpu - self.pg0.get(pid, 0.0) for pid, cpu in pg1.items())

    def per_request(self, n: int) -> str:
        n = max(n, 1)
        return (
            f"CPU per request: server {1000 * self.srv / n:.2f} ms, PostgreSQL "
            f"{1000 * self.pg / n:.2f} ms, client {1000 * self.client / n:.2f} ms"
        )

    def total(self, n: int) -> float:
        return (self.srv + self.pg + self.client) / max(n, 1)


def _load(
    port: int,
    clients: int,
    seconds: float,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Any = None,
    expect: int = 200,
) -> tuple[float, list[float], int]:
    """`clients` threads send the request for `seconds`; (requests/s, latencies ms, errors)."""
    stop = time.perf_counter() + seconds
    lat: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients

    def worker(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = 0
        while time.perf_counter() < stop:
            n += 1
            payload = json.dumps(body(k, n)).encode() if callable(body) else None
            t = time.perf_counter()
            try:
                conn.request(method, path, body=payload, headers=headers)
                r = conn.getresponse()
                r.read()
                ok = r.status == expect
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            lat[k].append((time.perf_counter() - t) * 1000)
            if not ok:
                errors[k] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    all_lat = [x for xs in lat for x in xs]
    return len(all_lat) / elapsed, all_lat, sum(errors)


def _session_cookie(user: Any) -> str:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def _pages(port: int, cookie: str, samples: int, products: list[int]) -> list[str]:
    rnd = random.Random(5)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie}

    def get(path: str) -> float:
        t = time.perf_counter()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit(f"GET {path}: HTTP {r.status}")
        return (time.perf_counter() - t) * 1000

    get("/")  # warm
    bare = [get("/api/v1/me") for _ in range(samples)]
    work = [get("/") for _ in range(samples)]
    lists = [
        get(f"/complaints/?status={rnd.choice(OPEN + ['closed'])}&product={rnd.choice(products)}")
        for _ in range(samples)
    ]
    unfiltered = [get("/complaints/?status=routed") for _ in range(max(20, samples // 4))]
    conn.close()
    return [
        _line("bare GET /api/v1/me (session), 1 client", bare),
        _line('"My work" page (/)', work, TARGET_LIST_P95_MS),
        _line("complaint list, state + product", lists, TARGET_LIST_P95_MS),
        _line("complaint list, state only", unfiltered, TARGET_LIST_P95_MS),
    ]


def _analysis(user: Any) -> list[str]:
    from django.db import connection
    from django.utils import timezone

    from medvigil.complaints.services import analysis
    from medvigil.complaints.services.clocks import deadline_source

    today = timezone.localdate()
    q = (today.month - 1) // 3 + 1
    start, end = analysis.quarter_bounds(today.year, q)
    lines = []
    for label, fn in (
        (
            "analysis: quarter (5 dimensions)",
            lambda: analysis.period_analysis(start=start, end=end, user=user),
        ),
        (
            "analysis: year-end summary",
            lambda: analysis.year_end_summary(year=today.year - 1, user=user),
        ),
        ("early warning: rolling-period scan", lambda: analysis.clusters(timezone.now())),
        (
            "deadline alerts: the complaints' source",
            lambda: sum(1 for _d in deadline_source(timezone.now())),
        ),
    ):
        ms = []
        for _ in range(5):
            t = time.perf_counter()
            fn()
            ms.append((time.perf_counter() - t) * 1000)
        lines.append(_line(label, ms))
    qs = analysis.complaints_in(start, end, user).order_by().values("product_id")
    from django.db.models import Count

    with connection.cursor() as cur:
        sql, params = qs.annotate(n=Count("pk")).query.sql_with_params()
        cur.execute("EXPLAIN (ANALYZE, BUFFERS OFF) " + sql, params)
        plan = "\n".join("    " + r[0] for r in cur.fetchall())
    lines.append("EXPLAIN quarter by product:\n" + plan)
    return lines


def _explain_list(products: list[int]) -> str:
    """EXPLAIN of the list's page query, filtered by state and product (newest first)."""
    from django.db import connection

    from medvigil.complaints.models import Feedback

    qs = Feedback.objects.filter(status="closed", product_id=products[0]).order_by(
        "-received_at", "-id"
    )[:25]
    with connection.cursor() as cur:
        sql, params = qs.query.sql_with_params()
        cur.execute("EXPLAIN (ANALYZE, BUFFERS OFF) " + sql, params)
        return "EXPLAIN list, state + product:\n" + "\n".join("    " + r[0] for r in cur.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regenerate", action="store_true", help="drop and rebuild the data")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--port", type=int, default=18391)
    parser.add_argument(
        "--workers", type=int, default=None, help="server processes (default: one per core)"
    )
    parser.add_argument("--threads", type=int, default=None, help="default: serve's own")
    parser.add_argument(
        "--intake-only", action="store_true", help="only the bare request and intake"
    )
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    args = parser.parse_args()
    _environment(None)
    _prepare_database(args.regenerate)
    _setup_django()
    from django.db import connection

    from medvigil.accounts.models import APIToken
    from medvigil.trace.models import Product

    user = _user()
    if _has_data():
        print("bench data found (use --regenerate to rebuild it)")
        from medvigil.complaints.models import Feedback

        if not Feedback.objects.filter(next_due_at__isnull=False).exists():
            _fill_due_times()  # data generated before the due times were stored
    else:
        print("generating bench data (raw COPY path) ...", flush=True)
        _generate(user)
    with connection.cursor() as cur:  # as autovacuum would have, before the measurements
        cur.execute("VACUUM ANALYZE complaints_feedback")
        cur.execute("VACUUM ANALYZE complaints_investigation")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import _calibrate  # type: ignore[import-not-found]

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM complaints_feedback")
        (n,) = cur.fetchone()
    print(f"\ndata: {n:,} complaints — PostgreSQL {connection.pg_version // 10000}")
    _calibrate.print_calibration(os.environ["DATABASE_URL"])
    products = list(
        Product.objects.filter(code__startswith="BENCH-C-P-").values_list("pk", flat=True)
    )
    _token, raw = APIToken.issue(user, "bench")
    cookie = _session_cookie(user)
    connection.close()
    server = Server(args.port, args.workers or _cores(), args.threads)
    print(f"load: {args.clients} client threads (keep-alive), {args.seconds:g} s each")
    lines: list[str] = []
    try:
        auth = {"Authorization": f"Bearer {raw}", "Content-Type": "application/json"}

        def complaint(k: int, i: int) -> dict[str, Any]:
            return {
                "channel": "phone",
                "title": f"bench intake {k}-{i}",
                "description": "输注泵堵塞报警未响, 未影响患者。",
                "complainant_organisation": "人民医院",
                "product_id": products[(k * 7919 + i) % len(products)],
                "category": "product_quality",
                "patient_involvement": "no_harm",
            }

        me = ("GET", "/api/v1/me", auth, None, 200)
        post = ("POST", "/api/v1/complaints", auth, complaint, 201)
        _load(args.port, args.clients, 2.0, *me)  # warm-up (every server thread connected)
        with CpuMeter(server) as bare_cpu:
            bare_rate, bare_ms, bare_err = _load(args.port, args.clients, args.seconds, *me)
        _load(args.port, args.clients, 2.0, *post)
        with CpuMeter(server) as cpu:
            rate, ms, err = _load(args.port, args.clients, args.seconds, *post)
        half = bare_rate / 2
        lines.append(
            f"bare GET /api/v1/me, {args.clients} clients:      {bare_rate:7.1f} req/s   "
            f"p50 {statistics.median(bare_ms):6.1f} ms   p95 {_pct(bare_ms, 0.95):6.1f} ms   "
            f"errors {bare_err}"
        )
        lines.append("    " + bare_cpu.per_request(len(bare_ms)))
        lines.append(
            f"intake POST /api/v1/complaints, {args.clients} clients: {rate:7.1f} req/s   "
            f"p50 {statistics.median(ms):6.1f} ms   p95 {_pct(ms, 0.95):6.1f} ms   errors {err}   "
            f"[target >= {half:.1f} req/s (half the bare rate): "
            f"{'met' if rate >= half else 'MISSED'}; p95 < {TARGET_INTAKE_P95_MS:.0f} ms: "
            f"{'met' if _pct(ms, 0.95) < TARGET_INTAKE_P95_MS else 'MISSED'}]"
        )
        lines.append("    " + cpu.per_request(len(ms)))
        bound = bare_cpu.total(len(bare_ms)) / cpu.total(len(ms))
        lines.append(
            f"ratio intake / bare: {rate / bare_rate:.3f}   (CPU bound on a saturated machine: "
            f"{bound:.3f} = CPU per bare request / CPU per intake)"
        )
        if not args.intake_only:
            lines += _pages(args.port, cookie, args.samples, products)
    finally:
        server.stop()
    if not args.intake_only:
        lines += _analysis(user)
        lines.append(_explain_list(products))
    print("\n".join(lines))
    if args.drop:
        _drop_database()


if __name__ == "__main__":
    main()
