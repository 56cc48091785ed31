"""The browser fixtures of medvigil/tests_browser (Chromium through Playwright, the live
server, the screenshots folder), for the vigilance walk."""

from medvigil.tests_browser.conftest import browser, new_page, screenshots  # noqa: F401
