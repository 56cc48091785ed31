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
