"""SVC-1: the public feedback form (complaints app) opens a service request when the customer
asks for a repair — through the service app's one intake — and the customer's tracking page
shows the request's public state. Without the choice the form behaves as before."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from medvigil.complaints.models import Feedback
from medvigil.complaints.tests.test_public import URL, form_data, post
from medvigil.core.audit.models import AuditEntry
from medvigil.service.models import ServiceRequest
from medvigil.service.services import accept, arrive, dispatch

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits(settings: Any) -> Any:
    cache.clear()
    settings.PUBLIC_FEEDBACK_MIN_SECONDS = 0
    yield
    cache.clear()


@pytest.mark.req("SVC-1")
def test_a_repair_asked_on_the_public_form_opens_a_service_request(
    world: Any, manager: Any, engineer: Any, qualified: Any
) -> None:
    c = Client()
    unit = world.a_units[0]
    r = post(c, form_data(c, repair="on", fault_level="down", device_text=unit.serial))
    assert r.status_code == 302, r.content.decode()[:2000]
    fb = Feedback.objects.get()
    sr = ServiceRequest.objects.get()
    assert sr.feedback == fb and sr.channel == "web" and sr.fault_level == "down"
    assert sr.title == fb.title and sr.contact_name == "王护士长"
    assert sr.contact_email == "wang@example.com" and sr.contact_phone == "13900000001"
    # the serial of one of our units fills the unit, its customer and the warranty
    assert sr.unit == unit and sr.customer == world.hospital and sr.under_warranty is not None
    assert sr.arrival_due_at is not None  # the SVC-2 clocks run from receipt
    assert AuditEntry.objects.filter(object_id=str(sr.pk), source="public_form").exists()
    # the tracking page shows the request's public state, and follows it
    page = c.get(r["Location"]).content.decode()
    assert sr.number in page and "an engineer will be assigned" in page
    wo = dispatch(sr, by=manager, version=sr.version, engineer=engineer)
    wo = accept(wo, by=engineer, version=wo.version)
    arrive(wo, by=engineer, version=wo.version)
    page = c.get(f"{URL}{fb.public_code}/").content.decode()
    assert "the engineer is on site" in page and engineer.printed_name not in page


@pytest.mark.req("SVC-1")
def test_without_the_choice_no_service_request_and_errors_change_nothing(world: Any) -> None:
    c = Client()
    r = post(c, form_data(c))  # the form as before: feedback only
    assert r.status_code == 302 and Feedback.objects.count() == 1
    assert not ServiceRequest.objects.exists()
    assert "Repair" not in c.get(r["Location"]).content.decode()
    # a repair without saying whether the device works: the field's message, nothing stored
    r = post(c, form_data(c, repair="on", fault_level="", description="另一个问题"))
    assert r.status_code == 400 and "Say whether the device can still be used" in r.content.decode()
    r = post(c, form_data(c, repair="on", fault_level="question", description="第三个问题"))
    assert r.status_code == 400
    assert Feedback.objects.count() == 1 and not ServiceRequest.objects.exists()
    # an unknown device is kept as typed
    r = post(
        c, form_data(c, repair="on", fault_level="minor", device_text="XYZ-999", description="四")
    )
    assert r.status_code == 302
    sr = ServiceRequest.objects.get()
    assert sr.unit is None and sr.device_text == "XYZ-999" and sr.fault_level == "minor"


@pytest.mark.req("SVC-1")
def test_the_request_page_links_the_feedback_it_came_from(
    world: Any, cs_user: Any, monkeypatch: Any
) -> None:
    """For those who may see the feedback (its access rule); the others see no link."""
    c = Client()
    r = post(c, form_data(c, repair="on", fault_level="down"))
    assert r.status_code == 302, r.content.decode()[:2000]
    fb = Feedback.objects.get()
    sr = ServiceRequest.objects.get()
    page = Client()
    page.force_login(cs_user)
    html = page.get(sr.get_absolute_url()).content.decode()
    assert f'href="{fb.get_absolute_url()}" id="feedback-link">{fb.number}<' in html
    monkeypatch.setattr(Feedback, "visible_to", classmethod(lambda cls, user, qs: qs.none()))
    response = page.get(sr.get_absolute_url())
    assert response.status_code == 200
    assert 'id="feedback-link"' not in response.content.decode()
