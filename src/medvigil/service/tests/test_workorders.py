"""SVC-4/SVC-9/SVC-11: the work order from acceptance to the customer's drawn sign-off, saved
as it goes (version conflicts shown, nothing lost), the service-archive entry with the fields of
seed 001 and 21 CFR 820.35(b) on the unit's timeline, and "is this a complaint?" — yes opens a
complaint prefilled from the work order."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from medvigil.core.audit.models import ConflictError
from medvigil.core.registry import timeline_for
from medvigil.service.demo import _png
from medvigil.service.models import ServiceRequest, WorkOrder
from medvigil.service.services import (
    accept,
    arrive,
    close_work_order,
    dispatch,
    save_fields,
    sign_off,
    start_travel,
    use_part,
)

from .conftest import new_request

pytestmark = pytest.mark.django_db

DONE = {
    "diagnosis": "压力传感器漂移",
    "actions": "更换压力传感器并校准",
    "verification": "流量 25 ml/h 连续 1 h",
    "test_data": "误差 +1.2 %; 堵塞报警 15 s",
    "verification_passed": True,
    "training_given": True,
    "training_notes": "护士 3 名: 堵塞报警处理",
    "result": "fixed",
    "customer_feedback": "满意",
}


def on_site(world: Any, cs_user: Any, manager: Any, engineer: Any) -> WorkOrder:
    sr = new_request(cs_user, world)
    wo = dispatch(sr, by=manager, version=sr.version, engineer=engineer)
    wo = accept(wo, by=engineer, version=wo.version)
    wo = start_travel(wo, by=engineer, version=wo.version)
    return arrive(wo, by=engineer, version=wo.version)


@pytest.mark.req("SVC-4")
@pytest.mark.req("SVC-9")
def test_work_order_from_acceptance_to_archive(
    world: Any, cs_user: Any, manager: Any, engineer: Any, qualified: Any, spares: Any
) -> None:
    wo = on_site(world, cs_user, manager, engineer)
    assert wo.accepted_at and wo.travel_started_at and wo.arrived_at
    sr = ServiceRequest.objects.get(pk=wo.request_id)
    assert sr.arrived_at == wo.arrived_at and sr.status == "on_site"  # SVC-2 arrival stops
    wo = save_fields(wo, by=engineer, version=wo.version, values=DONE)
    wo = use_part(wo, by=engineer, version=wo.version, part=spares.part, quantity=1)
    assert [(p["code"], p["quantity"]) for p in wo.parts_used] == [("PS-01", "1")]
    with pytest.raises(ValidationError):
        sign_off(wo, by=engineer, version=wo.version, signer_name="李护士长", signature="data:x")
    wo = sign_off(wo, by=engineer, version=wo.version, signer_name="李护士长", signature=_png())
    assert wo.status == "signed" and wo.signature_attachment_id
    sr.refresh_from_db()
    assert sr.fixed_at == wo.signed_at and sr.status == "fixed"
    with pytest.raises(ValidationError):
        close_work_order(wo, by=engineer, version=wo.version, is_complaint=None)
    with pytest.raises(ValidationError):
        close_work_order(wo, by=engineer, version=wo.version, is_complaint=False, note="")
    wo = close_work_order(
        wo, by=engineer, version=wo.version, is_complaint=False, note="磨损, 非质量问题"
    )
    sr.refresh_from_db()
    assert wo.status == "closed" and sr.status == "closed" and wo.complaint is None
    # the service-archive entry: seed 001 五 1 and 21 CFR 820.35(b)
    a = wo.archive
    unit = world.a_units[0]
    assert a["serial"] == unit.serial and a["udi"] == unit.udi_hri
    assert a["product"] == world.pump.name and a["model"] == world.pump.model_spec
    assert a["production_date"] and a["sale_date"] and a["user"] == str(world.hospital)
    assert a["engineer"] == "张伟" and "更换压力传感器" in a["content"]
    assert "误差" in a["test_data"] and "PS-01" in a["parts"] and a["feedback"] == "满意"
    assert "护士 3 名" in a["training"]
    # on the unit's life timeline
    events = timeline_for(unit, engineer)
    assert any(wo.number in str(e.title) for e in events)


@pytest.mark.req("SVC-11")
def test_yes_opens_a_complaint_prefilled_from_the_work_order(
    world: Any, cs_user: Any, manager: Any, engineer: Any, qualified: Any
) -> None:
    wo = on_site(world, cs_user, manager, engineer)
    wo = save_fields(wo, by=engineer, version=wo.version, values=DONE)
    wo = sign_off(wo, by=engineer, version=wo.version, signer_name="李护士长", signature=_png())
    wo = close_work_order(
        wo, by=engineer, version=wo.version, is_complaint=True, note="传感器批次性漂移"
    )
    fb = wo.complaint
    assert fb is not None and fb.is_complaint and fb.channel == "service"
    assert fb.unit == world.a_units[0] and fb.product == world.pump
    assert fb.end_user == world.hospital
    assert fb.complainant_name == "护士长 李" and fb.complainant_phone == "13800000001"
    assert "压力传感器漂移" in fb.description and "传感器批次性漂移" in fb.description
    assert wo.request.number in fb.source_reference


@pytest.mark.req("SVC-4")
def test_autosave_conflict_and_bad_input(
    world: Any, cs_user: Any, manager: Any, engineer: Any, qualified: Any, client_for: Any
) -> None:
    wo = on_site(world, cs_user, manager, engineer)
    c = client_for(engineer)
    url = reverse("service:workorder_save", args=[wo.pk])
    htmx = {"HTTP_HX_REQUEST": "true"}
    r = c.post(url, {"version": wo.version, "diagnosis": "半"}, **htmx)
    assert r.status_code == 200 and 'id="wo-version"' in r.content.decode()
    wo.refresh_from_db()
    assert wo.diagnosis == "半"
    # a second phone with the old version: conflict, nothing changes
    r = c.post(url, {"version": wo.version - 1, "diagnosis": "覆盖"}, **htmx)
    assert r.status_code == 409
    wo.refresh_from_db()
    assert wo.diagnosis == "半"
    r = c.post(url, {"version": wo.version, "result": "exploded"}, **htmx)
    assert r.status_code == 400
    with pytest.raises(ConflictError):
        save_fields(wo, by=engineer, version=wo.version - 1, values={"actions": "x"})
    with pytest.raises(ValidationError):
        save_fields(wo, by=engineer, version=wo.version, values={"by": "x"})
    # another engineer may not fill it in
    from medvigil.accounts.models import User

    other = User.objects.create_user("eng9", password="x")
    other.roles.set(engineer.roles.all())
    with pytest.raises(ValidationError):
        save_fields(
            wo, by=User.objects.get(pk=other.pk), version=wo.version, values={"actions": "x"}
        )


@pytest.mark.req("SVC-4")
def test_phone_page_steps_sign_and_close(
    world: Any, cs_user: Any, manager: Any, engineer: Any, qualified: Any, client_for: Any
) -> None:
    sr = new_request(cs_user, world)
    wo = dispatch(sr, by=manager, version=sr.version, engineer=engineer)
    c = client_for(engineer)
    page = c.get(wo.get_absolute_url())
    assert page.status_code == 200 and 'id="accept"' in page.content.decode()
    for step in ("accept", "travel", "arrive"):
        wo.refresh_from_db()
        r = c.post(reverse("service:workorder_step", args=[wo.pk, step]), {"version": wo.version})
        assert r.status_code == 302
    wo.refresh_from_db()
    assert wo.status == "on_site"
    html = c.get(wo.get_absolute_url()).content.decode()
    assert 'id="signature-pad"' in html and "service/workorder.js" in html
    wo = save_fields(wo, by=engineer, version=wo.version, values=DONE)
    r = c.post(
        reverse("service:workorder_sign", args=[wo.pk]),
        {"version": wo.version, "signer_name": "李护士长", "signature": _png()},
    )
    assert r.status_code == 302
    wo.refresh_from_db()
    assert wo.status == "signed"
    r = c.post(
        reverse("service:workorder_close", args=[wo.pk]),
        {"version": wo.version, "is_complaint": "yes", "note": ""},
    )
    wo.refresh_from_db()
    assert wo.status == "closed" and wo.complaint is not None
    r = c.get(reverse("service:workorder_archive", args=[wo.pk]))
    assert r.status_code == 200 and world.a_units[0].serial in r.content.decode()


@pytest.mark.req("SVC-4")
def test_work_order_through_the_api(
    world: Any,
    cs_user: Any,
    manager: Any,
    engineer: Any,
    qualified: Any,
    client_for: Any,
    spares: Any,
) -> None:
    sr = new_request(cs_user, world)
    wo = dispatch(sr, by=manager, version=sr.version, engineer=engineer)
    c = client_for(engineer)
    url = f"/api/v1/service-work-orders/{wo.pk}/transitions"
    version = wo.version

    def post(**body: Any) -> Any:
        return c.post(url, {"version": version, **body}, content_type="application/json")

    for action in ("accept", "arrive"):
        r = post(action=action)
        assert r.status_code == 200, r.content
        version = r.json()["version"]
    r = post(action="save", fields=DONE)
    assert r.status_code == 200, r.content
    version = r.json()["version"]
    assert post(action="save", fields={"diagnosis": 5}).status_code == 422
    assert post(action="use_part", part_id=spares.part.pk, quantity="NaN").status_code == 422
    r = post(action="use_part", part_id=spares.part.pk, quantity=1)
    assert r.status_code == 200 and r.json()["parts_used"][0]["code"] == "PS-01", r.content
    version = r.json()["version"]
    r = post(action="sign_off", signer_name="李", signature=_png())
    assert r.status_code == 200, r.content
    version = r.json()["version"]
    r = post(action="close", is_complaint=False, note="routine")
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert post(action="close", is_complaint=False, note="again").status_code == 409
    assert c.get(f"/api/v1/service-work-orders/{wo.pk}").json()["closed_at"]


@pytest.mark.req("SVC-9")
@pytest.mark.req("PLAT-11")
def test_the_archive_and_the_history_keep_the_customer_contact_to_those_allowed(
    world: Any,
    cs_user: Any,
    manager: Any,
    engineer: Any,
    qualified: Any,
    make_user: Any,
    client_for: Any,
) -> None:
    wo = on_site(world, cs_user, manager, engineer)
    wo = save_fields(wo, by=engineer, version=wo.version, values=DONE)
    wo = sign_off(wo, by=engineer, version=wo.version, signer_name="李护士长", signature=_png())
    wo = close_work_order(wo, by=engineer, version=wo.version, is_complaint=False, note="磨损")
    assert "13800000001" in wo.archive["contact"]
    quality = make_user("q-archive", "quality")  # reads work orders, not contact data
    archive_url = reverse("service:workorder_archive", args=[wo.pk])
    page = client_for(quality).get(archive_url).content.decode()
    assert "13800000001" not in page and "***" in page and wo.archive["serial"] in page
    page = client_for(cs_user).get(archive_url).content.decode()
    assert "13800000001" in page
    # the history of the work order: the archive masked for quality, readable for the others
    detail = reverse("service:workorder_detail", args=[wo.pk])
    page = client_for(quality).get(detail, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "13800000001" not in page
    page = client_for(cs_user).get(detail, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "13800000001" in page and "serial number: " + wo.archive["serial"] in page
    assert '"serial":' not in page  # not the stored JSON


@pytest.mark.req("SVC-11", "PLAT-1")
def test_the_complaint_a_work_order_opened_is_named_only_to_who_may_view_it(
    world: Any,
    cs_user: Any,
    manager: Any,
    engineer: Any,
    qualified: Any,
    client_for: Any,
    make_user: Any,
) -> None:
    """The request page, the work order page (its sign-off card and its history) link and
    name the complaint a closed work order opened only for a user who may view that complaint
    (core.permissions.scope_for_user); a reader of every service request and work order who
    may read no complaint sees neither its number nor its link."""
    from django.contrib.auth.models import Permission

    from medvigil.accounts.models import Role

    wo = on_site(world, cs_user, manager, engineer)
    wo = save_fields(wo, by=engineer, version=wo.version, values=DONE)
    wo = sign_off(wo, by=engineer, version=wo.version, signer_name="李护士长", signature=_png())
    wo = close_work_order(wo, by=engineer, version=wo.version, is_complaint=True, note="漂移")
    fb = wo.complaint
    assert fb is not None
    role = Role.objects.create(code="service-reader", name_zh="售后只读", name_en="Service reader")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="service",
            codename__in=["view_servicerequest", "view_workorder", "view_all_servicerequest"],
        )
    )
    reader = make_user("service-reader", "service-reader")
    assert reader.has_perm("service.view_workorder")
    assert not reader.has_perm("complaints.view_feedback")
    pages = [
        reverse("service:request_detail", args=[wo.request_id]),
        reverse("service:workorder_detail", args=[wo.pk]),
    ]
    for url in pages:
        page = client_for(reader).get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200
        body = page.content.decode()
        assert fb.number not in body and fb.get_absolute_url() not in body, url
        page = client_for(cs_user).get(url, HTTP_ACCEPT_LANGUAGE="en")
        body = page.content.decode()
        assert fb.number in body and f'href="{fb.get_absolute_url()}"' in body, url


@pytest.mark.req("SVC-3")
def test_the_service_manager_reads_the_installed_base_as_the_engineers_do(
    world: Any, manager: Any, engineer: Any, client_for: Any
) -> None:
    """accounts.defaults.ROLE_BASES: outside the service app the service manager has an
    engineer's rights — the units, customers and installations the requests are about."""
    for perm in ("trace.view_unit", "trace.view_customer", "trace.view_installation"):
        assert engineer.has_perm(perm) and manager.has_perm(perm), perm
    page = client_for(manager).get(world.a_units[0].get_absolute_url())
    assert page.status_code == 200
