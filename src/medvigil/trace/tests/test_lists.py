"""The trace list pages are declarations of the record view kit (core.records.lists, #7 item 3):
lots, units, sales, returns and drills keep their search and filters and gain sorting, the
htmx table and CSV/XLSX export of the filtered list (TRC-3, TRC-4, TRC-6, TRC-8, PLAT-10)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.urls import reverse

from medvigil.trace import services
from medvigil.trace.models import Disposition

from .conftest import lot, make_gtin, product

pytestmark = pytest.mark.django_db


def body(r: Any) -> str:
    return r.content.decode()


def csv_text(r: Any) -> str:
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv"), r.status_code
    return b"".join(r.streaming_content).decode("utf-8-sig")


def table(c: Any, url: str, target: str, **params: Any) -> Any:
    return c.get(url, params, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target)


@pytest.mark.req("TRC-3", "PLAT-10")
def test_lots_filter_by_the_products_offered_sort_and_export(
    world: Any, quality_user: Any, client_for: Any
) -> None:
    other = product("P-2", name="监护仪", name_en="Monitor")
    lot(other, "LM-9", produced=dt.date(2025, 1, 5), quantity=3)
    c = client_for(quality_user)
    url = reverse("trace:lot_list")
    page = body(c.get(url))
    # the product filter offers the products from the database, each once
    assert f'<option value="{world.pump.pk}">P-1 ' in page
    assert f'<option value="{other.pk}">P-2 监护仪</option>' in page
    r = c.get(url, {"product": other.pk})
    assert "LM-9" in body(r) and "LA-001" not in body(r)
    # an id that is not offered is ignored, never an error
    r = c.get(url, {"product": "999999"})
    assert r.status_code == 200 and "LM-9" in body(r) and "LA-001" in body(r)
    # default order: newest production first; sortable by lot number
    r = c.get(url)
    assert body(r).index("LB-002") < body(r).index("LA-001") < body(r).index("LM-9")
    r = c.get(url, {"sort": "lot"})
    assert body(r).index("LA-001") < body(r).index("LB-002") < body(r).index("LM-9")
    text = csv_text(c.get(url, {"product": world.pump.pk, "sort": "-lot", "format": "csv"}))
    lines = text.strip().splitlines()
    assert lines[0].startswith("Lot,Product code,Product,Produced,Expiry,Quantity")
    assert [ln.split(",")[0] for ln in lines[1:]] == ["LB-002", "LA-001"]
    assert "DHR-LA-001" in text
    r = table(c, url, "lot-list", q="DHR")
    assert "LA-001" in body(r) and "LB-002" not in body(r) and "<html" not in body(r)


@pytest.mark.req("TRC-3", "PLAT-10")
def test_units_keep_scan_holder_and_status_filters_and_export(
    world: Any, quality_user: Any, client_for: Any
) -> None:
    c = client_for(quality_user)
    url = reverse("trace:unit_list")

    def shown(r: Any) -> list[str]:
        return [u for u in ("A1", "A2", "A3", "A4", "B1", "B2") if f">{u}</a>" in body(r)]

    r = c.get(url, {"holder": world.hospital.pk})
    assert shown(r) == ["A1", "A2"]
    # the holder filter stays in the filter form while set
    assert f'<input type="hidden" name="holder" value="{world.hospital.pk}">' in body(r)
    r = c.get(url, {"holder": "x"})
    assert r.status_code == 200 and len(shown(r)) == 6
    r = c.get(url, {"status": "in_stock", "sort": "-serial"})
    assert shown(r) == ["A4", "B2"] and body(r).index(">B2<") < body(r).index(">A4<")
    text = csv_text(c.get(url, {"status": "in_stock", "format": "csv"}))
    assert text.splitlines()[0].startswith("Serial number,Product code,Product,Lot,Produced")
    assert {ln.split(",")[0] for ln in text.strip().splitlines()[1:]} == {"A4", "B2"}
    # with htmx: a scan goes to its unit by HX-Redirect (not swapped into the table) …
    udi = f"(01){world.pump.gtin}(21)A3"
    r = table(c, url, "unit-list", q=udi)
    assert r.status_code == 204 and r["HX-Redirect"] == world.a_units[2].get_absolute_url()
    # … one serial found opens it the same way …
    r = table(c, url, "unit-list", q="B1")
    assert r.status_code == 204 and r["HX-Redirect"] == world.b_units[0].get_absolute_url()
    # … and a bad scan's reason lands under the search box (out of band) with no list
    bad = f"(01){make_gtin(777)}(21)A3"
    r = table(c, url, "unit-list", q=bad)
    assert r.status_code == 200 and 'id="scan-error"' in body(r)
    assert 'hx-swap-oob="true"' in body(r) and 'id="unit-table"' not in body(r)
    # a plain request keeps the full page with the error under the box
    r = c.get(url, {"q": bad})
    assert 'id="scan-error"' in body(r) and "hx-swap-oob" not in body(r)


@pytest.mark.req("TRC-4", "PLAT-10")
def test_sales_date_range_seller_and_status_filters_sort_and_export(
    world: Any, quality_user: Any, client_for: Any
) -> None:
    from openpyxl import load_workbook

    services.void_sale(world.sale3, by=quality_user, reason="entered twice")
    c = client_for(quality_user)
    url = reverse("trace:sale_list")
    n1, n2, n3 = world.sale1.number, world.sale2.number, world.sale3.number
    r = c.get(url, {"from": "2026-01-15", "to": "2026-01-31"})
    assert n2 in body(r) and n1 not in body(r) and n3 not in body(r)
    assert 'type="date" name="from" value="2026-01-15"' in body(r)
    r = c.get(url, {"from": "not a date"})
    assert r.status_code == 200 and n1 in body(r) and n3 in body(r)
    r = c.get(url, {"level": "dealer"})
    assert n2 in body(r) and n1 not in body(r)
    r = c.get(url, {"level": "ours", "status": "voided"})
    assert n3 in body(r) and n1 not in body(r)
    r = c.get(url, {"sort": "date"})
    assert body(r).index(n1) < body(r).index(n2) < body(r).index(n3)
    r = c.get(url, {"level": "ours", "sort": "-lines", "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0][:5] == ("Number", "Date", "Seller", "Buyer", "Lines")
    assert [row[0] for row in rows[1:]] == [n1, n3] and rows[1][4] == 3
    r = table(c, url, "sale-list", q=world.hospital2.name)
    assert n3 in body(r) and n1 not in body(r) and "<html" not in body(r)


@pytest.mark.req("TRC-6", "PLAT-10")
def test_returns_disposition_filter_search_and_export(
    world: Any, quality_user: Any, client_for: Any
) -> None:
    r1 = services.record_return(
        unit=world.a_units[1],
        returned_by=world.hospital,
        return_date=dt.date(2026, 2, 10),
        reason="alarm fault",
        disposition=Disposition.REPAIR,
        by=quality_user,
    )
    r2 = services.record_return(
        unit=world.b_units[0],
        returned_by=world.hospital2,
        return_date=dt.date(2026, 2, 12),
        reason="not needed",
        by=quality_user,
    )
    c = client_for(quality_user)
    url = reverse("trace:return_list")
    r = c.get(url, {"disposition": "repair"})
    assert r1.number in body(r) and r2.number not in body(r)
    r = c.get(url, {"q": "B1"})
    assert r2.number in body(r) and r1.number not in body(r)
    text = csv_text(c.get(url, {"sort": "date", "format": "csv"}))
    lines = text.strip().splitlines()
    assert lines[0].startswith("Number,Date,Product code,Product,Serial / lot,Quantity")
    assert [ln.split(",")[0] for ln in lines[1:]] == [r1.number, r2.number]
    assert ",A2," in lines[1]


@pytest.mark.req("TRC-8", "PLAT-10")
def test_drills_search_status_filter_and_export(
    world: Any, quality_user: Any, client_for: Any
) -> None:
    d1 = services.start_drill(world.lot_a, by=quality_user, target_percent=50)
    d2 = services.start_drill(world.lot_b, by=quality_user)
    c = client_for(quality_user)
    url = reverse("trace:drill_list")
    r = c.get(url, {"q": "LB-002"})
    assert d2.number in body(r) and d1.number not in body(r)
    r = c.get(url, {"status": "completed"})
    assert d1.number not in body(r) and "No drill matches these filters." in body(r)
    text = csv_text(c.get(url, {"sort": "lot", "format": "csv"}))
    lines = text.strip().splitlines()
    assert lines[0].startswith("Number,Lot,Product code,Traced at,Located,Units in lot")
    assert [ln.split(",")[0] for ln in lines[1:]] == [d1.number, d2.number]


@pytest.mark.req("PLAT-1")
def test_sort_and_page_links_swap_the_table_and_stay_plain_links(
    world: Any, quality_user: Any, client_for: Any
) -> None:
    c = client_for(quality_user)
    url = reverse("trace:unit_list")
    page = body(c.get(url, {"status": "in_stock"}))
    # a sort link: a plain href for no JavaScript, and the htmx swap of the table
    assert 'href="?status=in_stock&amp;sort=serial"' in page
    assert (
        f'hx-get="{url}?status=in_stock&amp;sort=serial" hx-target="#unit-list" '
        'hx-push-url="true"' in page
    )
    # the page links too (50 units a page: more units make two pages)
    big = lot(world.pump, "LC-003", quantity=60)
    services.add_units(big, [f"X{i:03d}" for i in range(60)], by=quality_user)
    page = body(c.get(url, {"sort": "serial"}))
    assert 'href="?sort=serial&amp;page=2"' in page
    assert f'hx-get="{url}?sort=serial&amp;page=2" hx-target="#unit-list"' in page
    r = table(c, url, "unit-list", sort="serial", page="2")
    assert "Page 2 of 2" in body(r) and "<html" not in body(r)
    # a page that is no kit list keeps plain links (no table to swap)
    detail = body(c.get(reverse("trace:lot_detail", args=[big.pk])))
    nav = detail.split('aria-label="Pages"')[1].split("</nav>")[0]
    assert 'href="?page=2"' in nav and "hx-get" not in nav


@pytest.mark.req("TRC-3")
def test_unit_rows_are_read_as_values_and_counted_without_joins(
    world: Any, quality_user: Any, client_for: Any
) -> None:
    """#13: the unit list reads only the values its rows show (no model instance per unit)
    and counts the filtered units without the joins of those values; the rows link each unit
    and its lot and name the holder (or "us")."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_for(quality_user)
    with CaptureQueriesContext(connection) as cq:
        r = c.get(reverse("trace:unit_list"))
    assert r.status_code == 200
    counts = [
        q["sql"] for q in cq.captured_queries if 'COUNT(*) FROM (SELECT "trace_unit"' in q["sql"]
    ]
    assert len(counts) == 1 and "JOIN" not in counts[0]
    html = body(r)
    a1 = world.a_units[0]
    assert f'<a href="{a1.get_absolute_url()}">{a1.serial}</a>' in html
    assert f'<a href="{a1.lot.get_absolute_url()}">{a1.lot.lot_number}</a>' in html
    assert f"<td>{world.hospital.name}</td>" in html
