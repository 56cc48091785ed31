"""Fixtures for the browser tests: Debian's Chromium driven by Playwright against pytest-django's
live server. Without /usr/bin/chromium the tests are skipped with one message, repeated at
the end of the run. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

CHROMIUM = Path(os.environ.get("MEDVIGIL_CHROMIUM", "/usr/bin/chromium"))
SKIP_MESSAGE = (
    "browser tests skipped: Chromium not installed (apt-get install chromium chromium-driver)"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=SKIP_MESSAGE)
    browser_items = [item for item in items if item.get_closest_marker("browser")]
    for item in browser_items:
        item.add_marker(skip)
    if browser_items and hasattr(config, "workerinput"):
        # Under pytest-xdist this file is loaded by the workers only, so the summary hook
        # below never runs in the process that prints; a warning reaches its summary.
        browser_items[0].warn(pytest.PytestWarning(SKIP_MESSAGE))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: Any, config: Any) -> None:
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = getattr(report, "longrepr", None)
        if isinstance(longrepr, tuple) and SKIP_MESSAGE in str(longrepr[-1]):
            terminalreporter.write_line(SKIP_MESSAGE, yellow=True)
            return


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module. Playwright's sync API keeps an event loop running in
    this thread, which Django's async-safety check would take for async code: the check is
    switched off while the browser is open, and back on afterwards."""
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def screenshots(request: Any) -> Path:
    path = Path(request.config.rootpath) / "test-artifacts" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """new_page(locale="zh-CN", viewport=DESKTOP) -> a Playwright page in a fresh context
    (own cookies), whose relative URLs go to the live server."""
    contexts = []

    def make(locale: str = "zh-CN", viewport: dict[str, int] | None = None, **kw: Any) -> Any:
        context = browser.new_context(
            base_url=live_server.url,
            locale=locale,
            viewport=viewport or DESKTOP,
            timezone_id="Asia/Shanghai",
            **kw,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def login(page: Any, username: str, password: str) -> None:
    """Sign in through the login form, as a person would."""
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def draw_signature(page: Any, selector: str = "#signature-pad") -> None:
    """Draw a zigzag on a signature canvas with the mouse, as a finger would."""
    pad = page.locator(selector)
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 60)
    page.mouse.down()
    for i in range(1, 12):
        page.mouse.move(box["x"] + 20 + i * 25, box["y"] + 60 + (15 if i % 2 else -15))
    page.mouse.up()


class Broken:
    """Same-origin requests of a page that failed or answered with an error status."""

    def __init__(self, page: Any, origin: str) -> None:
        self.items: list[str] = []
        self.origin = origin
        page.on("response", self._response)
        page.on("requestfailed", self._failed)

    def _same_origin(self, url: str) -> bool:
        u, o = urlparse(url), urlparse(self.origin)
        return (u.scheme, u.netloc) == (o.scheme, o.netloc)

    def _response(self, response: Any) -> None:
        if self._same_origin(response.url) and response.status >= 400:
            self.items.append(f"{response.status} {response.url}")

    def _failed(self, request: Any) -> None:
        if not self._same_origin(request.url):
            return
        if request.failure == "net::ERR_ABORTED" and request.resource_type in ABORTABLE:
            return  # a page request (htmx poll, navigation) cut short by the next navigation
        self.items.append(f"failed {request.url}: {request.failure}")

    def take(self) -> list[str]:
        items, self.items = self.items, []
        return items


# Requests a navigation may abort without anything being broken.
ABORTABLE = {"document", "xhr", "fetch", "eventsource", "ping"}


# Each change row of the history panels: a value cell that wraps to more than two lines while
# taking less than 60 % of its row's width is "cramped" (one word per line on a phone).
HISTORY_CHECKS = """() => {
  const doc = document.documentElement;
  const cramped = [];
  document.querySelectorAll('.history-changes tbody tr').forEach(tr => {
    const row = tr.getBoundingClientRect().width;
    tr.querySelectorAll('.history-old, .history-new').forEach(td => {
      const r = td.getBoundingClientRect();
      const line = parseFloat(getComputedStyle(td).lineHeight) || 20;
      if (r.height > 2.5 * line && r.width < 0.6 * row) cramped.push(td.innerText.slice(0, 40));
    });
  });
  const wide = [...document.querySelectorAll('.history-panel *')]
      .filter(el => el.getBoundingClientRect().right > doc.clientWidth + 1)
      .map(el => el.tagName + '.' + el.className);
  return {cramped: cramped, wide: wide, overflow: doc.scrollWidth - doc.clientWidth,
          rows: document.querySelectorAll('.history-changes tbody tr').length};
}"""
