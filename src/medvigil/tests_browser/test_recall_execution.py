"""The recall execution page on a 390 px phone (RCL-4), in Chinese and English: its consignee
and unit tables read as stacked cards (each cell with its column's name), so nothing needs a
sideways scroll, and the notice and acknowledgement forms stay usable in the cards."""

from __future__ import annotations

from typing import Any

import pytest

from medvigil.conftest import PASSWORD
from medvigil.recalls.tests.conftest import gm, running  # noqa: F401  (fixtures)
from medvigil.trace.tests.conftest import world  # noqa: F401  (fixture)

from .conftest import DESKTOP, PHONE, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Sideways scrolling anywhere in the page's main part: the page itself, or a scrolling box
# (.table-responsive) whose content is wider than it.
SIDEWAYS = """() => {
  const doc = document.documentElement;
  const boxes = [...document.querySelectorAll('main .table-responsive')]
      .filter(el => el.scrollWidth > el.clientWidth + 1)
      .map(el => el.closest('[id]')?.id + ' ' + (el.scrollWidth - el.clientWidth) + 'px');
  return {page: doc.scrollWidth - doc.clientWidth, boxes: boxes};
}"""


@pytest.mark.req("RCL-4", "PLAT-6")
@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_recall_execution_reads_on_a_phone(
    new_page: Any,
    running: Any,  # noqa: F811
    make_user: Any,
    screenshots: Any,
    locale: str,
) -> None:
    from medvigil.recalls.models import RecallConsignee

    make_user("cs", "customer_service", department="customer-service", display_name="王芳")
    lang = locale[:2]
    page = new_page(locale=locale, viewport=PHONE, is_mobile=True, has_touch=True)
    login(page, "cs", PASSWORD)
    page.goto(f"/recalls/{running.pk}/execution/")
    page.wait_for_load_state("networkidle")
    assert page.locator("tr.consignee-row").count() >= 2
    assert page.locator("tr.unit-row").count() >= 2
    assert page.evaluate(SIDEWAYS) == {"page": 0, "boxes": []}
    for table in ("#consignees table", "#units table"):
        assert "table-stack" in (page.locator(table).get_attribute("class") or "")
    # a card: the consignee's name on top, each value beside its column's name
    row = page.locator("tr.consignee-row").first
    labels = row.locator("td[data-label]").evaluate_all(
        "tds => tds.map(td => td.dataset.label).filter(Boolean)"
    )
    assert ("Notice" if lang == "en" else "通知") in labels
    page.screenshot(path=str(screenshots / f"phone-recall-execution-{lang}.png"), full_page=True)

    # the notice form works from the card
    consignee = RecallConsignee.objects.get(pk=row.get_attribute("data-id"))
    form = row.locator("form").first
    box = form.locator("button").bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    # the buttons' labels stay on one line (no letter-per-line button beside a tall select)
    heights = page.locator("main form button").evaluate_all(
        "bs => bs.map(b => b.getBoundingClientRect().height)"
    )
    assert heights and max(heights) < 40, heights
    form.locator("select[name=channel]").select_option("phone")
    with page.expect_navigation():
        form.locator("button").click()
    page.wait_for_load_state("networkidle")
    consignee.refresh_from_db()
    assert consignee.notice_sent_at is not None
    assert page.evaluate(SIDEWAYS) == {"page": 0, "boxes": []}
    page.screenshot(
        path=str(screenshots / f"phone-recall-execution-told-{lang}.png"), full_page=True
    )

    # a desktop keeps the tables
    desk = new_page(locale=locale, viewport=DESKTOP)
    login(desk, "cs", PASSWORD)
    desk.goto(f"/recalls/{running.pk}/execution/")
    assert desk.locator("#consignees thead").is_visible()
    assert desk.evaluate(SIDEWAYS)["page"] == 0
    desk.screenshot(path=str(screenshots / f"desktop-recall-execution-{lang}.png"), full_page=True)
