"""The list-page kit (core.records.lists, #7 item 3): search, filters, sort, pagination,
CSV/XLSX export of the filtered list and the htmx partial of the table — proven on the example
app's list and on the trace catalogue, which are declarations of it (PLAT-10, PLAT-1)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import reverse

from medvigil.core.tests.exampleapp import services
from medvigil.core.tests.exampleapp.models import Inspection

pytestmark = [pytest.mark.django_db]

URL = "exampleapp:inspection_list"


@pytest.fixture
def qe(make_user: Any) -> Any:
    return make_user("qe1", "quality")


@pytest.fixture
def inspections(qe: Any) -> list[Inspection]:
    made = [services.create_inspection(by=qe, title=f"Check {i:02d}") for i in range(30)]
    services.void_inspection(made[0], by=qe, reason="duplicate")
    services.create_inspection(by=qe, title="Boiler review")
    return made


def body(r: Any) -> str:
    return r.content.decode()


@pytest.mark.req("PLAT-1")
def test_search_filter_sort_and_pages(inspections: Any, qe: Any, client_for: Any) -> None:
    c = client_for(qe)
    r = c.get(reverse(URL))
    assert r.status_code == 200 and "Page 1 of 2" in body(r)
    # default sort: newest number first
    assert body(r).index("Boiler review") < body(r).index("Check 29")
    r = c.get(reverse(URL), {"q": "boiler"})
    assert "Boiler review" in body(r) and "Check 01" not in body(r)
    r = c.get(reverse(URL), {"status": "voided"})
    assert "Check 00" in body(r) and "Check 01" not in body(r)
    r = c.get(reverse(URL), {"q": "nothing-like-this"})
    assert "No inspection matches these filters." in body(r)
    r = c.get(reverse(URL), {"sort": "title"})
    assert body(r).index("Boiler review") < body(r).index("Check 00")
    assert 'aria-current="true"' in body(r) and "sort=-title" in body(r)  # next click: reverse
    r = c.get(reverse(URL), {"sort": "-title", "page": "2"})
    assert "Boiler review" in body(r) and "Page 2 of 2" in body(r)
    # unknown values change nothing and never fail
    for params in ({"sort": "site_contact"}, {"status": "nope"}, {"page": "x"}, {"sort": "--"}):
        r = c.get(reverse(URL), params)
        assert r.status_code == 200 and "Page 1 of 2" in body(r)


@pytest.mark.req("PLAT-1")
def test_htmx_gets_the_table_alone(inspections: Any, qe: Any, client_for: Any) -> None:
    c = client_for(qe)
    page = body(c.get(reverse(URL)))
    assert 'id="inspection-list"' in page and 'hx-target="#inspection-list"' in page
    r = c.get(
        reverse(URL), {"q": "boiler"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="inspection-list"
    )
    assert r.status_code == 200
    assert "Boiler review" in body(r) and "<html" not in body(r) and "<form" not in body(r)
    other = c.get(reverse(URL), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="somewhere-else")
    assert "<html" in body(other)


@pytest.mark.req("PLAT-10")
def test_csv_and_xlsx_export_the_filtered_sorted_list(
    inspections: Any, qe: Any, client_for: Any
) -> None:
    from openpyxl import load_workbook

    c = client_for(qe)
    r = c.get(reverse(URL), {"status": "open", "sort": "title", "format": "csv"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0] == "Number,Title,Status,Due"
    assert len(lines) == 1 + 30  # 29 open checks + the boiler, not the voided one: no paging
    assert lines[1].split(",")[1] == "Boiler review"
    assert "Check 00" not in text
    r = c.get(reverse(URL), {"q": "boiler", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Number", "Title", "Status", "Due") and len(rows) == 2
    assert rows[1][1] == "Boiler review"


@pytest.mark.req("PLAT-1")
def test_the_list_shows_only_what_the_user_may_see(
    inspections: Any, make_user: Any, outsider: Any, client_for: Any
) -> None:
    colleague = make_user("cs2", "customer_service")  # sees own inspections only
    services.create_inspection(by=colleague, title="Mine alone")
    r = client_for(colleague).get(reverse(URL), {"format": "csv"})
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    assert "Mine alone" in text and "Boiler review" not in text
    assert client_for(outsider).get(reverse(URL)).status_code == 403
    assert client_for(outsider).get(reverse(URL), {"format": "csv"}).status_code == 403


@pytest.mark.req("TRC-1", "PLAT-10")
def test_trace_catalogue_is_a_kit_list(db: Any, quality_user: Any, client_for: Any) -> None:
    from medvigil.trace.tests.conftest import product

    product("P-11", name="Alpha pump", name_en="Alpha", risk_class="III")
    product("P-12", name="Beta monitor", name_en="Beta", risk_class="II")
    old = product("P-13", name="Old pump", name_en="Old", risk_class="III")
    old.active = False
    old.save()
    c = client_for(quality_user)
    url = reverse("trace:product_list")
    r = c.get(url, {"risk_class": "III"})
    assert "Alpha pump" in body(r) and "Beta monitor" not in body(r) and "Old pump" not in body(r)
    r = c.get(url, {"active": "all", "sort": "-code"})
    assert body(r).index("P-13") < body(r).index("P-12") < body(r).index("P-11")
    r = c.get(url, {"q": "pump", "active": "all", "format": "csv"})
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    assert "P-11" in text and "P-13" in text and "P-12" not in text
    r = c.get(url, {"q": "monitor"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="product-list")
    assert "Beta monitor" in body(r) and "<html" not in body(r)


@pytest.mark.req("TRC-2", "PLAT-10", "PLAT-11")
def test_trace_customers_are_a_kit_list_with_contacts_masked(
    db: Any, make_user: Any, quality_user: Any, client_for: Any
) -> None:
    from medvigil.trace.tests.conftest import dealer, hospital

    reader = make_user("fin", "finance")  # reads customers, not their contacts
    assert not reader.has_perm("trace.view_contact_data")
    assert quality_user.has_perm("trace.view_contact_data")
    hospital("H-1", name="First hospital", owner=quality_user)
    dealer("D-1", name="Second dealer", phone="021-7777-0000")
    url = reverse("trace:customer_list")

    def csv(user: Any, **params: Any) -> str:
        r = client_for(user).get(url, {**params, "format": "csv"})
        return b"".join(r.streaming_content).decode("utf-8-sig")

    assert "021-7777-0000" in csv(quality_user)
    assert "021-7777-0000" not in csv(reader) and "***" in csv(reader)
    # searching a phone number works only for who may read it
    assert "Second dealer" in csv(quality_user, q="7777")
    assert "Second dealer" not in csv(reader, q="7777")
    mine = csv(quality_user, mine="1")
    assert "First hospital" in mine and "Second dealer" not in mine
    only = csv(quality_user, kind="dealer", sort="-name")
    assert "Second dealer" in only and "First hospital" not in only
    r = client_for(reader).get(
        url, {"q": "First"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="customer-list"
    )
    assert "First hospital" in body(r) and "<html" not in body(r) and "***" in body(r)
