#!/usr/bin/env python
"""Paired import benchmark (PLAT-10 × TRC-3/4/5): the same import files through two source
trees, alternately, on fresh PostgreSQL databases — for judging whether a change made the
trace importers slower on a busy machine, where the absolute figures of one run scatter.

    .venv/bin/python benchmarks/trace_import_pair.py --base-src ../base/src [--rows 20000]
                                                     [--rounds 3] [--kinds units,...]

Each round, for each tree in turn (base first, then this tree): a new database, migrated;
one product, one lot, 20 dealers and 200 hospitals with licences (made through the services);
then four imports through ``core.imports`` (upload service, read, validate, one audited
transaction each), timed around ``process_batch``:

* ``units``: ``--rows`` serial numbers of the lot;
* ``sales 1``: the same units sold by us to the dealers (sales of 50 lines);
* ``sales 2``: every unit sold on by its dealer to a hospital (sales of 10 lines);
* ``installs``: one unit in ten installed at its hospital.

Printed: rows/s of every import and round, and the medians per tree. DATABASE_URL names the
server (default postgres://postgres@127.0.0.1:5432/); the databases are mv_pair_base and
mv_pair_head (``--db-prefix`` changes ``mv_pair``, so that sessions sharing the server do not
drop each other's), dropped and made again each round.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SERVER = "postgres://postgres@127.0.0.1:5432/"
KINDS = ("units", "sales 1", "sales 2", "installs")


def _child(src: str, dbname: str, rows: int, kinds: tuple[str, ...] = KINDS) -> dict[str, float]:
    sys.path.insert(0, src)
    server = os.environ.get("DATABASE_URL", SERVER).rsplit("/", 1)[0]
    os.environ["DATABASE_URL"] = f"{server}/{dbname}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medvigil.settings")
    os.environ.setdefault("MEDVIGIL_DEV", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="medvigil-pair-media-"))
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{dbname}"')
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    import medvigil

    assert str(Path(medvigil.__file__).resolve()).startswith(str(Path(src).resolve())), (
        medvigil.__file__
    )
    call_command("migrate", verbosity=0, interactive=False)
    from medvigil.accounts.models import Role, User
    from medvigil.core.imports import create_batch, process_batch
    from medvigil.trace import services
    from medvigil.trace.models import CustomerKind, LicenceKind, RiskClass, gtin_check_digit

    user = User.objects.create_user(username="pair-quality", password="pair-password-1")
    user.roles.set(Role.objects.filter(code="quality"))
    user = User.objects.get(pk=user.pk)
    payload = "0690999000001"
    product = services.create_product(
        code="PAIR-P",
        name="泵",
        model_spec="M1",
        manufacturer="M",
        risk_class=RiskClass.III,
        gtin=payload + str(gtin_check_digit(payload)),
        warranty_months=12,
    )
    lot = services.create_lot(
        product=product, lot_number="PAIR-L", production_date=dt.date(2026, 1, 5), quantity=rows
    )

    def customer(code: str, kind: str, licence_kinds: tuple[str, ...]) -> Any:
        c = services.create_customer(code=code, name=f"Customer {code}", kind=kind)
        for k in licence_kinds:
            services.add_licence(
                customer=c,
                kind=k,
                number=f"{code}-{k}",
                issued_on=dt.date(2020, 1, 1),
                expires_on=dt.date(2035, 1, 1),
            )
        return c

    dealers = [
        customer(f"D{i:03d}", CustomerKind.DEALER, (LicenceKind.BUSINESS, LicenceKind.OPERATING))
        for i in range(20)
    ]
    hospitals = [
        customer(f"H{i:04d}", CustomerKind.HOSPITAL, (LicenceKind.PRACTICE,)) for i in range(200)
    ]
    serials = [f"PAIR{i:07d}" for i in range(rows)]
    day1, day2, day3 = dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 4, 1)
    dealer_of = [dealers[(i // 50) % len(dealers)] for i in range(rows)]
    hospital_of = [hospitals[(i // 10) % len(hospitals)] for i in range(rows)]
    files = {
        "units": ("units", ["产品,出厂编号,批号"])
        + ([f"{product.gtin},{s},{lot.lot_number}" for s in serials],),
        "sales 1": ("sales", ["单据号,销售日期,购买方,出厂编号"])
        + ([f"S1-{i // 50},{day1},{dealer_of[i].code},{s}" for i, s in enumerate(serials)],),
        "sales 2": ("sales", ["单据号,销售日期,销售方,购买方,出厂编号"])
        + (
            [
                f"S2-{i // 10},{day2},{dealer_of[i].code},{hospital_of[i].code},{s}"
                for i, s in enumerate(serials)
            ],
        ),
        "installs": ("installations", ["出厂编号,使用单位,安装日期,验收日期"])
        + (
            [
                f"{s},{hospital_of[i].code},{day3},{day3}"
                for i, s in enumerate(serials)
                if i % 10 == 0
            ],
        ),
    }
    out: dict[str, float] = {}
    for name in KINDS[: max(KINDS.index(k) for k in kinds) + 1]:
        kind, header, lines = files[name]
        data = ("\n".join(header + lines) + "\n").encode()
        batch = create_batch(
            user=user, kind=kind, uploaded=SimpleUploadedFile(f"{kind}.csv", data), run=False
        )
        t = time.perf_counter()
        process_batch(batch.pk)
        elapsed = time.perf_counter() - t
        batch.refresh_from_db()
        assert batch.status == "imported", (name, batch.status, batch.errors_preview[:3])
        if name in kinds:
            out[name] = len(lines) / elapsed
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-src", required=True, help="src/ of the tree to compare with")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--kinds",
        default=",".join(KINDS),
        help="the imports to time, comma-separated (the earlier ones still run); default all",
    )
    parser.add_argument(
        "--db-prefix",
        default="mv_pair",
        help="the databases are <prefix>_base and <prefix>_head (default mv_pair)",
    )
    parser.add_argument("--child", nargs=2, metavar=("SRC", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kinds = tuple(k.strip() for k in args.kinds.split(","))
        print(json.dumps(_child(args.child[0], args.child[1], args.rows, kinds)))
        return
    kinds = tuple(k.strip() for k in args.kinds.split(","))
    import _calibrate

    server = os.environ.get("DATABASE_URL", SERVER).rsplit("/", 1)[0]
    _calibrate.print_calibration(f"{server}/postgres")
    trees = {"base": str(Path(args.base_src).resolve()), "head": str(ROOT / "src")}
    results: dict[str, list[dict[str, float]]] = {t: [] for t in trees}
    for r in range(1, args.rounds + 1):
        for tree, src in trees.items():
            env = {**os.environ, "PYTHONPATH": src}
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--base-src",
                    src,
                    "--rows",
                    str(args.rows),
                    "--kinds",
                    args.kinds,
                    "--child",
                    src,
                    f"{args.db_prefix}_{tree}",
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode:
                sys.exit(f"{tree} round {r} failed:\n{proc.stderr[-3000:]}")
            rates = json.loads(proc.stdout.strip().splitlines()[-1])
            results[tree].append(rates)
            cells = "  ".join(f"{k} {rates[k]:8,.0f}" for k in kinds)
            print(f"round {r} {tree}: {cells}  rows/s", flush=True)
    print(f"\nmedians of {args.rounds} rounds, {args.rows:,} rows (rows/s):")
    print(f"{'import':<10} {'base':>10} {'head':>10} {'head/base':>10}")
    for k in kinds:
        b = statistics.median(x[k] for x in results["base"])
        h = statistics.median(x[k] for x in results["head"])
        print(f"{k:<10} {b:10,.0f} {h:10,.0f} {h / b:10.2f}")


if __name__ == "__main__":
    main()
