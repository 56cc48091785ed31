"""One suspected adverse event walked through the pages in a real browser, from a complaint's
quality evaluation to the reports submitted in China and the US (FBK-5 → VIG-1, VIG-2, VIG-3,
VIG-4, VIG-7, PLAT-3):

1. quality starts the complaint's evaluation and decides "suspected adverse event"; the
   complaint page offers the hand-off;
2. quality raises the event from it (the complaint's device, text and receipt moment taken
   over; the markets China, the US and the EU found from the lot's sales), and its three
   reportability proposals start counting on the countdown board;
3. the qualified person confirms "reportable" in China and in the US with e-signatures (a
   wrong password refused first): the initial reports open with their deadlines;
4. the China initial report gets the regulator's reference and is marked submitted: frozen
   and signed; then the US report;
5. the countdown board in Chinese, in English and at phone width (390 × 844): what is still
   running (the EU proposal), nothing of what is submitted; the on-time rate counts the two.

Every step asserts the database and the page text, and photographs the page in Chinese and in
English on a desktop and in Chinese on a phone:
test-artifacts/screenshots/vigilance-walk-NN-<step>-{zh,en,phone}.png. No same-origin request
may answer 4xx/5xx (apart from the wrong password, on purpose), and no page may be wider than
the phone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from medvigil.conftest import PASSWORD
from medvigil.tests_browser.conftest import PHONE
from medvigil.tests_browser.walk import PageWalk
from medvigil.vigilance.tests.conftest import world  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "输液泵过量输注致患者低血压"
DESCRIPTION = "夜班输液时输液泵实际流速高于设定值, 患者出现低血压, 经停药补液后好转。"
CN_REFERENCE = "NMPA-2026-0042"
US_REFERENCE = "MW5012345"


def signatures(obj: Any) -> list[str]:
    from django.contrib.contenttypes.models import ContentType

    from medvigil.core.models import Signature

    return list(
        Signature.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        ).values_list("signer__username", flat=True)
    )


class Walk(PageWalk):
    """The pages of the person signed in: Chinese desktop (`page`, on which they act),
    English desktop (`en`) and Chinese phone (`phone`), each watched for broken requests."""

    timeout = 60_000  # the shared machine is slow at times

    def __init__(self, new_page: Callable[..., Any], screenshots: Path, origin: str) -> None:
        super().__init__(new_page, screenshots, origin)
        self.feedback_pk: int | None = None
        self.event_pk: int | None = None
        # asserts, after a wrong password, that nothing was decided or signed
        self.refused_changes_nothing: Callable[[], None] | None = None

    def feedback(self) -> Any:
        from medvigil.complaints.models import Feedback

        return Feedback.objects.get(pk=self.feedback_pk)

    def event(self) -> Any:
        from medvigil.vigilance.models import AdverseEvent

        return AdverseEvent.objects.get(pk=self.event_pk)

    def _check(self, name: str) -> None:
        assert self.en.locator("html").get_attribute("lang") == "en"
        assert self.phone.locator("html").get_attribute("lang") == "zh-hans"
        width = self.phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, f"{name}: {width}px wide on a phone"
        assert self.broken_requests() == [], name

    def shot(self, name: str) -> None:
        """The current page in Chinese, and the same address in English and on a phone."""
        self.number += 1
        stem = f"vigilance-walk-{self.number:02d}-{name}"
        self.page.screenshot(path=str(self.screenshots / f"{stem}-zh.png"), full_page=True)
        for page, suffix in ((self.en, "en"), (self.phone, "phone")):
            page.goto(self.url)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(self.screenshots / f"{stem}-{suffix}.png"), full_page=True)
        self._check(name)

    def sign(self, dialog_id: str, name: str, *, wrong_password_first: bool = False) -> None:
        """Sign in the signature dialog `dialog_id` of the current page with the password
        (photographed open in Chinese; a wrong password first when asked)."""
        self.number += 1
        stem = f"vigilance-walk-{self.number:02d}-{name}"
        page = self.page
        dialog = page.locator(f"#{dialog_id}")
        page.locator(f"[data-bs-target='#{dialog_id}']").first.click()
        dialog.wait_for(state="visible")
        page.wait_for_timeout(400)  # the fade-in, before the picture
        page.screenshot(path=str(self.screenshots / f"{stem}-zh.png"))
        if wrong_password_first:
            dialog.locator("input[type=password]").fill("not-my-password")
            dialog.locator("button[type=submit]").click()
            errors = f"#{dialog_id} .signature-errors, #{dialog_id} .invalid-feedback"
            page.locator(errors).first.wait_for(state="visible")
            page.screenshot(path=str(self.screenshots / f"{stem}-refused-zh.png"))
            assert self.refused_changes_nothing is not None
            self.refused_changes_nothing()
            dialog = page.locator(f"#{dialog_id}")
        dialog.locator("input[type=password]").fill(PASSWORD)
        with page.expect_event("load"):
            dialog.locator("button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        assert not page.locator(f"#{dialog_id}").is_visible()
        self._check(name)


# --- 1. the complaint's evaluation -------------------------------------------------------------


def step_evaluation(walk: Walk) -> None:
    """FBK-5: quality evaluates the complaint: a device-related serious injury, a suspected
    adverse event; the hand-off to vigilance waits on the complaint page."""
    from medvigil.complaints.models import Feedback, Handoff

    walk.sign_in("qa")
    walk.go(f"/complaints/{walk.feedback_pk}/")
    walk.click("#evaluation form button")
    assert walk.feedback().status == Feedback.Status.EVALUATION
    walk.click("#evaluation a[href*='/complaints/evaluations/']")
    page = walk.page
    answers = {
        "nonconforming": "yes",
        "misused": "no",
        "ifu_inadequate": "no",
        "failed_specification": "yes",
        "death_or_serious_injury": "yes",
        "device_related": "yes",
    }
    for question, answer in answers.items():
        page.select_option(f"#id_{question}", answer)
    page.fill("#id_summary", "流速控制失效导致过量输注, 患者低血压: 可疑不良事件。")
    page.check("#id_adverse_event")
    page.check("#id_capa_needed")
    page.check("#id_investigate")
    page.check("#id_complete")
    walk.shot("evaluation-form")
    walk.click("main form button[type=submit]")
    ev = walk.feedback().current_evaluation
    assert ev.evaluated_at is not None and ev.adverse_event
    assert ev.adverse_event_handoff == Handoff.PENDING
    walk.go(f"/complaints/{walk.feedback_pk}/")
    assert page.locator("#raise-adverse-event").is_visible()
    assert "是" in page.locator("#evaluation-adverse-event").inner_text()
    walk.shot("evaluation-done")
    assert "Raise the adverse event" in walk.en.locator("#raise-adverse-event").inner_text()


# --- 2. the event ------------------------------------------------------------------------------


def step_raise_event(walk: Walk) -> None:
    """VIG-1: the event raised from the complaint: its text, device and receipt moment (the
    awareness) taken over; the markets from the lot's sales (trace); three proposals."""
    from medvigil.complaints.models import Handoff
    from medvigil.vigilance.models import AdverseEvent, ReportabilityDecision

    walk.click("#raise-adverse-event")
    page = walk.page
    fb = walk.feedback()
    assert fb.number in page.locator("main").inner_text()
    assert page.locator("#id_title").input_value() == TITLE
    assert page.locator("#id_narrative").input_value() == DESCRIPTION
    page.select_option("#id_outcome", "serious_injury")
    walk.shot("event-form")
    walk.click("main form button[type=submit]")
    event = AdverseEvent.objects.get(feedback=fb)
    walk.event_pk = event.pk
    assert event.source == "complaint" and event.evaluation_id == fb.current_evaluation.pk
    # the form keeps minutes: the awareness is the receipt's minute (never later)
    assert event.aware_at == fb.received_at.replace(second=0, microsecond=0)
    assert event.lot_id == fb.lot_id and event.markets == ["CN", "EU", "US"]
    assert {s["market"] for s in event.market_sources if not s.get("manual")} == {"CN", "EU", "US"}
    assert fb.current_evaluation.adverse_event_handoff == Handoff.DONE
    assert fb.current_evaluation.adverse_event_reference == event.number
    proposals = ReportabilityDecision.objects.filter(event=event, status="proposed")
    assert {(d.market, d.fired_rule) for d in proposals} == {
        ("CN", "cn.serious"),
        ("US", "us.30day"),
        ("EU", "eu.serious"),
    }
    assert walk.url.endswith(f"/vigilance/events/{event.pk}/")
    assert event.number in page.locator("h1").inner_text()
    assert page.locator("#clocks tbody tr").count() == 3
    assert "21 CFR 803.50(a)" in page.locator("#decisions").inner_text()
    walk.shot("event")


