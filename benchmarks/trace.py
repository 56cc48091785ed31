#!/usr/bin/env python
"""Traceability at scale (TRC-7, PLAT-10): unit lookup, forward and backward trace, import.

    .venv/bin/python benchmarks/trace.py [--regenerate] [--samples 1000] [--import-rows 50000]
                                         [--import-runs 3]

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/medvigil_bench_trace; the script
creates the database if it is missing (``--regenerate`` drops and recreates it), migrates it
and, if the bench data is not there yet, generates it:

* 100 products (serial-tracked, class II/III), 10,000 lots of 100 units = 1,000,000 units;
* 100,000 customers (2,000 dealers, 98,000 hospitals) with their licences (102,000);
* 2,000,000 sale lines through two levels of distribution: manufacturer → dealer
  (20,000 sales of 50 units), dealer → hospital (100,000 sales of 10 units); every unit ends
  "sold on" at a hospital; 10 % of the units are installed (100,000 installations).

Generation is the documented RAW PATH: rows are written with PostgreSQL COPY, in one
transaction, bypassing the ORM and therefore the audit trail — except that every unit then
gets its create entry and chain head through the import's bulk audit path, so that the
measured import meets an audit trail of realistic size (1,000,000 entries; the other bench
records have none). The cost of the audit is measured by benchmarks/audit_write.py, and
below by the import, which goes through the audited path like any real import. A later run
finds the data (marker: product BENCH-P-0001 and 1,000,000 units) and skips generation.

Printed (targets in brackets):

* unit lookup by serial and by UDI with ``trace.udi.find_unit`` — the function behind the
  scan box and /api/v1/trace/units/lookup — p50/p95 over ``--samples`` random units [p95 < 20 ms];
  the same through the API endpoint;
* forward trace of one 100-unit lot to its end users THROUGH THE API
  (GET /api/v1/trace/lots/{id}/forward, Django test client with a signed-in session, full
  middleware stack) [p95 < 100 ms];
* backward trace of a unit through the API (GET /api/v1/trace/units/{id}/backward);
* import: a ``--import-rows`` unit CSV through ``core.imports`` (upload service, reading,
  set-based validation, one audited transaction) [>= 10,000 rows/s], with the time spent in
  the audit (``record_bulk_create``) shown apart; ``--import-runs`` imports one after the
  other (each adds its units and entries to the tables) and the median rate is judged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/medvigil_bench_trace"

N_PRODUCTS = 100
N_LOTS = 10_000
UNITS_PER_LOT = 100
N_DEALERS = 2_000
N_HOSPITALS = 98_000
L1_SALE_SIZE = 50  # manufacturer -> dealer
L2_SALE_SIZE = 10  # dealer -> hospital
INSTALLED_EVERY = 10  # one unit in ten is installed
MARKER = "BENCH-P-0001"

TARGET_LOOKUP_P95_MS = 20.0
TARGET_FORWARD_P95_MS = 100.0
TARGET_IMPORT_RATE = 10_000.0


def _environment() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medvigil.settings")
    os.environ.setdefault("MEDVIGIL_DEV", "1")
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="medvigil-bench-media-"))


def _prepare_database(regenerate: bool) -> None:
    import dj_database_url

    cfg = dj_database_url.parse(os.environ["DATABASE_URL"])
    if not cfg["ENGINE"].endswith("postgresql"):
        sys.exit("benchmarks/trace.py needs PostgreSQL (DATABASE_URL=postgres://...)")
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
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and regenerate:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _setup_django() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


# --- generation (raw path: COPY, no audit) ---------------------------------------------------


def _gtin(n: int) -> str:
    from medvigil.trace.models import gtin_check_digit

    payload = f"0690999{n:06d}"
    return payload + str(gtin_check_digit(payload))


class _Copier:
    """COPY rows of one model: values by attname, the other columns from field defaults."""

    def __init__(self, cursor: Any, model: Any, attnames: list[str]) -> None:
        from django.utils import timezone

        self.cursor = cursor
        self.model = model
        fields = list(model._meta.concrete_fields)
        self.given = attnames
        # the id is left to the database unless given
        self.rest = [f for f in fields if f.attname not in attnames and not f.primary_key]
        now = timezone.now()
        self.defaults = tuple(
            now
            if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False)
            # a bench row has no value for these: blank text, False, 1 for version...
            else f.get_default()
            for f in self.rest
        )
        column = {f.attname: f.column for f in fields}
        cols = [column[a] for a in attnames]
        cols += [f.column for f in self.rest]
        self.sql = f"COPY {model._meta.db_table} ({', '.join(cols)}) FROM STDIN"

    def __enter__(self) -> _Copier:
        self._cm = self.cursor.copy(self.sql)
        self.copy = self._cm.__enter__()
        return self

    def row(self, *values: Any) -> None:
        self.copy.write_row(values + self.defaults)

    def __exit__(self, *exc: Any) -> None:
        self._cm.__exit__(*exc)


def _has_data() -> bool:
    from medvigil.trace.models import Product, Unit

    return (
        Product.objects.filter(code=MARKER).exists()
        and Unit.objects.filter(serial__startswith="SN").count() >= N_LOTS * UNITS_PER_LOT
    )


def _generate() -> None:
    from django.db import connection, transaction

    from medvigil.trace.models import (
        Customer,
        Installation,
        Licence,
        Lot,
        Product,
        Sale,
        SaleLine,
        Unit,
    )

    rnd = random.Random(20260302)
    t0 = time.perf_counter()
    with transaction.atomic():
        connection.ensure_connection()
        cur = connection.connection.cursor()
        # products 1..100, customers 1..100000 (dealers first), lots 1..10000, units 1..1e6
        with _Copier(
            cur,
            Product,
            ["id", "code", "name", "model_spec", "manufacturer", "risk_class", "gtin"],
        ) as c:
            for p in range(1, N_PRODUCTS + 1):
                c.row(
                    p,
                    f"BENCH-P-{p:04d}",
                    f"监护仪 {p}",
                    f"MV-{p:03d}",
                    "医械科技有限公司",
                    "III" if p % 2 else "II",
                    _gtin(p),
                )
        with _Copier(
            cur, Customer, ["id", "code", "name", "kind", "address", "contact_person", "phone"]
        ) as c:
            for i in range(1, N_DEALERS + N_HOSPITALS + 1):
                dealer = i <= N_DEALERS
                c.row(
                    i,
                    f"{'D' if dealer else 'H'}-{i:06d}",
                    f"{'医疗器械经销公司' if dealer else '人民医院'} {i}",
                    "dealer" if dealer else "hospital",
                    f"上海市某路 {i} 号",
                    f"联系人 {i}",
                    f"021-{i:08d}",
                )
        with _Copier(cur, Licence, ["customer_id", "kind", "number", "expires_on"]) as c:
            for i in range(1, N_DEALERS + N_HOSPITALS + 1):
                kinds = ("business", "operating") if i <= N_DEALERS else ("practice",)
                for k in kinds:
                    c.row(i, k, f"{k}-{i}", dt.date(2030, 12, 31))
        print(f"  master data ... {time.perf_counter() - t0:.0f} s", flush=True)
        lot_dates: dict[int, dt.date] = {}
        with _Copier(
            cur,
            Lot,
            ["id", "product_id", "lot_number", "production_date", "quantity", "production_record"],
        ) as c:
            for lot in range(1, N_LOTS + 1):
                produced = dt.date(2024, 1, 1) + dt.timedelta(days=lot % 700)
                lot_dates[lot] = produced
                c.row(
                    lot,
                    (lot - 1) % N_PRODUCTS + 1,
                    f"L{lot:06d}",
                    produced,
                    UNITS_PER_LOT,
                    f"DHR-{lot:06d}",
                )
        gtins = {p: _gtin(p) for p in range(1, N_PRODUCTS + 1)}
        # Final state of each unit and its sales: level 1 by lot halves, level 2 by tens.
        unit_holder: dict[int, int] = {}
        l1_sales = []  # (sale id, dealer id, date, [unit ids])
        l2_sales = []  # (sale id, dealer id, hospital id, date, [unit ids])
        sale_id = 0
        for lot in range(1, N_LOTS + 1):
            first = (lot - 1) * UNITS_PER_LOT + 1
            for half in range(0, UNITS_PER_LOT, L1_SALE_SIZE):
                dealer = rnd.randint(1, N_DEALERS)
                day = lot_dates[lot] + dt.timedelta(days=30)
                sale_id += 1
                ids = list(range(first + half, first + half + L1_SALE_SIZE))
                l1_sales.append((sale_id, dealer, day, ids))
                for j in range(0, L1_SALE_SIZE, L2_SALE_SIZE):
                    hospital = rnd.randint(N_DEALERS + 1, N_DEALERS + N_HOSPITALS)
                    sale_id += 1
                    sub = ids[j : j + L2_SALE_SIZE]
                    l2_sales.append((sale_id, dealer, hospital, day + dt.timedelta(days=20), sub))
                    for u in sub:
                        unit_holder[u] = hospital
        with _Copier(
            cur,
            Unit,
            list(_unit_values(1, lot_dates, gtins, unit_holder)),
        ) as c:
            for uid in range(1, N_LOTS * UNITS_PER_LOT + 1):
                c.row(*_unit_values(uid, lot_dates, gtins, unit_holder).values())
        print(f"  lots and units ... {time.perf_counter() - t0:.0f} s", flush=True)
        with _Copier(
            cur, Sale, ["id", "number", "seller_id", "buyer_id", "sale_date", "handler_name"]
        ) as c:
            for sid, dealer, day, _ids in l1_sales:
                c.row(sid, f"SO-B-{sid:07d}", None, dealer, day, "销售员")
            for sid, dealer, hospital, day, _ids in l2_sales:
                c.row(sid, f"SO-B-{sid:07d}", dealer, hospital, day, "经销商")
        line_id = 0
        with _Copier(
            cur,
            SaleLine,
            ["id", "sale_id", "product_id", "unit_id", "lot_id", "seller_id", "buyer_id"],
        ) as c:
            for sid, dealer, _day, ids in l1_sales:
                for u in ids:
                    line_id += 1
                    lot = (u - 1) // UNITS_PER_LOT + 1
                    c.row(line_id, sid, (lot - 1) % N_PRODUCTS + 1, u, lot, None, dealer)
            for sid, dealer, hospital, _day, ids in l2_sales:
                for u in ids:
                    line_id += 1
                    lot = (u - 1) // UNITS_PER_LOT + 1
                    c.row(line_id, sid, (lot - 1) % N_PRODUCTS + 1, u, lot, dealer, hospital)
        print(f"  {line_id:,} sale lines ... {time.perf_counter() - t0:.0f} s", flush=True)
        with _Copier(
            cur,
            Installation,
            ["unit_id", "customer_id", "department", "installed_on", "accepted_on"],
        ) as c:
            for u in range(1, N_LOTS * UNITS_PER_LOT + 1, INSTALLED_EVERY):
                lot = (u - 1) // UNITS_PER_LOT + 1
                day = lot_dates[lot] + dt.timedelta(days=60)
                c.row(u, unit_holder[u], "ICU", day, day)
        _audit_units(lot_dates, gtins, unit_holder)
        print(f"  audit trail of the units ... {time.perf_counter() - t0:.0f} s", flush=True)
        for model in (Product, Customer, Lot, Unit, Sale, SaleLine, Installation, Licence):
            table = model._meta.db_table
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
    cur = connection.cursor()
    cur.execute("VACUUM ANALYZE")
    print(f"  generated in {time.perf_counter() - t0:.0f} s", flush=True)


def _unit_values(
    uid: int, lot_dates: dict[int, dt.date], gtins: dict[int, str], holder: dict[int, int]
) -> dict[str, Any]:
    """The generated unit `uid`, in the column order of the unit COPY."""
    lot = (uid - 1) // UNITS_PER_LOT + 1
    product = (lot - 1) % N_PRODUCTS + 1
    serial = f"SN{uid:08d}"
    return {
        "id": uid,
        "product_id": product,
        "lot_id": lot,
        "serial": serial,
        "udi_di": gtins[product],
        "udi_pi": f"(11){lot_dates[lot]:%y%m%d}(10)L{lot:06d}(21){serial}",
        "production_date": lot_dates[lot],
        "production_record": f"DHR-{lot:06d}",
        "status": "installed" if uid % INSTALLED_EVERY == 1 else "sold_on",
        "holder_id": holder[uid],
    }


def _audit_units(
    lot_dates: dict[int, dt.date], gtins: dict[int, str], holder: dict[int, int]
) -> None:
    """Give every generated unit its create entry and chain head, as an audited import would
    have, so that the import below writes into an audit trail of realistic size (1,000,000
    entries). Written by the import's own bulk audit path (bulk.record_bulk_create)."""
    from medvigil.core.audit import audit_context, bulk
    from medvigil.trace.models import Product, Unit

    products = Product.objects.in_bulk()  # str(unit) names its product
    chunk = 50_000
    with audit_context(actor_name="system:benchmark", source="benchmark"):
        for start in range(1, N_LOTS * UNITS_PER_LOT + 1, chunk):
            units = []
            for uid in range(start, min(start + chunk, N_LOTS * UNITS_PER_LOT + 1)):
                values = _unit_values(uid, lot_dates, gtins, holder)
                values["product"] = products[values.pop("product_id")]
                units.append(Unit(**values))
            bulk.record_bulk_create(units)


