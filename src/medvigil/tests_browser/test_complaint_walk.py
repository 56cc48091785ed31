"""One complaint walked through the pages in a real browser, step by step (FBK-1, FBK-4,
FBK-10): intake with a scanned serial, the record page, its clocks (pause with a reason,
resume, first response), "My work", and the analysis page. Every step is photographed in
Chinese and English on a desktop and in Chinese at phone width
(test-artifacts/screenshots/complaint-walk-NN-<step>-{zh,en,phone}.png).

The walk is a list of steps (STEPS, in order). The stages still being built append theirs:
write ``def step_<name>(walk: Walk) -> None`` that acts on ``walk.page`` (signed in as
``walk.user``; ``walk.sign_in(username)`` switches to another person), asserts what the
person sees, and calls ``walk.shot("<name>")``; then insert it into STEPS at its place in the
flow (public form before intake; evaluation, investigation, reply and signed closure after
"clocks"). ``walk.feedback()`` re-reads the complaint from the database.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from medvigil.conftest import PASSWORD
from medvigil.trace.tests.conftest import world  # noqa: F401  (fixture)

from .conftest import PHONE, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Walk:
    """The state of the walk: the signed-in page (Chinese, desktop), two more pages for the
    screenshots (English desktop, Chinese phone), the complaint once registered."""

    def __init__(self, new_page: Callable[..., Any], screenshots: Path, user: Any) -> None:
        self.new_page = new_page
        self.screenshots = screenshots
        self.number = 0
        self.feedback_pk: int | None = None
        self.sign_in(user.username)

    def sign_in(self, username: str) -> None:
        self.username = username
        self.page = self.new_page(locale="zh-CN")
        login(self.page, username, PASSWORD)
        self.en = self.new_page(locale="en-US")
        login(self.en, username, PASSWORD)
        if self.en.locator("html").get_attribute("lang") != "en":
            self.en.locator("button[name=language][value=en]").first.click()
            self.en.wait_for_load_state("networkidle")
        self.phone = self.new_page(locale="zh-CN", viewport=PHONE, is_mobile=True)
        login(self.phone, username, PASSWORD)

    @property
    def url(self) -> str:
        return str(self.page.url)

    def feedback(self) -> Any:
        from medvigil.complaints.models import Feedback

        assert self.feedback_pk is not None, "no complaint registered yet"
        return Feedback.objects.get(pk=self.feedback_pk)

    def shot(self, name: str) -> None:
        """The current page in Chinese (as is), and the same address in English and on a
        phone; the English page must really be English."""
        self.number += 1
        stem = f"complaint-walk-{self.number:02d}-{name}"
        self.page.screenshot(path=str(self.screenshots / f"{stem}-zh.png"), full_page=True)
        for page, suffix in ((self.en, "en"), (self.phone, "phone")):
            page.goto(self.url)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(self.screenshots / f"{stem}-{suffix}.png"), full_page=True)
        assert self.en.locator("html").get_attribute("lang") == "en"
        assert self.phone.locator("html").get_attribute("lang") == "zh-hans"
        # nothing on the phone is wider than the screen (no sideways page scroll)
        width = self.phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, f"{name}: page {width}px wide on a phone"


def step_intake(walk: Walk) -> None:
    """FBK-1: customer service scans the serial, the device facts fill in, the complaint is
    registered and routed."""
    page = walk.page
    page.goto("/complaints/new/?device=A1")
    assert "LA-001" in page.locator("#device-facts").inner_text()
    page.fill("#id_title", "输液泵报警失灵")
    page.fill("#id_description", "输液过程中管路堵塞, 设备未报警, 护士及时发现, 未影响患者。")
    page.fill("#id_complainant_name", "张护士")
    page.fill("#id_complainant_phone", "13800000009")
    page.select_option("#id_category", "product_quality")
    walk.shot("intake-form")
    page.locator("#intake-form button[type=submit]").last.click()
    page.wait_for_url("**/complaints/*/")
    from medvigil.complaints.models import Feedback

    fb = Feedback.objects.get(title="输液泵报警失灵")
    walk.feedback_pk = fb.pk
    assert fb.status == Feedback.Status.ROUTED


def step_record(walk: Walk) -> None:
    """The record page: number, status, device, the problem notices sent on routing."""
    fb = walk.feedback()
    page = walk.page
    assert fb.number in page.locator("h1").first.inner_text()
    assert "A1" in page.locator("#device").inner_text()
    assert page.locator("#notices li").count() >= 1
    walk.shot("record")


def step_clocks(walk: Walk) -> None:
    """FBK-4: the clocks with their rules; paused with a reason while waiting for the
    customer, resumed, the first response recorded."""
    page = walk.page
    assert page.locator("#clock-route").is_visible()
    page.fill("#pause-form input[name=reason]", "等待客户提供照片")
    page.locator("#pause-form button").click()
    page.locator("#paused-badge").wait_for()
    assert "等待客户提供照片" in page.locator("#pauses").inner_text()
    walk.shot("clock-paused")
    page.locator("#resume").click()
    page.locator("#pause-form").wait_for()
    page.select_option("#milestone-form select[name=milestone]", "response")
    page.locator("#milestone-form button").click()
    page.wait_for_load_state("networkidle")
    assert walk.feedback().first_response_at is not None
    assert "✓" in page.locator("#clock-response").inner_text()
    walk.shot("clocks")


def step_my_work(walk: Walk) -> None:
    """The complaint is on its owner's "My work" page, with its next clock."""
    walk.page.goto("/")
    assert walk.feedback().number in walk.page.locator("main").inner_text()
    walk.shot("my-work")


def step_analysis(walk: Walk) -> None:
    """FBK-10: the quarter's analysis counts the complaint, with its charts."""
    page = walk.page
    page.goto("/complaints/analysis/")
    assert int(page.locator("#analysis-total").inner_text()) >= 1
    assert page.locator("#dim-product svg.bar-chart").count() == 1
    walk.shot("analysis")


# The flow, in order. Later stages insert their steps (see the module docstring), e.g.
#   STEPS.insert(STEPS.index(step_my_work), step_evaluation)
STEPS: list[Callable[[Walk], None]] = [
    step_intake,
    step_record,
    step_clocks,
    step_my_work,
    step_analysis,
]


@pytest.mark.req("FBK-1", "FBK-4", "FBK-10")
def test_complaint_walk(new_page: Any, screenshots: Path, make_user: Any, world: Any) -> None:  # noqa: F811
    cs = make_user(
        "wangfang", "customer_service", department="customer-service", display_name="王芳"
    )
    walk = Walk(new_page, screenshots, cs)
    for step in STEPS:
        step(walk)
