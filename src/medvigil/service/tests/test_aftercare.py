"""SVC-7 loaners (real units from stock, issued, tracked, returned, overdue) and SVC-8
maintenance visits every 3 months inside the warranty and 6 after, monthly call-backs,
generated ahead by the periodic job, completed, missed ones listed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from medvigil.service.models import Loan, MaintenanceVisit
from medvigil.service.services import loans, maintenance
from medvigil.trace import services as trace

from .conftest import new_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def logistics(make_user: Any) -> Any:
    return make_user("log1", "logistics", department="logistics")


@pytest.mark.req("SVC-7")
def test_loaner_issued_tracked_returned(world: Any, cs_user: Any, logistics: Any) -> None:
    loaner = world.a_units[3]  # A4 is in our stock
    sr = new_request(cs_user, world)
    loan = loans.issue_loan(
        by=logistics,
        unit=loaner,
        customer=world.hospital,
        due_back_on=dt.date.today() + dt.timedelta(days=14),
        request=sr,
    )
    assert loan.number.startswith("LN-") and loan.status == Loan.Status.OUT
    sr.refresh_from_db()
    assert sr.loaner_provided_at == loan.issued_at  # the SVC-2 loaner clock stops
    with pytest.raises(ValidationError) as e:  # already out
        loans.issue_loan(
            by=logistics, unit=loaner, customer=world.hospital2, due_back_on=dt.date.today()
        )
    assert "already out on loan" in str(e.value)
    with pytest.raises(ValidationError):  # a sold unit is not ours to lend
        loans.issue_loan(
            by=logistics,
            unit=world.a_units[0],
            customer=world.hospital,
            due_back_on=dt.date.today(),
        )
    loan = loans.return_loan(loan, by=logistics, version=loan.version)
    assert loan.status == Loan.Status.RETURNED and loan.returned_at


@pytest.mark.req("SVC-7")
def test_overdue_loaners_listed(world: Any, logistics: Any, client_for: Any) -> None:
    with time_machine.travel(dt.datetime(2026, 10, 1, 10, 0), tick=False):
        loans.issue_loan(
            by=logistics,
            unit=world.a_units[3],
            customer=world.hospital,
            due_back_on=dt.date(2026, 10, 10),
        )
    with time_machine.travel(dt.datetime(2026, 10, 12, 10, 0), tick=False):
        assert loans.overdue_loans().count() == 1
        page = client_for(logistics).get(reverse("service:loan_list"), {"overdue": "1"})
        assert page.status_code == 200 and world.a_units[3].serial in page.content.decode()
        assert any("overdue" in str(i.title) for i in loans.my_work(logistics))


@pytest.mark.req("SVC-8")
def test_visits_every_3_months_in_warranty_and_6_after() -> None:
    plan = maintenance.schedule(
        dt.date(2026, 3, 1), dt.date(2028, 3, 1), dt.date(2029, 3, 31), maintenance.Intervals()
    )
    visits = [(d, inside) for kind, d, inside in plan if kind == "visit"]
    assert visits[:2] == [(dt.date(2026, 6, 1), True), (dt.date(2026, 9, 1), True)]
    # the last inside the warranty on its end day, then every 6 months after it
    assert (dt.date(2028, 3, 1), True) in visits
    after = [d for d, inside in visits if not inside]
    assert after == [dt.date(2028, 9, 1), dt.date(2029, 3, 1)]
    calls = [d for kind, d, _inside in plan if kind == "call"]
    assert calls[:3] == [dt.date(2026, 4, 1), dt.date(2026, 5, 1), dt.date(2026, 6, 1)]
    assert len(calls) == 36


@pytest.mark.req("SVC-8")
def test_periodic_job_generates_ahead_once(
    world: Any, quality_user: Any, cs_user: Any, settings: Any
) -> None:
    inst = world.a_units[0].installations.get()
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0), tick=False):
        trace.accept_installation(
            inst, accepted_on=dt.date(2026, 3, 1), by=quality_user, version=inst.version
        )
    made = maintenance.generate_visits(today=dt.date(2026, 3, 2), days=100)
    rows = list(MaintenanceVisit.objects.order_by("due_on", "kind").values_list("kind", "due_on"))
    assert ("visit", dt.date(2026, 6, 1)) in rows
    assert ("call", dt.date(2026, 4, 1)) in rows and ("call", dt.date(2026, 6, 1)) in rows
    assert made == len(rows)
    assert maintenance.generate_visits(today=dt.date(2026, 3, 2), days=100) == 0  # idempotent
    # settings per product: a monthly visit for this product
    settings.SERVICE_MAINTENANCE = {world.pump.code: {"in_warranty": 1, "after": 6, "call": 0}}
    assert maintenance.intervals_for(world.pump.code).in_warranty == 1
    visit = MaintenanceVisit.objects.filter(kind="call").order_by("due_on").first()
    assert visit is not None
    with time_machine.travel(dt.datetime(2026, 4, 5, 10, 0), tick=False):
        assert visit in maintenance.missed_visits()
        visit = maintenance.complete_visit(visit, by=cs_user, version=visit.version, notes="正常")
    assert visit.status == "done"
    with pytest.raises(ValidationError):
        maintenance.complete_visit(visit, by=cs_user, version=visit.version)


@pytest.mark.req("SVC-8")
def test_missed_visits_alert_and_show(world: Any, cs_user: Any, client_for: Any) -> None:
    from medvigil.service.services.maintenance import deadline_source

    maintenance.generate_visits(today=dt.date(2026, 3, 2), days=40)
    with time_machine.travel(dt.datetime(2026, 4, 5, 10, 0), tick=False):
        page = client_for(cs_user).get(reverse("service:maintenance_list"), {"missed": "1"})
        assert page.status_code == 200 and "missed" in page.content.decode()
        from django.utils import timezone

        assert list(deadline_source(timezone.now()))
