"""SVC-5/SVC-6: paid service quoted from the price list; a discount above 10 % waits for the
general manager's e-signed approval (wrong password: nothing changes); the customer's answer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from medvigil.core.models import Signature
from medvigil.core.signatures.services import signatures_for
from medvigil.service.models import PriceListItem, Quote
from medvigil.service.services import quotes

from .conftest import new_request

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def price_list(db: Any) -> None:
    for code, name, kind, unit, price in (
        ("PS-01", "压力传感器", "part", "pcs", "800.00"),
        ("LAB-H", "工时", "labour", "h", "200.00"),
        ("TRV-CITY", "市区差旅", "travel", "trip", "150.00"),
    ):
        PriceListItem.objects.create(code=code, name=name, kind=kind, unit=unit, unit_price=price)


@pytest.fixture
def gm(make_user: Any) -> Any:
    return make_user("gm", "general_manager", department="management")


LINES = [
    {"item": "PS-01", "quantity": "1"},
    {"item": "LAB-H", "quantity": "2"},
    {"item": "TRV-CITY"},
]


@pytest.mark.req("SVC-5")
@pytest.mark.req("SVC-6")
def test_quote_priced_from_the_list(world: Any, cs_user: Any, price_list: None) -> None:
    sr = new_request(cs_user, world, warranty_exclusion="misuse", exclusion_reason="跌落损坏")
    q = quotes.create_quote(sr, by=cs_user, lines=LINES)
    assert q.list_total == Decimal("1350.00") and q.total == Decimal("1350.00")
    assert q.status == Quote.Status.APPROVED  # no discount: straight to the customer
    assert [ln["amount"] for ln in q.lines] == ["800.00", "400.00", "150.00"]
    with pytest.raises(ValidationError):
        quotes.create_quote(sr, by=cs_user, lines=[{"item": "NOPE"}])
    with pytest.raises(ValidationError):
        quotes.create_quote(sr, by=cs_user, lines=[{"item": "PS-01", "quantity": "NaN"}])
    with pytest.raises(ValidationError):
        quotes.create_quote(sr, by=cs_user, lines=LINES, discount_percent="5")  # no reason


@pytest.mark.req("SVC-6")
def test_ten_percent_is_within_the_limit(world: Any, cs_user: Any, price_list: None) -> None:
    sr = new_request(cs_user, world)
    q = quotes.create_quote(
        sr, by=cs_user, lines=LINES, discount_percent="10", discount_reason="老客户"
    )
    assert q.status == Quote.Status.APPROVED and q.total == Decimal("1215.00")


@pytest.mark.req("SVC-6")
def test_discount_above_limit_needs_the_general_managers_signature(
    world: Any, cs_user: Any, gm: Any, price_list: None, client_for: Any
) -> None:
    gm.set_password(PASSWORD)
    gm.save()
    sr = new_request(cs_user, world)
    q = quotes.create_quote(
        sr, by=cs_user, lines=LINES, discount_percent="10.01", discount_reason="批量合同"
    )
    assert q.status == Quote.Status.AWAITING_APPROVAL
    # the customer's answer waits for the approval
    with pytest.raises(ValidationError):
        quotes.record_customer_answer(
            q, by=cs_user, version=q.version, accepted=True, customer_name="张工"
        )
    # customer service may not approve
    c = client_for(cs_user)
    assert c.post(reverse("service:quote_approve", args=[q.pk])).status_code == 403
    c = client_for(gm)
    url = reverse("service:quote_approve", args=[q.pk])
    r = c.post(url, {"password": "wrong", "meaning": "approved", "version": q.version})
    assert r.status_code == 400
    q.refresh_from_db()
    assert q.status == Quote.Status.AWAITING_APPROVAL
    r = c.post(url, {"password": PASSWORD, "meaning": "approved", "version": q.version})
    assert r.status_code == 302, r.content.decode()[:3000]
    q.refresh_from_db()
    assert q.status == Quote.Status.APPROVED and q.approved_by == gm
    [sig] = list(signatures_for(q))
    assert sig.meaning == Signature.Meaning.APPROVED and sig.signer == gm
    q = quotes.record_customer_answer(
        q, by=cs_user, version=q.version, accepted=True, customer_name="设备科 张工"
    )
    assert q.status == Quote.Status.ACCEPTED and q.answered_at


@pytest.mark.req("SVC-6")
def test_quote_pages(world: Any, cs_user: Any, price_list: None, client_for: Any) -> None:
    sr = new_request(cs_user, world)
    c = client_for(cs_user)
    url = reverse("service:quote_new", args=[sr.pk])
    assert c.get(url).status_code == 200
    r = c.post(url, {"lines": "PS-01; 1\nLAB-H; 2", "discount_percent": "0"})
    assert r.status_code == 302
    q = Quote.objects.get()
    assert q.total == Decimal("1200.00")
    assert c.get(q.get_absolute_url()).status_code == 200
    r = c.post(url, {"lines": "NOPE; 1", "discount_percent": "0"})
    assert r.status_code == 400 and Quote.objects.count() == 1
