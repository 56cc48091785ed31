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


@pytest.mark.req("PLAT-1")
def test_filter_choices_from_the_database_and_free_values(rf: Any, qe: Any) -> None:
    """A filter's choices may be a function of the user (read once per request: the list
    offers and accepts only those); a filter with `parse` takes a free value (a date, an id)
    and narrows by the parsed value; anything else falls back to the default."""
    from medvigil.core.records.lists import Filter, parse_date, parse_id

    calls: list[Any] = []

    def mine(user: Any) -> list[tuple[Any, str]]:
        calls.append(user)
        return [("", "All"), (7, "Seven")]

    owned = Filter("owner", "Owner", mine, field="owner_id")
    request = rf.get("/", {"owner": "7", "since": "2026-02-30", "id": "12"})
    request.user = qe
    options = owned.options(qe)
    assert options == [("", "All"), ("7", "Seven")] and calls == [qe]
    assert owned.value(request, options) == "7"
    assert owned.value(rf.get("/", {"owner": "8"}), options) == ""
    since = Filter("since", "Since", parse=parse_date, field="due_at__date__gte", widget="date")
    assert since.value(request) == ""  # 30 February is no date
    assert since.value(rf.get("/", {"since": "2026-02-28"})) == "2026-02-28"
    ident = Filter("id", "Id", parse=parse_id, widget="hidden")
    assert ident.value(request) == "12"
    assert ident.value(rf.get("/", {"id": "-1"})) == ident.value(rf.get("/", {"id": "x"})) == ""
    qs = Inspection.objects.all()
    assert "due_at" in str(since.narrow(qs, "2026-02-28", qe).query)
    assert since.narrow(qs, "", qe) is qs


@pytest.mark.req("PLAT-1")
def test_a_list_with_a_database_filter_reads_its_choices_once(
    inspections: Any, qe: Any, client_for: Any, monkeypatch: Any
) -> None:
    from medvigil.core.records.lists import Filter
    from medvigil.core.tests.exampleapp.urls import InspectionList

    seen: list[Any] = []

    def owners(user: Any) -> list[tuple[Any, str]]:
        seen.append(user)
        return [("", "Anyone"), (user.pk, "Me")]

    monkeypatch.setattr(
        InspectionList,
        "filters",
        (*InspectionList.filters, Filter("owner", "Owner", owners, field="owner_id")),
    )
    r = client_for(qe).get(reverse(URL), {"owner": qe.pk})
    assert r.status_code == 200 and len(seen) == 1 and seen[0].pk == qe.pk
    assert f'<option value="{qe.pk}" selected>Me</option>' in body(r)
    assert "Boiler review" in body(r)


@pytest.mark.req("PLAT-1")
def test_sort_and_page_links_swap_the_table(inspections: Any, qe: Any, client_for: Any) -> None:
    page = body(client_for(qe).get(reverse(URL), {"status": "open"}))
    path = reverse(URL)
    assert 'href="?status=open&amp;sort=title"' in page  # works without JavaScript
    assert (
        f'hx-get="{path}?status=open&amp;sort=title" hx-target="#inspection-list" '
        'hx-push-url="true"' in page
    )
    assert f'hx-get="{path}?status=open&amp;page=2" hx-target="#inspection-list"' in page


@pytest.mark.req("PLAT-1", "PLAT-2")
def test_the_create_page_goes_through_the_service(qe: Any, outsider: Any, client_for: Any) -> None:
    from medvigil.core.models import AuditEntry

    c = client_for(qe)
    url = reverse("exampleapp:inspection_create")
    r = c.get(url)
    assert r.status_code == 200 and 'name="title"' in body(r) and "New inspection" in body(r)
    assert 'name="version"' in body(r)  # the hidden field is there, and empty: no version
    before = AuditEntry.objects.count()
    r = c.post(url, {"title": "Made on the page"}, follow=True)
    obj = Inspection.objects.get(title="Made on the page")
    assert r.redirect_chain[-1][0] == obj.get_absolute_url()
    assert f"Inspection {obj.number} created." in body(r)
    assert obj.owner == qe and obj.created_by == qe
    assert AuditEntry.objects.count() == before + 1
    # invalid input: the form again with the error, nothing saved
    r = c.post(url, {"title": ""})
    assert r.status_code == 200 and "is-invalid" in body(r)
    assert Inspection.objects.count() == 1
    assert client_for(outsider).get(url).status_code == 403
    assert client_for(outsider).post(url, {"title": "x"}).status_code == 403
    # the list offers the page to who may create
    assert url in body(c.get(reverse(URL)))
    assert url not in body(client_for(outsider).get(reverse(URL)))


@pytest.mark.req("PLAT-1")
def test_create_record_shows_a_refusal_on_the_form(rf: Any, qe: Any) -> None:
    """A service's ValidationError shows on the form like the edit page's (a renamed field
    under its form field, others above the form), and nothing is redirected."""
    from django import forms
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.core.exceptions import ValidationError

    from medvigil.core.records.views import create_record

    class SerialsForm(forms.Form):
        serials = forms.CharField()

    def refuse(*, by: Any, serials: str) -> Any:
        assert by == qe and serials == "S1"
        raise ValidationError({"serial": "S1 is already recorded.", "lot": "Lot closed."})

    request = rf.post("/", {"serials": "S1"})
    request.user = qe
    request.session = {}  # type: ignore[assignment]
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    form = SerialsForm(request.POST)
    r = create_record(
        request,
        form,
        refuse,
        lambda o: "never",
        "Add units",
        cancel="/back/",
        rename={"serial": "serials"},
    )
    assert r.status_code == 200
    assert form.errors["serials"] == ["S1 is already recorded."]
    assert form.non_field_errors() == ["Lot closed."]
    assert 'href="/back/"' in r.content.decode()
