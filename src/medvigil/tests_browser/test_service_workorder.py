"""SVC-4 on a phone (390×844) in a real browser: the engineer fills the work order, every field
is saved as typed; text typed while offline survives a reload (the browser's draft is restored
and saved); the customer signs on the canvas; the work order is closed with the complaint
question. Screenshots in test-artifacts/screenshots/."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from medvigil.conftest import PASSWORD
from medvigil.service.models import WorkOrder
from medvigil.service.services import accept, add_qualification, arrive, dispatch
from medvigil.service.tests.conftest import new_request
from medvigil.trace.tests.conftest import World, world  # noqa: F401  (fixture)

from .conftest import HISTORY_CHECKS, PHONE, draw_signature, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DRAFT_KEY = "document.querySelector('#wo-form').dataset.draftKey"


def _arrived_work_order(make_user: Any, world: World) -> WorkOrder:  # noqa: F811
    """A work order dispatched to 张伟 (qualified for the pump), accepted and arrived."""
    cs = make_user("cs", "customer_service", department="customer-service")
    mgr = make_user("svcmgr", "service_manager", department="service")
    eng = make_user("zhangwei", "service_engineer", department="service", display_name="张伟")
    today = dt.date.today()
    add_qualification(
        by=mgr,
        engineer=eng,
        product=world.pump,
        trained_on=today - dt.timedelta(days=9),
        passed_on=today - dt.timedelta(days=8),
        expires_on=today + dt.timedelta(days=300),
    )
    sr = new_request(cs, world)
    wo = dispatch(sr, by=mgr, version=sr.version, engineer=eng)
    wo = accept(wo, by=eng, version=wo.version)
    wo = arrive(wo, by=eng, version=wo.version)
    return wo


def _wait_for(page: Any, held: list[Any], n: int) -> None:
    for _ in range(200):
        if len(held) >= n:
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"expected {n} held saves, got {len(held)}")


@pytest.mark.req("SVC-4")
@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_work_order_on_a_phone_survives_a_reload_and_is_signed(
    new_page: Any,
    make_user: Any,
    world: World,  # noqa: F811
    live_server: Any,
    screenshots: Any,
    locale: str,
) -> None:
    wo = _arrived_work_order(make_user, world)
    lang = locale[:2]

    page = new_page(locale=locale, viewport=PHONE)
    login(page, "zhangwei", PASSWORD)
    page.goto(f"/service/work-orders/{wo.pk}/")
    page.fill("#id_diagnosis", "Pressure sensor drift")
    page.locator("#id_diagnosis").dispatch_event("change")
    page.wait_for_selector("#save-status [data-save-ok='1']")
    wo.refresh_from_db()
    assert wo.diagnosis == "Pressure sensor drift"

    # the connection drops: what is typed stays on the phone and is saved after a reload
    page.context.set_offline(True)
    page.fill("#id_actions", "Replaced the sensor, calibrated")
    page.locator("#id_actions").dispatch_event("change")
    page.wait_for_timeout(500)
    page.context.set_offline(False)
    page.reload()
    page.wait_for_selector("#save-status [data-save-ok='1']")
    assert page.input_value("#id_actions") == "Replaced the sensor, calibrated"
    wo.refresh_from_db()
    assert wo.actions == "Replaced the sensor, calibrated"
    page.select_option("#id_result", "fixed")
    page.wait_for_selector("#save-status [data-save-ok='1']")
    page.screenshot(path=str(screenshots / f"service-workorder-{lang}.png"), full_page=True)

    # the customer signs on the canvas
    page.reload()
    page.fill("#id_signer_name", "李护士长")
    draw_signature(page)
    page.screenshot(path=str(screenshots / f"service-signature-{lang}.png"), full_page=True)
    page.click("#sign")
    page.wait_for_load_state("networkidle")
    wo.refresh_from_db()
    assert wo.status == WorkOrder.Status.SIGNED and wo.signer_name == "李护士长"
    assert wo.signature_attachment_id

    page.check("#complaint-no")
    page.fill("#close-form textarea[name=note]", "routine repair")
    page.click("#close")
    page.wait_for_load_state("networkidle")
    wo.refresh_from_db()
    assert wo.status == WorkOrder.Status.CLOSED and wo.is_complaint is False
    page.screenshot(path=str(screenshots / f"service-closed-{lang}.png"), full_page=True)
    # the history reads on the phone: the archive entry's long value gets the panel's width
    # (a third of it made the closed work order 6,000 px tall)
    found = page.evaluate(HISTORY_CHECKS)
    assert found["rows"] and found["cramped"] == [] and found["wide"] == [], found
    assert found["overflow"] <= 0


@pytest.mark.req("SVC-4")
def test_a_change_typed_while_a_save_is_in_flight_survives_a_reload(
    new_page: Any,
    make_user: Any,
    world: World,  # noqa: F811
    live_server: Any,
) -> None:
    """The first save succeeds while a second change waits behind it; the page is reloaded
    before the second save reaches the server. The success of the first must not wipe the
    second change from the phone's draft: after the reload it is put back and saved."""
    wo = _arrived_work_order(make_user, world)
    page = new_page(viewport=PHONE)
    login(page, "zhangwei", PASSWORD)
    page.goto(f"/service/work-orders/{wo.pk}/")
    held: list[Any] = []
    page.route("**/save/", lambda route: held.append(route))
    page.fill("#id_diagnosis", "Pressure sensor drift")
    page.locator("#id_diagnosis").dispatch_event("change")
    _wait_for(page, held, 1)  # the first save is in flight, held at the network
    page.fill("#id_actions", "Replaced the sensor")
    page.locator("#id_actions").dispatch_event("change")  # queued behind the first
    held[0].continue_()
    _wait_for(page, held, 2)  # the first answered; the second is now in flight, held
    page.wait_for_selector("#save-status [data-save-ok='1']")
    wo.refresh_from_db()
    assert wo.diagnosis == "Pressure sensor drift" and wo.actions == ""
    draft = page.evaluate(f"() => localStorage.getItem({DRAFT_KEY})")
    assert draft and "Replaced the sensor" in draft and "Pressure sensor drift" not in draft

    held[1].abort("internetdisconnected")  # the second save never reaches the server
    page.unroute("**/save/")
    page.reload()
    page.wait_for_selector("#save-status [data-save-ok='1']")
    assert page.input_value("#id_actions") == "Replaced the sensor"
    assert page.input_value("#id_diagnosis") == "Pressure sensor drift"
    page.wait_for_function(f"() => !localStorage.getItem({DRAFT_KEY})")
    wo.refresh_from_db()
    assert wo.diagnosis == "Pressure sensor drift" and wo.actions == "Replaced the sensor"
