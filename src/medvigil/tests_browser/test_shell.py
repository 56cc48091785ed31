"""The UI shell in a real browser (PLAT-1 sign-in, PLAT-6 languages, phone layout)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation
from django.utils.translation import gettext

from medvigil.conftest import PASSWORD

from .conftest import PHONE, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def engineer(make_user: Any) -> Any:
    return make_user(
        "zhangwei",
        "service_engineer",
        department="service",
        display_name="张伟 Zhang Wei",
    )


@pytest.mark.req("PLAT-1")
def test_login_form_signs_in_and_a_wrong_password_is_refused(new_page, engineer, live_server):
    page = new_page()
    login(page, "zhangwei", "not-the-password")
    assert page.url.endswith("/login/")
    assert page.locator(".alert-danger").is_visible()
    login(page, "zhangwei", PASSWORD)
    assert page.url == f"{live_server.url}/"
    assert page.locator("h1").inner_text().strip()
    assert page.locator("#user-menu").inner_text().strip() == "张伟 Zhang Wei"


@pytest.mark.req("PLAT-6", "PLAT-1")
def test_home_in_chinese_then_english_via_the_navbar_button(new_page, engineer, screenshots):
    page = new_page(locale="zh-CN")
    login(page, "zhangwei", PASSWORD)
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    with translation.override("zh-hans"):
        assert page.locator("h1").inner_text().strip() == gettext("My work")
    assert page.locator("#work-empty, #work-list").count() == 1
    switch = page.locator("nav button[name=language]")
    assert switch.inner_text().strip() == "English"
    page.screenshot(path=str(screenshots / "home-zh.png"), full_page=True)

    switch.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text().strip() == "My work"
    assert page.locator("nav button[name=language]").inner_text().strip() == "中文"
    page.screenshot(path=str(screenshots / "home-en.png"), full_page=True)

    engineer.refresh_from_db()
    assert engineer.language == "en"  # kept in the profile, not just this browser
    other = new_page(locale="zh-CN")
    login(other, "zhangwei", PASSWORD)
    assert other.locator("html").get_attribute("lang") == "en"


@pytest.mark.req("PLAT-6")
def test_phone_viewport_shows_the_collapsed_menu(new_page, engineer, screenshots):
    page = new_page(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    login(page, "zhangwei", PASSWORD)
    toggler = page.locator(".navbar-toggler")
    menu = page.locator("#mainnav")
    assert toggler.is_visible()
    assert not menu.is_visible()
    # nothing is wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(screenshots / "home-phone.png"))
    toggler.click()
    menu.wait_for(state="visible")
    assert page.locator("#mainnav .nav-link").first.is_visible()
    page.wait_for_timeout(400)  # let the collapse animation finish before the picture
    page.screenshot(path=str(screenshots / "home-phone-menu.png"))
    assert menu.is_visible()


@pytest.mark.req("PLAT-8")
def test_an_overdue_item_on_my_work_is_red(new_page, engineer, monkeypatch):
    """The due cell's colour as the browser computes it: Bootstrap's table colours win over a
    plain `color` on a cell, which once left overdue items black."""
    import datetime as dt

    from django.utils import timezone

    from medvigil.core import registry

    def overdue(user: Any) -> list[registry.WorkItem]:
        due = timezone.now() - dt.timedelta(days=2)
        return [registry.WorkItem(title="Overdue probe", url="/", due=due)]

    monkeypatch.setattr(registry, "_work", [*registry._work, overdue])
    page = new_page()
    login(page, "zhangwei", PASSWORD)
    cell = page.locator("td.due-overdue").first
    assert cell.is_visible()
    colour = cell.evaluate("el => getComputedStyle(el).color")
    danger = page.evaluate(
        "() => { const s = document.createElement('span'); s.className = 'text-danger';"
        " document.body.append(s); const c = getComputedStyle(s).color; s.remove(); return c; }"
    )
    assert colour == danger, (colour, danger)
