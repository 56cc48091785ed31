"""FBK-1, FBK-2: intake through the one service, the form and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from medvigil.complaints.models import Feedback, ProblemNotice
from medvigil.complaints.services import intake

from .conftest import complaint_data

pytestmark = pytest.mark.django_db


@pytest.mark.req("FBK-1")
def test_scan_prefills_device_customer_dealer_end_user_and_warranty(
    world: Any, cs_user: Any
) -> None:
    a1 = world.a_units[0]
    facts = intake.find_device(a1.serial, user=cs_user)
    assert facts["unit"] == a1
    assert facts["lot"] == world.lot_a
    assert facts["product"] == world.pump
    assert facts["customer"] == world.dealer  # bought from us
    assert facts["dealer"] == world.dealer
    assert facts["end_user"] == world.hospital  # installed there
    assert facts["warranty_end"] is not None
    assert intake.find_device("NO-SUCH-SERIAL", user=cs_user)["error"]


@pytest.mark.req("FBK-1", "FBK-3")
def test_register_complaint_routes_it_and_sends_notices(world: Any, cs_user: Any) -> None:
    fb = intake.register_feedback(by=cs_user, unit=world.a_units[0].pk, **complaint_data())
    assert fb.number.startswith("FB-")
    assert fb.product == world.pump and fb.lot == world.lot_a
    assert fb.status == Feedback.Status.ROUTED
    assert fb.department.code == "quality"
    assert fb.routed_at is not None and fb.quality_received_at is not None
    depts = set(
        ProblemNotice.objects.filter(feedback=fb).values_list("department__code", flat=True)
    )
    assert depts == {"quality", "technical", "customer-service"}
    assert fb.severity == "general" and fb.severity_proposed == "general"


@pytest.mark.req("FBK-2")
def test_inquiry_answered_and_closed_in_one_step(cs_user: Any) -> None:
    fb = intake.register_feedback(
        by=cs_user,
        kind="inquiry",
        channel="phone",
        description="How do I clean the pump?",
        answer="Wipe with 75% alcohol; see IFU 5.2.",
    )
    assert fb.status == Feedback.Status.CLOSED
    assert fb.first_response_at is not None and fb.closed_at is not None


@pytest.mark.req("FBK-2")
def test_inquiry_cannot_have_a_category_and_complaint_cannot_close_in_one_step(
    cs_user: Any,
) -> None:
    with pytest.raises(ValidationError) as e:
        intake.register_feedback(
            by=cs_user, kind="praise", channel="letter", description="x", category="usage"
        )
    assert "category" in e.value.message_dict
    fb = intake.register_feedback(by=cs_user, route=False, **complaint_data())
    with pytest.raises(ValidationError):
        intake.answer_and_close(fb, by=cs_user, version=fb.version, answer="sorry")


@pytest.mark.req("FBK-1")
def test_bad_input_is_a_clear_error(cs_user: Any) -> None:
    with pytest.raises(ValidationError) as e:
        intake.register_feedback(by=cs_user, kind="complaint", channel="pigeon", description="")
    assert {"channel", "description"} <= set(e.value.message_dict)
    with pytest.raises(ValidationError):
        intake.register_feedback(by=cs_user, **complaint_data(customer_wants=["a pony"]))
    with pytest.raises(ValidationError):
        intake.register_feedback(by=cs_user, **complaint_data(unit=999999))
    with pytest.raises(ValidationError):
        intake.register_feedback(by=cs_user, **complaint_data(secret_field=1))


@pytest.mark.req("FBK-1", "PLAT-1")
def test_register_needs_the_permission(outsider: Any) -> None:
    with pytest.raises(PermissionDenied):
        intake.register_feedback(by=outsider, **complaint_data())
    with pytest.raises(PermissionDenied):
        intake.register_feedback(by=None, **complaint_data())  # no user and no system source


@pytest.mark.req("FBK-1")
def test_system_intake_without_user_names_its_source(world: Any) -> None:
    fb = intake.register_feedback(
        by=None,
        source="public-form",
        received_at=dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC),
        **complaint_data(channel="web"),
    )
    assert fb.status == Feedback.Status.ROUTED and fb.owner is None
