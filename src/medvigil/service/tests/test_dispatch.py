"""SVC-3: dispatch only to an engineer qualified for the product (trained, passed, not
expired; dealers' engineers too), refused with a clear message otherwise; the dispatch board;
expiring qualifications on "My work"."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from medvigil.core.registry import work_for
from medvigil.service.models import ServiceRequest, WorkOrder
from medvigil.service.services import add_qualification, dispatch, qualification_problem

from .conftest import new_request

pytestmark = [pytest.mark.django_db, pytest.mark.req("SVC-3")]

TODAY = dt.date.today()


def qualify(by: Any, engineer: Any, product: Any, **extra: Any) -> Any:
    fields = {
        "trained_on": TODAY - dt.timedelta(days=30),
        "passed_on": TODAY - dt.timedelta(days=20),
        "expires_on": TODAY + dt.timedelta(days=365),
    }
    fields.update(extra)
    return add_qualification(by=by, engineer=engineer, product=product, **fields)


def test_dispatch_to_a_qualified_engineer(
    world: Any, cs_user: Any, manager: Any, engineer: Any, qualified: Any
) -> None:
    sr = new_request(cs_user, world)
    wo = dispatch(sr, by=manager, version=sr.version, engineer=engineer)
    sr.refresh_from_db()
    assert (sr.status, sr.engineer, wo.engineer, wo.status) == (
        "dispatched",
        engineer,
        engineer,
        "assigned",
    )
    assert sr.responded_at is not None  # dispatching is the substantive response


def test_unqualified_engineer_is_refused_with_the_reason(
    world: Any, cs_user: Any, manager: Any, engineer2: Any
) -> None:
    sr = new_request(cs_user, world)
    with pytest.raises(ValidationError) as e:
        dispatch(sr, by=manager, version=sr.version, engineer=engineer2)
    assert "has no qualification for" in e.value.message_dict["engineer"][0]
    sr.refresh_from_db()
    assert sr.status == ServiceRequest.Status.NEW and not WorkOrder.objects.exists()


def test_expired_or_not_passed_is_refused(
    world: Any, cs_user: Any, manager: Any, engineer2: Any
) -> None:
    qualify(manager, engineer2, world.pump, expires_on=TODAY - dt.timedelta(days=1))
    assert "expired on" in qualification_problem(engineer2, world.pump)
    sr = new_request(cs_user, world)
    with pytest.raises(ValidationError):
        dispatch(sr, by=manager, version=sr.version, engineer=engineer2)
    q = qualify(manager, engineer2, world.pump, passed_on=None, expires_on=None)
    assert q.valid_on(TODAY) is False
    assert "expired" in qualification_problem(engineer2, world.pump)


def test_trained_but_not_passed(world: Any, manager: Any, engineer2: Any) -> None:
    qualify(manager, engineer2, world.pump, passed_on=None, expires_on=None)
    assert "has not passed the exam" in qualification_problem(engineer2, world.pump)


def test_dealers_engineer_only_when_qualified(
    world: Any, cs_user: Any, manager: Any, make_user: Any
) -> None:
    dealer_eng = make_user("dealereng", "sales", department="sales")
    sr = new_request(cs_user, world)
    with pytest.raises(ValidationError):
        dispatch(sr, by=manager, version=sr.version, engineer=dealer_eng)
    qualify(manager, dealer_eng, world.pump, dealer=world.dealer)
    wo = dispatch(sr, by=manager, version=sr.version, engineer=dealer_eng)
    # the dealer's engineer sees and fills in the work order assigned to them
    from medvigil.core.permissions import scope_for_user

    assert wo in scope_for_user(dealer_eng, WorkOrder)


def test_qualification_dates_are_checked(world: Any, manager: Any, engineer2: Any) -> None:
    with pytest.raises(ValidationError) as e:
        qualify(manager, engineer2, world.pump, passed_on=TODAY - dt.timedelta(days=40))
    assert "passed_on" in e.value.message_dict
    with pytest.raises(ValidationError):
        qualify(manager, engineer2, world.pump, score=101)


def test_refusal_on_the_record_page_and_the_board(
    world: Any,
    cs_user: Any,
    manager: Any,
    engineer: Any,
    engineer2: Any,
    qualified: Any,
    client_for: Any,
) -> None:
    sr = new_request(cs_user, world)
    c = client_for(manager)
    r = c.post(
        reverse("service:request_dispatch", args=[sr.pk]),
        {"engineer": engineer2.pk, "version": sr.version},
    )
    assert r.status_code == 400
    assert "has no qualification for" in r.content.decode()
    assert not WorkOrder.objects.exists()
    r = c.post(
        reverse("service:request_dispatch", args=[sr.pk]),
        {"engineer": engineer.pk, "version": sr.version},
    )
    assert r.status_code == 302
    board = c.get(reverse("service:dispatch_board"))
    assert board.status_code == 200
    html = board.content.decode()
    assert sr.number in html and "张伟" in html and "1 open order" in html
    # the board is the service manager's: an engineer gets 403
    assert client_for(engineer2).get(reverse("service:dispatch_board")).status_code == 403


def test_expiring_qualifications_on_my_work(
    world: Any, manager: Any, engineer: Any, engineer2: Any
) -> None:
    qualify(manager, engineer, world.pump, expires_on=TODAY + dt.timedelta(days=10))
    qualify(manager, engineer2, world.pump, expires_on=TODAY + dt.timedelta(days=200))
    mine = [i.title for i in work_for(engineer)]
    assert any("expires" in t for t in mine)
    assert not any("expires" in t for t in work_for(engineer2))
    assert any("张伟" in t for t in (i.title for i in work_for(manager)))
