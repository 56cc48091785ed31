#!/usr/bin/env python
"""Vigilance at scale (VIG-3, VIG-7): the countdown board page and the periodic deadline check
over 100,000 adverse events, 5,000 of them open.

    .venv/bin/python benchmarks/vigilance.py [--regenerate] [--samples 50] [--runs 5] [--drop]

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/mv_vigilb_bench; the script
creates the database if missing (``--regenerate`` drops and recreates it), migrates it and, if
the bench data is not there yet, generates it by the raw path of the other benchmarks
(PostgreSQL COPY in one transaction, no ORM, no audit; seeded, so every run has the same data):

* 20 products, each with China's periodic risk evaluation and an EU PSUR obligation;
* 100,000 events over four years: outcome death 3 %, serious injury 27 %, malfunction 50 %,
  other 20 %; markets CN (70 %), US (35 %), EU (35 %), at least one; 5,000 of them open
  (drawn from the newest 12,000), the rest closed;
* per event and market a reportability decision: closed events' decided (confirmed when
  serious, else not reportable, 3 % superseded revisions beside them), with their initial
  reports submitted (92 % on time) and a final report for a fifth of them; open events'
  decisions 35 % still proposed (their clock runs from awareness), 10 % not reportable, the
  rest confirmed with their initial report(s) as drafts — a tenth of those already
  submitted with a follow-up draft running (us.supplemental / 30 days). The drafts' due
  moments come from the deadline rules (core.calendar.rules.compute), as the services set
  them; awareness of the open events spread over the last 45 days, so their clocks are at
  every stage, some breached.

Then, on a signed-in quality user (who sees every event), in-process (Django test client, the
whole middleware stack) and in the same process for the job:

* the countdown board ``/vigilance/board/``, ``--samples`` requests: p50/p95 [target p95 <
  200 ms], with its query count;
* the periodic deadline check (``core.calendar.deadlines.check_deadlines``, every app's
  sources, over the same data): its first run (sends the alerts that are due: one
  notification each), then ``--runs`` steady runs (everything already alerted): p50/max
  [target < 5 s]; and the vigilance source alone.

Figures are printed beside the machine calibration (benchmarks/_calibrate.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import complaints as _cb  # noqa: E402  (the database helpers and the COPY writer)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mv_vigilb_bench"
N_PRODUCTS = 20
N_EVENTS = 100_000
N_OPEN = 5_000
MARKER = "BENCH-V-P-0001"
TARGET_BOARD_P95_MS = 200.0
TARGET_CHECK_S = 5.0

OUTCOMES = ["death"] * 3 + ["serious_injury"] * 27 + ["malfunction"] * 50 + ["other"] * 20
# (market, decision rule, citation, deadline rules) for a serious event; the other outcome
# is not reportable in any market.
RULES = {
    "CN": {
        "death": ("cn.death", "2019 measures 第二十五条", ["cn.death"]),
        "serious": ("cn.serious", "2019 measures 第二十五条", ["cn.serious"]),
        "other": ("cn.other", "2019 measures 第二十五条", []),
    },
    "US": {
        "death": ("us.30day", "21 CFR 803.50(a)", ["us.mdr_30"]),
        "serious": ("us.30day", "21 CFR 803.50(a)", ["us.mdr_30"]),
        "other": ("us.other", "21 CFR 803.3, 803.20(c)", []),
    },
    "EU": {
        "death": ("eu.death", "MDR Art. 87(5)", ["eu.death_unanticipated"]),
        "serious": ("eu.serious", "MDR Art. 87(3)", ["eu.serious_incident"]),
        "other": ("eu.other", "MDR Art. 87(1), Art. 88", []),
    },
}
DAYS = {
    "cn.death": 7,
    "cn.serious": 20,
    "us.mdr_30": 30,
    "eu.death_unanticipated": 10,
    "eu.serious_incident": 15,
}


def _environment() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    _cb._environment(None)


def _has_data() -> bool:
    from medvigil.trace.models import Product
    from medvigil.vigilance.models import AdverseEvent

    return (
        Product.objects.filter(code=MARKER).exists()
        and AdverseEvent.objects.filter(number__startswith="AEB-").count() >= N_EVENTS
    )


def _gtin(n: int) -> str:
    from medvigil.trace.models import gtin_check_digit

    payload = f"0690997{n:06d}"
    return payload + str(gtin_check_digit(payload))


def _generate(user: Any) -> None:
    from django.db import connection, transaction
    from django.utils import timezone
    from psycopg.types.json import Jsonb

    from medvigil.core.calendar.rules import compute
    from medvigil.trace.models import Product
    from medvigil.vigilance.models import (
        AdverseEvent,
        PeriodicObligation,
        ReportabilityDecision,
        VigilanceReport,
    )

    rnd = random.Random(20261202)
    now = timezone.now()
    t0 = time.perf_counter()
    due_cache: dict[tuple[str, dt.date], dt.datetime | None] = {}

    def due_of(rule: str, start: dt.datetime) -> dt.datetime | None:
        # the rules count in the market's days (hour rules are not generated here)
        key = (rule, start.date())
        if key not in due_cache:
            due_cache[key] = compute(rule, start).due_at
        return due_cache[key]

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM trace_product")
        p0 = cur.fetchone()[0]
        with _cb._Copier(
            cur,
            Product,
            ["id", "code", "name", "name_en", "model_spec", "manufacturer", "risk_class", "gtin"],
        ) as c:
            for p in range(1, N_PRODUCTS + 1):
                c.row(
                    p0 + p,
                    f"BENCH-V-P-{p:04d}",
                    f"基准产品 {p}",
                    f"Bench product {p}",
                    f"V-{p}",
                    "华康医疗器械股份有限公司",
                    "III" if p % 2 else "II",
                    _gtin(p),
                )
        cur.execute(
            f"SELECT setval(pg_get_serial_sequence('trace_product', 'id'), {p0 + N_PRODUCTS})"
        )
        with _cb._Copier(
            cur,
            PeriodicObligation,
            ["product_id", "market", "registered_on", "eu_class", "created_by_id"],
        ) as c:
            for p in range(1, N_PRODUCTS + 1):
                reg = dt.date(2022, 1, 1) + dt.timedelta(days=37 * p)
                c.row(p0 + p, "CN", reg, "", user.pk)
                c.row(p0 + p, "EU", reg, "IIa" if p % 3 == 0 else "III", user.pk)

        span = dt.timedelta(days=4 * 365)
        # the newest 12,000 events are the last 45 days' worth of them; 5,000 of them open
        recent = 12_000
        open_ids = set(rnd.sample(range(N_EVENTS - recent + 1, N_EVENTS + 1), N_OPEN))
        cur.execute("SELECT coalesce(max(id), 0) FROM vigilance_adverseevent")
        e0 = cur.fetchone()[0]
        cur.execute("SELECT coalesce(max(id), 0) FROM vigilance_reportabilitydecision")
        d_id = cur.fetchone()[0]
        cur.execute("SELECT coalesce(max(id), 0) FROM vigilance_vigilancereport")
        r_id = cur.fetchone()[0]
        ev_cols = [
            "id",
            "number",
            "title",
            "status",
            "source",
            "aware_at",
            "occurred_place",
            "outcome",
            "narrative",
            "product_id",
            "device_text",
            "markets",
            "owner_id",
            "created_by_id",
            "closed_at",
        ]
        dec_cols = [
            "id",
            "event_id",
            "market",
            "status",
            "proposed_reportable",
            "fired_rule",
            "fired_citation",
            "proposal_reason",
            "deadline_rules",
            "decided_reportable",
            "basis",
            "decided_by_id",
            "decided_at",
            "created_by_id",
            "event_open",
        ]
        rep_cols = [
            "id",
            "number",
            "event_id",
            "decision_id",
            "market",
            "kind",
            "status",
            "narrative",
            "content",
            "submitted_at",
            "submitted_by_id",
            "regulator_reference",
            "deadline_rule",
            "clock_started_at",
            "due_at",
            "created_by_id",
            "event_open",
        ]
        events: list[tuple] = []
        decisions: list[tuple] = []
        reports: list[tuple] = []
        counts = {"draft": 0, "proposed": 0}

        def report(
            eid: int, did: int, market: str, kind: str, rule: str, start: dt.datetime, **kw: Any
        ) -> None:
            nonlocal r_id
            r_id += 1
            submitted = kw.get("submitted_at")
            due = kw.get("due_at") or (
                due_of(rule, start)
                if submitted is None
                else start + dt.timedelta(days=DAYS.get(rule, 30))
            )
            reports.append(
                (
                    r_id,
                    f"VRB-{r_id:07d}",
                    eid,
                    did,
                    market,
                    kind,
                    "submitted" if submitted else "draft",
                    "患者使用后出现不良反应。",
                    Jsonb({"frozen": True}) if submitted else None,
                    submitted,
                    user.pk if submitted else None,
                    f"REF-{r_id}" if submitted else "",
                    rule,
                    start,
                    due,
                    user.pk,
                    is_open,  # the event's (services.events keeps the copy)
                )
            )
            if not submitted:
                counts["draft"] += 1

        for i in range(1, N_EVENTS + 1):
            eid = e0 + i
            is_open = i in open_ids
            if i > N_EVENTS - recent:
                aware = now - dt.timedelta(
                    seconds=45 * 86400 * (N_EVENTS - i) / recent + rnd.randint(0, 3600)
                )
            else:
                aware = now - dt.timedelta(days=45) - span * (N_EVENTS - recent - i) / N_EVENTS
            outcome = rnd.choice(OUTCOMES)
            markets = [m for m, p in (("CN", 0.7), ("US", 0.35), ("EU", 0.35)) if rnd.random() < p]
            markets = markets or ["CN"]
            events.append(
                (
                    eid,
                    f"AEB-{i:07d}",
                    f"可疑不良事件 {i}",
                    "open" if is_open else "closed",
                    rnd.choice(["complaint", "service", "direct"]),
                    aware,
                    "CN",
                    outcome,
                    "输液泵使用过程中出现异常, 患者出现不适。",
                    p0 + rnd.randint(1, N_PRODUCTS),
                    "输液泵",
                    Jsonb(markets),
                    user.pk,
                    user.pk,
                    None if is_open else aware + dt.timedelta(days=40),
                )
            )
            kind = "other" if outcome == "other" else "death" if outcome == "death" else "serious"
            for m in markets:
                code, citation, rules = RULES[m][kind]
                reportable = bool(rules)
                if not is_open:
                    if rnd.random() < 0.03:  # a revision: the superseded decision stays
                        d_id += 1
                        decisions.append(
                            (d_id, eid, m, "superseded", reportable, code, citation, code,
                             Jsonb(rules), None, "", None, None, user.pk, False)
                        )  # fmt: skip
                    d_id += 1
                    decided = aware + dt.timedelta(days=2)
                    decisions.append(
                        (
                            d_id, eid, m, "confirmed" if reportable else "not_reportable",
                            reportable, code, citation, code, Jsonb(rules), reportable,
                            "" if reportable else "不构成可报告事件。", user.pk, decided, user.pk,
                            False,
                        )
                    )  # fmt: skip
                    for rule in rules:
                        days = DAYS.get(rule, 30)
                        late = rnd.random() < 0.08
                        sub = aware + dt.timedelta(days=days + 3 if late else rnd.randint(1, days))
                        report(eid, d_id, m, "initial", rule, aware, submitted_at=sub)
                        if rnd.random() < 0.2:
                            report(
                                eid, d_id, m, "final", rule, aware,
                                submitted_at=sub + dt.timedelta(days=20),
                            )  # fmt: skip
                    continue
                # an open event
                x = rnd.random()
                d_id += 1
                if not reportable or x < 0.10:
                    decisions.append(
                        (d_id, eid, m, "not_reportable", False, code, citation, code,
                         Jsonb(rules), False, "不构成可报告事件。", user.pk,
                         aware + dt.timedelta(days=1), user.pk, True)
                    )  # fmt: skip
                elif x < 0.45:
                    counts["proposed"] += 1
                    decisions.append(
                        (d_id, eid, m, "proposed", True, code, citation, code, Jsonb(rules),
                         None, "", None, None, user.pk, True)
                    )  # fmt: skip
                else:
                    decisions.append(
                        (d_id, eid, m, "confirmed", True, code, citation, code, Jsonb(rules),
                         True, "", user.pk, aware + dt.timedelta(days=1), user.pk, True)
                    )  # fmt: skip
                    for rule in rules:
                        if rnd.random() < 0.1:
                            sub = aware + dt.timedelta(days=3)
                            report(eid, d_id, m, "initial", rule, aware, submitted_at=sub)
                            info = min(now, sub + dt.timedelta(days=rnd.randint(1, 20)))
                            report(eid, d_id, m, "follow_up", "us.supplemental", info)
                        else:
                            report(eid, d_id, m, "initial", rule, aware)
        with _cb._Copier(cur, AdverseEvent, ev_cols) as c:
            for row in events:
                c.row(*row)
        print(f"  {len(events):,} events ... {time.perf_counter() - t0:.0f} s", flush=True)
        with _cb._Copier(cur, ReportabilityDecision, dec_cols) as c:
            for row in decisions:
                c.row(*row)
        with _cb._Copier(cur, VigilanceReport, rep_cols) as c:
            for row in reports:
                c.row(*row)
        for table, last in (
            ("vigilance_adverseevent", e0 + N_EVENTS),
            ("vigilance_reportabilitydecision", d_id),
            ("vigilance_vigilancereport", r_id),
        ):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {last})")
    print(
        f"  {len(decisions):,} decisions ({counts['proposed']:,} proposed on open events), "
        f"{len(reports):,} reports ({counts['draft']:,} drafts) ... "
        f"{time.perf_counter() - t0:.0f} s",
        flush=True,
    )


# --- measurements -----------------------------------------------------------------------------


def _board(user: Any, samples: int) -> list[str]:
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(user)
    r = client.get("/vigilance/board/")  # warm
    assert r.status_code == 200, r.status_code
    q: list[str] = []

    def count(execute: Any, sql: str, *args: Any) -> Any:
        q.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(count):
        r = client.get("/vigilance/board/")
    rows = r.content.count(b'class="board-row')
    ms = []
    for _ in range(samples):
        t = time.perf_counter()
        r = client.get("/vigilance/board/")
        ms.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200
    return [
        _cb._line("countdown board /vigilance/board/", ms, TARGET_BOARD_P95_MS)
        + f"  {len(q)} queries, {rows} rows, {len(r.content) // 1024} KiB"
    ]


def _check(runs: int) -> list[str]:
    from django.utils import timezone

    from medvigil.core.calendar.deadlines import check_deadlines
    from medvigil.vigilance.services.board import deadline_source

    lines = []
    now = timezone.now()
    t = time.perf_counter()
    n = sum(1 for _d in deadline_source(now))
    lines.append(
        f"{'vigilance deadline source alone':<44} {time.perf_counter() - t:7.2f} s   "
        f"({n:,} deadlines)"
    )
    t = time.perf_counter()
    first = check_deadlines(now)
    took = time.perf_counter() - t
    lines.append(
        f"{'deadline check, first run (sends alerts)':<44} {took:7.2f} s   "
        f"(checked {first.checked:,}, sent {first.total_sent:,}, skipped {first.skipped:,})"
    )
    secs = []
    for _ in range(runs):
        t = time.perf_counter()
        res = check_deadlines(timezone.now())
        secs.append(time.perf_counter() - t)
    worst = max(secs)
    lines.append(
        f"{'deadline check, steady (all alerted)':<44} p50 {statistics.median(secs):6.2f} s   "
        f"max {worst:6.2f} s   (n={runs}, checked {res.checked:,}, sent {res.total_sent})"
        f"  [target < {TARGET_CHECK_S:.0f} s: {'met' if worst < TARGET_CHECK_S else 'MISSED'}]"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regenerate", action="store_true", help="drop and rebuild the data")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    args = parser.parse_args()
    _environment()
    _cb._prepare_database(args.regenerate)
    _cb._setup_django()
    from django.db import connection

    user = _cb._user()
    if _has_data():
        print("bench data found (use --regenerate to rebuild it)")
    else:
        print("generating bench data (raw COPY path) ...", flush=True)
        _generate(user)
    with connection.cursor() as cur:  # as autovacuum would have, before the measurements
        for table in ("adverseevent", "reportabilitydecision", "vigilancereport"):
            cur.execute(f"VACUUM ANALYZE vigilance_{table}")
        cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'open') FROM vigilance_adverseevent"
        )
        n, n_open = cur.fetchone()
    import _calibrate  # type: ignore[import-not-found]

    calibration = _calibrate.calibration(os.environ["DATABASE_URL"])
    print(f"\ndata: {n:,} events, {n_open:,} open — PostgreSQL {connection.pg_version // 10000}")
    print(calibration)
    lines = _board(user, args.samples)
    lines += _check(args.runs)
    print("\n".join(lines))
    print(f"load at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.drop:
        _cb._drop_database()


if __name__ == "__main__":
    main()
