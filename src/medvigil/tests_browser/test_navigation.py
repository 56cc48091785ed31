"""The main bar in a real browser (PLAT-1, PLAT-6): one menu per area, only what the user's
roles allow, every label on one line at 1280 px and in the phone's collapsed menu, in Chinese
and English, usable from the keyboard. Screenshots: test-artifacts/screenshots/nav-*.png."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation
from django.utils.translation import gettext

from medvigil.conftest import PASSWORD
from medvigil.core.registry import MENUS

from .conftest import DESKTOP, PHONE, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each top-level entry of the bar: its text, its height, the height of one line of its text,
# whether it lies inside the screen; and whether the page is wider than the screen.
BAR = """() => {
  const doc = document.documentElement;
  const items = [...document.querySelectorAll('#mainnav .navbar-nav > li .nav-link')]
    .filter(el => el.offsetParent !== null)
    .map(el => {
      const s = getComputedStyle(el), r = el.getBoundingClientRect();
      const inner = r.height - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom)
                    - parseFloat(s.borderTopWidth) - parseFloat(s.borderBottomWidth);
      const line = parseFloat(s.lineHeight) || parseFloat(s.fontSize) * 1.5;
      return {text: el.innerText.trim(), lines: Math.round(inner / line),
              inside: r.left >= 0 && r.right <= doc.clientWidth + 0.5};
    });
  return {items: items, overflow: doc.scrollWidth - doc.clientWidth};
}"""

ROLES = {
    # username, role, department, the menus the role opens (in order)
    "quality": (
        "nav-qe",
        "quality",
        "quality",
        ["trace", "feedback", "vigilance", "service", "quality", "admin"],
    ),
    "customer_service": (
        "nav-cs",
        "customer_service",
        "customer-service",
        ["trace", "feedback", "vigilance", "service", "quality", "admin"],
    ),
}


def _menu_labels(language: str) -> dict[str, str]:
    with translation.override(language):
        return {key: str(menu.label) for key, menu in MENUS.items()}


def _check_bar(page: Any, where: str) -> list[str]:
    result = page.evaluate(BAR)
    problems = [
        f"{where}: {i['text']!r} takes {i['lines']} lines"
        for i in result["items"]
        if i["lines"] != 1
    ]
    problems += [
        f"{where}: {i['text']!r} off the screen" for i in result["items"] if not i["inside"]
    ]
    if result["overflow"] > 0:
        problems.append(f"{where}: the page is {result['overflow']} px wider than the screen")
    assert result["items"], where
    return problems


@pytest.mark.req("PLAT-1", "PLAT-6")
@pytest.mark.parametrize("role", list(ROLES))
def test_grouped_menu_one_line_per_label_desktop_and_phone_both_languages(
    new_page, make_user, screenshots, role
):
    from medvigil.accounts.models import User

    username, role_code, dept, expected = ROLES[role]
    user = make_user(username, role_code, department=dept, display_name="张伟 Zhang Wei")
    problems: list[str] = []
    for language in ("zh-hans", "en"):
        User.objects.filter(pk=user.pk).update(language=language)
        labels = _menu_labels(language)
        short = "zh" if language == "zh-hans" else "en"

        # desktop, 1280 px: the bar is open, one menu per area, each label on one line
        page = new_page(locale="zh-CN" if short == "zh" else "en-US", viewport=DESKTOP)
        login(page, username, PASSWORD)
        assert page.locator("html").get_attribute("lang") == language
        keys = page.eval_on_selector_all(
            "#main-menus > li[data-menu]", "els => els.map(e => e.dataset.menu)"
        )
        assert keys == expected, (role, language, keys)
        for key in keys:  # every menu holds something; its label is in the user's language
            toggle = page.locator(f"#nav-{key}")
            assert toggle.inner_text().strip() == labels[key]
            assert page.locator(f"#nav-{key} + .dropdown-menu a.dropdown-item").count() >= 1
        with translation.override(language):
            assert page.locator("#main-menus > li > a").first.inner_text().strip() == gettext(
                "My work"
            )
        problems += _check_bar(page, f"{role} {short} 1280")

        # the keyboard: Enter opens a menu (aria-expanded), arrows reach its entries, Escape
        # closes it and gives the focus back
        first = page.locator(f"#nav-{expected[0]}")
        first.focus()
        page.keyboard.press("Enter")
        assert first.get_attribute("aria-expanded") == "true"
        entries = page.locator(f"#nav-{expected[0]} + .dropdown-menu a.dropdown-item")
        entries.first.wait_for(state="visible")
        page.keyboard.press("ArrowDown")
        assert page.evaluate("document.activeElement.classList.contains('dropdown-item')")
        page.screenshot(path=str(screenshots / f"nav-{role}-{short}-desktop.png"))
        page.keyboard.press("Escape")
        assert first.get_attribute("aria-expanded") == "false"
        assert page.evaluate("document.activeElement.id") == f"nav-{expected[0]}"

        # phone, 390 px: the collapsed menu opens, each entry on one line, a menu opens
        phone = new_page(
            locale="zh-CN" if short == "zh" else "en-US",
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
        )
        login(phone, username, PASSWORD)
        toggler = phone.locator(".navbar-toggler")
        assert toggler.is_visible() and not phone.locator("#mainnav").is_visible()
        toggler.click()
        phone.locator("#mainnav").wait_for(state="visible")
        phone.wait_for_timeout(400)  # the collapse animation
        assert toggler.get_attribute("aria-expanded") == "true"
        problems += _check_bar(phone, f"{role} {short} phone")
        menu = phone.locator(f"#nav-{expected[0]}")
        menu.click()
        assert menu.get_attribute("aria-expanded") == "true"
        phone.locator(f"#nav-{expected[0]} + .dropdown-menu a.dropdown-item").first.wait_for(
            state="visible"
        )
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        phone.screenshot(path=str(screenshots / f"nav-{role}-{short}-phone.png"))
        # an entry of the menu leads to its page
        href = phone.locator(f"#nav-{expected[0]} + .dropdown-menu a.dropdown-item").first
        target = href.get_attribute("href")
        href.click()
        phone.wait_for_load_state("networkidle")
        assert phone.url.endswith(target)
    assert problems == []
