"""One recall walked through the pages in a real browser, from the CAPA that starts it to
every affected unit accounted for (RCL-1 … RCL-5, CAPA-1), each step done by the person whose
role does it:

1. the quality manager opens the CAPA and starts a recall from it (prefilled, linked both
   ways), fills in the level, the English texts and the scope (lot LA-001), resolves the
   scope through traceability (4 units);
2. the quality manager drafts the field safety notice from the record;
3. the general manager decides the recall with an e-signature (the clocks start: notify,
   event report, plan, progress reports) and issues the notice with an e-signature;
4. customer service records the notice sent to each consignee and their acknowledgements;
5. logistics records the units returned and destroyed with their evidence: effectiveness
   25 % … 100 %, the recall's execution complete and its summary evaluation due;
6. the CAPA page lists the recall, and the recall list shows it (phone width too).

Every step is photographed in Chinese and English on a desktop and in Chinese at phone width
(390×844), signature dialogs open: test-artifacts/screenshots/recall-walk-NN-<step>-
{zh,en,phone}.png. No same-origin request may answer 4xx/5xx, no page may be wider than a
phone, and no button or field may stick out of its card."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from medvigil.conftest import PASSWORD
from medvigil.trace.tests.conftest import world  # noqa: F401  (fixture)

from .conftest import PHONE
from .test_complaint_walk import OUTSIDE_ITS_CARD
from .walk import PageWalk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE_EN = "Infusion pump alarm failure recall"
REASON_EN = "The occlusion alarm may stay silent when the battery is low."
ACTION = "请立即停止使用受影响的输液泵, 并联系我司安排更换报警模块。"
ACTION_EN = "Stop using the affected pumps and call us to replace the alarm module."


# Form fields a person cannot name: no <label for>, no enclosing label, no aria-label, no
# placeholder (a bare field in a table row or a one-line form).
UNLABELLED = """() => [...document.querySelectorAll(
    'main input:not([type=hidden]):not([type=submit]), main select, main textarea')].filter(e => {
  if (!e.checkVisibility()) return false;
  if (e.labels && e.labels.length) return false;
  return !(e.getAttribute('aria-label') || e.getAttribute('placeholder'));
}).map(e => e.name || e.id)"""


class Walk(PageWalk):
    """The pages of the current person — Chinese desktop (`page`, on which they act),
    English desktop, Chinese phone — and the CAPA and recall of the walk."""

    def __init__(self, new_page: Callable[..., Any], screenshots: Path, origin: str) -> None:
        super().__init__(new_page, screenshots, origin)
        self.capa_pk = 0
        self.recall_pk = 0

    def recall(self) -> Any:
        from medvigil.recalls.models import Recall

        return Recall.objects.get(pk=self.recall_pk)

    def text(self, selector: str = "main") -> str:
        return str(self.page.locator(selector).first.inner_text())

    def _check(self, name: str) -> None:
        assert self.en.locator("html").get_attribute("lang") == "en"
        assert self.phone.locator("html").get_attribute("lang") == "zh-hans"
        for page, suffix in [(self.page, "zh"), (self.en, "en"), (self.phone, "phone")]:
            if suffix == "phone":
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE["width"] + 1, f"{name}: {width}px wide on a phone"
            assert page.evaluate(OUTSIDE_ITS_CARD) == [], f"{name}: cut off ({suffix})"
            assert page.evaluate(UNLABELLED) == [], f"{name}: unlabelled fields ({suffix})"
        assert self.broken_requests() == [], name

    def shot(self, name: str) -> None:
        self.number += 1
        stem = f"recall-walk-{self.number:02d}-{name}"
        self.page.screenshot(path=str(self.screenshots / f"{stem}-zh.png"), full_page=True)
        for page, suffix in ((self.en, "en"), (self.phone, "phone")):
            page.goto(self.url)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(self.screenshots / f"{stem}-{suffix}.png"), full_page=True)
        self._check(name)

    def sign(self, dialog_id: str, name: str) -> None:
        """Sign in the dialog `dialog_id` of the current page (photographed open in English,
        on the phone and in Chinese)."""
        self.number += 1
        stem = f"recall-walk-{self.number:02d}-{name}"
        trigger = f"[data-bs-target='#{dialog_id}']"
        for page, suffix in ((self.en, "en"), (self.phone, "phone")):
            page.goto(self.url)
            page.wait_for_load_state("networkidle")
            page.locator(trigger).first.click()
            page.locator(f"#{dialog_id}").wait_for(state="visible")
            page.wait_for_timeout(400)
            page.screenshot(path=str(self.screenshots / f"{stem}-{suffix}.png"))
        assert self.en.locator(f"#{dialog_id} label", has_text="Your password").is_visible()
        page = self.page
        dialog = page.locator(f"#{dialog_id}")
        page.locator(trigger).first.click()
        dialog.wait_for(state="visible")
        page.wait_for_timeout(400)
        page.screenshot(path=str(self.screenshots / f"{stem}-zh.png"))
        dialog.locator("input[type=password]").fill(PASSWORD)
        with page.expect_event("load"):
            dialog.locator("button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        assert not page.locator(f"#{dialog_id}").is_visible()
        self._check(name)


# --- 1. the quality manager: from the CAPA to a scoped recall -------------------------------


def step_capa(walk: Walk) -> None:
    """The CAPA page offers the quality manager to start a recall or an advisory notice (RCL-1,
    CAPA-1)."""
    walk.sign_in("qm")
    walk.go(f"/capa/capas/{walk.capa_pk}/")
    assert walk.page.locator("#start-recall").inner_text() == "发起召回"
    assert "未从此 CAPA 发起" in walk.text("#recalls")
    walk.shot("capa")
    assert walk.en.locator("#start-recall").inner_text() == "Start a recall"


def step_start_recall(walk: Walk) -> None:
    """The recall form, prefilled from the CAPA; saved, the recall names its CAPA."""
    from medvigil.capa.models import Capa
    from medvigil.recalls.models import Recall

    capa = Capa.objects.get(pk=walk.capa_pk)
    walk.click("#start-recall")
    page = walk.page
    assert page.locator("#id_title").input_value() == capa.title
    assert page.locator("#id_source_kind").input_value() == "capa"
    assert page.locator("#id_source_reference").input_value() == capa.number
    assert capa.number in walk.text("#form-notice")
    page.select_option("#id_level", "2")
    page.fill("#id_title_en", TITLE_EN)
    page.fill("#id_reason_en", REASON_EN)
    page.fill("#id_action", ACTION)
    page.fill("#id_action_en", ACTION_EN)
    page.fill("#id_scope_lots", "LA-001")
    walk.shot("recall-form")
    walk.click("main form button[type=submit]")
    recall = Recall.objects.get()
    walk.recall_pk = recall.pk
    assert (recall.source_kind, recall.source_id, recall.level) == ("capa", str(capa.pk), 2)
    assert recall.status == Recall.Status.DRAFT and recall.owner.username == "qm"
    assert walk.url.endswith(f"/recalls/{recall.pk}/")
    source = walk.page.locator(f"a[href='/capa/capas/{capa.pk}/']")
    assert source.first.inner_text() == capa.number


def step_resolve(walk: Walk) -> None:
    """RCL-2: the scope resolved through traceability: 4 units, their customers."""
    walk.click("#recall-resolve")
    recall = walk.recall()
    assert recall.scope_resolved_at is not None and recall.unit_count == 4
    assert walk.text("#unit-count") == "4"
    assert walk.text("#consignee-count") == str(recall.consignee_count)
    assert recall.consignee_count >= 2
    walk.shot("scope-resolved")


def step_draft_notice(walk: Walk) -> None:
    """RCL-5: the field safety notice drafted from the record, in Chinese and English."""
    from medvigil.recalls.models import RecallDocument

    walk.page.select_option("#documents select[name=kind]", "notice")
    walk.click("#document-new")
    doc = RecallDocument.objects.get(recall_id=walk.recall_pk)
    assert doc.kind == "notice" and doc.status == RecallDocument.Status.DRAFT
    assert walk.recall().title in doc.body_zh and TITLE_EN in doc.body_en
    assert walk.text("#document-status") == "草稿"
    walk.shot("notice-draft")


# --- 2. the general manager: the signed decision and the signed notice ---------------------------


def step_decide(walk: Walk) -> None:
    """RCL-1/3/5: the decision signed; the clocks start, each with its citation."""
    from medvigil.recalls.models import RecallClock

    walk.sign_in("gm")
    walk.go(f"/recalls/{walk.recall_pk}/")
    walk.sign("recall-decide", "decide")
    recall = walk.recall()
    assert recall.status == "open" and recall.decided_by.username == "gm"
    rules = set(RecallClock.objects.filter(recall=recall).values_list("deadline_rule", flat=True))
    assert rules == {
        "cn.recall_event_report",
        "cn.recall_notify_l2",
        "cn.recall_plan_5wd",
        "cn.recall_progress_report",
    }
    assert walk.text("#recall-status") == "实施中"
    clocks = walk.text("#clocks")
    assert "召回计划实施情况报告" in clocks and "第十四条" in clocks
    walk.shot("decided")


def step_issue_notice(walk: Walk) -> None:
    """RCL-5: the notice approved and issued with an e-signature (frozen, as a PDF)."""
    from medvigil.recalls.models import RecallDocument

    doc = RecallDocument.objects.get(recall_id=walk.recall_pk)
    walk.go(f"/recalls/documents/{doc.pk}/")
    walk.sign("document-issue", "notice-issue")
    doc.refresh_from_db()
    assert doc.status == RecallDocument.Status.ISSUED and doc.issued_by.username == "gm"
    assert doc.document_id is not None
    assert walk.text("#document-status") == "已发布"


# --- 3. customer service: notices and acknowledgements ------------------------------------------


def step_notices(walk: Walk) -> None:
    """RCL-4: each consignee told (by phone here), then each acknowledges; the notification
    clock is met by itself when the last one is told."""
    from medvigil.recalls.models import RecallClock, RecallConsignee

    walk.sign_in("cs")
    walk.go(f"/recalls/{walk.recall_pk}/execution/")
    rows = RecallConsignee.objects.filter(recall_id=walk.recall_pk)
    total = rows.count()
    walk.shot("execution-start")
    for n, row in enumerate(rows.order_by("sale_level", "name", "id"), start=1):
        form = walk.page.locator(f"tr.consignee-row[data-id='{row.pk}'] form").first
        form.locator("select[name=channel]").select_option("phone")
        with walk.page.expect_navigation():
            form.locator("button").click()
        walk.page.wait_for_load_state("networkidle")
        assert rows.filter(notice_sent_at__isnull=False).count() == n
    assert walk.text("#effectiveness").count("100.00 %") == 1  # notified; nothing else yet
    notify = RecallClock.objects.get(recall_id=walk.recall_pk, deadline_rule="cn.recall_notify_l2")
    assert notify.met_at is not None
    for row in rows:
        form = walk.page.locator(f"tr.consignee-row[data-id='{row.pk}'] form").first
        form.locator("input[name=note]").fill("已电话确认收到通知")
        with walk.page.expect_navigation():
            form.locator("button").click()
        walk.page.wait_for_load_state("networkidle")
    assert rows.filter(acknowledged_at__isnull=False).count() == total
    assert walk.text("#effectiveness").count("100.00 %") == 2  # notified and acknowledged
    walk.shot("notified-acknowledged")


# --- 4. logistics: every unit accounted for ---------------------------------------------------


def record(walk: Walk, outcome: str, serials: str, evidence: str) -> None:
    page = walk.page
    page.select_option("#outcome-form select[name=outcome]", outcome)
    page.fill("#outcome-form textarea[name=serials], #outcome-form input[name=serials]", serials)
    page.fill("#outcome-form [name=evidence]", evidence)
    walk.click("#outcome-submit")


def step_outcomes(walk: Walk) -> None:
    """RCL-4: units returned and destroyed with the evidence; the effectiveness rises to
    100 %; the last unit completes the execution and the summary evaluation falls due
    (RCL-3)."""
    from medvigil.recalls.models import RecallClock, RecallUnit

    walk.sign_in("wh")
    walk.go(f"/recalls/{walk.recall_pk}/execution/")
    assert walk.text("#effectiveness-percent") == "0.00 %"
    record(walk, "returned", "A1\nA2", "退货单 RMA-2026-017")
    assert walk.text("#effectiveness-percent") == "50.00 %"
    units = RecallUnit.objects.filter(recall_id=walk.recall_pk)
    assert set(units.filter(outcome="returned").values_list("serial", flat=True)) == {"A1", "A2"}
    # where each unit was, in the reader's language (stored language-neutral)
    units_text = walk.text("#units")
    assert "installed:" not in units_text and "holder:" not in units_text
    assert "本公司库存" in units_text
    walk.shot("half-accounted")
    assert "our stock" in walk.en.locator("#units").inner_text()
    record(walk, "destroyed", "A3", "销毁记录 SCR-88")
    assert walk.text("#effectiveness-percent") == "75.00 %"
    assert walk.recall().completed_at is None
    record(walk, "destroyed", "A4", "销毁记录 SCR-89")
    assert walk.text("#effectiveness-percent") == "100.00 %"
    assert not units.exclude(outcome__in=["returned", "destroyed"]).exists()
    recall = walk.recall()
    assert recall.completed_at is not None
    assert RecallClock.objects.filter(
        recall=recall, deadline_rule="cn.recall_summary_10wd"
    ).exists()
    walk.shot("effectiveness-100")
    walk.go(f"/recalls/{walk.recall_pk}/")
    assert "召回总结评估报告" in walk.text("#clocks")
    walk.shot("summary-due")


def step_capa_lists_recall(walk: Walk) -> None:
    """The CAPA page lists the recall started from it (both ways)."""
    walk.sign_in("qm")
    walk.go(f"/capa/capas/{walk.capa_pk}/")
    recall = walk.recall()
    link = walk.page.locator(f"#recalls a[href='/recalls/{recall.pk}/']")
    assert link.inner_text() == recall.number
    assert "实施中" in walk.text("#recalls")
    walk.shot("capa-lists-recall")


def step_recall_list(walk: Walk) -> None:
    """The recall list names the recall with its level and state, in words (no codes)."""
    walk.go("/recalls/")
    recall = walk.recall()
    row = walk.text("main")
    assert recall.number in row and "二级" in row and "实施中" in row
    walk.shot("recall-list")
    english = walk.en.locator("main").inner_text()
    assert "level 2" in english and "in progress" in english


STEPS: list[Callable[[Walk], None]] = [
    step_capa,
    step_start_recall,
    step_resolve,
    step_draft_notice,
    step_decide,
    step_issue_notice,
    step_notices,
    step_outcomes,
    step_capa_lists_recall,
    step_recall_list,
]


@pytest.mark.req("RCL-1", "RCL-2", "RCL-3", "RCL-4", "RCL-5", "CAPA-1")
def test_recall_walk(
    new_page: Any,
    screenshots: Path,
    make_user: Any,
    quality_user: Any,
    world: Any,  # noqa: F811
    live_server: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    from medvigil.capa.services import capa as capa_svc

    settings.MEDIA_ROOT = str(tmp_path)
    make_user("qm", "quality_manager", department="quality", display_name="陈静")
    make_user("gm", "general_manager", department="management", display_name="孙总")
    make_user("cs", "customer_service", department="customer-service", display_name="王芳")
    make_user("wh", "logistics", department="logistics", display_name="刘洋")
    capa = capa_svc.create_capa(
        by=quality_user,
        title="输液泵低电量时堵塞报警不响",
        problem="三家医院反馈: 低电量时管路堵塞, 输液泵未报警。",
        source_kind="complaint",
    )
    walk = Walk(new_page, screenshots, live_server.url)
    walk.capa_pk = capa.pk
    for step in STEPS:
        step(walk)
