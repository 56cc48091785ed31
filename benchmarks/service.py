#!/usr/bin/env python
"""After-sales service at scale (issue #11, SVC-3, SVC-8): a year of maintenance plans for
200,000 installed units, and the dispatch board with 2,000 open requests.

    .venv/bin/python benchmarks/service.py [--regenerate] [--units 200000] [--open 2000]
                                           [--samples 100] [--days 365] [--drop]

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/mv_service_bench; the script
creates the database if missing (``--regenerate`` drops and recreates it), migrates it and,
if the bench data is not there yet, generates it by the raw path of benchmarks/complaints.py
(PostgreSQL COPY in one transaction, no ORM, no audit):

* 20 products (warranty 12, 24 or 36 months), 5,000 hospitals, ``--units`` installed units
  each with a current installation (installed over the last four years, accepted a week later);
* 40 engineers, each qualified for 5 products; ``--open`` open service requests (new,
  dispatched, on site; city, suburb, remote; their service-level clocks) and 20,000 closed
  ones; an open work order for each dispatched or on-site request.

Then it measures, in-process:

* plans: ``services.maintenance.generate_visits(days=--days)`` over the installed base — the
  periodic job's own function: visits and call-backs created with their audit (one audit
  batch per run, core.audit.batch) and the commit [target: a year in under 60 s]. Run once
  per fresh database (the plans then exist: a second run creates nothing);
  ``--plans-only`` / ``--board-only`` pick one part;
* board: GET /service/dispatch/ as a service manager, ``--samples`` times after 3 warm-ups
  (Django's test client, signed-in session, whole request/response cycle) — p50 and p95
  [target: p95 < 150 ms]; and, beside it, the ledger page of this month
  (GET /service/ledger/?start=…&end=…) as information.

The machine calibration (benchmarks/_calibrate.py) is printed first: read the figures beside it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mv_service_bench")

import complaints as shared  # noqa: E402  (the raw COPY path and the database helpers)

N_PRODUCTS = 20
N_CUSTOMERS = 5_000
N_ENGINEERS = 40
N_CLOSED = 20_000
MARKER = "BENCH-S-P-0001"
TARGET_PLANS_S = 60.0
TARGET_BOARD_P95_MS = 150.0
OPEN = ["new", "dispatched", "on_site"]
ZONES = ["city", "city", "suburb", "remote"]
LEVELS = ["down", "degraded", "minor"]
ARRIVAL = {"city": ("SVC-ARRIVE-CITY", 3), "suburb": ("SVC-ARRIVE-SUBURB", 7)}


def _has_data(units: int) -> bool:
    from medvigil.trace.models import Installation, Product

    return (
        Product.objects.filter(code=MARKER).exists()
        and Installation.objects.filter(current=True).count() >= units
    )


def _people() -> tuple[Any, list[Any]]:
    from medvigil.accounts.models import Department, Role, User

    dept = Department.objects.filter(code="service").first()
    manager = User.objects.filter(username="bench-svcmgr").first()
    if manager is None:
        manager = User.objects.create_user(username="bench-svcmgr", password="bench-password-1")
        manager.roles.set(Role.objects.filter(code="service_manager"))
        manager.department = dept
        manager.save()
    engineers = list(User.objects.filter(username__startswith="bench-eng-").order_by("pk"))
    role = Role.objects.filter(code="service_engineer")
    for i in range(len(engineers), N_ENGINEERS):
        u = User.objects.create_user(
            username=f"bench-eng-{i:02d}", password="bench-password-1", display_name=f"工程师{i}"
        )
        u.roles.set(role)
        engineers.append(u)
    return User.objects.get(pk=manager.pk), engineers


def _generate(n_units: int, n_open: int, engineers: list[Any]) -> None:
    from django.db import connection, transaction
    from django.utils import timezone
    from psycopg.types.json import Jsonb

    from medvigil.service.models import EngineerQualification, ServiceRequest, WorkOrder
    from medvigil.trace.models import Customer, Installation, Product, Unit, add_months

    rnd = random.Random(20261202)
    t0 = time.perf_counter()
    now = timezone.now()
    today = timezone.localdate()
    with transaction.atomic():
        connection.ensure_connection()
        cur = connection.connection.cursor()

        def base(table: str) -> int:
            cur.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
            return int(cur.fetchone()[0])

        def bump(table: str, last: int) -> None:
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {last})")

        p0 = base("trace_product")
        warranty = {}
        cols = ["id", "code", "name", "model_spec", "manufacturer", "risk_class", "gtin"]
        with shared._Copier(cur, Product, [*cols, "warranty_months"]) as c:
            for p in range(1, N_PRODUCTS + 1):
                warranty[p0 + p] = (12, 24, 36)[p % 3]
                c.row(
                    p0 + p,
                    f"BENCH-S-P-{p:04d}",
                    f"监护仪 {p}",
                    f"MON-{p:03d}",
                    "医械科技有限公司",
                    "II",
                    shared._gtin(500 + p),
                    warranty[p0 + p],
                )
        bump("trace_product", p0 + N_PRODUCTS)
        c0 = base("trace_customer")
        with shared._Copier(cur, Customer, ["id", "code", "name", "kind", "city"]) as c:
            for i in range(1, N_CUSTOMERS + 1):
                c.row(c0 + i, f"BENCH-S-H-{i:05d}", f"人民医院 {i}", "hospital", "杭州")
        bump("trace_customer", c0 + N_CUSTOMERS)
        u0 = base("trace_unit")
        unit_product: dict[int, int] = {}
        unit_customer: dict[int, int] = {}
        with shared._Copier(
            cur, Unit, ["id", "product_id", "serial", "status", "holder_id", "production_date"]
        ) as c:
            for i in range(1, n_units + 1):
                pid = p0 + 1 + (i % N_PRODUCTS)
                cid = c0 + 1 + (i % N_CUSTOMERS)
                unit_product[u0 + i] = pid
                unit_customer[u0 + i] = cid
                c.row(u0 + i, pid, f"BS{i:07d}", "installed", cid, today - dt.timedelta(days=1500))
        bump("trace_unit", u0 + n_units)
        print(f"  units ... {time.perf_counter() - t0:.0f} s", flush=True)
        with shared._Copier(
            cur,
            Installation,
            ["unit_id", "customer_id", "installed_on", "accepted_on", "warranty_end", "current"],
        ) as c:
            for i in range(1, n_units + 1):
                uid = u0 + i
                installed = today - dt.timedelta(days=rnd.randint(0, 4 * 365))
                accepted = installed + dt.timedelta(days=7)
                end = add_months(accepted, warranty[unit_product[uid]])
                c.row(uid, unit_customer[uid], installed, accepted, end, True)
        print(f"  installations ... {time.perf_counter() - t0:.0f} s", flush=True)
        with shared._Copier(
            cur,
            EngineerQualification,
            ["engineer_id", "product_id", "trained_on", "passed_on", "score", "expires_on"],
        ) as c:
            for k, e in enumerate(engineers):
                for j in range(5):
                    c.row(
                        e.pk,
                        p0 + 1 + (k * 5 + j) % N_PRODUCTS,
                        today - dt.timedelta(days=200),
                        today - dt.timedelta(days=190),
                        90,
                        today + dt.timedelta(days=300 + k),
                    )
        s0 = base("service_servicerequest")
        cols = [
            "id",
            "number",
            "status",
            "channel",
            "received_at",
            "title",
            "fault_level",
            "zone",
            "unit_id",
            "product_id",
            "customer_id",
            "engineer_id",
            "sla_clock",
            "sla_rules",
            "response_due_at",
            "arrival_due_at",
            "fix_due_at",
            "responded_at",
            "dispatched_at",
            "arrived_at",
            "fixed_at",
            "closed_at",
        ]
        orders: list[tuple[int, int, str, Any]] = []
        total = n_open + N_CLOSED
        with shared._Copier(cur, ServiceRequest, cols) as c:
            for i in range(1, total + 1):
                sid = s0 + i
                is_open = i <= n_open
                status = OPEN[i % 3] if is_open else "closed"
                zone = rnd.choice(ZONES)
                code, hours = ARRIVAL.get(zone, ("SVC-ARRIVE-MAX", 8))
                if is_open:
                    received = now - dt.timedelta(minutes=rnd.randint(5, 60 * 48))
                else:
                    received = now - dt.timedelta(days=rnd.randint(3, 700))
                uid = u0 + 1 + rnd.randrange(n_units)
                eng = engineers[i % N_ENGINEERS] if status != "new" else None
                arrival_due = received + dt.timedelta(hours=hours)
                arrived = (
                    received + dt.timedelta(hours=rnd.uniform(1, hours + 2))
                    if status in ("on_site", "closed")
                    else None
                )
                c.row(
                    sid,
                    f"SR-B-{i:07d}",
                    status,
                    "phone",
                    received,
                    f"设备故障 {i}",
                    rnd.choice(LEVELS),
                    zone,
                    uid,
                    unit_product[uid],
                    unit_customer[uid],
                    eng.pk if eng else None,
                    "calendar",
                    Jsonb(
                        {
                            "response": "SVC-RESPONSE",
                            "arrival": code,
                            "arrival_cap": "SVC-ARRIVE-MAX",
                            "fix": "SVC-FIX",
                            "loaner": "SVC-LOANER",
                        }
                    ),
                    received + dt.timedelta(hours=1),
                    arrival_due,
                    received + dt.timedelta(hours=12),
                    received + dt.timedelta(minutes=20) if status != "new" else None,
                    received + dt.timedelta(minutes=30) if eng else None,
                    arrived,
                    arrived + dt.timedelta(hours=2) if status == "closed" and arrived else None,
                    arrived + dt.timedelta(days=1) if status == "closed" and arrived else None,
                )
                if eng is not None and is_open:
                    orders.append(
                        (sid, eng.pk, "on_site" if status == "on_site" else "accepted", arrived)
                    )
        bump("service_servicerequest", s0 + total)
        with shared._Copier(
            cur, WorkOrder, ["number", "request_id", "engineer_id", "status", "arrived_at"]
        ) as c:
            for k, (sid, eid, st, arrived) in enumerate(orders, 1):
                c.row(f"WO-B-{k:07d}", sid, eid, st, arrived)
        print(f"  service requests ... {time.perf_counter() - t0:.0f} s", flush=True)
    with connection.cursor() as cur:
        for table in (
            "trace_unit",
            "trace_installation",
            "service_servicerequest",
            "service_workorder",
            "service_engineerqualification",
        ):
            cur.execute(f"VACUUM ANALYZE {table}")
    print(f"  generated in {time.perf_counter() - t0:.0f} s", flush=True)


def _plans(days: int, manager: Any) -> str:
    from django.db import connection

    from medvigil.service.models import MaintenanceVisit
    from medvigil.service.services import maintenance

    if MaintenanceVisit.objects.exists():
        return "plans: visits already generated in this database (use --regenerate to time them)"
    t = time.perf_counter()
    n = maintenance.generate_visits(by=manager, days=days)
    seconds = time.perf_counter() - t
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM trace_installation WHERE current")
        (units,) = cur.fetchone()
    ok = "met" if seconds < TARGET_PLANS_S else "MISSED"
    return (
        f"plans: {days} days for {units:,} installed units: {n:,} visits and call-backs in "
        f"{seconds:.1f} s ({n / seconds:,.0f} rows/s, audit batch and commit included)  "
        f"[target < {TARGET_PLANS_S:.0f} s: {ok}]"
    )


def _pages(manager: Any, samples: int) -> list[str]:
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(manager)
    today = timezone.localdate()
    out = []
    for label, url, target in (
        ("dispatch board /service/dispatch/", "/service/dispatch/", TARGET_BOARD_P95_MS),
        (
            "ledger, this month /service/ledger/",
            f"/service/ledger/?start={today.replace(day=1)}&end={today}",
            None,
        ),
    ):
        for _ in range(3):
            assert client.get(url).status_code == 200, url
        ms = []
        for _ in range(samples):
            t = time.perf_counter()
            r = client.get(url)
            ms.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200
        out.append(shared._line(label, ms, target))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--units", type=int, default=200_000)
    ap.add_argument("--open", type=int, default=2_000)
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--plans-only", action="store_true")
    ap.add_argument("--board-only", action="store_true")
    ap.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    args = ap.parse_args()
    shared._environment(None)
    shared._prepare_database(args.regenerate)
    shared._setup_django()
    from django.db import connection

    manager, engineers = _people()
    if _has_data(args.units):
        print("bench data found (use --regenerate to rebuild it)")
    else:
        print("generating bench data (raw COPY path) ...", flush=True)
        _generate(args.units, args.open, engineers)
    import _calibrate  # type: ignore[import-not-found]

    calibration = _calibrate.calibration(os.environ["DATABASE_URL"])
    print(f"\n{calibration}")
    print(f"uptime: {os.popen('uptime').read().strip()}")
    print(f"PostgreSQL {connection.pg_version // 10000}")
    lines = []
    if not args.board_only:
        lines.append(_plans(args.days, manager))
    if not args.plans_only:
        lines.extend(_pages(manager, args.samples))
    print()
    for line in lines:
        print(line)
    print(f"uptime: {os.popen('uptime').read().strip()}")
    if args.drop:
        shared._drop_database()


if __name__ == "__main__":
    main()
