"""The device lookup of the intake forms in a real browser (SVC-1, SVC-5): a serial pasted
into the field (an input event, no key pressed, no blur) finds the unit at once; on the
service intake the unit's site address and contact fill the empty fields (what was typed
stays), in both languages, on a phone."""

from __future__ import annotations

from typing import Any

import pytest

from medvigil.conftest import PASSWORD
from medvigil.trace.tests.conftest import World, world  # noqa: F401  (fixture)

from .conftest import PHONE, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _paste(page: Any, selector: str, text: str) -> None:
    """Paste `text`: the field gets it with one input event, the focus stays (no change)."""
    page.focus(selector)
    page.evaluate(
        """([sel, text]) => { const f = document.querySelector(sel);
             f.value = text; f.dispatchEvent(new Event('input', {bubbles: true})); }""",
        [selector, text],
    )


@pytest.mark.req("SVC-1", "SVC-5")
@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_service_intake_finds_a_pasted_serial_and_prefills_the_site(
    new_page: Any,
    make_user: Any,
    world: World,  # noqa: F811
    screenshots: Any,
    locale: str,
) -> None:
    from medvigil.service.models import ServiceRequest

    make_user("cs", "customer_service", department="customer-service")
    unit = world.a_units[0]  # installed at the hospital (ICU), contact 护士长 李
    page = new_page(locale=locale, viewport=PHONE, is_mobile=True, has_touch=True)
    login(page, "cs", PASSWORD)
    page.goto("/service/new/")
    page.fill("#id_contact_phone", "021-1234")  # typed before the lookup: it stays
    _paste(page, "#id_device", unit.serial)
    page.wait_for_selector("#device-card")
    assert page.evaluate("document.activeElement.id") == "id_device"  # found before the blur
    address = world.hospital.address
    assert address and address in page.inner_text("#device-card")
    assert page.input_value("#id_site_address") == address
    assert page.input_value("#id_contact_name") == "护士长 李"
    assert page.input_value("#id_contact_phone") == "021-1234"
    page.screenshot(
        path=str(screenshots / f"service-intake-prefill-{locale[:2]}.png"), full_page=True
    )

    # another unit replaces what the first one prefilled, not what was typed
    other = world.b_units[0]
    _paste(page, "#id_device", other.serial)
    page.wait_for_selector(f"#device-card:has-text('{other.serial}')")
    assert page.input_value("#id_contact_phone") == "021-1234"
    assert page.input_value("#id_contact_name") != "护士长 李"

    # what the page shows is what is saved
    _paste(page, "#id_device", unit.serial)
    page.wait_for_selector(f"#device-card:has-text('{unit.serial}')")
    page.select_option("#id_fault_level", "down")
    page.select_option("#id_zone", "city")
    page.select_option("#id_channel", "phone")
    page.fill("#id_title", "Pump does not start")
    page.fill("#id_description", "No reaction when switched on")
    page.click("#save")
    page.wait_for_load_state("networkidle")
    assert ServiceRequest.objects.exists(), page.inner_text("#request-form")
    sr = ServiceRequest.objects.get()
    assert sr.unit_id == unit.pk and sr.site_address == address
    assert sr.contact_phone == "021-1234" and sr.contact_name == "护士长 李"


@pytest.mark.req("FBK-1")
def test_complaint_intake_finds_a_pasted_serial(
    new_page: Any,
    quality_user: Any,
    world: World,  # noqa: F811
) -> None:
    page = new_page(locale="en-US")
    login(page, quality_user.username, PASSWORD)
    page.goto("/complaints/new/")
    _paste(page, "#id_device", world.a_units[1].serial)
    page.wait_for_selector("#device-found")
    assert world.a_units[1].serial in page.inner_text("#device-found")
    assert page.evaluate("document.activeElement.id") == "id_device"
