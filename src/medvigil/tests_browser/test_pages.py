"""The main pages of each area in a real browser, signed in, with the demo data (PLAT-6):
every asset a page asks for loads, and list pages read well on a phone in both languages.
Screenshots: test-artifacts/screenshots/phone-<page>-<lang>.png."""

from __future__ import annotations

from typing import Any

import pytest

from medvigil.accounts.demo import DEMO_PASSWORD

from .conftest import PHONE, Broken, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIST_PAGES = {
    "home": "/",
    "notifications": "/notifications/?show=all",
    "imports": "/imports/",
    "audit": "/audit/",
    "destruction": "/destruction/",
    "products": "/trace/products/",
    "customers": "/trace/customers/",
    "lots": "/trace/lots/",
    "units": "/trace/units/",
    "sales": "/trace/sales/",
    "returns": "/trace/returns/",
    "drills": "/trace/drills/",
}
OTHER_PAGES = [
    "/imports/new/",
    "/profile/",
    "/trace/trace/forward/",
    "/trace/trace/backward/",
]


@pytest.fixture
def demo(db: Any) -> None:
    from medvigil.accounts.demo import load_all

    load_all()


def visit(page: Any, url: str) -> None:
    page.set_default_timeout(60_000)  # demo-sized pages on a busy machine
    response = page.goto(url)
    page.wait_for_load_state("networkidle")
    assert response is not None and response.status == 200, (url, response and response.status)


@pytest.mark.req("PLAT-6")
def test_every_asset_of_every_main_page_loads(new_page, demo, live_server):
    page = new_page(locale="zh-CN")
    broken = Broken(page, live_server.url)
    login(page, "quality", DEMO_PASSWORD)
    assert broken.take() == []
    seen: dict[str, list[str]] = {}
    for url in [*LIST_PAGES.values(), *OTHER_PAGES]:
        visit(page, url)
        seen[url] = broken.take()
        # and the first record of each list: detail pages load their assets too
        first = page.locator(".card table tbody a[href^='/']").first
        if first.count():
            href = first.get_attribute("href")
            visit(page, href)
            seen[href] = broken.take()
    assert {url: items for url, items in seen.items() if items} == {}
    # the page's own styles are really in force: app.css gave the table cells their labels
    # (app.js) and the stacked layout does not apply on a desktop
    visit(page, "/trace/units/")
    assert page.locator("#unit-table.table-stack").count() == 1
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.filter-toggle')).display")
        == "none"
    )
    # the favicon the page links is there
    icon = page.evaluate("document.querySelector('link[rel=icon]').href")
    assert page.request.get(icon).status == 200

    # the administrator's Administration menu: every entry opens, with all its assets
    admin = new_page(locale="zh-CN")
    broken = Broken(admin, live_server.url)
    login(admin, "admin", DEMO_PASSWORD)
    links = admin.eval_on_selector_all(
        "#nav-admin + .dropdown-menu a.dropdown-item[href^='/']", "els => els.map(e => e.href)"
    )
    assert any(u.endswith("/admin/") for u in links) and len(links) >= 6
    for url in links:
        visit(admin, url)
        assert broken.take() == [], url


PHONE_CHECKS = """() => {
  const doc = document.documentElement;
  const wide = [...document.querySelectorAll('.table-responsive')]
      .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.querySelector('table')?.id);
  const pills = [...document.querySelectorAll('.nav-pills .nav-link')]
      .filter(a => a.getBoundingClientRect().height > 40).map(a => a.innerText);
  const form = document.querySelector('form.filter-form');
  const offscreenTabs = [...document.querySelectorAll('.nav-pills .nav-link.active')]
      .filter(a => { const r = a.getBoundingClientRect();
                     return r.left < 0 || r.right > doc.clientWidth; })
      .map(a => a.innerText);
  return {
    offscreenTabs: offscreenTabs,
    overflow: doc.scrollWidth - doc.clientWidth,
    wide: wide,
    tallPills: pills,
    filterForm: !!form,
    hiddenFilterFields: form ? [...form.querySelectorAll('select, input:not([type=hidden])')]
        .filter(el => el.offsetParent === null).length : 0,
    toggleVisible: !!document.querySelector('.filter-toggle') &&
        getComputedStyle(document.querySelector('.filter-toggle')).display !== 'none',
  };
}"""


@pytest.mark.req("PLAT-6")
def test_list_pages_fit_a_phone_and_fold_their_filters(new_page, demo, screenshots):
    for language in ("zh-hans", "en"):  # one demo load for both languages
        _check_phone_pages(new_page, screenshots, language)


def _check_phone_pages(new_page: Any, screenshots: Any, language: str) -> None:
    from medvigil.accounts.models import User

    User.objects.filter(username="quality").update(language=language)
    page = new_page(
        locale="zh-CN" if language == "zh-hans" else "en-US",
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
    )
    login(page, "quality", DEMO_PASSWORD)
    short = "zh" if language == "zh-hans" else "en"
    problems = {}
    folded = []
    for name, url in LIST_PAGES.items():
        visit(page, url)
        assert page.locator("html").get_attribute("lang") == language
        found = page.evaluate(PHONE_CHECKS)
        bad = {k: found[k] for k in ("wide", "tallPills", "offscreenTabs") if found[k]}
        if found["overflow"] > 0:
            bad["overflow"] = found["overflow"]
        if found["filterForm"]:
            folded.append(name)
            if not (found["hiddenFilterFields"] and found["toggleVisible"]):
                bad["filters"] = "not folded"
        if bad:
            problems[name] = bad
        page.screenshot(path=str(screenshots / f"phone-{name}-{short}.png"))  # one screen
    assert problems == {}, language
    # the long filter forms (trace lists, audit search) are the ones folded
    assert {"audit", "units", "sales"} <= set(folded)
    # a folded form opens with its button
    visit(page, "/audit/")
    page.locator(".filter-toggle").click()
    assert page.locator("#id_record_type").is_visible()
    page.screenshot(path=str(screenshots / f"phone-audit-filters-open-{short}.png"))


@pytest.mark.req("PLAT-6", "TRC-7")
def test_forward_trace_exports_stay_in_reach_on_a_phone(new_page, demo, screenshots):
    """On a phone the trace criteria fold away, but running the trace and its exports do not
    (they used to be folded with the criteria)."""
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    login(page, "quality", DEMO_PASSWORD)
    visit(page, "/trace/trace/forward/?lots=25070100")
    assert page.locator("#unit-count").is_visible()
    assert page.locator("#export-pdf").is_visible()
    assert page.locator("#trace-form .filter-keep").is_visible()
    assert page.locator(".filter-toggle").is_visible()
    page.screenshot(path=str(screenshots / "phone-forward-trace-en.png"))
