"""Demo adverse events (loaded by `medvigil demo` after trace and complaints): deaths and
injuries from the FDA MAUDE sample (ICIJ, shared/data/external/maude; the MDR report key is
kept in `source_reference`) on demo units sold in China, the US and the EU, at different
points of their clocks: a decision still to take, reports due soon, one breached, one
submitted on time, a China cluster in its first hours. Idempotent; deterministic.

The qualified person's decisions and submissions go through the services and are signed: the
demo runs inside one transaction, where the password check (its own durable transaction)
cannot run, so it signs with a loader check (core.signatures.services.loader_check); the
signature's reason says "Demo". A demo trend baseline makes one MDR Art. 88 signal."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

REF = "MAUDE "
MAUDE = Path("/work/shared/data/external/maude/icij_maude_1k_sample.tsv")


def maude_path() -> Path:
    return Path(getattr(settings, "VIG_DEMO_MAUDE", "") or MAUDE)


def read_maude(kinds: tuple[str, ...] = ("D", "IN"), limit: int = 2000) -> list[dict[str, str]]:
    """Rows of the MAUDE sample whose event type is death (D) or injury (IN), with a text."""
    path = maude_path()
    if not path.exists():
        return []
    rows = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row.get("EVENT_TYPE") in kinds and (row.get("foi_text") or "").strip():
                rows.append(row)
                if len(rows) >= limit:
                    break
    return rows


def _customer(code: str, name: str, address: str, actor: Any) -> Any:
    from medvigil.trace import services as trace
    from medvigil.trace.models import Customer, CustomerKind, LicenceKind

    found = Customer.objects.filter(code=code).first()
    if found:
        return found
    c = trace.create_customer(
        by=actor, code=code, name=name, kind=CustomerKind.HOSPITAL, address=address
    )
    trace.add_licence(
        by=actor,
        customer=c,
        kind=LicenceKind.PRACTICE,
        number=f"{code}-L",
        issuer="—",
        issued_on=dt.date(2020, 1, 1),
        expires_on=dt.date(2099, 12, 31),
    )
    return c


def _sell(unit: Any, buyer: Any, actor: Any) -> None:
    from medvigil.trace import services as trace

    trace.create_sale(
        by=actor,
        seller=None,
        buyer=buyer,
        sale_date=timezone.localdate() - dt.timedelta(days=200),
        lines=[trace.LineInput(unit=unit)],
    )


def load_demo() -> None:
    from medvigil.accounts.models import User
    from medvigil.core.audit import audit_context
    from medvigil.trace.models import SaleLine, Unit, UnitStatus

    from .models import AdverseEvent

    if AdverseEvent.objects.filter(source_reference__startswith=REF).exists():
        return
    actor = User.objects.filter(username="quality").first()
    rows = read_maude()
    units_cn = list(
        Unit.objects.filter(product__code__startswith="DEMO-", sale_lines__open=True)
        .distinct()
        .order_by("pk")[:6]
    )
    stock = list(
        Unit.objects.filter(product__code__startswith="DEMO-", status=UnitStatus.IN_STOCK)
        .exclude(pk__in=SaleLine.objects.filter(unit__isnull=False).values("unit_id"))
        .order_by("pk")[:4]
    )
    deaths = sum(1 for r in rows if r["EVENT_TYPE"] == "D")
    if actor is None or deaths < 3 or len(rows) - deaths < 5 or len(units_cn) < 3 or len(stock) < 4:
        return
    # one transaction: numbers are taken inside it (core.numbering), and a failure leaves nothing
    with transaction.atomic(), audit_context(actor=actor, source="command:demo"):
        us = _customer("DEMO-VIG-US1", "Mayo Clinic", "200 First St SW, Rochester, MN, USA", actor)
        eu = _customer(
            "DEMO-VIG-EU1", "Charité Universitätsmedizin", "Charitéplatz 1, Berlin, Germany", actor
        )
        _sell(stock[0], us, actor)
        _sell(stock[1], us, actor)
        _sell(stock[2], eu, actor)
        _sell(stock[3], eu, actor)
        _load(actor, rows, units_cn, stock)


def _load(actor: Any, rows: list[dict[str, str]], units_cn: list[Any], stock: list[Any]) -> None:
    from medvigil.core.models import Signature
    from medvigil.core.signatures.services import loader_check

    from .models import ReportabilityDecision, VigilanceReport
    from .services import decisions as dec_svc
    from .services import events as ev_svc
    from .services import reports as rep_svc

    now = timezone.now()
    deaths = [r for r in rows if r["EVENT_TYPE"] == "D"]
    injuries = [r for r in rows if r["EVENT_TYPE"] == "IN"]

    def event(row: dict[str, str], unit: Any, ago: dt.timedelta, **extra: Any) -> Any:
        outcome = "death" if row["EVENT_TYPE"] == "D" else "serious_injury"
        brand = (row.get("BRAND_NAME") or row.get("GENERIC_NAME") or "device").title()
        return ev_svc.create_event(
            by=actor,
            title=f"{brand}: {'death' if outcome == 'death' else 'serious injury'}"[:200],
            aware_at=now - ago,
            occurred_at=now - ago - dt.timedelta(days=1),
            outcome=outcome,
            narrative=row["foi_text"][:4000],
            source_reference=f"{REF}{row['MDR_REPORT_KEY']}",
            unit=unit,
            patient_sex={"MALE": "M", "FEMALE": "F"}.get(row.get("GENDER_LABEL", ""), "U"),
            **extra,
        )

    def decide(e: Any, market: str, *, submit: str = "", late: bool = False) -> None:
        """The qualified person confirms (and submits) through the services, signed with a
        loader check: the demo runs in one transaction, where a password check cannot."""
        d = ReportabilityDecision.objects.get(event=e, market=market, status="proposed")
        dec_svc.confirm_decision(
            d,
            by=actor,
            comment="Demo: confirmed by the qualified person.",
            check=loader_check(d, user=actor, meaning=Signature.Meaning.APPROVED),
        )
        if not submit:
            return
        for r in VigilanceReport.objects.filter(decision=d, status="draft").order_by("id"):
            if not r.due_at:
                continue
            when = r.due_at + dt.timedelta(hours=5) if late else r.due_at - dt.timedelta(days=2)
            rep_svc.submit_report(
                r,
                by=actor,
                regulator_reference=submit,
                submitted_at=min(when, now - dt.timedelta(hours=1)),
                comment="Demo submission.",
                check=loader_check(r, user=actor, meaning=Signature.Meaning.APPROVED),
            )

    # China: a death still to decide (7-day clock running for 2 days)
    event(deaths[0], units_cn[0], dt.timedelta(days=2))
    # China: serious injury, report due in 3 days (urgent on the board)
    e = event(injuries[0], units_cn[1], dt.timedelta(days=17))
    decide(e, "CN")
    # China: a cluster of two, aware 5 hours ago: the 12-hour phone report is running
    lead = event(injuries[1], units_cn[2], dt.timedelta(hours=5), cluster=True)
    member = event(injuries[2], units_cn[2], dt.timedelta(hours=4))
    ev_svc.link_cluster(member, by=actor, lead=lead)
    # United States: a death reported on time; an injury breached (30 days passed)
    e = event(deaths[1], stock[0], dt.timedelta(days=25), occurred_place="US")
    decide(e, "US", submit="MW5090001")
    e = event(injuries[3], stock[1], dt.timedelta(days=33), occurred_place="US")
    decide(e, "US")
    # periodic reports: China's yearly risk evaluation of a product registered 13 months ago
    # (due within 60 days of the anniversary), and an EU PSUR (class IIb, yearly)
    from .services.periodic import create_obligation

    today = timezone.localdate()
    create_obligation(
        by=actor,
        product=units_cn[0].product,
        market="CN",
        registered_on=today - dt.timedelta(days=395),
    )
    create_obligation(
        by=actor,
        product=stock[2].product,
        market="EU",
        registered_on=today - dt.timedelta(days=340),
        eu_class="IIb",
    )
    # European Union: a public-health threat to decide today; a death with 4 days left
    event(
        injuries[4],
        stock[2],
        dt.timedelta(hours=20),
        occurred_place="EU",
        public_health_threat=True,
    )
    e = event(deaths[2], stock[3], dt.timedelta(days=6), occurred_place="EU")
    decide(e, "EU")
    _trend(actor, units_cn[0], now, loader_check, Signature)


def _trend(actor: Any, unit: Any, now: dt.datetime, loader_check: Any, Signature: Any) -> None:
    """MDR Art. 88: a baseline of 1.5 non-serious incidents a month for the product of a unit
    sold in China, and last month 6 of them (MAUDE "other" reports), decided not reportable
    and closed: P(X >= 6 | 1.5) = 0.0045, one signal, kept by the daily check (quality is
    told) and ready to become a trend report."""
    from .models import ReportabilityDecision
    from .services import decisions as dec_svc
    from .services import events as ev_svc
    from .services import trends as trend_svc

    rows = read_maude(kinds=("O",), limit=6)
    if len(rows) < 6:
        return
    trend_svc.set_baseline(
        by=actor,
        product=unit.product,
        expected_count="1.5",
        alpha="0.05",
        basis="Demo: PMS plan — non-serious incidents and expected side-effects of the last "
        "two years, per month.",
    )
    today = timezone.localdate()
    last_month = trend_svc.period_start(
        trend_svc.period_start(today, "month") - dt.timedelta(days=1), "month"
    )
    tz = timezone.get_current_timezone()
    for i, row in enumerate(rows):
        brand = (row.get("BRAND_NAME") or row.get("GENERIC_NAME") or "device").title()
        aware = dt.datetime.combine(last_month + dt.timedelta(days=2 + 3 * i), dt.time(10), tz)
        e = ev_svc.create_event(
            by=actor,
            title=f"{brand}: non-serious incident"[:200],
            aware_at=min(aware, now - dt.timedelta(hours=1)),
            outcome="other",
            narrative=row["foi_text"][:4000],
            source_reference=f"{REF}{row['MDR_REPORT_KEY']}",
            unit=unit,
        )
        for d in ReportabilityDecision.objects.filter(event=e, status="proposed"):
            dec_svc.decide_not_reportable(
                d,
                by=actor,
                basis="Demo: no death or serious injury, and no malfunction that could lead "
                "to one; counted in trend reporting (MDR Art. 88).",
                check=loader_check(d, user=actor, meaning=Signature.Meaning.APPROVED),
            )
        e.refresh_from_db()
        ev_svc.close_event(e, by=actor, version=e.version)
    # the signal becomes a draft trend report, ready to be completed and submitted
    for signal in trend_svc.check_trends(today):
        trend_svc.open_trend_report(signal, by=actor)
