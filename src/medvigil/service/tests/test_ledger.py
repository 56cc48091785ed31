"""The service ledger (售后服务台账, issue #11 item 9) and its figures (KPI-2): arrival
compliance, first-time fix and service cost, each proved on fixed data whose arithmetic is
written out beside the assertion; the page (permission-checked, filtered, paginated,
exported) and the API endpoint."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from medvigil.parts import services as parts
from medvigil.service.models import (
    Loan,
    MaintenanceVisit,
    Quote,
    ServiceRequest,
    WorkOrder,
)
from medvigil.service.services import ledger
from medvigil.service.services.ledger import LedgerFilter

from .conftest import at

pytestmark = pytest.mark.django_db

MARCH = LedgerFilter(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31))
WO = WorkOrder.Status
R = WorkOrder.Result


def _request(w: Any, received: dt.datetime, **kw: Any) -> ServiceRequest:
    data: dict[str, Any] = {
        "received_at": received,
        "title": "设备故障",
        "fault_level": "down",
        "zone": "city",
        "unit": w.a_units[0],
        "product": w.pump,
        "customer": w.hospital,
    }
    data.update(kw)
    return ServiceRequest.objects.create(**data)


def _wo(sr: ServiceRequest, engineer: Any, status: str, result: str = "", **kw: Any) -> WorkOrder:
    with time_machine.travel(kw.pop("created", sr.received_at + dt.timedelta(hours=1))):
        return WorkOrder.objects.create(
            request=sr, engineer=engineer, status=status, result=result, **kw
        )


@pytest.fixture
def book(world: Any, engineer: Any, engineer2: Any, make_user: Any) -> dict[str, Any]:
    """March 2026 (and a little outside it), every figure's ingredients:

    arrival:   r1 arrived 1 h early (met), r2 1 h late, r3 exactly at the target (met),
               r4 not arrived and past its target (waiting late); r5 (April, late) and
               r6 (voided, late) do not count  ->  2 of 3 = 66.7 %, 1 waiting late
    first fix: r1 closed fixed (first time); r2 not fixed, then fixed (repeat); r3 a voided
               order, then signed fixed (first time); r4 on site, no result (not counted);
               r7 advice only (not counted)  ->  2 of 3 = 66.7 %
    cost:      part 85.00: wo_a issued 2 (170.00); wo_b issued 3, returned 1 (170.00);
               wo_c issued 1 then reversed (0)  ->  parts 340.00
               r2's accepted quote, 10 % off: labour 2 h x 200 = 400 -> 360.00, travel
               150 -> 135.00, a part 800 (charged, not a cost); total 1,350 -> 1,215.00
               charged; r3's quote not accepted (left out)
               ->  service cost 340.00 + 360.00 + 135.00 = 835.00, charged 1,215.00
    """
    keeper = make_user("keeper", "logistics", department="logistics")
    r1 = _request(
        world,
        at(2026, 3, 2, 9),
        engineer=engineer,
        arrival_due_at=at(2026, 3, 2, 12),
        arrived_at=at(2026, 3, 2, 11),
    )
    r2 = _request(
        world,
        at(2026, 3, 3, 9),
        engineer=engineer,
        zone="suburb",
        arrival_due_at=at(2026, 3, 3, 16),
        arrived_at=at(2026, 3, 3, 17),
    )
    r3 = _request(
        world,
        at(2026, 3, 4, 9),
        engineer=engineer2,
        arrival_due_at=at(2026, 3, 4, 12),
        arrived_at=at(2026, 3, 4, 12),
    )
    r4 = _request(world, at(2026, 3, 30, 9), engineer=engineer2, arrival_due_at=at(2026, 3, 30, 12))
    r5 = _request(
        world,
        at(2026, 4, 1, 9),
        engineer=engineer,
        arrival_due_at=at(2026, 4, 1, 12),
        arrived_at=at(2026, 4, 1, 13),
    )
    _request(  # r6, voided
        world,
        at(2026, 3, 5, 9),
        status="voided",
        arrival_due_at=at(2026, 3, 5, 12),
        arrived_at=at(2026, 3, 5, 13),
    )
    r7 = _request(world, at(2026, 3, 6, 9), engineer=engineer, fault_level="question")
    wo_a = _wo(r1, engineer, WO.CLOSED, R.FIXED)
    wo_b = _wo(r2, engineer, WO.CLOSED, R.NOT_FIXED)
    wo_c = _wo(r2, engineer, WO.CLOSED, R.FIXED, created=at(2026, 3, 5, 9))
    _wo(r3, engineer2, WO.VOIDED)
    _wo(r3, engineer2, WO.SIGNED, R.FIXED)
    _wo(r4, engineer2, WO.ON_SITE)
    _wo(r7, engineer, WO.CLOSED, R.ADVICE)
    _wo(r5, engineer, WO.CLOSED, R.FIXED)  # April: outside the period
    # parts issued to the work orders (SVC-10), at the part's unit cost 85.00
    store = parts.create_location(by=keeper, code="WH-1", name="Central store")
    part = parts.create_part(
        by=keeper,
        products=[world.pump],
        code="BAT-1",
        name="泵电池",
        unit_cost=Decimal("85.00"),
        lead_time_days=30,
    )
    parts.move(kind="receipt", part=part, quantity=20, by=keeper, to_location=store, reference="PO")
    parts.issue_for_work_order(part, store, 2, wo_a, keeper)
    parts.issue_for_work_order(part, store, 3, wo_b, keeper)
    parts.return_from_work_order(part, store, 1, wo_b, keeper)
    wrong = parts.issue_for_work_order(part, store, 1, wo_c, keeper)
    parts.reverse_movement(wrong, by=keeper, reason="wrong order")
    lines = [
        {"item": "PS-01", "kind": "part", "amount": "800.00"},
        {"item": "LAB-H", "kind": "labour", "amount": "400.00"},
        {"item": "TRV-CITY", "kind": "travel", "amount": "150.00"},
    ]
    common = {"lines": lines, "list_total": Decimal("1350.00"), "discount_percent": 10}
    Quote.objects.create(
        request=r2,
        status=Quote.Status.ACCEPTED,
        total=Decimal("1215.00"),
        discount_reason="老客户",
        answered_at=at(2026, 3, 3, 18),
        **common,
    )
    Quote.objects.create(
        request=r3, status=Quote.Status.APPROVED, total=Decimal("1215.00"), **common
    )
    # maintenance (SVC-8) and a loaner (SVC-7) in March, one visit in April
    for kind, due in (("visit", dt.date(2026, 3, 10)), ("call", dt.date(2026, 3, 15))):
        MaintenanceVisit.objects.create(
            unit=world.a_units[0], kind=kind, due_on=due, assigned_to=engineer
        )
    MaintenanceVisit.objects.create(unit=world.a_units[0], kind="visit", due_on=dt.date(2026, 4, 2))
    Loan.objects.create(
        unit=world.a_units[3],
        request=r2,
        customer=world.hospital,
        issued_at=at(2026, 3, 3, 20),
        due_back_on=dt.date(2026, 3, 20),
    )
    return {"r2": r2, "wo_a": wo_a, "wo_b": wo_b, "wo_c": wo_c, "keeper": keeper}


@pytest.fixture
def reader(make_user: Any) -> Any:
    return make_user("fin", "finance", department="finance")


@pytest.mark.req("KPI-2")
@pytest.mark.req("SVC-2")
def test_arrival_compliance_of_the_period(book: Any, reader: Any) -> None:
    a = ledger.arrival_compliance(reader, MARCH)
    assert (a["arrived"], a["met"], a["late"], a["waiting_late"]) == (3, 2, 1, 1)
    assert a["percent"] == 66.7
    # April alone: r5 arrived an hour late
    april = ledger.arrival_compliance(reader, LedgerFilter(start=dt.date(2026, 4, 1)))
    assert (april["arrived"], april["met"], april["percent"]) == (1, 0, 0.0)
    # the suburb only: r2, late
    suburb = ledger.arrival_compliance(reader, LedgerFilter(zone="suburb"))
    assert (suburb["arrived"], suburb["met"]) == (1, 0)


@pytest.mark.req("KPI-2")
@pytest.mark.req("SVC-4")
def test_first_time_fix_rate(book: Any, reader: Any, engineer2: Any) -> None:
    f = ledger.first_time_fix(reader, MARCH)
    assert f == {"finished": 3, "first_time": 2, "repeat": 1, "percent": 66.7}
    # engineer2's requests: r3 (first time after a voided order); r4 not finished
    mine = ledger.first_time_fix(reader, LedgerFilter(engineer_id=engineer2.pk))
    assert (mine["finished"], mine["first_time"]) == (1, 1)
    # nothing finished: no rate rather than 0 %
    none = ledger.first_time_fix(reader, LedgerFilter(start=dt.date(2027, 1, 1)))
    assert none["percent"] is None


@pytest.mark.req("KPI-2")
@pytest.mark.req("SVC-10")
@pytest.mark.req("SVC-5")
def test_service_cost_from_parts_issued_and_accepted_quotes(book: Any, reader: Any) -> None:
    c = ledger.service_cost(reader, MARCH)
    assert c["parts"] == Decimal("340.00")
    assert (c["labour"], c["travel"]) == (Decimal("360.00"), Decimal("135.00"))
    assert c["total"] == Decimal("835.00")
    assert c["charged"] == Decimal("1215.00")
    # the sales records carry no amounts: no share of sales, and it says so
    assert c["share_of_sales"] is None and "not amounts" in c["share_note"]
    by_wo = ledger.parts_cost_by_work_order([book["wo_a"].pk, book["wo_b"].pk, book["wo_c"].pk])
    assert by_wo == {
        book["wo_a"].pk: Decimal("170.00"),
        book["wo_b"].pk: Decimal("170.00"),
    }


@pytest.mark.req("SVC-4")
def test_ledger_lines_of_the_period_and_filters(book: Any, reader: Any, engineer: Any) -> None:
    rows = list(ledger.ledger_lines(reader, MARCH))
    kinds = sorted(r["row_kind"] for r in rows)
    # 6 work orders created in March (the voided one left out; r5's is April), a visit, a
    # call-back, a loaner, the accepted quote
    assert kinds.count("work_order") == 6
    assert kinds.count("visit") == 1 and kinds.count("call") == 1
    assert kinds.count("loan") == 1 and kinds.count("quote") == 1
    assert [r["row_day"] for r in rows] == sorted((r["row_day"] for r in rows), reverse=True)
    lines = ledger.describe(rows)
    quote = next(ln for ln in lines if ln.kind == "quote")
    assert (quote.costs.labour, quote.costs.travel, quote.costs.total) == (
        Decimal("360.00"),
        Decimal("135.00"),
        Decimal("495.00"),
    )
    assert quote.request_number == book["r2"].number
    wo_a = next(ln for ln in lines if ln.kind == "work_order" and ln.id == book["wo_a"].pk)
    assert wo_a.costs.parts == Decimal("170.00") and wo_a.engineer == "张伟"
    # the engineer filter: engineer's 4 March orders, their visit and call, r2's loaner, quote
    mine = list(ledger.ledger_lines(reader, replace(MARCH, engineer_id=engineer.pk)))
    assert len(mine) == 4 + 2 + 1 + 1
    # a zone narrows the lines that have one; maintenance visits have none
    suburb = list(ledger.ledger_lines(reader, LedgerFilter(zone="suburb")))
    assert {r["row_kind"] for r in suburb} == {"work_order", "loan", "quote"}
    only_loans = list(ledger.ledger_lines(reader, LedgerFilter(kind="loan")))
    assert [r["row_kind"] for r in only_loans] == ["loan"]


@pytest.mark.req("KPI-2")
def test_ledger_page_reads_for_finance_and_refuses_an_engineer(
    book: Any, reader: Any, engineer: Any, client: Client
) -> None:
    url = reverse("service:ledger")
    client.force_login(engineer)
    assert client.get(url).status_code == 403
    client.force_login(reader)
    page = client.get(url, {"start": "2026-03-01", "end": "2026-03-31"})
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="figure-arrival">66.7 %' in body
    assert 'id="figure-ftf">66.7 %' in body
    assert 'id="figure-cost">835.00' in body
    assert body.count('class="ledger-line"') == 10
    # pagination: 10 lines, page size from the kit
    # a bad value is ignored, not a 500
    assert (
        client.get(url, {"start": "not-a-day", "engineer": "x", "page": "999"}).status_code == 200
    )
    # the export: the same lines with their costs
    resp = client.get(url, {"start": "2026-03-01", "end": "2026-03-31", "format": "csv"})
    text = b"".join(resp.streaming_content).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert len(table) == 1 + 10
    cost_col = table[0].index("Service cost")
    assert sum(Decimal(r[cost_col]) for r in table[1:]) == Decimal("835.00")
    xlsx = client.get(url, {"format": "xlsx", "kind": "quote"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


@pytest.mark.req("KPI-2")
def test_ledger_page_for_the_roles(make_user: Any, client: Client, db: Any) -> None:
    for role, status in (
        ("service_manager", 200),
        ("quality", 200),
        ("finance", 200),
        ("service_engineer", 403),
        ("customer_service", 403),
        ("sales", 403),
    ):
        client.force_login(make_user(f"u-{role}", role))
        assert client.get(reverse("service:ledger")).status_code == status, role


@pytest.mark.req("KPI-2")
def test_ledger_page_in_chinese(book: Any, reader: Any, client: Client) -> None:
    client.force_login(reader)
    body = client.get(reverse("service:ledger"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "售后服务台账" in body and "首次修复率" in body


@pytest.mark.req("KPI-2")
def test_figures_api(book: Any, reader: Any, engineer: Any, client: Client) -> None:
    url = "/api/v1/service-ledger/figures"
    client.force_login(engineer)
    assert client.get(url).status_code == 403
    client.force_login(reader)
    r = client.get(url, {"start": "2026-03-01", "end": "2026-03-31"})
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["arrival_compliance"]["percent"] == 66.7
    assert data["first_time_fix"]["first_time"] == 2
    assert Decimal(data["service_cost"]["total"]) == Decimal("835.00")
    assert data["service_cost"]["share_of_sales"] is None
    backwards = client.get(url, {"start": "2026-03-31", "end": "2026-03-01"})
    assert backwards.status_code == 422 and "end" in backwards.json()["error"]["fields"]
    assert client.get(url, {"start": "March"}).status_code == 422
    assert client.get(url, {"zone": "moon"}).status_code == 422


def test_the_period_fields_of_the_ledger_are_indexed() -> None:
    """The ledger and the KPI-2 costs take each kind of line by a period of its own date:
    work orders by creation, loaners by issue (also the loaner list's order), accepted
    quotes by the customer's answer."""
    from medvigil.service.models import Loan, Quote, WorkOrder

    for model, fields in (
        (WorkOrder, ["created_at"]),
        (Loan, ["issued_at"]),
        (Quote, ["status", "answered_at"]),
    ):
        assert fields in [list(ix.fields) for ix in model._meta.indexes], model.__name__
