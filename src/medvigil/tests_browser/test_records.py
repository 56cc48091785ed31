"""A record page in a real browser: its history panel (PLAT-2) and the electronic-signature
dialog (PLAT-3), in Chinese and English (PLAT-6). The record page used is a destruction
request (PLAT-5), which shows both."""

from __future__ import annotations

from typing import Any

import pytest

from medvigil.conftest import PASSWORD

from .conftest import HISTORY_CHECKS, PHONE, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def destruction_request(make_user: Any) -> Any:
    from django.contrib.contenttypes.models import ContentType

    from medvigil.core.audit import audit_context
    from medvigil.core.models import DestructionRequest, RetentionRule

    requester = make_user("wangfang", "quality", department="quality", display_name="王芳")
    approver = make_user("lina", "quality", department="quality", display_name="李娜")
    with audit_context(actor=requester, source="ui", reason="按新规延长保存期限"):
        rule = RetentionRule.objects.create(
            content_type=ContentType.objects.get_for_model(DestructionRequest),
            years=5,
            citation="医疗器械经营质量管理规范 第四十条",
        )
        rule.years = 10
        rule.minimum_years = 5
        rule.save()
    with audit_context(actor=requester, source="ui"):
        req = DestructionRequest.objects.create(
            number="DR-2026-00001",
            content_type=ContentType.objects.get_for_model(RetentionRule),
            object_id=str(rule.pk),
            object_repr=str(rule),
            reason="测试记录，保存期已满 / test record, retention period over",
            requested_by=requester,
        )
    return {"request": req, "rule": rule, "approver": approver}


def _switch_to_english(page: Any) -> None:
    page.locator("nav button[name=language][value=en]").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"


@pytest.mark.req("PLAT-2", "PLAT-6")
def test_history_panel_in_chinese_and_english(new_page, destruction_request, screenshots):
    req = destruction_request["request"]
    page = new_page(locale="zh-CN")
    login(page, "lina", PASSWORD)
    page.goto(f"/destruction/{req.pk}/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    panels = page.locator(".history-panel")
    assert panels.count() == 2  # the request's own trail and the record's
    record_panel = panels.nth(1)
    text = record_panel.inner_text()
    assert "按新规延长保存期限" in text  # the reason of the change
    assert "5" in text and "10" in text  # old and new value of the changed field
    assert "王芳" in text  # who
    page.screenshot(path=str(screenshots / "history-zh.png"), full_page=True)

    _switch_to_english(page)
    record_panel = page.locator(".history-panel").nth(1)
    assert record_panel.locator("h2").inner_text().strip() == "History"
    assert "Asia/Shanghai" in record_panel.inner_text()
    page.screenshot(path=str(screenshots / "history-en.png"), full_page=True)


@pytest.mark.req("PLAT-3", "PLAT-6")
def test_signature_dialog_in_chinese_and_english(new_page, destruction_request, screenshots):
    req = destruction_request["request"]
    page = new_page(locale="zh-CN")
    login(page, "lina", PASSWORD)
    page.goto(f"/destruction/{req.pk}/")
    dialog = page.locator("#approve-dialog")
    assert not dialog.is_visible()
    page.locator("[data-bs-target='#approve-dialog']").click()
    dialog.wait_for(state="visible")
    page.wait_for_timeout(400)  # the fade-in, before the picture
    assert dialog.locator("input[type=password]").is_visible()
    assert dialog.locator(".signature-dialog-meaning").inner_text().strip()
    page.screenshot(path=str(screenshots / "signature-zh.png"))

    # a wrong password is refused inside the dialog and the record stays
    dialog.locator("input[type=password]").fill("not-my-password")
    dialog.locator("button[type=submit]").click()
    page.locator(
        "#approve-dialog .signature-errors, #approve-dialog .invalid-feedback"
    ).first.wait_for(state="visible")
    req.refresh_from_db()
    assert req.status == "requested"

    page.goto(f"/destruction/{req.pk}/")
    _switch_to_english(page)
    page.locator("[data-bs-target='#approve-dialog']").click()
    dialog = page.locator("#approve-dialog")
    dialog.wait_for(state="visible")
    page.wait_for_timeout(400)
    assert dialog.locator("label", has_text="Your password").is_visible()
    page.screenshot(path=str(screenshots / "signature-en.png"))


@pytest.mark.req("PLAT-2", "PLAT-6")
@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_history_panel_reads_on_a_phone(new_page, destruction_request, screenshots, locale):
    """On a 390 px phone a long old or new value gets the panel's width: the field's name on
    its own line, "old → new" below, nothing wider than the screen (a third of the width each
    made a long value one word per line, and a closed work order 6,000 px tall)."""
    from medvigil.core.audit import audit_context

    rule = destruction_request["rule"]
    with audit_context(actor=destruction_request["approver"], source="ui", reason="法规更新"):
        rule.citation = (
            "医疗器械经营质量管理规范 第四十条; Medical device distribution quality management "
            "practice, article 40, records kept at least five years after the device's lifetime"
        )
        rule.save()
    page = new_page(locale=locale, viewport=PHONE, is_mobile=True)
    login(page, "lina", PASSWORD)
    page.goto(f"/destruction/{destruction_request['request'].pk}/")
    page.wait_for_load_state("networkidle")
    found = page.evaluate(HISTORY_CHECKS)
    assert found["rows"] >= 3
    assert found["cramped"] == [] and found["wide"] == [] and found["overflow"] <= 0, found
    # the field's name is above its values, not beside them
    row = page.locator(".history-changes tbody tr", has_text="Medical device distribution")
    name, new = row.locator("th").bounding_box(), row.locator(".history-new").bounding_box()
    assert name is not None and new is not None and new["y"] >= name["y"] + name["height"] - 1
    page.locator(".history-panel").nth(1).scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / f"phone-history-{locale[:2]}.png"), full_page=True)

    # on a desktop the changes stay a table: field, old, new side by side
    desk = new_page(locale=locale)
    login(desk, "lina", PASSWORD)
    desk.goto(f"/destruction/{destruction_request['request'].pk}/")
    row = desk.locator(".history-changes tbody tr", has_text="Medical device distribution")
    name, new = row.locator("th").bounding_box(), row.locator(".history-new").bounding_box()
    assert name is not None and new is not None and abs(new["y"] - name["y"]) < 8
    assert desk.evaluate(HISTORY_CHECKS)["wide"] == []