def step_board_before(walk: Walk) -> None:
    """VIG-7: the three proposals count from the awareness on the board."""
    walk.go("/vigilance/board/")
    rows = walk.page.locator("#board tbody tr.board-row")
    assert rows.count() == 3
    assert walk.event().number in rows.first.inner_text()
    assert "决定是否上报" in walk.page.locator("#board").inner_text()
    walk.shot("board-proposals")


# --- 3. reportability confirmed, signed --------------------------------------------------------


def _confirm(walk: Walk, market: str, *, wrong_password_first: bool = False) -> Any:
    from medvigil.vigilance.models import ReportabilityDecision

    walk.go(f"/vigilance/events/{walk.event_pk}/")
    d = ReportabilityDecision.objects.get(event_id=walk.event_pk, market=market, status="proposed")

    def unchanged() -> None:
        fresh = ReportabilityDecision.objects.get(pk=d.pk)
        assert fresh.status == "proposed" and fresh.decided_at is None
        assert signatures(fresh) == []
        assert "密码" in walk.page.locator(f"#decision-confirm-{d.pk}").inner_text()

    walk.refused_changes_nothing = unchanged
    walk.sign(
        f"decision-confirm-{d.pk}",
        f"confirm-{market.lower()}",
        wrong_password_first=wrong_password_first,
    )
    d.refresh_from_db()
    assert d.status == "confirmed" and d.decided_reportable and d.decided_by.username == "qa"
    assert signatures(d) == ["qa"]
    assert "✍" in walk.page.locator(f"#decision-{d.pk}").inner_text()
    return d


