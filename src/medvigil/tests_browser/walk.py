"""The set-up the page walks share (the recall walk, the vigilance walk): the person signed in
on three pages — Chinese desktop (`page`, on which they act), English desktop (`en`) and
Chinese phone (`phone`) — each watched for broken requests, and the moves between pages.
A walk subclasses :class:`PageWalk` and adds its records and its own checks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from medvigil.conftest import PASSWORD

from .conftest import PHONE, Broken, login


class PageWalk:
    #: Playwright's default timeout for the walk's pages (ms); None keeps Playwright's own.
    timeout: int | None = None

    def __init__(self, new_page: Callable[..., Any], screenshots: Path, origin: str) -> None:
        self.new_page = new_page
        self.screenshots = screenshots
        self.origin = origin
        self.number = 0
        self.broken: list[Broken] = []

    def _page(self, **kw: Any) -> Any:
        page = self.new_page(**kw)
        if self.timeout is not None:
            page.context.set_default_timeout(self.timeout)
        self.broken.append(Broken(page, self.origin))
        return page

    def sign_in(self, username: str) -> None:
        self.page = self._page(locale="zh-CN")
        login(self.page, username, PASSWORD)
        self.en = self._page(locale="en-US")
        login(self.en, username, PASSWORD)
        if self.en.locator("html").get_attribute("lang") != "en":
            self.en.locator("button[name=language][value=en]").first.click()
            self.en.wait_for_load_state("networkidle")
        self.phone = self._page(locale="zh-CN", viewport=PHONE, is_mobile=True)
        login(self.phone, username, PASSWORD)

    @property
    def url(self) -> str:
        return str(self.page.url).split("#", 1)[0]

    def go(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_load_state("networkidle")

    def click(self, selector: str) -> None:
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()
        self.page.wait_for_load_state("networkidle")

    def broken_requests(self) -> list[str]:
        return [item for b in self.broken for item in b.take()]
