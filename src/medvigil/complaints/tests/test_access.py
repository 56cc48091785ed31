"""PLAT-1, PLAT-11, FBK-1: who sees which feedback. Sales staff and dealers see only their own
customers' records (the customers they own in trace, as customer, end user or dealer, and what
they recorded themselves); an outsider sees nothing; the role grants follow seed 003's roles;
contact and patient data are masked in pages, history and exports without the permission."""

from __future__ import annotations

from typing import Any

import pytest

from medvigil.complaints.models import Feedback
from medvigil.complaints.services import intake
from medvigil.core.permissions import scope_for_user

from .conftest import complaint_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_customers(world: Any, cs_user: Any, make_user: Any) -> dict[str, Any]:
    sales_a = make_user("sales_a", "sales", department="sales")
    dealer_user = make_user("dealer_d1", "sales")
    world.hospital.owner = sales_a
    world.hospital.save()
    world.dealer.owner = dealer_user
    world.dealer.save()
    on_h1 = intake.register_feedback(
        by=cs_user, customer=world.hospital, **complaint_data(title="H1 complaint")
    )
    on_h2 = intake.register_feedback(
        by=cs_user, customer=world.hospital2, **complaint_data(title="H2 complaint")
    )
    via_dealer = intake.register_feedback(
        by=cs_user, unit=world.a_units[1], **complaint_data(title="dealer chain complaint")
    )
    return {
        "sales_a": sales_a,
        "dealer": dealer_user,
        "on_h1": on_h1,
        "on_h2": on_h2,
        "via_dealer": via_dealer,
    }


@pytest.mark.req("FBK-1", "PLAT-1")
def test_sales_sees_only_own_customers(two_customers: Any, client_for: Any) -> None:
    t = two_customers
    c = client_for(t["sales_a"])
    # H1 is the end user of unit A2 too (sold through the dealer)
    assert set(scope_for_user(t["sales_a"], Feedback)) == {t["on_h1"], t["via_dealer"]}
    assert c.get(t["on_h1"].get_absolute_url()).status_code == 200
    assert c.get(t["on_h2"].get_absolute_url()).status_code in (403, 404)
    page = c.get("/complaints/").content.decode()
    assert "H1 complaint" in page and "H2 complaint" not in page
    api = c.get("/api/v1/complaints").json()
    assert {i["title"] for i in api["items"]} == {"H1 complaint", "dealer chain complaint"}
    assert c.get(f"/api/v1/complaints/{t['on_h2'].pk}").status_code in (403, 404)


@pytest.mark.req("FBK-1", "PLAT-1")
def test_dealer_sees_complaints_on_units_it_sold(two_customers: Any, client_for: Any) -> None:
    t = two_customers
    assert t["via_dealer"].dealer is not None
    assert set(scope_for_user(t["dealer"], Feedback)) == {t["via_dealer"]}
    c = client_for(t["dealer"])
    assert c.get(t["on_h1"].get_absolute_url()).status_code in (403, 404)


@pytest.mark.req("FBK-1", "PLAT-1")
def test_sales_sees_what_they_recorded(world: Any, sales_user: Any) -> None:
    fb = intake.register_feedback(by=sales_user, **complaint_data(channel="sales"))
    assert set(scope_for_user(sales_user, Feedback)) == {fb}


@pytest.mark.req("PLAT-1")
def test_outsider_sees_nothing(two_customers: Any, outsider: Any, client_for: Any) -> None:
    c = client_for(outsider)
    assert c.get("/complaints/").status_code == 403
    assert c.get(two_customers["on_h1"].get_absolute_url()).status_code in (403, 404)
    assert c.get("/api/v1/complaints").status_code == 403


@pytest.mark.req("PLAT-1")
def test_role_grants_follow_the_seed_roles(make_user: Any) -> None:
    cs = make_user("cs2", "customer_service")
    quality = make_user("q2", "quality")
    mr = make_user("mr2", "management_rep")
    gm = make_user("gm2", "general_manager")
    sales = make_user("s2", "sales")
    auditor = make_user("a2", "auditor")
    finance = make_user("f2", "finance")
    assert cs.has_perm("complaints.add_feedback") and cs.has_perm("complaints.view_all_feedback")
    assert not cs.has_perm("complaints.approve_feedback")
    assert quality.has_perm("complaints.evaluate_feedback")
    assert not quality.has_perm("complaints.approve_feedback")
    assert mr.has_perm("complaints.approve_feedback") and gm.has_perm("complaints.approve_feedback")
    assert sales.has_perm("complaints.add_feedback")
    assert not sales.has_perm("complaints.view_all_feedback")
    assert not sales.has_perm("complaints.change_feedback")
    assert auditor.has_perm("complaints.view_feedback")
    assert not auditor.has_perm("complaints.add_feedback")
    assert auditor.has_perm("complaints.view_contact_data")
    # a wildcard never carries the sensitive permissions (PLAT-11)
    assert finance.has_perm("complaints.view_feedback")
    assert not finance.has_perm("complaints.view_contact_data")
    assert not finance.has_perm("complaints.view_patient_data")


@pytest.mark.req("PLAT-11")
def test_contact_masked_on_page_history_and_export(
    cs_user: Any, make_user: Any, client_for: Any
) -> None:
    fb = intake.register_feedback(
        by=cs_user, **complaint_data(patient_details="患者李某, 72岁, 轻度擦伤")
    )
    finance = make_user("fin", "finance", department="finance")
    c = client_for(finance)
    page = c.get(fb.get_absolute_url()).content.decode()
    assert fb.number in page
    assert "13800000009" not in page and "张护士" not in page and "李某" not in page
    c_cs = client_for(cs_user)
    page = c_cs.get(fb.get_absolute_url()).content.decode()
    assert "13800000009" in page and "李某" in page
    export = make_user("fin2", "finance")
    export.user_permissions.add(
        *__import__(
            "django.contrib.auth.models", fromlist=["Permission"]
        ).Permission.objects.filter(codename="export_feedback")
    )
    r = client_for(export).get("/complaints/?format=csv")
    body = b"".join(r.streaming_content).decode("utf-8-sig")
    assert fb.number in body and "13800000009" not in body
