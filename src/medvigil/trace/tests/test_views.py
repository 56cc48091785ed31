"""Pages: rendering, access (owner role / other role / outsider / auditor), contact masking,
form errors, My-work warnings and pinned query counts (TRC-1 … TRC-8, PLAT-1, PLAT-11)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from medvigil.conftest import PASSWORD
from medvigil.core.registry import work_for
from medvigil.trace import services
from medvigil.trace.models import (
    Customer,
    LicenceKind,
    Product,
    Sale,
    TraceDrill,
    Unit,
    UnitStatus,
)
from medvigil.trace.work import deadline_source

from .conftest import customer, dealer, hospital, lot, make_gtin, product, units


def _urls(w):
    return [
        reverse("trace:product_list"),
        reverse("trace:product_detail", args=[w.pump.pk]),
        reverse("trace:customer_list"),
        reverse("trace:customer_detail", args=[w.hospital.pk]),
        reverse("trace:licence_detail", args=[w.hospital.licences.first().pk]),
        reverse("trace:lot_list"),
        reverse("trace:lot_detail", args=[w.lot_a.pk]),
        reverse("trace:unit_list"),
        reverse("trace:unit_detail", args=[w.a_units[0].pk]),
        reverse("trace:sale_list"),
        reverse("trace:sale_detail", args=[w.sale2.pk]),
        reverse("trace:return_list"),
        reverse("trace:trace_forward") + "?lots=LA-001",
        reverse("trace:trace_backward"),
        reverse("trace:drill_list"),
    ]


WRITE_URLS = [
    ("trace:product_create", []),
    ("trace:customer_create", []),
    ("trace:sale_create", []),
    ("trace:return_create", []),
    ("trace:drill_create", []),
]


@pytest.mark.req("TRC-7", "PLAT-1")
def test_every_page_renders_for_quality(world, client_for, quality_user):
    c = client_for(quality_user)
    for url in _urls(world) + [reverse(n, args=a) for n, a in WRITE_URLS]:
        r = c.get(url)
        assert r.status_code == 200, url
    home = c.get(reverse("home"))
    assert reverse("trace:unit_list") in home.content.decode()  # navigation


@pytest.mark.req("PLAT-1")
def test_outsider_is_refused_everywhere(world, client_for, outsider):
    c = client_for(outsider)
    for url in _urls(world) + [reverse(n, args=a) for n, a in WRITE_URLS]:
        assert c.get(url).status_code == 403, url


@pytest.mark.req("PLAT-1", "TRC-4")
def test_auditor_reads_but_cannot_write(world, client_for, auditor):
    c = client_for(auditor)
    for url in _urls(world):
        assert c.get(url).status_code == 200, url
    for name, args in WRITE_URLS:
        assert c.get(reverse(name, args=args)).status_code == 403
    r = c.post(
        reverse("trace:sale_create"),
        {"buyer": world.hospital2.code, "sale_date": "2026-03-01", "units": "A4"},
    )
    assert r.status_code == 403
    r = c.post(reverse("trace:sale_void", args=[world.sale3.pk]), {"reason": "x"})
    assert r.status_code == 403
    r = c.post(reverse("trace:product_edit", args=[world.pump.pk]), {"name": "x"})
    assert r.status_code == 403
    assert Sale.objects.count() == 3 and Product.objects.get().name == "输液泵"


@pytest.mark.req("PLAT-11", "TRC-2")
def test_contacts_masked_on_pages_for_role_without_permission(world, client_for, make_user):
    tech = make_user("tech", "technical")
    assert not tech.has_perm("trace.view_contact_data") and tech.has_perm("trace.view_customer")
    c = client_for(tech)
    for url in (
        reverse("trace:customer_detail", args=[world.hospital.pk]),
        reverse("trace:customer_list"),
        reverse("trace:unit_detail", args=[world.a_units[0].pk]),
        reverse("trace:trace_forward") + "?lots=LA-001",
        reverse("trace:sale_detail", args=[world.sale2.pk]),
    ):
        body = c.get(url).content.decode()
        assert "13800000001" not in body and "021-5555-0101" not in body, url
        assert world.hospital.address not in body, url
    # the contact fields are not even offered on the edit form... of a role that may edit
    sales = make_user("seller", "sales")
    body = client_for(sales).get(reverse("trace:customer_detail", args=[world.hospital.pk]))
    assert "021-5555-0101" in body.content.decode()


@pytest.mark.req("PLAT-11")
def test_customer_edit_without_contact_permission_keeps_contacts(world, client_for, make_user):
    from django.contrib.auth.models import Permission

    from medvigil.accounts.models import Role

    role = Role.objects.create(code="masterdata", name_zh="主数据", name_en="Master data")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="trace", codename__in=["view_customer", "change_customer"]
        )
    )
    user = make_user("md", "masterdata")
    c = client_for(user)
    form = c.get(reverse("trace:customer_edit", args=[world.hospital.pk])).content.decode()
    assert 'name="phone"' not in form and 'name="address"' not in form
    r = c.post(
        reverse("trace:customer_edit", args=[world.hospital.pk]),
        {
            "code": world.hospital.code,
            "name": "上海第一人民医院（北院）",
            "kind": "hospital",
            "active": "on",
            "version": world.hospital.version,
        },
    )
    assert r.status_code == 302
    h = Customer.objects.get(pk=world.hospital.pk)
    assert h.name.endswith("（北院）") and h.phone == "021-5555-0101"


@pytest.mark.req("TRC-1")
def test_product_form_shows_gtin_error_and_saves(db, client_for, quality_user):
    c = client_for(quality_user)
    data = {
        "code": "P-9",
        "name": "监护仪",
        "model_spec": "M-9",
        "manufacturer": "医械科技",
        "risk_class": "II",
        "gtin": "06901234567893",
        "tracking": "serial",
        "warranty_months": 12,
        "active": "on",
    }
    r = c.post(reverse("trace:product_create"), data)
    assert r.status_code == 200 and "check digit" in r.content.decode()
    assert not Product.objects.exists()
    data["gtin"] = make_gtin(9)
    r = c.post(reverse("trace:product_create"), data)
    assert r.status_code == 302
    p = Product.objects.get()
    r = c.post(reverse("trace:product_edit", args=[p.pk]), {**data, "name": "新", "version": 0})
    assert r.status_code == 200 and "changed by someone else" in r.content.decode()


@pytest.mark.req("TRC-4", "TRC-3")
def test_sale_form_scans_and_refuses_unlicensed_buyer(world, client_for, quality_user):
    c = client_for(quality_user)
    clinic = customer("C-1", "hospital", name="无证诊所")
    scan = f"]d201{world.pump.gtin}10LA-001<GS>21A4"
    r = c.post(
        reverse("trace:sale_create"),
        {"buyer": clinic.code, "sale_date": "2026-03-01", "units": scan},
    )
    assert r.status_code == 200
    body = r.content.decode()
    assert "医疗机构执业许可证" in body and "无证诊所" in body
    r = c.post(
        reverse("trace:sale_create"),
        {"buyer": f"{world.hospital2.code} — x", "sale_date": "2026-03-01", "units": scan},
    )
    assert r.status_code == 302
    assert Unit.objects.get(serial="A4").status == UnitStatus.SOLD
    r = c.post(reverse("trace:sale_preview"), {"units": f"{scan}\nNOPE\n"})
    assert "No unit with serial number NOPE" in r.content.decode()
    # a real group separator (ASCII 29) inside a scanned line is not a line break
    real_gs = f"]d201{world.pump.gtin}10LB-002\x1d21B2"
    r = c.post(reverse("trace:sale_preview"), {"units": f"{real_gs}\r\n"})
    assert "1 unit recognised" in r.content.decode()
    r = c.post(
        reverse("trace:sale_create"),
        {"buyer": world.hospital2.code, "sale_date": "2026-03-01", "units": real_gs + "\n"},
    )
    assert r.status_code == 302
    assert Unit.objects.get(serial="B2").holder == world.hospital2
    r = c.post(reverse("trace:unit_scan"), {"scan": "(01)123"})
    assert "Not a valid UDI" in r.content.decode()


@pytest.mark.req("TRC-5", "TRC-6")
def test_install_accept_and_return_pages(world, client_for, quality_user):
    c = client_for(quality_user)
    a2 = world.a_units[1]
    r = c.post(
        reverse("trace:installation_create", args=[a2.pk]),
        {"customer": world.hospital.code, "installed_on": "2026-02-10", "department": "急诊"},
    )
    assert r.status_code == 302, r.content.decode()[-2000:]
    inst = a2.installations.get(current=True)
    r = c.post(
        reverse("trace:installation_accept", args=[inst.pk]),
        {"accepted_on": "2026-02-12", "version": inst.version},
    )
    inst.refresh_from_db()
    assert inst.warranty_end == dt.date(2028, 2, 12)
    page = c.get(reverse("trace:unit_detail", args=[a2.pk])).content.decode()
    assert "2028-02-12" in page
    r = c.post(
        reverse("trace:return_create"),
        {
            "unit": "A2",
            "returned_by": world.hospital.code,
            "returned_to": world.dealer.code,
            "return_date": "2026-02-20",
            "reason": "屏幕故障",
            "disposition": "pending",
        },
    )
    assert r.status_code == 302
    assert Unit.objects.get(pk=a2.pk).holder == world.dealer
    r = c.post(
        reverse("trace:return_create"),
        {
            "unit": "A2",
            "returned_by": world.hospital.code,
            "return_date": "2026-02-20",
            "reason": "x",
            "disposition": "pending",
        },
    )
    assert r.status_code == 200 and "not held by" in r.content.decode()


@pytest.mark.req("TRC-7")
def test_forward_trace_page_and_exports(world, client_for, quality_user, make_user):
    c = client_for(quality_user)
    r = c.get(reverse("trace:trace_forward"), {"lots": "LA-001"})
    body = r.content.decode()
    assert 'id="unit-count">4<' in body and world.dealer.name in body
    r = c.get(reverse("trace:trace_forward"), {"lots": "LA-001", "format": "xlsx"})
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    r = c.get(reverse("trace:trace_forward"), {"lots": "NOPE"})
    assert "Unknown lot" in r.content.decode()
    r = c.get(reverse("trace:trace_forward"), {"produced_from": "2020-01-01"})
    assert "at most one year" in r.content.decode()
    tech = client_for(make_user("tech", "technical"))
    r = tech.get(reverse("trace:trace_forward"), {"lots": "LA-001", "format": "csv"})
    assert r.status_code == 403
    r = c.get(reverse("trace:trace_backward"), {"scan": f"(01){world.pump.gtin}(21)B1"})
    assert r.status_code == 302 and r["Location"] == world.b_units[0].get_absolute_url()
    r = c.get(reverse("trace:unit_export", args=[world.a_units[0].pk]))
    assert world.sale2.number in b"".join(r.streaming_content).decode("utf-8-sig")


@pytest.mark.req("TRC-8")
def test_drill_pages(world, client_for, quality_user):
    c = client_for(quality_user)
    r = c.post(reverse("trace:drill_create"), {"lot": "LA-001", "target_percent": "100"})
    assert r.status_code == 302
    page = c.get(r["Location"]).content.decode()
    assert "75.00 %" in page and "A3" in page
    url = r["Location"] + "complete/"
    # the one signed_action: refused → 400 page with the dialog open, htmx → the dialog (200)
    r = c.post(url, {"password": "wrong", "comment": "x", "version": 1})
    assert r.status_code == 400 and "data-autoshow" in r.content.decode()
    r = c.post(url, {"password": "wrong", "comment": "x", "version": 1}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "drill-sign-form" in r.content.decode()
    drill = TraceDrill.objects.get()
    data = {"password": PASSWORD, "comment": "done", "version": drill.version}
    r = c.post(url, data, HTTP_HX_REQUEST="true")
    assert r.status_code == 204 and r["HX-Redirect"] == url.removesuffix("complete/")


# --- My work (TRC-1, TRC-2) ------------------------------------------------------------------


@pytest.mark.req("TRC-2")
def test_expiring_licence_on_the_owners_work_list(db, make_user, quality_user):
    owner = make_user("owner", "sales")
    other = make_user("other", "sales")
    today = timezone.localdate()
    h = customer("H-5", "hospital", name="到期医院", owner=owner)
    services.add_licence(
        customer=h,
        kind=LicenceKind.PRACTICE,
        number="PX-1",
        expires_on=today + dt.timedelta(days=20),
    )
    titles = [w.title for w in work_for(owner)]
    assert any("到期医院" in t for t in titles)
    assert not any("到期医院" in t for t in (w.title for w in work_for(other)))
    assert not any("到期医院" in t for t in (w.title for w in work_for(quality_user)))
    # renewed: the warning goes away
    services.add_licence(
        customer=h,
        kind=LicenceKind.PRACTICE,
        number="PX-2",
        expires_on=today + dt.timedelta(days=2000),
    )
    assert not any("到期医院" in w.title for w in work_for(owner))


@pytest.mark.req("TRC-1")
def test_registration_expiry_warning_for_quality_and_deadline(db, quality_user, make_user):
    today = timezone.localdate()
    p = product(
        "P-4", registration_number="国械注准2021", registration_expiry=today + dt.timedelta(days=90)
    )
    product("P-5", registration_expiry=today + dt.timedelta(days=900))
    items = [w for w in work_for(quality_user) if w.kind == "registration"]
    assert [i.title for i in items] == ["Registration certificate 国械注准2021 expires"]
    assert not [w for w in work_for(make_user("s", "sales")) if w.kind == "registration"]
    deadlines = list(deadline_source(timezone.now()))
    reg = [d for d in deadlines if d.key.startswith("trace:registration:")]
    assert [d.key for d in reg] == [f"trace:registration:{p.pk}:{p.registration_expiry}"]
    assert quality_user in reg[0].users


# --- query counts ----------------------------------------------------------------------------


def _more_world():
    pump = Product.objects.get(code="P-1")
    extra = lot(pump, "LC-003", quantity=30)
    units(pump, extra, [f"C{i:03d}" for i in range(30)])
    for i in range(15):
        c = dealer(f"D-{i + 10}") if i % 2 else hospital(f"H-{i + 10}")
        services.add_licence(customer=c, kind=LicenceKind.BUSINESS, number=f"B{i}")
    for i in range(10):
        u = Unit.objects.get(serial=f"C{i:03d}")
        services.create_sale(
            seller=None,
            buyer=Customer.objects.get(code="H-10"),
            sale_date=dt.date(2026, 2, 1),
            lines=[services.LineInput(unit=u)],
        )


LIST_PAGES = [
    "trace:product_list",
    "trace:customer_list",
    "trace:lot_list",
    "trace:unit_list",
    "trace:sale_list",
    "trace:return_list",
    "trace:drill_list",
]


@pytest.mark.req("TRC-7")
@pytest.mark.parametrize("name", LIST_PAGES)
def test_list_query_counts_are_pinned(
    name, world, client_for, quality_user, django_assert_max_num_queries
):
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0), tick=False):
        _more_world()
    c = client_for(quality_user)
    c.get(reverse(name))  # warm caches (content types, sessions)
    with django_assert_max_num_queries(16):
        r = c.get(reverse(name))
    assert r.status_code == 200


@pytest.mark.req("TRC-7")
def test_unit_and_trace_pages_query_counts(
    world, client_for, quality_user, django_assert_max_num_queries
):
    c = client_for(quality_user)
    url = reverse("trace:trace_forward") + "?lots=LA-001"
    c.get(url)
    with django_assert_max_num_queries(24):
        c.get(url)
    url = reverse("trace:unit_detail", args=[world.a_units[0].pk])
    c.get(url)
    with django_assert_max_num_queries(40):
        c.get(url)


@pytest.mark.req("TRC-3")
def test_list_filters_with_numbers_beyond_any_id_are_ignored_not_500(
    world, client_for, quality_user
):
    c = client_for(quality_user)
    for name in ("trace:unit_list", "trace:lot_list"):
        for value in ("99999999999999999999999", str(2**63), "-" + "9" * 30, "0"):
            for param in ("product", "holder"):
                r = c.get(reverse(name), {param: value})
                assert r.status_code == 200, (name, param, value, r.status_code)
