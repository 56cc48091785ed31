"""SVC-10 pages: the catalogue, locations, stock, the movement form, reversal, stock count
and the reorder list (exportable), per role: the stock keeper (logistics) does everything,
an engineer sees the warehouses and their own van and issues from it, quality reads, an
outsider sees nothing. Bad input gets a message, never a 500."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from medvigil.parts import services
from medvigil.parts.models import MovementKind, Part, StockLocation, StockMovement

pytestmark = [pytest.mark.django_db, pytest.mark.req("SVC-10")]


def test_the_stock_keeper_creates_a_part_with_its_products(stock, client_for):
    c = client_for(stock.keeper)
    resp = c.get(reverse("parts:part_create"))
    assert resp.status_code == 200 and "Products it fits" in resp.content.decode()
    resp = c.post(
        reverse("parts:part_create"),
        {
            "code": "MB-1",
            "name": "主板",
            "name_en": "Main board",
            "unit_cost": "1650.00",
            "lead_time_days": "45",
            "failure_rate": "0.03",
            "rate_source": "setting",
            "safety_method": "service_level",
            "service_level": "95",
            "cover_days": "14",
            "min_stock": "2",
            "order_cycle_days": "90",
            "order_multiple": "1",
            "active": "on",
            "products": [stock.pump.pk],
        },
    )
    part = Part.objects.get(code="MB-1")
    assert resp.status_code == 302 and resp.url == part.get_absolute_url()
    assert services.fitted_products(part) == [stock.pump]
    page = c.get(part.get_absolute_url()).content.decode()
    assert "Safety stock and reorder point" in page and "P-1" in page
    # the same code again: the form shows the service's message
    resp = c.post(
        reverse("parts:part_create"),
        {
            "code": "MB-1",
            "name": "x",
            "unit_cost": "1",
            "lead_time_days": "1",
            "failure_rate": "0",
            "rate_source": "setting",
            "safety_method": "service_level",
            "service_level": "95",
            "cover_days": "1",
            "min_stock": "0",
            "order_cycle_days": "1",
            "order_multiple": "1",
        },
    )
    assert resp.status_code == 200 and "already exists" in resp.content.decode()


@pytest.mark.parametrize(
    "field, value",
    [
        ("unit_cost", "9" * 40),
        ("lead_time_days", "99999999999999999999"),
        ("name", "a\x00b"),
        ("service_level", "120"),
        ("failure_rate", "-1"),
        ("products", "99999999999"),
    ],
)
def test_bad_part_input_is_a_message_not_a_500(stock, client_for, field, value):
    data = {
        "code": "Z-1",
        "name": "z",
        "unit_cost": "1",
        "lead_time_days": "1",
        "failure_rate": "0",
        "rate_source": "setting",
        "safety_method": "service_level",
        "service_level": "95",
        "cover_days": "1",
        "min_stock": "0",
        "order_cycle_days": "1",
        "order_multiple": "1",
        field: value,
    }
    resp = client_for(stock.keeper).post(reverse("parts:part_create"), data)
    assert resp.status_code in (200, 400)
    assert not Part.objects.filter(code="Z-1").exists()


def test_movement_form_records_and_refuses_with_the_services_message(stock, client_for):
    s = stock
    c = client_for(s.keeper)
    url = reverse("parts:stockmovement_create")
    page = c.get(url + f"?part={s.part.pk}").content.decode()
    assert 'name="request_key"' in page
    resp = c.post(
        url,
        {
            "kind": "receipt",
            "part": s.part.pk,
            "quantity": "5",
            "to_location": s.warehouse.pk,
            "reference": "PO-9",
            "request_key": "r1",
        },
    )
    assert resp.status_code == 302
    # a double submit (same hidden key): still one movement
    c.post(
        url,
        {
            "kind": "receipt",
            "part": s.part.pk,
            "quantity": "5",
            "to_location": s.warehouse.pk,
            "reference": "PO-9",
            "request_key": "r1",
        },
    )
    assert StockMovement.objects.count() == 1
    resp = c.post(
        url,
        {
            "kind": "transfer",
            "part": s.part.pk,
            "quantity": "9",
            "from_location": s.warehouse.pk,
            "to_location": s.van.pk,
        },
    )
    assert resp.status_code == 200 and "Only 5 of" in resp.content.decode()
    resp = c.post(
        url, {"kind": "scrap", "part": s.part.pk, "quantity": "1", "from_location": s.warehouse.pk}
    )
    assert "Give the reason" in resp.content.decode()
    resp = c.post(
        url,
        {
            "kind": "receipt",
            "part": s.part.pk,
            "quantity": "10000000000",
            "to_location": s.warehouse.pk,
        },
    )
    assert resp.status_code == 200
    assert services.on_hand(s.part) == 5


def test_an_engineer_sees_the_warehouses_and_their_own_van(stock, client_for):
    s = stock
    s.receive(3, at=s.van2)
    c = client_for(s.engineer)
    listing = c.get(reverse("parts:stocklocation_list")).content.decode()
    assert "WH-1" in listing and "VAN-1" in listing and "VAN-2" not in listing
    assert c.get(s.van2.get_absolute_url()).status_code == 404
    assert c.get(s.van.get_absolute_url()).status_code == 200
    stock_page = c.get(reverse("parts:stocklevel_list")).content.decode()
    assert "VAN-2" not in stock_page
    other = StockMovement.objects.get()
    assert c.get(other.get_absolute_url()).status_code == 404
    # the movement form offers their own van only, issue and return only
    form = c.get(reverse("parts:stockmovement_create")).context["form"]
    assert list(form.fields["from_location"].queryset) == [s.van]
    assert {k for k, _ in form.fields["kind"].choices} == {"issue", "return"}
    # and they cannot change the catalogue or count stock
    assert c.get(reverse("parts:part_create")).status_code == 403
    assert c.post(reverse("parts:stocklocation_count", args=[s.van.pk])).status_code == 403
    assert c.post(reverse("parts:reorder_recompute")).status_code == 403


def test_an_engineer_issues_from_their_van_on_the_page(stock, client_for):
    s = stock
    s.receive(2, at=s.van)
    c = client_for(s.engineer)
    resp = c.post(
        reverse("parts:stockmovement_create"),
        {
            "kind": "issue",
            "part": s.part.pk,
            "quantity": "1",
            "from_location": s.van.pk,
            "reference": "WO-2026-0001",
        },
    )
    assert resp.status_code == 302
    m = StockMovement.objects.get(kind="issue")
    assert m.created_by == s.engineer and m.reference_label == "WO-2026-0001"
    assert c.get(m.get_absolute_url()).status_code == 200
    # another engineer's van is not even a choice
    resp = c.post(
        reverse("parts:stockmovement_create"),
        {
            "kind": "issue",
            "part": s.part.pk,
            "quantity": "1",
            "from_location": s.van2.pk,
            "reference": "WO-1",
        },
    )
    assert resp.status_code == 200 and "from_location" in resp.context["form"].errors


def test_reverse_and_count_on_the_pages(stock, client_for):
    s = stock
    m = s.receive(4)
    c = client_for(s.keeper)
    page = c.get(m.get_absolute_url()).content.decode()
    assert 'id="reverse-form"' in page
    resp = c.post(reverse("parts:stockmovement_reverse", args=[m.pk]), {"reason": ""})
    assert resp.status_code == 400
    resp = c.post(reverse("parts:stockmovement_reverse", args=[m.pk]), {"reason": "typo"})
    assert resp.status_code == 302
    assert "Reversed by" in c.get(m.get_absolute_url()).content.decode()
    s.receive(3)
    resp = c.post(
        reverse("parts:stocklocation_count", args=[s.warehouse.pk]),
        {"part": s.part.pk, "counted": "2", "reason": "annual count"},
    )
    assert resp.status_code == 302
    assert services.on_hand(s.part, s.warehouse) == 2
    resp = c.post(
        reverse("parts:stocklocation_count", args=[s.warehouse.pk]),
        {"part": s.part.pk, "counted": "-5", "reason": "x"},
    )
    assert resp.status_code == 302 and services.on_hand(s.part, s.warehouse) == 2


def test_reorder_list_shows_what_to_order_and_exports_it(stock, client_for, quality_user):
    s = stock
    services.update_part(s.part, by=s.keeper, version=s.part.version, min_stock=4, order_multiple=5)
    healthy = services.create_part(by=s.keeper, code="OK-1", name="Fine part", min_stock=1)
    s.receive(3, part=healthy)
    c = client_for(s.keeper)
    url = reverse("parts:reorderlevel_list")
    page = c.get(url).content.decode()
    assert "BAT-1" in page and "OK-1" not in page
    assert "OK-1" in c.get(url + "?show=all").content.decode()
    rows = list(csv.reader(io.StringIO(c.get(url + "?format=csv").getvalue().decode("utf-8-sig"))))
    assert rows[0][0] == "Part code" and "Suggested order" in rows[0]
    assert [r[0] for r in rows[1:]] == ["BAT-1"]
    suggested = rows[1][rows[0].index("Suggested order")]
    assert suggested == "5"  # 4 to reach the minimum, rounded up to the pack of 5
    wb = openpyxl.load_workbook(io.BytesIO(c.get(url + "?format=xlsx").content))
    assert [r[0] for r in wb.active.iter_rows(values_only=True)][1:] == ["BAT-1"]
    assert client_for(quality_user).get(url).status_code == 200  # quality reads it
    resp = c.post(reverse("parts:reorder_recompute"))
    assert resp.status_code == 302


def test_outsider_and_anonymous_see_nothing(stock, client_for, outsider, client):
    for name in (
        "part_list",
        "stocklocation_list",
        "stocklevel_list",
        "stockmovement_list",
        "reorderlevel_list",
    ):
        assert client_for(outsider).get(reverse(f"parts:{name}")).status_code == 403
        assert client.get(reverse(f"parts:{name}")).status_code == 302


def test_an_inactive_location_with_stock_stays_active(stock, client_for):
    s = stock
    s.receive(1)
    c = client_for(s.keeper)
    url = reverse("parts:stocklocation_edit", args=[s.warehouse.pk])
    form = c.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.pop("active", None)
    resp = c.post(url, data)
    assert resp.status_code == 200 and "still holds parts" in resp.content.decode()
    assert StockLocation.objects.get(pk=s.warehouse.pk).active


def test_the_movement_ledger_filters_by_location_and_kind(stock, client_for):
    s = stock
    s.receive(3)
    services.move(
        kind=MovementKind.TRANSFER,
        part=s.part,
        quantity=1,
        by=s.keeper,
        from_location=s.warehouse,
        to_location=s.van,
    )
    c = client_for(s.keeper)
    url = reverse("parts:stockmovement_list")
    assert c.get(url + f"?location={s.van.pk}").context["page"].paginator.count == 1
    assert c.get(url + "?kind=receipt").context["page"].paginator.count == 1
    assert c.get(url).context["page"].paginator.count == 2


@pytest.mark.req("SVC-10", "PLAT-6")
def test_the_pages_read_in_chinese(stock, client_for):
    s = stock
    services.update_part(s.part, by=s.keeper, version=s.part.version, min_stock=2)
    s.keeper.language = "zh-hans"
    s.keeper.save()
    c = client_for(s.keeper)
    reorder = c.get(reverse("parts:reorderlevel_list")).content.decode()
    assert "补货清单" in reorder and "建议订购量" in reorder and "BAT-1" in reorder
    detail = c.get(s.part.get_absolute_url()).content.decode()
    assert "安全库存与再订货点" in detail and "再订货点" in detail
    form = c.get(reverse("parts:stockmovement_create")).content.decode()
    assert "移动类型" in form and "入库" in form
