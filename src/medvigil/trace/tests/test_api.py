"""Traceability API (TRC-2, TRC-3, TRC-4, TRC-7, PLAT-11)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from medvigil.accounts.models import APIToken
from medvigil.trace.models import Customer, Product, Sale, Unit

from .conftest import make_gtin

BASE = "/api/v1/trace"


def api(client, user):
    _token, raw = APIToken.issue(user, "test")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


@pytest.fixture
def quality_api(client, world, quality_user):
    return api(client, quality_user)


@pytest.mark.req("TRC-3")
def test_unit_lookup_by_udi_and_serial(quality_api, world):
    gtin = world.pump.gtin
    for code in ("A1", f"(01){gtin}(10)LA-001(21)A1", f"]d201{gtin}10LA-001\x1d21A1"):
        r = quality_api.get(f"{BASE}/units/lookup", {"code": code})
        assert r.status_code == 200, r.content
        assert r.json()["serial"] == "A1" and r.json()["lot_number"] == "LA-001"
    wrong = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    r = quality_api.get(f"{BASE}/units/lookup", {"code": f"(01){wrong}(21)A1"})
    assert r.status_code == 422 and "check digit" in r.json()["error"]["fields"]["code"][0]
    r = quality_api.get(f"{BASE}/units/lookup", {"code": "NOPE-1"})
    assert r.status_code == 404 and "NOPE-1" in r.json()["error"]["message"]


@pytest.mark.req("TRC-7")
def test_unit_detail_and_backward_trace(quality_api, world):
    a1 = world.a_units[0]
    r = quality_api.get(f"{BASE}/units/{a1.pk}/backward")
    assert r.status_code == 200
    body = r.json()
    assert body["production_record"] == "DHR-LA-001"
    assert [h["sale_number"] for h in body["sales"]] == [world.sale1.number, world.sale2.number]
    assert body["installations"][0]["contact_phone"] == "13800000001"
    kinds = [ev["kind"] for ev in body["timeline"]]
    assert kinds[0] == "production" and "installation" in kinds and kinds.count("sale") == 2


@pytest.mark.req("TRC-7")
def test_forward_trace_of_lot_json_csv_xlsx(quality_api, world, django_assert_max_num_queries):
    url = f"{BASE}/lots/{world.lot_a.pk}/forward"
    with django_assert_max_num_queries(16):
        r = quality_api.get(url)
    assert r.status_code == 200
    body = r.json()
    assert body["unit_count"] == 4 and body["located"] == 3
    a1 = next(u for u in body["units"] if u["unit"]["serial"] == "A1")
    assert a1["consignee"] == world.dealer.name and a1["end_user"] == world.hospital.name
    assert [h["buyer"] for h in a1["chain"]] == [world.dealer.name, world.hospital.name]
    r = quality_api.get(url, {"format": "csv"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(r.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 5 and "A1" in rows[1] + rows[2] + rows[3] + rows[4]
    r = quality_api.get(url, {"format": "xlsx"})
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws.max_row == 5


@pytest.mark.req("TRC-7")
def test_forward_trace_by_criteria(quality_api, world):
    r = quality_api.get(f"{BASE}/forward", {"serial": ["B1", "A2"]})
    assert sorted(u["unit"]["serial"] for u in r.json()["units"]) == ["A2", "B1"]
    r = quality_api.get(f"{BASE}/forward", {"gtin": world.pump.gtin})
    assert r.json()["unit_count"] == 6
    r = quality_api.get(f"{BASE}/forward", {"lot": "NOPE"})
    assert r.status_code == 422
    r = quality_api.get(f"{BASE}/forward")
    assert r.status_code == 422


@pytest.mark.req("PLAT-11")
def test_contacts_masked_in_api_without_contact_permission(client, world, make_user):
    tech = make_user("tech", "technical")  # may view trace records, not contact data
    c = api(client, tech)
    r = c.get(f"{BASE}/lots/{world.lot_a.pk}/forward")
    assert r.status_code == 200
    a1 = next(u for u in r.json()["units"] if u["unit"]["serial"] == "A1")
    assert a1["contact_phone"] == "***" and a1["address"] == "***"
    assert "13800000001" not in r.content.decode()
    r = c.get(f"{BASE}/customers")
    assert {item["phone"] for item in r.json()["items"]} == {"***"}
    r = c.get(f"{BASE}/units/{world.a_units[0].pk}")
    assert r.json()["installations"][0]["contact_phone"] == "***"
    # exports need trace.export_trace, which the technical role does not hold
    assert c.get(f"{BASE}/lots/{world.lot_a.pk}/forward", {"format": "csv"}).status_code == 403


@pytest.mark.req("TRC-1")
def test_products_list_and_create(quality_api, world):
    r = quality_api.get(f"{BASE}/products")
    assert r.status_code == 200 and r.json()["count"] == 1
    payload = {
        "code": "P-2",
        "name": "血糖仪",
        "model_spec": "GM-1",
        "manufacturer": "医械科技",
        "risk_class": "II",
        "gtin": make_gtin(2),
        "sale_to_individuals": True,
    }
    r = quality_api.post(f"{BASE}/products", payload, content_type="application/json")
    assert r.status_code == 201, r.content
    assert Product.objects.get(code="P-2").sale_to_individuals
    bad = {**payload, "code": "P-3", "gtin": make_gtin(3)[:-1] + "0"}
    r = quality_api.post(f"{BASE}/products", bad, content_type="application/json")
    assert r.status_code == 422 and "gtin" in r.json()["error"]["fields"]


@pytest.mark.req("TRC-2")
def test_customers_create(quality_api, world):
    payload = {"code": "H-7", "name": "苏州医院", "kind": "hospital", "phone": "0512-1"}
    r = quality_api.post(f"{BASE}/customers", payload, content_type="application/json")
    assert r.status_code == 201 and r.json()["phone"] == "0512-1"
    r = quality_api.post(f"{BASE}/customers", payload, content_type="application/json")
    assert r.status_code == 422  # duplicate code
    assert Customer.objects.filter(code="H-7").count() == 1


@pytest.mark.req("TRC-4", "TRC-2")
def test_sale_create_via_api(quality_api, world):
    payload = {
        "buyer_code": world.hospital2.code,
        "sale_date": "2026-03-01",
        "units": [f"(01){world.pump.gtin}(21)A4"],
        "reference": "INV-9",
    }
    r = quality_api.post(f"{BASE}/sales", payload, content_type="application/json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["lines"][0]["serial"] == "A4" and body["number"].startswith("SO-")
    assert quality_api.get(f"{BASE}/sales/{body['id']}").json()["reference"] == "INV-9"
    # the same seller again: refused with a field error, nothing saved
    r = quality_api.post(f"{BASE}/sales", payload, content_type="application/json")
    assert r.status_code == 422 and "already sold" in str(r.json()["error"]["fields"])
    # a buyer without licence is refused, naming the licence
    unlicensed = Customer.objects.create(code="H-0", name="无证诊所", kind="hospital")
    payload.update(buyer_code=unlicensed.code, units=["B2"])
    r = quality_api.post(f"{BASE}/sales", payload, content_type="application/json")
    assert r.status_code == 422
    assert "医疗机构执业许可证" in str(r.json()["error"]["fields"]["buyer_code"])
    assert Sale.objects.count() == 4


@pytest.mark.req("TRC-4", "PLAT-1")
def test_auditor_and_outsider_cannot_write_via_api(client, world, auditor, outsider):
    payload = {"buyer_code": world.hospital2.code, "sale_date": "2026-03-01", "units": ["A4"]}
    for user, status in ((auditor, 403), (outsider, 403)):
        c = api(client, user)
        r = c.post(f"{BASE}/sales", payload, content_type="application/json")
        assert r.status_code == status
    assert api(client, auditor).get(f"{BASE}/units/lookup", {"code": "A4"}).status_code == 200
    assert api(client, outsider).get(f"{BASE}/units/lookup", {"code": "A4"}).status_code == 403
    assert Unit.objects.get(serial="A4").status == "in_stock"


@pytest.mark.req("PLAT-1", "TRC-4")
@pytest.mark.django_db
def test_api_writes_refuse_a_user_without_the_permission_before_validating(auditor, client_for):
    c = client_for(auditor)
    for path in ("/api/v1/trace/products", "/api/v1/trace/customers", "/api/v1/trace/sales"):
        r = c.post(path, data={}, content_type="application/json")
        assert r.status_code == 403, path
        assert r.json()["error"]["code"] == "permission_denied"
