"""Issue #11 on a phone (390×844), every step a click in a real browser: customer service
registers the request through the intake form (the unit found by its serial), the service
manager dispatches it from the request page to the qualified engineer, the engineer accepts,
sets off, arrives, fills the work order, the customer signs on the canvas and the work order is
closed with "no, not a complaint". In English and Chinese; a screenshot of every step in
test-artifacts/screenshots/service-walk-NN-step-<lang>.png."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from medvigil.conftest import PASSWORD
from medvigil.service.models import ServiceRequest, WorkOrder
from medvigil.service.services import add_qualification
from medvigil.trace.tests.conftest import World, world  # noqa: F401  (fixture)

from .conftest import PHONE, draw_signature, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Shots:
    """service-walk-01-created-en.png, service-walk-02-…: numbered in the order taken."""

    def __init__(self, folder: Path, lang: str) -> None:
        self.folder, self.lang, self.n = folder, lang, 0

    def take(self, page: Any, step: str) -> None:
        self.n += 1
        name = f"service-walk-{self.n:02d}-{step}-{self.lang}.png"
        page.screenshot(path=str(self.folder / name), full_page=True)


def _autosave(page: Any, edit: Any, changed: str = "") -> None:
    """Edit a field of the work order and wait for its autosave to be answered with 200."""
    with page.expect_response(lambda r: r.url.endswith("/save/")) as answer:
        edit()
        if changed:
            page.locator(changed).dispatch_event("change")
    assert answer.value.status == 200
    # settled: no save in flight, and the phone's draft cleared by the successful save
    page.wait_for_function(
        "() => !document.querySelector('#wo-form.htmx-request')"
        " && !localStorage.getItem(document.querySelector('#wo-form').dataset.draftKey)"
    )


def _status(wo: WorkOrder) -> str:
    wo.refresh_from_db()
    return str(wo.status)


@pytest.mark.req("SVC-1")
@pytest.mark.req("SVC-3")
@pytest.mark.req("SVC-4")
@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_service_request_from_intake_to_signed_close_on_a_phone(
    new_page: Any,
    make_user: Any,
    world: World,  # noqa: F811
    live_server: Any,
    screenshots: Path,
    locale: str,
) -> None:
    make_user("cs", "customer_service", department="customer-service")
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
    unit = world.a_units[0]
    shots = Shots(screenshots, locale[:2])

    # 1. customer service registers the request: the unit is found by its serial
    page = new_page(locale=locale, viewport=PHONE)
    login(page, "cs", PASSWORD)
    page.goto("/service/")
    page.click("#new-request")
    page.locator("#id_device").press_sequentially(unit.serial)
    page.wait_for_selector("#device-card, #device-error")
    assert page.locator("#device-card").is_visible(), page.inner_text("#device-facts")
    page.select_option("#id_fault_level", "down")
    page.select_option("#id_zone", "city")
    page.select_option("#id_channel", "phone")
    page.fill("#id_title", "Pump does not start")
    page.fill("#id_description", "No reaction when switched on")
    page.fill("#id_contact_name", "护士长 李")
    page.fill("#id_contact_phone", "13800000001")
    shots.take(page, "intake")
    page.click("#save")
    page.wait_for_load_state("networkidle")
    sr = ServiceRequest.objects.get()
    assert sr.unit_id == unit.pk and sr.product_id == world.pump.pk
    assert sr.status == ServiceRequest.Status.NEW and sr.fault_level == "down"
    assert page.url.endswith(sr.get_absolute_url())
    shots.take(page, "registered")

    # 2. the service manager dispatches it to the qualified engineer from the request page
    page = new_page(locale=locale, viewport=PHONE)
    login(page, "svcmgr", PASSWORD)
    page.goto(sr.get_absolute_url())
    assert "张伟" in page.inner_text("#dispatch-form >> xpath=..")
    page.select_option("#id_engineer", str(eng.pk))
    shots.take(page, "dispatch")
    page.click("#dispatch")
    page.wait_for_load_state("networkidle")
    sr.refresh_from_db()
    assert sr.status == ServiceRequest.Status.DISPATCHED and sr.engineer_id == eng.pk
    wo = WorkOrder.objects.get(request=sr)
    assert wo.engineer_id == eng.pk and wo.status == WorkOrder.Status.ASSIGNED
    shots.take(page, "dispatched")

    # 3. the engineer finds the work order in their list, accepts, sets off, arrives
    page = new_page(locale=locale, viewport=PHONE)
    login(page, "zhangwei", PASSWORD)
    page.goto("/service/")
    page.click("a[href$='/service/work-orders/?mine=1']")
    page.click(f"a:text-is('{wo.number}')")
    page.wait_for_selector("#accept")
    shots.take(page, "assigned")
    page.click("#accept")
    page.wait_for_selector("#travel")
    assert _status(wo) == WorkOrder.Status.ACCEPTED
    page.click("#travel")
    page.wait_for_selector("#arrive")
    assert _status(wo) == WorkOrder.Status.TRAVELLING
    shots.take(page, "travelling")
    page.click("#arrive")
    page.wait_for_selector("#id_diagnosis")
    assert _status(wo) == WorkOrder.Status.ON_SITE and wo.arrived_at is not None
    shots.take(page, "on-site")

    # 4. the repair, saved as typed
    _autosave(page, lambda: page.fill("#id_diagnosis", "Pressure sensor drift"), "#id_diagnosis")
    _autosave(
        page, lambda: page.fill("#id_actions", "Replaced the sensor, calibrated"), "#id_actions"
    )
    _autosave(page, lambda: page.select_option("#id_result", "fixed"))
    page.wait_for_selector("#save-status [data-save-ok='1']")
    wo.refresh_from_db()
    assert wo.diagnosis == "Pressure sensor drift"
    assert wo.actions == "Replaced the sensor, calibrated"
    assert wo.result == "fixed"
    shots.take(page, "repaired")

    # 5. the customer signs on the canvas
    draft = page.evaluate(f"() => localStorage.getItem('medvigil-wo-{wo.pk}')")
    page.reload()  # mid-way: what was typed is still there after a reload
    assert page.input_value("#id_diagnosis") == "Pressure sensor drift"
    assert page.input_value("#id_actions") == "Replaced the sensor, calibrated"
    assert page.input_value("#id_result") == "fixed", draft
    page.fill("#id_signer_name", "李护士长")
    draw_signature(page)
    shots.take(page, "signature")
    page.click("#sign")
    page.wait_for_load_state("networkidle")
    wo.refresh_from_db()
    assert wo.status == WorkOrder.Status.SIGNED and wo.signer_name == "李护士长"
    assert wo.signature_attachment_id
    shots.take(page, "signed")

    # 6. closed: not a complaint
    page.check("#complaint-no")
    page.fill("#close-form textarea[name=note]", "routine repair")
    page.click("#close")
    page.wait_for_load_state("networkidle")
    wo.refresh_from_db()
    assert wo.status == WorkOrder.Status.CLOSED and wo.is_complaint is False
    assert page.locator("#archive-link").is_visible()
    shots.take(page, "closed")
