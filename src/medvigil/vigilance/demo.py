"""Demo adverse events (loaded by `medvigil demo` after trace and complaints): deaths and
injuries from the FDA MAUDE sample (ICIJ, shared/data/external/maude; the MDR report key is
kept in `source_reference`) on demo units sold in China, the US and the EU, at different
points of their clocks: a decision still to take, reports due soon, one breached, one
submitted on time, a China cluster in its first hours. Idempotent; deterministic.

The demo writes the qualified person's decisions and submissions without the password step
(the demo runs inside one transaction, where the signature's password check cannot run); the
records say so in their basis."""

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
    from .models import ReportabilityDecision, VigilanceReport
    from .services import events as ev_svc
    from .services.reports import open_initial_reports, snapshot

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
        d = ReportabilityDecision.objects.get(event=e, market=market, status="proposed")
        d.status = ReportabilityDecision.Status.CONFIRMED
        d.decided_reportable = True
        d.decided_by = actor
        d.decided_at = e.aware_at + dt.timedelta(hours=20)
        d.basis = "Demo: confirmed by the qualified person (demo data, not signed)."
        d.save()
        for r in open_initial_reports(d, by=actor):
            if submit and r.due_at:
                r.status = VigilanceReport.Status.SUBMITTED
                r.submitted_at = (
                    r.due_at + dt.timedelta(hours=5) if late else r.due_at - dt.timedelta(days=2)
                )
                r.submitted_by = actor
                r.regulator_reference = submit
                r.content = snapshot(r)
                r.save()

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
