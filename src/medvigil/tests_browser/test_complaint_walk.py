"""One complaint walked through the pages in a real browser, from the customer's public form
to its signed closure (FBK-1 … FBK-7, FBK-10, PLAT-3, PLAT-6, PLAT-11), each step done by the
person whose role does it in seed 003:

1. a customer, not signed in, sends the public form (/public/feedback/) from a phone in
   Chinese, and gets a tracking code and a status page;
2. customer service finds it among the received feedback, completes the intake (category,
   the device linked to trace's unit by its serial) and routes it; the clocks (pause with a
   reason, resume, first response) and "My work";
3. quality evaluates it (questions, outcome: investigate, no CAPA with a justification) and
   the management representative approves "no CAPA" with an e-signature;
4. the service engineer investigates (device history, root cause) and completes;
5. customer service proposes an exchange, the division head approves it with an
   e-signature, customer service records the agreement, sends the reply by e-mail, records
   the customer's confirmation and the call-back;
6. quality closes it with an e-signature (a wrong password refused first), the analysis
   counts it, and the customer's status page shows it closed with the reply, and nothing the
   customer may not see.

Every step is photographed in Chinese and English on a desktop and in Chinese at phone width
(the customer's pages in English at phone width too), signature dialogs open:
test-artifacts/screenshots/complaint-walk-NN-<step>-{zh,en,phone,en-phone}.png. No page of the
walk may answer a same-origin request with 4xx/5xx, apart from the one form sent with a
mistake on purpose, and no page may be wider than a phone.

The walk is a list of steps (STEPS, in order): ``def step_<name>(walk: Walk) -> None`` acts on
``walk.page`` (signed in as ``walk.username``; ``walk.sign_in(username)`` switches to another
person, ``walk.visitor()`` to the customer), asserts what the person sees and what changed in
the database, and calls ``walk.shot("<name>")``; ``walk.feedback()`` re-reads the complaint."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from medvigil.conftest import PASSWORD
from medvigil.trace.tests.conftest import world  # noqa: F401  (fixture)

from .conftest import PHONE, Broken, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What the customer writes on the public form (Chinese, from a phone).
CUSTOMER = {
    "name": "李护士长",
    "organisation": "上海第一人民医院",
    "phone": "13912345678",
    "email": "li.hushi@hospital.example",
    "device": "输液泵 序列号 A1",
    "title": "输液泵堵塞时未报警",
    "description": "夜班输液过程中管路堵塞, 输液泵没有发出报警, 护士巡视时发现, 患者未受影响。",
    "where": "重症监护室 3 床",
}
ROOT_CAUSE = "压力传感器批次漂移, 供应商来料检验未覆盖温度漂移项。"
NO_CAPA = "单台设备个例, 同批次暂无其他投诉; 调查确认为系统性原因时再开 CAPA。"
REPLY = "您好: 经调查为压力传感器漂移所致, 我们将在两个工作日内为贵院免费更换输液泵。"
# A 1×1 PNG: the photo the customer adds.
PHOTO = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


# Buttons and fields that stick out of their card (cut off, or over its border); a table that
# scrolls sideways in its .table-responsive box is fine.
OUTSIDE_ITS_CARD = """() => [...document.querySelectorAll(
    '.card .btn, .card input, .card select, .card textarea')].filter(e => {
  if (e.closest('.table-responsive, .modal')) return false;
  if (!e.checkVisibility()) return false;  // hidden, or in a closed <details>
  const r = e.getBoundingClientRect();
  if (!r.width) return false;
  const c = e.closest('.card').getBoundingClientRect();
  return r.right > c.right + 1 || r.left < c.left - 1;
}).map(e => (e.id || e.name || e.textContent.trim()).slice(0, 40))"""


def signatures(obj: Any, meaning: str) -> list[str]:
    """Who signed `obj` with `meaning`."""
    from django.contrib.contenttypes.models import ContentType

    from medvigil.core.models import Signature

    return list(
        Signature.objects.filter(
            content_type=ContentType.objects.get_for_model(obj),
            object_id=str(obj.pk),
            meaning=meaning,
        ).values_list("signer__username", flat=True)
    )


class Walk:
    """The state of the walk: the pages of the current person — Chinese desktop (`page`, on
    which they act), English desktop, Chinese phone, and for the customer English phone — and
    the complaint once the public form has registered it."""

    def __init__(self, new_page: Callable[..., Any], screenshots: Path, origin: str) -> None:
        self.new_page = new_page
        self.screenshots = screenshots
        self.origin = origin
        self.number = 0
        self.feedback_pk: int | None = None
        self.public_code = ""
        self.username = ""
        self.broken: list[Broken] = []
        self.en_phone: Any = None
        self.mailoutbox: list[Any] = []

    def _page(self, **kw: Any) -> Any:
        page = self.new_page(**kw)
        self.broken.append(Broken(page, self.origin))
        return page

    def visitor(self) -> None:
        """The customer: nobody signed in."""
        self.username = ""
        self.page = self._page(locale="zh-CN")
        self.en = self._page(locale="en-US")
        self.phone = self._page(locale="zh-CN", viewport=PHONE, is_mobile=True)
        self.en_phone = self._page(locale="en-US", viewport=PHONE, is_mobile=True)

    def sign_in(self, username: str) -> None:
        self.username = username
        self.page = self._page(locale="zh-CN")
        login(self.page, username, PASSWORD)
        self.en = self._page(locale="en-US")
        login(self.en, username, PASSWORD)
        if self.en.locator("html").get_attribute("lang") != "en":
            self.en.locator("button[name=language][value=en]").first.click()
            self.en.wait_for_load_state("networkidle")
        self.phone = self._page(locale="zh-CN", viewport=PHONE, is_mobile=True)
        login(self.phone, username, PASSWORD)
        self.en_phone = None

    @property
    def url(self) -> str:
        """The current address without its fragment: going to ``/x/#a`` from ``/x/`` or
        ``/x/#a`` would only scroll the page, not load it again."""
        return str(self.page.url).split("#", 1)[0]

    def go(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_load_state("networkidle")

    def open_record(self) -> None:
        self.go(f"/complaints/{self.feedback_pk}/")

    def click(self, selector: str) -> None:
        """Click what submits a form or follows a link, and wait for the next page."""
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()
        self.page.wait_for_load_state("networkidle")

    def feedback(self) -> Any:
        from medvigil.complaints.models import Feedback

        assert self.feedback_pk is not None, "no complaint registered yet"
        return Feedback.objects.get(pk=self.feedback_pk)

    def broken_requests(self) -> list[str]:
        return [item for b in self.broken for item in b.take()]

    def _others(self) -> list[tuple[Any, str]]:
        others = [(self.en, "en"), (self.phone, "phone")]
        if self.en_phone is not None:
            others.append((self.en_phone, "en-phone"))
        return others

    def _check(self, name: str) -> None:
        assert self.en.locator("html").get_attribute("lang") == "en"
        assert self.phone.locator("html").get_attribute("lang") == "zh-hans"
        for page, suffix in [(self.page, "zh"), *self._others()]:
            if suffix.endswith("phone"):
                # nothing on the phone is wider than the screen (no sideways page scroll)
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE["width"] + 1, f"{name}: {width}px wide on a phone ({suffix})"
            assert page.evaluate(OUTSIDE_ITS_CARD) == [], f"{name}: cut off ({suffix})"
        assert self.broken_requests() == [], name

    def shot(self, name: str) -> None:
        """The current page in Chinese (as is), and the same address in English and on a
        phone; the English page must really be English."""
        self.number += 1
        stem = f"complaint-walk-{self.number:02d}-{name}"
        self.page.screenshot(path=str(self.screenshots / f"{stem}-zh.png"), full_page=True)
        for page, suffix in self._others():
            page.goto(self.url)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(self.screenshots / f"{stem}-{suffix}.png"), full_page=True)
        self._check(name)

    def sign(self, dialog_id: str, name: str, *, wrong_password_first: bool = False) -> None:
        """Sign in the signature dialog `dialog_id` of the current page with the password (the
        dialog photographed open in English, on the phone and in Chinese)."""
        self.number += 1
        stem = f"complaint-walk-{self.number:02d}-{name}"
        trigger = f"[data-bs-target='#{dialog_id}']"
        for page, suffix in self._others():
            page.goto(self.url)
            page.wait_for_load_state("networkidle")
            page.locator(trigger).first.click()
            page.locator(f"#{dialog_id}").wait_for(state="visible")
            page.wait_for_timeout(400)  # the fade-in, before the picture
            page.screenshot(path=str(self.screenshots / f"{stem}-{suffix}.png"))
        assert self.en.locator(f"#{dialog_id} label", has_text="Your password").is_visible()
        # the dialog reads left to right wherever it sits (e.g. in a right-aligned table cell)
        align = self.en.locator(f"#{dialog_id} .modal-body").evaluate(
            "e => getComputedStyle(e).textAlign"
        )
        assert align in ("start", "left"), align
        page = self.page
        dialog = page.locator(f"#{dialog_id}")
        page.locator(trigger).first.click()
        dialog.wait_for(state="visible")
        page.wait_for_timeout(400)
        assert dialog.locator(".signature-dialog-meaning").inner_text().strip()
        page.screenshot(path=str(self.screenshots / f"{stem}-zh.png"))
        if wrong_password_first:
            dialog.locator("input[type=password]").fill("not-my-password")
            dialog.locator("button[type=submit]").click()
            errors = f"#{dialog_id} .signature-errors, #{dialog_id} .invalid-feedback"
            page.locator(errors).first.wait_for(state="visible")
            page.screenshot(path=str(self.screenshots / f"{stem}-refused-zh.png"))
            dialog = page.locator(f"#{dialog_id}")
        dialog.locator("input[type=password]").fill(PASSWORD)
        with page.expect_event("load"):  # a new page, not only a scroll to the fragment
            dialog.locator("button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        assert not page.locator(f"#{dialog_id}").is_visible()
        self._check(name)


# --- 1. the customer -------------------------------------------------------------------------


def step_public_form(walk: Walk) -> None:
    """FBK-1: the public form, not signed in, in both languages and on a phone. A mistake is
    shown in English on the field; then the customer sends it from a phone in Chinese with a
    photo and gets a tracking code."""
    from medvigil.complaints.models import Channel, Feedback

    walk.visitor()
    walk.go("/public/feedback/")
    assert walk.page.locator("h1").inner_text() == "客户反馈"
    walk.shot("public-form")
    en = walk.en_phone
    assert en.locator("h1").inner_text() == "Customer feedback"
    # sent in English without name and contact: refused on the fields, nothing registered
    en.fill("#id_title", "Pump did not alarm")
    en.fill("#id_description", "The line was blocked and the pump gave no alarm.")
    with en.expect_navigation():
        en.locator("#public-feedback-form button[type=submit]").click()
    assert "Please correct the fields marked below." in en.locator("#public-error").inner_text()
    assert en.locator("#id_complainant_name.is-invalid").count() == 1
    assert "Give an e-mail address or a phone number" in en.locator("main").inner_text()
    en.screenshot(
        path=str(
            walk.screenshots / f"complaint-walk-{walk.number:02d}-public-form-refused-en-phone.png"
        ),
        full_page=True,
    )
    assert not Feedback.objects.exists()
    assert [b.split(" ")[0] for b in walk.broken_requests()] == ["400"]  # that one, on purpose

    phone = walk.phone
    phone.goto("/public/feedback/")
    shown = time.monotonic()
    phone.select_option("#id_kind", "complaint")
    phone.fill("#id_complainant_name", CUSTOMER["name"])
    phone.fill("#id_complainant_organisation", CUSTOMER["organisation"])
    phone.fill("#id_complainant_phone", CUSTOMER["phone"])
    phone.fill("#id_complainant_email", CUSTOMER["email"])
    phone.fill("#id_device_text", CUSTOMER["device"])
    phone.fill("#id_title", CUSTOMER["title"])
    phone.fill("#id_description", CUSTOMER["description"])
    phone.fill("#id_occurred_where", CUSTOMER["where"])
    phone.select_option("#id_patient_involvement", "none")
    phone.check("input[name=customer_wants][value=exchange]")
    phone.set_input_files(
        "#id_photos", files=[{"name": "泵.png", "mimeType": "image/png", "buffer": PHOTO}]
    )
    phone.screenshot(
        path=str(
            walk.screenshots / f"complaint-walk-{walk.number:02d}-public-form-filled-phone.png"
        ),
        full_page=True,
    )
    # a person takes longer than the form's time check (PUBLIC_FEEDBACK_MIN_SECONDS)
    phone.wait_for_timeout(max(0.0, 3.3 - (time.monotonic() - shown)) * 1000)
    with phone.expect_navigation():
        phone.locator("#public-feedback-form button[type=submit]").click()
    phone.wait_for_load_state("networkidle")

    fb = Feedback.objects.get()
    walk.feedback_pk, walk.public_code = fb.pk, fb.public_code
    assert fb.channel == Channel.WEB and fb.kind == "complaint"
    assert fb.status == Feedback.Status.RECEIVED and fb.owner is None and fb.unit is None
    assert fb.complainant_name == CUSTOMER["name"] and fb.language == "zh-hans"
    assert fb.customer_wants == ["exchange"]
    from medvigil.core.attachments.services import attachments_for

    assert len(list(attachments_for(fb))) == 1
    assert phone.url.endswith(f"/public/feedback/{fb.public_code}/?new=1")
    assert phone.locator("#tracking-code").inner_text() == fb.public_code
    walk.page.goto(phone.url)


def step_public_status(walk: Walk) -> None:
    """The status page: the tracking code, "received", none of the contact data."""
    page = walk.page
    assert page.locator("#tracking-code").inner_text() == walk.public_code
    assert page.locator("#public-state").inner_text() == "已接收"
    assert walk.feedback().number in page.locator("h1").inner_text()
    text = page.locator("main").inner_text()
    for secret in (CUSTOMER["name"], CUSTOMER["phone"], CUSTOMER["email"]):
        assert secret not in text
    walk.shot("public-status-received")
    assert walk.en.locator("#public-state").inner_text() == "received"


# --- 2. customer service: intake, routing, clocks ------------------------------------------------


def step_find_received(walk: Walk) -> None:
    """Customer service finds the new web feedback among the received records."""
    walk.sign_in("wangfang")
    walk.go("/complaints/?status=received")
    fb = walk.feedback()
    rows = walk.page.locator("main table tbody tr")
    assert rows.count() == 1 and fb.number in rows.first.inner_text()
    assert CUSTOMER["device"] in rows.first.inner_text()  # the device as the customer wrote it
    walk.shot("received-list")
    walk.click(f"main table a[href='/complaints/{fb.pk}/']")
    assert walk.page.locator("#status").inner_text() == "已接收"
    assert CUSTOMER["name"] in walk.page.locator("#complainant").inner_text()
    assert CUSTOMER["device"] in walk.page.locator("#device").inner_text()
    assert walk.page.locator("#route-form").count() == 1
    assert "填写类别并分派投诉" in walk.page.locator("#next-step").inner_text()
    walk.shot("received-record")


def step_complete_intake(walk: Walk) -> None:
    """FBK-1/2: the edit page: category, and the device linked by its serial: unit, lot,
    product, customer and end user come from trace."""
    walk.click("#edit")
    page = walk.page
    page.select_option("#id_category", "product_quality")
    page.fill("#id_device", "A1")
    assert "关联器械" in page.locator("label[for=id_device]").inner_text()
    # several choices are a group of check boxes under their legend
    wants = page.locator("fieldset", has=page.locator("input[name=customer_wants]"))
    assert wants.locator("legend").inner_text() == "顾客要求"
    assert wants.locator("input[value=exchange]").is_checked()
    walk.shot("intake-edit")
    assert "Link the device" in walk.en.locator("label[for=id_device]").inner_text()
    walk.click("main form button[type=submit]")
    fb = walk.feedback()
    assert fb.category == "product_quality" and fb.unit is not None and fb.unit.serial == "A1"
    assert fb.end_user is not None and fb.end_user.name == "上海第一人民医院"
    device = page.locator("#device").inner_text()
    assert "LA-001" in device and "A1" in device


def step_route(walk: Walk) -> None:
    """FBK-3/8: routed by its category; the problem notices go out; who routes owns it."""
    from medvigil.complaints.models import Feedback

    walk.click("#route-form button")
    fb = walk.feedback()
    assert fb.status == Feedback.Status.ROUTED and fb.department.code == "quality"
    assert fb.owner is not None and fb.owner.username == "wangfang"
    assert walk.page.locator("#notices li").count() >= 1
    assert walk.page.locator("#status").inner_text() == "已分派"
    walk.shot("routed")


def step_clocks(walk: Walk) -> None:
    """FBK-4: the clocks with their rules; paused with a reason while waiting for the
    customer, resumed, the first response recorded."""
    page = walk.page
    assert page.locator("#clock-route").is_visible()
    page.fill("#pause-form input[name=reason]", "等待客户提供照片")
    walk.click("#pause-form button")
    page.locator("#paused-badge").wait_for()
    assert "等待客户提供照片" in page.locator("#pauses").inner_text()
    walk.shot("clock-paused")
    walk.click("#resume")
    page.locator("#pause-form").wait_for()
    page.select_option("#milestone-form select[name=milestone]", "response")
    walk.click("#milestone-form button")
    assert walk.feedback().first_response_at is not None
    assert "✓" in page.locator("#clock-response").inner_text()
    walk.shot("clocks")


def step_my_work(walk: Walk) -> None:
    """The complaint is on its owner's "My work" page, with its next clock."""
    walk.go("/")
    assert walk.feedback().number in walk.page.locator("main").inner_text()
    walk.shot("my-work")


# --- 3. quality's evaluation, approved by the management representative -------------------------


def step_evaluation(walk: Walk) -> None:
    """FBK-5: quality starts the evaluation, answers the questions one by one, decides:
    investigate, no CAPA (with its justification)."""
    from medvigil.complaints.models import Feedback

    walk.sign_in("qe")
    walk.open_record()
    page = walk.page
    assert "开始质量部评价" in page.locator("#next-step").inner_text()
    walk.click("#evaluation form button")
    assert walk.feedback().status == Feedback.Status.EVALUATION
    walk.click("#evaluation a[href*='/complaints/evaluations/']")
    answers = {
        "nonconforming": "yes",
        "misused": "no",
        "ifu_inadequate": "no",
        "failed_specification": "yes",
        "death_or_serious_injury": "no",
        "device_related": "yes",
    }
    for question, answer in answers.items():
        page.select_option(f"#id_{question}", answer)
    page.fill("#id_note_nonconforming", "堵塞时压力报警未触发")
    page.fill("#id_summary", "设备不符合规格: 堵塞报警失效, 未造成伤害。")
    page.uncheck("#id_capa_needed")
    page.fill("#id_no_capa_justification", NO_CAPA)
    page.check("#id_investigate")
    page.check("#id_complete")
    walk.shot("evaluation-form")
    walk.click("main form button[type=submit]")
    ev = walk.feedback().current_evaluation
    assert ev.evaluated_at is not None and ev.investigate and not ev.capa_needed
    assert ev.needs_approval and not ev.is_approved
    walk.open_record()
    assert page.locator("#evaluation-approval .badge").is_visible()
    walk.shot("evaluation-done")


def step_evaluation_approval(walk: Walk) -> None:
    """FBK-5: "no CAPA" approved by the management representative's e-signature."""
    from medvigil.core.models import Signature

    walk.sign_in("mr")
    walk.open_record()
    ev = walk.feedback().current_evaluation
    walk.sign("evaluation-approve", "evaluation-signature")
    ev.refresh_from_db()
    assert ev.is_approved and ev.approved_by.username == "mr"
    assert signatures(ev, Signature.Meaning.APPROVED) == ["mr"]
    assert "赵敏" in walk.page.locator("#evaluation-approval").inner_text()
    walk.shot("evaluation-approved")


# --- 4. the investigation ------------------------------------------------------------------------


def step_investigation(walk: Walk) -> None:
    """FBK-6: the service engineer starts the investigation: the unit's and lot's history one
    click away; root cause with method and responsibility; completed."""
    from medvigil.complaints.models import Feedback

    walk.sign_in("eng")
    walk.open_record()
    page = walk.page
    walk.click("#investigation form button")
    assert walk.feedback().status == Feedback.Status.INVESTIGATION
    assert page.locator("#history-links a").count() >= 3
    walk.click("#investigation a[href*='/complaints/investigations/']")
    page.select_option("#id_method", "fishbone")
    page.select_option("#id_factor", "material")
    page.fill("#id_analysis", "鱼骨图: 人、机、料、法、环、测逐项排查, 锁定压力传感器。")
    page.fill("#id_root_cause", ROOT_CAUSE)
    page.select_option("#id_responsibility", "supplier")
    page.fill("#id_correction", "更换该台设备; 供应商增加温度漂移检验。")
    page.fill("#id_test_results", "返厂测试: 25 °C 以上传感器零点漂移 12%。")
    walk.shot("investigation-form")
    walk.click("main form button[type=submit]")
    walk.click("#investigation form[action$='/complete/'] button")
    fb = walk.feedback()
    assert fb.status == Feedback.Status.RESOLUTION
    inv = fb.current_investigation
    assert inv.completed_at is not None and inv.root_cause == ROOT_CAUSE
    assert ROOT_CAUSE in page.locator("#investigation").inner_text()
    walk.shot("investigation-done")


# --- 5. resolution, approval, agreement, reply ----------------------------------------------------


def step_resolution(walk: Walk) -> None:
    """FBK-7: customer service proposes an exchange and the reply's text; an exchange needs
    the division head's approval."""
    walk.sign_in("wangfang")
    walk.open_record()
    page = walk.page
    walk.click("#resolution a[href$='/resolution/']")
    page.check("input[name=remedies][value=replace]")
    page.fill("#id_remedy_detail", "两个工作日内上门更换同型号输液泵。")
    page.fill("#id_reply_text", REPLY)
    walk.shot("resolution-form")
    walk.click("main form button[type=submit]")
    res = walk.feedback().current_resolution
    assert res.remedies == ["replace"] and res.required_roles() == ["general_manager"]
    assert not res.approvals_complete
    assert page.locator("#approvals tbody tr").count() == 1
    walk.shot("resolution-proposed")


def step_resolution_approval(walk: Walk) -> None:
    """FBK-7 (seed 003 3.4): the division head approves the exchange with an e-signature."""
    walk.sign_in("gm")
    walk.open_record()
    approval = walk.feedback().current_resolution.approvals.get()
    walk.sign(f"approval-{approval.pk}-approve", "resolution-approval")
    approval.refresh_from_db()
    assert approval.decision == "approved" and approval.decided_by.username == "gm"


def step_reply(walk: Walk) -> None:
    """FBK-7: the internal agreement, then the reply e-mailed to the customer; the customer's
    confirmation and the call-back."""
    import datetime as dt

    from django.utils import timezone

    from medvigil.complaints.models import Feedback

    walk.sign_in("wangfang")
    walk.open_record()
    page = walk.page
    walk.click("#resolution form[action$='/agree/'] button")
    assert walk.feedback().current_resolution.is_agreed
    assert page.locator("#resolution select[name=channel]").input_value() == "email"
    walk.click("#resolution form[action$='/reply/'] button")
    fb = walk.feedback()
    assert fb.status == Feedback.Status.REPLIED
    sent = [m for m in walk.mailoutbox if CUSTOMER["email"] in m.to]
    assert len(sent) == 1 and REPLY in sent[0].body and fb.number in sent[0].subject
    walk.shot("replied")
    page.select_option("#resolution select[name=confirmation]", "accepted")
    page.fill("#resolution form[action$='/confirm/'] input[name=note]", "客户电话确认接受更换")
    walk.click("#resolution form[action$='/confirm/'] button")
    due = timezone.localdate() + dt.timedelta(days=1)
    page.fill("#resolution input[name=due]", due.isoformat())
    walk.click("#resolution form[action$='/callback/'] button")
    page.fill("#resolution form[action$='/callback/done/'] [name=note]", "回访: 新泵运行正常")
    walk.click("#resolution form[action$='/callback/done/'] button")
    res = walk.feedback().current_resolution
    assert res.confirmation == "accepted" and res.callback_done_at is not None
    walk.shot("confirmed")


# --- 6. signed closure, analysis, the customer's view ---------------------------------------------


def step_close(walk: Walk) -> None:
    """FBK-7: quality closes with an e-signature; a wrong password is refused first and
    changes nothing."""
    from medvigil.complaints.models import Feedback
    from medvigil.core.models import Signature

    walk.sign_in("qe")
    walk.open_record()
    assert "关闭投诉" in walk.page.locator("#next-step").inner_text()
    walk.sign("feedback-close", "close-signature", wrong_password_first=True)
    fb = walk.feedback()
    assert fb.status == Feedback.Status.CLOSED and fb.closed_at is not None
    assert signatures(fb, Signature.Meaning.CLOSED) == ["qe"]
    assert walk.page.locator("#status").inner_text() == "关闭"
    walk.shot("closed")


def step_analysis(walk: Walk) -> None:
    """FBK-10: the quarter's analysis counts the complaint, with its charts."""
    walk.go("/complaints/analysis/")
    assert int(walk.page.locator("#analysis-total").inner_text()) >= 1
    assert walk.page.locator("#dim-product svg.bar-chart").count() == 1
    walk.shot("analysis")


def step_public_status_closed(walk: Walk) -> None:
    """PLAT-11: the customer's status page shows the complaint closed and the reply sent, and
    nothing internal (no contact data, evaluation, root cause, names of the staff)."""
    walk.visitor()
    walk.go(f"/public/feedback/{walk.public_code.lower()}/")  # codes are read forgivingly
    page = walk.page
    assert page.locator("#public-state").inner_text() == "关闭"
    text = page.locator("main").inner_text()
    assert REPLY in text
    for secret in (
        CUSTOMER["name"],
        CUSTOMER["phone"],
        CUSTOMER["email"],
        ROOT_CAUSE,
        NO_CAPA,
        "等待客户提供照片",
        "客户电话确认接受更换",
        "王芳",
    ):
        assert secret not in text, secret
    walk.shot("public-status-closed")
    assert walk.en.locator("#public-state").inner_text() == "closed"


# The flow, in order.
STEPS: list[Callable[[Walk], None]] = [
    step_public_form,
    step_public_status,
    step_find_received,
    step_complete_intake,
    step_route,
    step_clocks,
    step_my_work,
    step_evaluation,
    step_evaluation_approval,
    step_investigation,
    step_resolution,
    step_resolution_approval,
    step_reply,
    step_close,
    step_analysis,
    step_public_status_closed,
]


@pytest.mark.req(
    "FBK-1", "FBK-2", "FBK-3", "FBK-4", "FBK-5", "FBK-6", "FBK-7", "FBK-10", "PLAT-3", "PLAT-11"
)
def test_complaint_walk(
    new_page: Any,
    screenshots: Path,
    make_user: Any,
    world: Any,  # noqa: F811
    live_server: Any,
    mailoutbox: list[Any],
) -> None:
    from django.core.cache import cache

    cache.clear()  # the public form's per-address limits, counted by earlier tests
    make_user("wangfang", "customer_service", department="customer-service", display_name="王芳")
    make_user("mr", "management_rep", department="management", display_name="赵敏")
    make_user("gm", "general_manager", department="management", display_name="孙总")
    make_user("eng", "service_engineer", department="service", display_name="张工")
    # quality: world's "qe"
    walk = Walk(new_page, screenshots, live_server.url)
    walk.mailoutbox = mailoutbox
    for step in STEPS:
        step(walk)