# --- measurements -----------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _line(label: str, ms: list[float], target: float | None = None) -> str:
    p50, p95 = statistics.median(ms), _pct(ms, 0.95)
    verdict = ""
    if target is not None:
        verdict = f"  [target p95 < {target:.0f} ms: {'met' if p95 < target else 'MISSED'}]"
    return f"{label:<46} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   (n={len(ms)}){verdict}"


def _user() -> Any:
    from medvigil.accounts.models import Role, User

    user = User.objects.filter(username="bench-quality").first()
    if user is None:
        user = User.objects.create_user(username="bench-quality", password="bench-password-1")
        user.roles.set(Role.objects.filter(code="quality"))
    return User.objects.get(pk=user.pk)


def _timed(fn: Any, *args: Any) -> float:
    t = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - t) * 1000


def bench_lookups(user: Any, samples: int, client: Any) -> list[str]:
    from medvigil.trace.models import Unit
    from medvigil.trace.udi import find_unit

    rnd = random.Random(7)
    top = Unit.objects.order_by("-id").values_list("id", flat=True).first() or 1
    ids = rnd.sample(range(1, min(top, N_LOTS * UNITS_PER_LOT) + 1), samples)
    units = list(Unit.objects.filter(pk__in=ids).values_list("serial", "udi_di", "lot__lot_number"))
    serials = [s for s, _g, _l in units]
    udis = [f"]d201{g}10{lot}\x1d21{s}" for s, g, lot in units]
    hri = [f"(01){g}(10){lot}(21){s}" for s, g, lot in units]
    for s in serials[:20]:  # warm-up: connection, permission cache
        find_unit(s, user)
    out = [
        _line(
            "unit lookup by serial (find_unit)",
            [_timed(find_unit, s, user) for s in serials],
            TARGET_LOOKUP_P95_MS,
        ),
        _line(
            "unit lookup by scanned UDI (find_unit)",
            [_timed(find_unit, u, user) for u in udis],
            TARGET_LOOKUP_P95_MS,
        ),
    ]
    api = [
        _timed(client.get, "/api/v1/trace/units/lookup", {"code": code})
        for code in hri[: max(100, samples // 5)]
    ]
    r = client.get("/api/v1/trace/units/lookup", {"code": hri[0]})
    assert r.status_code == 200, r.content[:300]
    # informative: the whole request stack (session, permissions, JSON) around find_unit
    out.append(_line("unit lookup by UDI text via API (informative)", api))
    return out


def bench_traces(client: Any, samples: int) -> list[str]:
    rnd = random.Random(11)
    lots = rnd.sample(range(1, N_LOTS + 1), min(samples, 300))
    r = client.get(f"/api/v1/trace/lots/{lots[0]}/forward")
    assert r.status_code == 200, r.content[:300]
    body = r.json()
    n_units = len(body.get("units", []))
    forward = [_timed(client.get, f"/api/v1/trace/lots/{lot}/forward") for lot in lots]
    units = rnd.sample(range(1, N_LOTS * UNITS_PER_LOT + 1), min(samples, 300))
    r = client.get(f"/api/v1/trace/units/{units[0]}/backward")
    assert r.status_code == 200, r.content[:300]
    backward = [_timed(client.get, f"/api/v1/trace/units/{u}/backward") for u in units]
    return [
        _line(
            f"forward trace of a lot ({n_units} units) via API",
            forward,
            TARGET_FORWARD_P95_MS,
        ),
        _line("backward trace of a unit via API", backward),
    ]


def bench_imports(user: Any, rows: int, runs: int) -> list[str]:
    lines: list[str] = []
    rates = []
    for _ in range(runs):
        rate, out = bench_import(user, rows)
        rates.append(rate)
        lines += out
    rate = statistics.median(rates)
    verdict = "met" if rate >= TARGET_IMPORT_RATE else "MISSED"
    lines.append(
        f"{'import, median of ' + str(runs) + ' runs':<46} {rate:9,.0f} rows/s"
        f"{'':<17}[target >= {TARGET_IMPORT_RATE:,.0f} rows/s: {verdict}]"
    )
    return lines


def bench_import(user: Any, rows: int) -> tuple[float, list[str]]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from medvigil.core.audit import bulk
    from medvigil.core.imports import (
        create_batch,
        get_importer,
        process_batch,
        read_table,
        run_importer,
    )
    from medvigil.trace import services
    from medvigil.trace.models import Product

    run = time.strftime("%Y%m%d%H%M%S")
    product = Product.objects.get(code=MARKER)
    lot = services.create_lot(
        product=product,
        lot_number=f"IMP-{run}",
        production_date=dt.date(2026, 1, 5),
        quantity=rows,
        production_record=f"DHR-IMP-{run}",
    )
    buf = io.StringIO()
    buf.write("产品,出厂编号,批号,生产日期\n")
    for i in range(rows):
        buf.write(f"{product.gtin},IMP{run}-{i:06d},{lot.lot_number},2026-01-05\n")
    data = buf.getvalue().encode()

    # validation alone (read + convert + set-based checks), nothing written
    t = time.perf_counter()
    table = read_table(data, "units.csv")
    t_read = time.perf_counter() - t
    result = run_importer(get_importer("units")(user=user), table)
    assert not result.errors, result.errors[:3]

    # the real thing: upload service + process (read, validate, write in one transaction)
    audit_time = [0.0]
    original = bulk.record_bulk_create

    def timed_record(objs: Any) -> None:
        t = time.perf_counter()
        original(objs)
        audit_time[0] += time.perf_counter() - t

    bulk.record_bulk_create = timed_record
    try:
        batch = create_batch(
            user=user,
            kind="units",
            uploaded=SimpleUploadedFile("units.csv", data),
            run=False,
        )
        t = time.perf_counter()
        process_batch(batch.pk)
        total = time.perf_counter() - t
    finally:
        bulk.record_bulk_create = original
    batch.refresh_from_db()
    assert batch.status == "imported", (batch.status, batch.message, batch.errors_preview[:3])
    rate = rows / total
    tm = result.timings
    validate = t_read + sum(tm.values())
    write = total - validate
    verdict = "met" if rate >= TARGET_IMPORT_RATE else "MISSED"
    return rate, [
        f"{'import of ' + format(rows, ',') + ' units (' + batch.number + ')':<46} "
        f"{rate:9,.0f} rows/s   total {total:6.2f} s  "
        f"[target >= {TARGET_IMPORT_RATE:,.0f} rows/s: {verdict}]",
        f"{'':<46} read {t_read:.2f} s, convert {tm.get('convert', 0):.2f} s, "
        f"lookups {tm.get('lookups', 0):.2f} s, checks {tm.get('validate', 0):.2f} s, "
        f"write {write:.2f} s (of which audit entries {audit_time[0]:.2f} s)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regenerate", action="store_true", help="drop and rebuild the data")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--import-rows", type=int, default=50_000)
    parser.add_argument("--import-runs", type=int, default=3)
    parser.add_argument(
        "--only",
        choices=["lookups", "traces", "import"],
        action="append",
        help="run only these measurements (repeatable)",
    )
    args = parser.parse_args()
    _environment()
    _prepare_database(args.regenerate)
    _setup_django()
    from django.db import connection
    from django.test import Client

    if _has_data():
        print("bench data found (use --regenerate to rebuild it)")
    else:
        print("generating bench data (raw COPY path; units audited in bulk) ...", flush=True)
        _generate()
    user = _user()
    client = Client()
    client.force_login(user)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT (SELECT count(*) FROM trace_unit), (SELECT count(*) FROM trace_lot), "
            "(SELECT count(*) FROM trace_saleline), (SELECT count(*) FROM trace_customer)"
        )
        n_units, n_lots, n_lines, n_customers = cur.fetchone()
    print(
        f"\ndata: {n_units:,} units, {n_lots:,} lots, {n_lines:,} sale lines, "
        f"{n_customers:,} customers — PostgreSQL {connection.pg_version // 10000}\n"
    )
    only = set(args.only or ["lookups", "traces", "import"])
    lines: list[str] = []
    if "lookups" in only:
        lines += bench_lookups(user, args.samples, client)
    if "traces" in only:
        lines += bench_traces(client, args.samples)
    if "import" in only:
        lines += bench_imports(user, args.import_rows, args.import_runs)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
