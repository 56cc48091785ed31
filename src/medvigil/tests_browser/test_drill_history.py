"""TRC-8 in a real browser: a drill's history shows its frozen result as a table in the
reader's language, not as JSON (issue #8)."""

from __future__ import annotations

from typing import Any

import pytest

from medvigil.conftest import PASSWORD
from medvigil.trace import services
from medvigil.trace.tests.conftest import dealer, lot, product, units

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.req("TRC-8")
def test_drill_history_reads_as_a_table_in_both_languages(
    new_page: Any, make_user: Any, live_server: Any, screenshots: Any
) -> None:
    import datetime as dt

    user = make_user("liwei", "quality", department="quality")
    pump = product("P-7")
    the_lot = lot(pump, "L2503", quantity=11)
    made = units(pump, the_lot, [f"SN{n:03d}" for n in range(1, 12)])
    d = dealer("D-1", name="华东医疗器械经销公司")
    services.create_sale(
        seller=None,
        buyer=d,
        sale_date=dt.date.today(),
        lines=[services.LineInput(unit=made[0])],
        by=user,
    )
    drill = services.start_drill(the_lot, by=user)
    services.run_drill(drill, by=user)  # a second run: history shows old → new results

    for locale, lang, located, basis in (
        ("en-US", "en", "10 of 11 located", "serialised units"),
        ("zh-CN", "zh", "已定位", "按出厂编号管理的器械"),
    ):
        page = new_page(locale=locale)
        login(page, "liwei", PASSWORD)
        page.goto(f"{live_server.url}{drill.get_absolute_url()}")
        assert page.locator("#drill-percent").inner_text().strip() == "90.91 %"
        assert located in page.content()
        history = page.locator(".history-panel")
        assert history.locator("table.drill-result").count() >= 1
        text = history.inner_text()
        assert basis in text and "SN001" in text
        assert '"basis"' not in text and '"located"' not in text
        history.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshots / f"drill-history-{lang}.png"), full_page=True)