def step_confirm(walk: Walk) -> None:
    """VIG-2/VIG-3: the qualified person confirms China (a wrong password refused first,
    nothing changed) and the US; the initial reports open with their rules' deadlines."""
    from medvigil.core.calendar.rules import compute
    from medvigil.vigilance.models import VigilanceReport

    cn = _confirm(walk, "CN", wrong_password_first=True)
    us = _confirm(walk, "US")
    event = walk.event()
    reports = {r.market: r for r in VigilanceReport.objects.filter(event=event)}
    assert set(reports) == {"CN", "US"}
    assert reports["CN"].decision == cn and reports["US"].decision == us
    assert reports["CN"].deadline_rule == "cn.serious" and reports["CN"].kind == "initial"
    assert reports["US"].deadline_rule == "us.mdr_30"
    assert reports["CN"].due_at == compute("cn.serious", event.aware_at).due_at
    assert reports["US"].due_at == compute("us.mdr_30", event.aware_at).due_at
    assert walk.page.locator("#reports tbody tr").count() == 2
    walk.shot("confirmed")


# --- 4. the reports, submitted -----------------------------------------------------------------


def _submit(walk: Walk, market: str, reference: str) -> Any:
    from medvigil.vigilance.models import VigilanceReport

    r = VigilanceReport.objects.get(event_id=walk.event_pk, market=market)
    walk.go(f"/vigilance/events/{walk.event_pk}/")
    walk.click(f"#reports a[href='/vigilance/reports/{r.pk}/']")
    page = walk.page
    assert page.locator("#status").inner_text() == "草稿"
    walk.click("#edit")
    page.fill("#id_regulator_reference", reference)
    walk.click("main form button[type=submit]")
    assert page.locator("#reference").inner_text() == reference
    walk.sign("report-submit", f"submit-{market.lower()}")
    r.refresh_from_db()
    assert r.status == "submitted" and r.submitted_by.username == "qa"
    assert r.submitted_at is not None and r.on_time
    assert r.regulator_reference == reference and r.content
    assert signatures(r) == ["qa"]
    assert page.locator("#status").inner_text() == "已提交"
    assert "冻结" in page.locator("#content h2").inner_text()
    assert page.locator("#edit").count() == 0  # frozen: no more editing
    return r


