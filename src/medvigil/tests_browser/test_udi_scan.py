"""TRC-3 / TRC-7 in a real browser: a scanned GS1 UDI typed into the unit search lands on the
unit page (a scanner is a keyboard: it types the element string and presses Enter)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from medvigil.conftest import PASSWORD
from medvigil.trace.tests.conftest import lot, product, units

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.req("TRC-3", "TRC-7")
def test_scanning_a_udi_into_the_unit_search_opens_the_unit_page(
    new_page: Any, make_user: Any, live_server: Any, screenshots: Any
) -> None:
    make_user("zhangwei", "service_engineer", department="service")
    pump = product("P-7")
    the_lot = lot(pump, "L2503", expiry_date=dt.date(2030, 5, 31))
    unit = units(pump, the_lot, ["SN000123"])[0]
    udi = f"(01){pump.gtin}(17)300531(10)L2503(21)SN000123"

    page = new_page(locale="en-US")
    login(page, "zhangwei", PASSWORD)
    page.goto(f"{live_server.url}/trace/units/")
    search = page.locator("input[name=q]")
    search.fill(udi)
    search.press("Enter")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/trace/units/{unit.pk}/")
    assert "SN000123" in page.locator("h1").inner_text()
    page.screenshot(path=str(screenshots / "unit-scanned.png"), full_page=True)

    # A UDI with a wrong GTIN check digit is refused with the reason under the search box,
    # in the reader's language, and no unit list under it (issue #8).
    bad = udi.replace(pump.gtin, pump.gtin[:-1] + str((int(pump.gtin[-1]) + 1) % 10))
    for locale, lang, expected in (
        ("en-US", "en", "check digit of GTIN"),
        ("zh-CN", "zh", "的校验位错误"),
    ):
        page = new_page(locale=locale)
        login(page, "zhangwei", PASSWORD)
        page.goto(f"{live_server.url}/trace/units/")
        page.locator("input[name=q]").fill(bad)
        page.locator("input[name=q]").press("Enter")
        page.wait_for_load_state("networkidle")
        assert "/trace/units/" in page.url
        error = page.locator("#scan-error")
        assert error.is_visible() and expected in error.inner_text()
        assert "Failed" not in error.inner_text() and "Invalid GTIN" not in error.inner_text()
        assert page.locator("#unit-table").count() == 0
        page.screenshot(path=str(screenshots / f"unit-scan-error-{lang}.png"), full_page=True)
