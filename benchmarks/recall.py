#!/usr/bin/env python
"""Recalls at scale (RCL-2, RCL-4) over the trace benchmark's data (1,000,000 units).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/medvigil_bench_recall \
        .venv/bin/python benchmarks/recall.py [--regenerate] [--runs 5] [--samples 50]

DATABASE_URL defaults to its own database, medvigil_bench_recall (never the trace bench's):
the script creates and migrates it and generates benchmarks/trace.py's data there when
missing (100 products, 10,000 lots of 100 units, 100,000 customers, 2,000,000 sale lines
through two levels of distribution, 10 % installed; units audited in bulk).

Printed (targets in brackets):

* scoping a recall of 10 lots (1,000 units) into RecallUnit and RecallConsignee rows with
  ``services.resolve_scope`` — forward trace, bulk audited insert — p50/p95 over ``--runs``
  recalls of other lots [a few seconds at most: the issue asks "in seconds"];
* scoping a recall of 100 lots (10,000 units), once (informative);
* its execution page (``/recalls/<id>/execution/``, Django test client with a session, the
  whole middleware stack) with 10,000 affected units, first and a later page of units,
  p50/p95 over ``--samples`` requests [p95 < 200 ms].

Figures are printed beside the machine calibration (benchmarks/_calibrate.py) and the load
at the end: read them together.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/medvigil_bench_recall"
TARGET_PAGE_P95_MS = 200.0


def _trace_bench() -> Any:
    """benchmarks/trace.py as a module (its name would clash with the standard library's)."""
    spec = importlib.util.spec_from_file_location("bench_trace", HERE / "trace.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(HERE))
    spec.loader.exec_module(module)
    return module


def _people() -> tuple[Any, Any]:
    from medvigil.accounts.models import Role, User

    def user(name: str, role: str) -> Any:
        u = User.objects.filter(username=name).first()
        if u is None:
            u = User.objects.create_user(username=name, password="bench-password-1")
            u.roles.set(Role.objects.filter(code=role))
        return User.objects.get(pk=u.pk)

    return user("bench-quality", "quality"), user("bench-gm", "general_manager")


def _scope(user: Any, lot_numbers: list[str]) -> tuple[float, Any]:
    from medvigil.recalls import services

    recall = services.create_recall(
        by=user,
        title="bench recall",
        reason="bench",
        level=2,
        scope_lots="\n".join(lot_numbers),
    )
    t = time.perf_counter()
    recall = services.resolve_scope(recall, by=user)
    return (time.perf_counter() - t) * 1000, recall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regenerate", action="store_true", help="drop and rebuild the data")
    parser.add_argument("--runs", type=int, default=5, help="10-lot recalls scoped")
    parser.add_argument("--samples", type=int, default=50, help="execution page requests")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    tb = _trace_bench()
    tb._environment()
    tb._prepare_database(args.regenerate)
    tb._setup_django()
    from django.test import Client

    from medvigil.trace.models import Lot

    if tb._has_data():
        print("bench data found (use --regenerate to rebuild it)")
    else:
        print("generating the trace bench data ...", flush=True)
        tb._generate()
    import _calibrate  # type: ignore[import-not-found]

    print(_calibrate.calibration(os.environ["DATABASE_URL"]), flush=True)
    quality, _gm = _people()
    rnd = random.Random(12)
    numbers = list(Lot.objects.order_by("id").values_list("lot_number", flat=True))
    rnd.shuffle(numbers)
    lines = []
    times = []
    for run in range(args.runs):
        ms, recall = _scope(quality, numbers[run * 10 : run * 10 + 10])
        times.append(ms)
    lines.append(
        tb._line(
            f"scope a recall of 10 lots ({recall.unit_count} units, "
            f"{recall.consignee_count} customers)",
            times,
        )
    )
    big_ms, big = _scope(quality, numbers[1000:1100])
    lines.append(
        f"{'scope a recall of 100 lots':<46} {big_ms:9.0f} ms   "
        f"({big.unit_count:,} units, {big.consignee_count:,} customers)"
    )
    client = Client()
    client.force_login(quality)
    url = f"/recalls/{big.pk}/execution/"
    r = client.get(url)
    assert r.status_code == 200, r.content[:300]
    first = [tb._timed(client.get, url) for _ in range(args.samples)]
    later = [tb._timed(client.get, url, {"upage": 150}) for _ in range(args.samples)]
    lines.append(
        tb._line(f"execution page, {big.unit_count:,} units (page 1)", first, TARGET_PAGE_P95_MS)
    )
    lines.append(
        tb._line(f"execution page, {big.unit_count:,} units (page 150)", later, TARGET_PAGE_P95_MS)
    )
    print("\n".join(lines))
    print(f"load at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
