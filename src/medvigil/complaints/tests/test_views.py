"""FBK-1 … FBK-4 from the pages: the intake form, the list, the record page and its actions."""

from __future__ import annotations

from typing import Any

import pytest

from medvigil.complaints.models import Feedback, ProblemNotice
from medvigil.complaints.services import intake

from .conftest import complaint_data

pytestmark = pytest.mark.django_db


def _form(**extra: Any) -> dict[str, Any]:
    data = {
        "kind": "complaint",
        "channel": "phone",
        "quantity_affected": "1",
        "patient_involvement": "none",
        "description": "报警失灵",
        "category": "product_quality",
        "complainant_name": "张护士",
        "complainant_phone": "13800000009",
    }
    data.update(extra)
    return data


@pytest.mark.req("FBK-1")
def test_intake_form_scans_a_serial_and_registers(
    world: Any, cs_user: Any, client_for: Any
) -> None:
    c = client_for(cs_user)
    r = c.get("/complaints/new/?device=A1")
    assert r.status_code == 200
    assert "上海第一人民医院" in r.content.decode()  # end user from the installation
    r = c.get("/complaints/device/?device=A1", HTTP_HX_REQUEST="true")
    assert "LA-001" in r.content.decode()
    r = c.post("/complaints/new/", _form(device="A1"))
    assert r.status_code == 302, r.content.decode()[:3000]
    fb = Feedback.objects.get()
    assert fb.unit == world.a_units[0] and fb.end_user == world.hospital
    assert r["Location"] == fb.get_absolute_url()
    page = c.get(fb.get_absolute_url()).content.decode()
    assert fb.number in page and "13800000009" in page and 'id="clock-route"' in page


@pytest.mark.req("FBK-1")
def test_intake_form_shows_errors_never_500(cs_user: Any, client_for: Any) -> None:
    c = client_for(cs_user)
    r = c.post("/complaints/new/", _form(description="", channel="pigeon", quantity_affected="x"))
    assert r.status_code == 200 and "is-invalid" in r.content.decode()
    r = c.post("/complaints/new/", _form(bad_faith_suspected="on"))
    assert r.status_code == 200 and "bad faith" in r.content.decode()
    assert not Feedback.objects.exists()


@pytest.mark.req("FBK-1")
def test_unknown_device_is_kept_as_text(cs_user: Any, client_for: Any) -> None:
    r = client_for(cs_user).post("/complaints/new/", _form(device="ZZ-UNKNOWN"))
    assert r.status_code == 302
    assert Feedback.objects.get().device_text == "ZZ-UNKNOWN"


@pytest.mark.req("FBK-1", "FBK-3")
def test_list_filters_and_export(world: Any, cs_user: Any, client_for: Any) -> None:
    intake.register_feedback(by=cs_user, product=world.pump, **complaint_data(title="报警A"))
    intake.register_feedback(
        by=cs_user, **complaint_data(title="态度B", category="service_attitude")
    )
    intake.register_feedback(by=cs_user, kind="praise", channel="letter", description="谢谢C")
    c = client_for(cs_user)
    page = c.get("/complaints/").content.decode()
    assert "报警A" in page and "态度B" in page and "谢谢C" in page
    page = c.get(f"/complaints/?product={world.pump.pk}").content.decode()
    assert "报警A" in page and "态度B" not in page
    page = c.get("/complaints/?department=service&kind=complaint").content.decode()
    assert "态度B" in page and "报警A" not in page
    page = c.get("/complaints/?q=谢谢").content.decode()
    assert "谢谢C" in page and "报警A" not in page
    r = c.get("/complaints/?format=csv&kind=complaint")
    assert r.status_code == 200 and "报警A" in b"".join(r.streaming_content).decode("utf-8-sig")