def step_submit_cn(walk: Walk) -> None:
    """VIG-4/VIG-6: the China initial report (可疑医疗器械不良事件报告表): the regulator's
    reference, then marked submitted with an e-signature — content frozen with the record's
    Chinese text."""
    r = _submit(walk, "CN", CN_REFERENCE)
    frozen = str(r.content)
    assert DESCRIPTION in frozen and TITLE in frozen
    walk.shot("submitted-cn")
    # the frozen content does not follow later edits of the event
    from medvigil.vigilance.services import events as ev_svc

    event = walk.event()
    ev_svc.update_event(event, by=event.owner, version=event.version, narrative="后补的信息")
    r.refresh_from_db()
    assert DESCRIPTION in str(r.content) and "后补的信息" not in str(r.content)


def step_submit_us(walk: Walk) -> None:
    """VIG-4: the US report (FDA 3500A, 21 CFR 803.52), submitted the same way."""
    _submit(walk, "US", US_REFERENCE)
    walk.shot("submitted-us")


# --- 5. the countdown board --------------------------------------------------------------------


def step_board_after(walk: Walk) -> None:
    """VIG-7: the board in Chinese, English and on a phone: only the EU proposal still runs;
    the on-time rate counts the two reports submitted on time."""
    walk.go("/vigilance/board/")
    page = walk.page
    rows = page.locator("#board tbody tr.board-row")
    assert rows.count() == 1
    text = rows.first.inner_text()
    assert walk.event().number in text and "EU" in text
    # the rule by its name, its code the tooltip
    assert rows.first.locator("[title='eu.serious_incident']").count() == 1
    assert "eu.serious_incident" not in text
    assert page.locator("h1").inner_text() == "倒计时看板"
    # the rate counts the reports due in the period: the period is taken to the US due date
    import datetime as dt

    from django.utils import timezone

    to = timezone.localdate() + dt.timedelta(days=40)
    page.fill("#rates-form input[name=to]", to.isoformat())
    walk.click("#rates-form button[type=submit]")
    rates = page.locator("#rates tbody tr")
    for i, market in enumerate(("CN", "US")):  # the rows: China, the US, the EU
        cells = rates.nth(i).locator("td").all_inner_texts()
        assert cells[1:] == ["1", "0", "0", "0", "100 %"], (market, cells)
    assert rates.nth(2).locator("td").all_inner_texts()[1:] == ["0", "0", "0", "0", "—"]
    walk.shot("board")
    assert walk.en.locator("h1").inner_text() == "Countdown board"
    assert "Decide reportability" in walk.en.locator("#board").inner_text()
    assert walk.phone.locator("#board tbody tr.board-row").count() == 1


STEPS: list[Callable[[Walk], None]] = [
    step_evaluation,
    step_raise_event,
    step_board_before,
    step_confirm,
    step_submit_cn,
    step_submit_us,
    step_board_after,
]


@pytest.mark.req("FBK-5", "VIG-1", "VIG-2", "VIG-3", "VIG-4", "VIG-7", "PLAT-3")
def test_vigilance_walk(
    new_page: Any,
    screenshots: Path,
    make_user: Any,
    world: Any,  # noqa: F811
    live_server: Any,
) -> None:
    from medvigil.complaints.tests.flow_builders import routed_complaint

    qa = make_user("qa", "quality", department="quality", display_name="李质量")
    fb = routed_complaint(
        qa,
        title=TITLE,
        description=DESCRIPTION,
        product=world.pump,
        lot=world.lot,
        patient_involvement="serious_injury",
        patient_details="男, 67岁",
    )
    walk = Walk(new_page, screenshots, live_server.url)
    walk.feedback_pk = fb.pk
    for step in STEPS:
        step(walk)
