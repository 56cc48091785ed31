"""The list-page kit in a real browser (#7 item 3): the filter form reloads only the table
(htmx), keeps the address in the location bar, and the table still reads as cards on a
phone (PLAT-1, PLAT-6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from medvigil.accounts.demo import DEMO_PASSWORD

from .conftest import PHONE, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(db: Any) -> None:
    from medvigil.accounts.demo import load_all

    load_all()


@pytest.mark.req("PLAT-1", "PLAT-6")
def test_filter_reloads_only_the_table_and_keeps_the_address(new_page: Any, demo: Any) -> None:
    from medvigil.trace.models import Product

    products = list(Product.objects.filter(active=True).order_by("code"))
    assert len(products) >= 2
    wanted, other = products[0], products[1]
    page = new_page(locale="en-US")
    login(page, "quality", DEMO_PASSWORD)
    page.goto("/trace/products/")
    page.evaluate("window.__notReloaded = true")
    assert page.locator("#product-table").is_visible()
    page.fill("form.record-list-filters input[name=q]", wanted.code)
    page.press("form.record-list-filters input[name=q]", "Enter")
    # the other product leaves the table (no eval: the CSP forbids it)
    page.locator("#product-list").get_by_text(other.code, exact=True).wait_for(state="detached")
    page.wait_for_load_state("networkidle")
    assert "q=" in page.url
    table = page.locator("#product-list")
    assert wanted.code in table.inner_text()
    assert other.code not in table.inner_text()
    assert page.evaluate("window.__notReloaded === true")  # htmx swapped the table only
    assert page.locator("form.record-list-filters").count() == 1  # not nested by the swap


@pytest.mark.req("PLAT-6")
def test_kit_table_reads_as_cards_on_a_phone(new_page: Any, demo: Any) -> None:
    page = new_page(locale="en-US", viewport=PHONE)
    login(page, "quality", DEMO_PASSWORD)
    page.goto("/trace/products/?sort=-code")
    page.wait_for_load_state("networkidle")
    assert "table-stack" in (page.locator("#product-table").get_attribute("class") or "")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1


@pytest.mark.req("PLAT-10", "PLAT-6")
def test_after_filtering_in_place_the_export_and_the_phone_cards_follow(
    new_page: Any, demo: Any
) -> None:
    """Found by a walk-through: after an in-place filter the export links still downloaded
    the whole list, and on a phone the swapped table lost its card layout."""
    from medvigil.trace.models import Product

    products = list(Product.objects.filter(active=True).order_by("code"))
    wanted, other = products[0], products[1]
    page = new_page(locale="en-US", viewport=PHONE)
    login(page, "quality", DEMO_PASSWORD)
    page.goto("/trace/products/")
    page.locator(".filter-toggle").click()  # folded on a phone
    page.fill("form.record-list-filters input[name=q]", wanted.code)
    page.press("form.record-list-filters input[name=q]", "Enter")
    page.locator("#product-list").get_by_text(other.code, exact=True).wait_for(state="detached")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(100)  # past htmx's settle delay
    assert "table-stack" in (page.locator("#product-table").get_attribute("class") or "")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    with page.expect_download() as download:
        page.locator(".export-links a[data-format=csv]").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert wanted.code in text and other.code not in text


@pytest.mark.req("PLAT-1", "PLAT-6")
def test_sort_and_page_links_swap_the_table_and_the_filters_keep_the_order(
    new_page: Any, demo: Any
) -> None:
    """Sort and page links reload only the table and change the address; filtering next keeps
    the order the link chose, the filter count follows, and the export is of that list."""
    page = new_page(locale="en-US")
    login(page, "quality", DEMO_PASSWORD)
    page.goto("/trace/units/")
    page.evaluate("window.__notReloaded = true")
    page.locator("#unit-table thead a.sort-link", has_text="Serial number").click()
    page.wait_for_url("**/trace/units/?sort=serial")
    page.locator("#unit-table thead a.sort-link[aria-current]").wait_for()
    page.locator("#unit-table thead a.sort-link", has_text="Serial number").click()
    page.wait_for_url("**/trace/units/?sort=-serial")
    page.locator("#unit-table thead a.sort-link[aria-current]").wait_for()
    page.wait_for_load_state("networkidle")
    serials = page.locator("#unit-table tbody tr td:first-child a").all_inner_texts()
    assert len(serials) > 1 and serials == sorted(serials, reverse=True)
    assert page.evaluate("window.__notReloaded === true")
    # the filter form now carries the new order: filtering keeps it
    assert page.locator("form.record-list-filters input[name=sort]").get_attribute("value") == (
        "-serial"
    )
    page.select_option("form.record-list-filters select[name=status]", "in_stock")
    page.wait_for_url("**status=in_stock**")
    assert "sort=-serial" in page.url
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(100)
    assert "(1)" in page.locator(".filter-toggle").inner_text()
    # a page link swaps the table too
    nxt = page.locator("#unit-list .pagination a", has_text="next")
    if nxt.count():
        nxt.click()
        page.wait_for_url("**page=2**")
        page.locator("#unit-list .pagination .active", has_text="Page 2").wait_for()
        assert page.evaluate("window.__notReloaded === true")
    with page.expect_download() as download:
        page.locator(".export-links a[data-format=csv]").click()
    rows = Path(download.value.path()).read_text(encoding="utf-8-sig").strip().splitlines()[1:]
    exported = [r.split(",")[0] for r in rows]
    assert exported == sorted(exported, reverse=True)
    assert rows and all("in stock" in r for r in rows)