@pytest.mark.req("FBK-8")
def test_department_acknowledges_its_notice_from_the_record(
    world: Any, cs_user: Any, quality_user: Any, client_for: Any
) -> None:
    fb = intake.register_feedback(by=cs_user, **complaint_data())
    notice = ProblemNotice.objects.get(feedback=fb, department__code="quality")
    c = client_for(quality_user)
    r = c.post(f"/complaints/notices/{notice.pk}/acknowledge/", {"version": notice.version})
    assert r.status_code == 302
    notice.refresh_from_db()
    assert notice.status == "acknowledged" and notice.acknowledged_by == quality_user
    # another department's member cannot acknowledge
    tech_notice = ProblemNotice.objects.get(feedback=fb, department__code="technical")
    c.post(f"/complaints/notices/{tech_notice.pk}/acknowledge/", {"version": tech_notice.version})
    tech_notice.refresh_from_db()
    assert tech_notice.status == "sent"


@pytest.mark.req("FBK-1", "TRC-7")
def test_complaint_shows_on_the_units_life_timeline(
    world: Any, cs_user: Any, outsider: Any
) -> None:
    from medvigil.trace.timeline import unit_timeline

    fb = intake.register_feedback(by=cs_user, unit=world.a_units[0], **complaint_data())
    events = unit_timeline(world.a_units[0], cs_user)
    assert any(fb.number in str(e.title) for e in events)
    assert not any(fb.number in str(e.title) for e in unit_timeline(world.a_units[1], cs_user))
    assert not any(fb.number in str(e.title) for e in unit_timeline(world.a_units[0], outsider))


def _edit_data(fb: Feedback, **extra: Any) -> dict[str, Any]:
    from medvigil.complaints.forms.edit import EDIT_FIELDS

    data: dict[str, Any] = {"version": fb.version}
    for name in EDIT_FIELDS:
        value = getattr(fb, name)
        if isinstance(value, list):
            data[name] = value
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None and not hasattr(value, "pk"):
            data[name] = str(value) if not hasattr(value, "isoformat") else ""
    data.update(extra)
    return data


@pytest.mark.req("FBK-1")
def test_customer_service_links_the_device_of_a_web_submission_on_the_edit_page(
    world: Any, cs_user: Any, client_for: Any
) -> None:
    """Feedback from the public form names its device only in words: customer service scans
    or types the serial on the edit page, and the record takes unit, lot, product, customer,
    dealer, end user and warranty from trace; an unknown device is refused on the field."""
    fb = intake.register_feedback(
        by=None,
        source="public_form",
        **complaint_data(channel="web", category="", device_text="泵 序列号 A1"),
    )
    assert fb.status == Feedback.Status.RECEIVED and fb.unit is None
    c = client_for(cs_user)
    page = c.get(f"/complaints/{fb.pk}/edit/").content.decode()
    assert 'name="device"' in page

    r = c.post(f"/complaints/{fb.pk}/edit/", _edit_data(fb, device="NO-SUCH-UNIT"))
    assert r.status_code == 200 and "is-invalid" in r.content.decode()
    fb.refresh_from_db()
    assert fb.unit is None and fb.category == ""

    r = c.post(
        f"/complaints/{fb.pk}/edit/", _edit_data(fb, device="A1", category="product_quality")
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    fb.refresh_from_db()
    assert fb.unit == world.a_units[0] and fb.lot == world.a_units[0].lot
    assert fb.product == world.a_units[0].product and fb.end_user == world.hospital
    assert fb.dealer == world.dealer and fb.device_text == "泵 序列号 A1"
    assert fb.category == "product_quality"
    # then routed from the record page
    r = c.post(f"/complaints/{fb.pk}/route/", {"version": fb.version})
    fb.refresh_from_db()
    assert fb.status == Feedback.Status.ROUTED and fb.department.code == "quality"
    assert fb.owner == cs_user  # who routes feedback that came in by itself owns it (FBK-4)
    # empty device: the link stays
    page = c.get(f"/complaints/{fb.pk}/edit/").content.decode()
    assert "A1" in page
    r = c.post(f"/complaints/{fb.pk}/edit/", _edit_data(fb, device="", title="改过的标题"))
    assert r.status_code == 302
    fb.refresh_from_db()
    assert fb.unit == world.a_units[0] and fb.title == "改过的标题"
