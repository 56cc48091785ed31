"""SVC-10 API: /api/v1/parts… — the same services as the pages: parts with the products they
fit, movements (the stock keeper any, an engineer at their own van), stock never negative,
the reorder list; bad input is a 4xx with a message."""

from __future__ import annotations

import json

import pytest

from medvigil.parts import services
from medvigil.parts.models import StockMovement

pytestmark = [pytest.mark.django_db, pytest.mark.req("SVC-10")]


def post(client, path, body, method="post"):
    return client.generic(method.upper(), path, json.dumps(body), content_type="application/json")


def test_create_and_patch_a_part_with_its_products(stock, client_for):
    c = client_for(stock.keeper)
    resp = post(
        c,
        "/api/v1/parts",
        {
            "code": "MB-1",
            "name": "主板",
            "products": [stock.pump.pk],
            "failure_rate": "0.03",
            "lead_time_days": 45,
        },
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["products"] == [stock.pump.pk] and body["reorder"]["reorder_point"] == 0
    resp = post(
        c,
        f"/api/v1/parts/{body['id']}",
        {"version": body["version"], "min_stock": 3, "products": []},
        "patch",
    )
    assert resp.status_code == 200, resp.content
    assert resp.json()["products"] == [] and resp.json()["reorder"]["reorder_point"] == 3
    assert post(c, "/api/v1/parts", {"code": "MB-1", "name": "again"}).status_code == 422
    bad = post(c, "/api/v1/parts", {"code": "MB-2", "name": "x", "products": [999999]})
    assert bad.status_code == 422 and "products" in bad.json()["error"]["fields"]
    for field, value in (("lead_time_days", 10**30), ("service_level", "120"), ("code", "")):
        assert (
            post(c, "/api/v1/parts", {"code": "MB-3", "name": "x", field: value}).status_code == 422
        )


def test_movements_through_the_api(stock, client_for):
    s = stock
    keeper = client_for(s.keeper)
    resp = post(
        keeper,
        "/api/v1/parts/movements",
        {
            "kind": "receipt",
            "part_id": s.part.pk,
            "quantity": 2,
            "to_location_id": s.van.pk,
            "reference": "PO-1",
        },
    )
    assert resp.status_code == 201, resp.content
    assert resp.json()["number"].startswith("SM-")
    eng = client_for(s.engineer)
    body = {
        "kind": "issue",
        "part_id": s.part.pk,
        "quantity": 1,
        "from_location_id": s.van.pk,
        "reference": "WO-1",
        "request_key": "phone-1",
    }
    first = post(eng, "/api/v1/parts/movements", body)
    again = post(eng, "/api/v1/parts/movements", body)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    # more than there is
    resp = post(eng, "/api/v1/parts/movements", {**body, "quantity": 5, "request_key": None})
    assert resp.status_code == 422 and "Only 1 of" in json.dumps(resp.json())
    # another engineer's van is not theirs (and not visible: an unknown location)
    other = client_for(s.engineer2)
    resp = post(other, "/api/v1/parts/movements", {**body, "request_key": "phone-2"})
    assert resp.status_code == 422
    assert services.on_hand(s.part, s.van) == 1
    # the engineer may not transfer
    resp = post(
        eng,
        "/api/v1/parts/movements",
        {
            "kind": "transfer",
            "part_id": s.part.pk,
            "quantity": 1,
            "from_location_id": s.van.pk,
            "to_location_id": s.warehouse.pk,
        },
    )
    assert resp.status_code == 403
    listing = eng.get("/api/v1/parts/movements").json()
    assert {m["kind"] for m in listing["items"]} == {"receipt", "issue"}
    assert other.get("/api/v1/parts/movements").json()["count"] == 0


def test_reverse_and_stock_and_reorder_endpoints(stock, client_for, auditor):
    s = stock
    m = s.receive(3)
    c = client_for(s.keeper)
    resp = post(c, f"/api/v1/parts/movements/{m.pk}/reverse", {"reason": "typo"})
    assert resp.status_code == 201 and resp.json()["reverses_id"] == m.pk
    assert post(c, f"/api/v1/parts/movements/{m.pk}/reverse", {"reason": "x"}).status_code == 422
    s.receive(2)
    stock_rows = c.get(f"/api/v1/parts/stock?part={s.part.pk}").json()["items"]
    assert stock_rows == [
        {
            "part_id": s.part.pk,
            "part_code": "BAT-1",
            "location_id": s.warehouse.pk,
            "location_code": "WH-1",
            "quantity": 2,
        }
    ]
    services.update_part(s.part, by=s.keeper, version=s.part.version, min_stock=5)
    rows = c.get("/api/v1/parts/reorder").json()["items"]
    assert [
        (r["part_code"], r["on_hand"], r["reorder_point"], r["suggested_quantity"]) for r in rows
    ] == [("BAT-1", 2, 5, 3)]
    a = client_for(auditor)
    assert a.get("/api/v1/parts/reorder").status_code == 200
    assert (
        post(
            a,
            "/api/v1/parts/movements",
            {
                "kind": "receipt",
                "part_id": s.part.pk,
                "quantity": 1,
                "to_location_id": s.warehouse.pk,
            },
        ).status_code
        == 403
    )
    assert StockMovement.objects.count() == 3


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "receipt", "part_id": 1, "quantity": 0},
        {"kind": "receipt", "part_id": 1, "quantity": 10**12},
        {"kind": "receipt", "part_id": 2**70, "quantity": 1},
        {"kind": "reversal", "part_id": 1, "quantity": 1},
        {"kind": "receipt", "part_id": "x", "quantity": 1},
        {"kind": "receipt", "part_id": 1, "quantity": 1, "reference": "a\x00b"},
    ],
)
def test_bad_movement_bodies_are_refused_cleanly(stock, client_for, body):
    resp = post(client_for(stock.keeper), "/api/v1/parts/movements", body)
    assert 400 <= resp.status_code < 500
    assert StockMovement.objects.count() == 0


def test_a_movement_needs_one_of_the_two_permissions_before_the_body_is_read(
    stock, client_for, make_user
):
    """core.api.auth_with_perm with alternatives: the stock keeper's add_stockmovement or
    the engineer's use_van_stock; anyone else gets 403 even for a malformed body."""
    cs = client_for(make_user("cs", "customer_service"))
    assert post(cs, "/api/v1/parts/movements", {"kind": "nonsense"}).status_code == 403
    eng = client_for(stock.engineer)
    assert post(eng, "/api/v1/parts/movements", {"kind": "nonsense"}).status_code == 422
