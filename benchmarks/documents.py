#!/usr/bin/env python
"""PDF documents (PLAT-6, TRC-7, TRC-8): time to render a forward-trace report and a drill
report, on a throw-away SQLite database.

    .venv/bin/python benchmarks/documents.py [--units 100 1000] [--runs 5]

For each size: one lot of N serialised units sold to a dealer (华南医疗设备有限公司), 60 % sold
on to a hospital (广州市第二人民医院). Printed: pages, size, and the median wall and CPU time
of ``trace.documents.forward_trace_pdf`` (the trace query is not included) and of
``drill_pdf`` [100-unit forward trace: well under 2 s]. The first render of a process also
loads the font (printed apart).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _environment() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    tmp = tempfile.mkdtemp(prefix="medvigil-bench-documents-")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medvigil.settings")
    os.environ.setdefault("MEDVIGIL_DEV", "1")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("MEDIA_ROOT", tmp)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _world(n: int, user: object) -> object:
    from medvigil.trace import services
    from medvigil.trace.models import gtin_check_digit

    payload = f"0690123{n:06d}"
    product = services.create_product(
        code=f"BENCH-{n}",
        name="便携式心电监护仪",
        model_spec="ECG-7",
        manufacturer="医械科技有限公司",
        risk_class="II",
        gtin=payload + str(gtin_check_digit(payload)),
    )
    lot = services.create_lot(
        product=product,
        lot_number=f"BL-{n}",
        production_date=dt.date(2026, 1, 5),
        quantity=n,
    )
    units = services.create_units(
        services.build_unit(product=product, lot=lot, serial=f"B{n}-{i:05d}") for i in range(n)
    )
    dealer = services.create_customer(
        code=f"BD-{n}", name="华南医疗设备有限公司", kind="dealer", address="广州市天河路 1 号"
    )
    hospital = services.create_customer(
        code=f"BH-{n}", name="广州市第二人民医院", kind="hospital", address="广州市越秀路 2 号"
    )
    for kind in ("business", "operating"):
        services.add_licence(
            customer=dealer,
            kind=kind,
            number=f"BD-{n}-{kind}",
            issued_on=dt.date(2020, 1, 1),
            expires_on=dt.date(2030, 12, 31),
        )
    services.add_licence(
        customer=hospital,
        kind="practice",
        number=f"BH-{n}-practice",
        issued_on=dt.date(2020, 1, 1),
        expires_on=dt.date(2030, 12, 31),
    )
    line = services.LineInput
    for seller, buyer, items in ((None, dealer, units), (dealer, hospital, units[: n * 6 // 10])):
        services.create_sale(
            seller=seller,
            buyer=buyer,
            sale_date=dt.date(2026, 2, 1),
            lines=[line(unit=u) for u in items],
            by=user,
        )
    return lot


def _time(fn: object, runs: int) -> tuple[float, float, bytes]:
    walls, cpus = [], []
    out = b""
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        out = fn()  # type: ignore[operator]
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--save", metavar="DIR", help="write the PDFs there, to look at them")
    args = parser.parse_args()
    _environment()
    import _calibrate

    # its database is SQLite; CALIBRATE_PG_URL=postgres://… adds the PostgreSQL figure
    _calibrate.print_calibration(os.environ.get("CALIBRATE_PG_URL"))

    from pypdf import PdfReader

    from medvigil.accounts.models import User
    from medvigil.trace import services
    from medvigil.trace.documents import drill_pdf, forward_trace_pdf
    from medvigil.trace.queries import forward_trace

    user = User.objects.create_superuser("bench", "bench@example.com", "x")
    started = time.perf_counter()
    from medvigil.core.documents.service import _register_font

    _register_font()
    print(f"font loaded in {time.perf_counter() - started:.2f} s (once per process)")
    for n in args.units:
        lot = _world(n, user)
        trace = forward_trace(lots=[lot])
        wall, cpu, pdf = _time(lambda t=trace: forward_trace_pdf(t, user), args.runs)
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        if args.save:
            Path(args.save, f"forward-trace-{n}.pdf").write_bytes(pdf)
        print(
            f"forward trace, {n:>5} units: {wall:.2f} s wall, {cpu:.2f} s CPU (median of "
            f"{args.runs}), {pages} pages, {len(pdf):,} bytes"
        )
        drill = services.start_drill(lot, by=user)
        wall, cpu, pdf = _time(lambda d=drill: drill_pdf(d, user), args.runs)
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        if args.save:
            Path(args.save, f"drill-report-{n}.pdf").write_bytes(pdf)
        print(
            f"drill report,  {n:>5} units: {wall:.2f} s wall, {cpu:.2f} s CPU, {pages} pages, "
            f"{len(pdf):,} bytes"
        )


if __name__ == "__main__":
    main()
