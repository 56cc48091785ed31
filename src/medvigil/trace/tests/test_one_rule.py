"""One rule, one place (issue #7 items 4 and 5): the same bad input is refused with the same
message whether it comes through a page's form, the API or an import file, because all three
call the same trace.services function; and no form, prefill, dropdown or API lookup finds a
record the user's scope does not hold (PLAT-1)."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from medvigil.accounts.models import APIToken
from medvigil.core.models import ImportBatch
from medvigil.trace import services
from medvigil.trace.models import Customer, Installation, Lot, Product, Sale, Unit

from .test_imports import csv_bytes, upload

pytestmark = pytest.mark.django_db

API = "/api/v1/trace"
SALE_DAY = dt.date(2026, 3, 1)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Uploads in a scratch folder (English comes from the trace conftest)."""
    settings.MEDIA_ROOT = tmp_path / "media"


def bearer(user):
    _token, raw = APIToken.issue(user, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def user_with(make_user, name, *perms):
    """A user holding exactly these permissions (app_label.codename)."""
    user = make_user(name)
    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )
    return type(user).objects.get(pk=user.pk)


def import_messages(batch):
    assert batch.status == ImportBatch.Status.FAILED, batch.status
    return [e["msg"] for e in batch.errors_preview]


def page_text(response):
    return html.unescape(response.content.decode())


def shows(response, serial):
    """Whether the page shows `serial` as a word of its own (a random token in the page, such
    as the CSRF token, may contain the same letters)."""
    return re.search(rf"(?<![\w-]){re.escape(serial)}(?![\w-])", page_text(response)) is not None


# --- contact data (PLAT-11) -----------------------------------------------------------------


@pytest.mark.req("PLAT-11")
def test_contact_data_guard_refuses_api_import_and_service_alike(world, make_user, client):
    clerk = user_with(
        make_user,
        "clerk",
        "trace.add_customer",
        "trace.view_customer",
        "trace.add_installation",
        "trace.view_unit",
        "core.add_importbatch",
        "core.view_importbatch",
    )
    expected = str(services.CONTACT_REFUSED)
    # API: 403 with the guard's message
    r = client.post(
        f"{API}/customers",
        {"code": "C-9", "name": "New", "kind": "hospital", "phone": "021-1"},
        content_type="application/json",
        **bearer(clerk),
    )
    assert r.status_code == 403 and r.json()["error"]["message"] == expected
    # import: the same message on the contact columns, nothing written
    rows = [["客户编码", "客户名称", "客户类型", "电话"], ["C-9", "New", "医院", "021-1"]]
    batch = upload(clerk, "customers", csv_bytes(rows))
    assert import_messages(batch) == [expected]
    assert batch.errors_preview[0]["column"] == "电话"
    inst_rows = [
        ["出厂编号", "使用单位", "安装日期", "联系电话"],
        ["A2", "H-1", "2026-03-01", "13900000000"],
    ]
    assert import_messages(upload(clerk, "installations", csv_bytes(inst_rows))) == [expected]
    assert not Customer.objects.filter(code="C-9").exists()
    assert Installation.objects.filter(unit=world.a_units[1]).count() == 0
    # the service refuses a direct call too, and an edit that changes a contact
    with pytest.raises(PermissionDenied, match=expected):
        services.create_customer(by=clerk, code="C-9", name="New", kind="hospital", email="x@y")
    with pytest.raises(PermissionDenied):
        services.update_customer(world.hospital, by=clerk, phone="000")
    # without contact fields the same user may record the customer and the installation
    services.create_customer(by=clerk, code="C-9", name="New", kind="hospital")
    rows = [["出厂编号", "使用单位", "安装日期", "科室"], ["A2", "H-1", "2026-03-01", "ICU"]]
    batch = upload(clerk, "installations", csv_bytes(rows))
    assert batch.status == ImportBatch.Status.IMPORTED, batch.errors_preview


@pytest.mark.req("PLAT-11")
def test_forms_offer_no_contact_fields_to_a_user_who_may_not_write_them(
    world, make_user, client_for
):
    clerk = user_with(
        make_user, "clerk", "trace.add_installation", "trace.view_unit", "trace.view_customer"
    )
    unit = world.a_units[1]  # A2, sold on to H-1
    url = reverse("trace:installation_create", args=[unit.pk])
    c = client_for(clerk)
    assert 'name="contact_phone"' not in c.get(url).content.decode()
    r = c.post(
        url,
        {"customer": "H-1", "installed_on": "2026-03-01", "contact_phone": "139", "address": "X"},
    )
    assert r.status_code == 302, page_text(r)
    inst = Installation.objects.get(unit=unit, current=True)
    assert inst.contact_phone == "" and inst.address == world.hospital.address


# --- sales: the same refusal through form, API and import (TRC-4, TRC-2) --------------------


@pytest.mark.req("TRC-4")
def test_double_sale_refused_with_one_message_by_form_api_and_import(
    world, quality_user, client_for, client
):
    a1 = world.a_units[0]  # sold by us to D-1, sold on to H-1
    expected = services.unit_sale_problem(a1, None, SALE_DAY)
    assert expected and "already sold by us" in expected
    # form
    r = client_for(quality_user).post(
        reverse("trace:sale_create"),
        {"buyer": "H-2", "sale_date": SALE_DAY.isoformat(), "units": "A1"},
    )
    assert r.status_code == 200 and expected in page_text(r)
    # API
    r = client.post(
        f"{API}/sales",
        {"buyer_code": "H-2", "sale_date": SALE_DAY.isoformat(), "units": ["A1"]},
        content_type="application/json",
        **bearer(quality_user),
    )
    assert r.status_code == 422 and r.json()["error"]["fields"]["units"] == [expected]
    # import
    rows = [["销售日期", "购买方", "出厂编号"], [SALE_DAY.isoformat(), "H-2", "A1"]]
    assert import_messages(upload(quality_user, "sales", csv_bytes(rows))) == [expected]
    assert Sale.objects.count() == 3


@pytest.mark.req("TRC-4")
def test_unknown_serial_and_lot_named_alike_by_form_api_and_import(
    world, quality_user, client_for, client
):
    no_unit, no_lot = (
        str(services.resolve_units(["NOPE-9"], user=quality_user)[0]),
        str(services.resolve_lots(["LX-404"], user=quality_user)[0]),
    )
    assert no_unit == "No unit with serial number NOPE-9." and no_lot == "No lot LX-404."
    r = client_for(quality_user).post(
        reverse("trace:sale_create"),
        {
            "buyer": "H-2",
            "sale_date": SALE_DAY.isoformat(),
            "units": "NOPE-9",
            "lot_lines": "LX-404 2",
        },
    )
    assert no_unit in page_text(r) and no_lot in page_text(r)
    r = client.post(
        f"{API}/sales",
        {
            "buyer_code": "H-2",
            "sale_date": SALE_DAY.isoformat(),
            "units": ["NOPE-9"],
            "lots": [{"lot_number": "LX-404", "quantity": 2}],
        },
        content_type="application/json",
        **bearer(quality_user),
    )
    fields = r.json()["error"]["fields"]
    assert fields["units"] == [f"NOPE-9: {no_unit}"] and fields["lots"] == [f"LX-404: {no_lot}"]
    rows = [
        ["销售日期", "购买方", "出厂编号", "批号", "数量"],
        [SALE_DAY.isoformat(), "H-2", "NOPE-9", "", ""],
        [SALE_DAY.isoformat(), "H-2", "", "LX-404", "2"],
    ]
    assert import_messages(upload(quality_user, "sales", csv_bytes(rows))) == [no_unit, no_lot]


@pytest.mark.req("TRC-2")
def test_unlicensed_buyer_refused_alike_by_api_and_import(world, quality_user, client, make_user):
    from medvigil.trace.models import CustomerKind

    bare = services.create_customer(code="H-9", name="无证医院", kind=CustomerKind.HOSPITAL)
    b2 = world.b_units[1]
    [problem] = services.licence_problems(bare, world.pump, SALE_DAY)
    expected = f"Sale refused: {problem}"
    r = client.post(
        f"{API}/sales",
        {"buyer_code": "H-9", "sale_date": SALE_DAY.isoformat(), "units": [b2.serial]},
        content_type="application/json",
        **bearer(quality_user),
    )
    assert r.json()["error"]["fields"]["buyer_code"] == [expected]
    rows = [["销售日期", "购买方", "出厂编号"], [SALE_DAY.isoformat(), "H-9", b2.serial]]
    assert import_messages(upload(quality_user, "sales", csv_bytes(rows))) == [expected]
    assert bare.pk and not Sale.objects.filter(buyer=bare).exists()


# --- installations and units (TRC-5, TRC-3) -------------------------------------------------


@pytest.mark.req("TRC-5")
def test_installation_at_a_customer_not_holding_the_unit_alike_by_form_and_import(
    world, quality_user, client_for
):
    a3 = Unit.objects.select_related("holder").get(serial="A3")  # held by the dealer
    [expected] = services.check_installation(a3, world.hospital, SALE_DAY)["customer"]
    r = client_for(quality_user).post(
        reverse("trace:installation_create", args=[a3.pk]),
        {"customer": "H-1", "installed_on": SALE_DAY.isoformat()},
    )
    assert r.status_code == 200 and expected in page_text(r)
    rows = [["出厂编号", "使用单位", "安装日期"], ["A3", "H-1", SALE_DAY.isoformat()]]
    assert import_messages(upload(quality_user, "installations", csv_bytes(rows))) == [expected]


@pytest.mark.req("TRC-3")
def test_serial_already_recorded_alike_by_form_and_import(world, quality_user, client_for):
    expected = services.serial_recorded_message("A1", world.pump)
    r = client_for(quality_user).post(
        reverse("trace:units_add", args=[world.lot_a.pk]), {"serials": "A1\nA9"}
    )
    assert r.status_code == 200 and expected in page_text(r)
    assert not Unit.objects.filter(serial="A9").exists()
    rows = [["产品", "出厂编号"], ["P-1", "A1"]]  # no lot: no lot quantity bound
    assert import_messages(upload(quality_user, "units", csv_bytes(rows))) == [expected]


# --- forward-trace input (TRC-7) ------------------------------------------------------------


@pytest.mark.req("TRC-7")
@pytest.mark.parametrize(
    ("params", "field", "api_field"),
    [
        ({"produced_from": "2024-01-01", "produced_to": "2025-06-01"}, "produced_to", None),
        ({"lot": "LX-404"}, "lots", "lot"),
        ({"serial": "(01)06901234567892(10)L1"}, "serials", "serial"),
        ({"gtin": "123"}, "gtin", None),
    ],
)
def test_forward_trace_input_validated_alike_by_page_and_api(
    world, quality_user, client_for, client, params, field, api_field
):
    page_params = {{"lot": "lots", "serial": "serials"}.get(k, k): v for k, v in params.items()}
    with pytest.raises(services.ValidationError) as caught:
        services.validate_trace_criteria(
            user=quality_user,
            lot_numbers=[params["lot"]] if "lot" in params else (),
            serials=[params["serial"]] if "serial" in params else (),
            gtin=params.get("gtin", ""),
            produced_from=dt.date.fromisoformat(params.get("produced_from", "2024-01-01"))
            if "produced_from" in params
            else None,
            produced_to=dt.date.fromisoformat(params["produced_to"])
            if "produced_to" in params
            else None,
        )
    expected = caught.value.message_dict[field]
    r = client_for(quality_user).get(reverse("trace:trace_forward"), page_params)
    form = r.context["form"]
    assert form.errors[field] == expected
    r = client.get(f"{API}/forward", params, **bearer(quality_user))
    assert r.status_code == 422
    assert r.json()["error"]["fields"][api_field or field] == expected


# --- access: no side door (PLAT-1) ----------------------------------------------------------


@pytest.fixture
def hidden(monkeypatch, world):
    """Object rules as the domain apps will add them: this user's scope lacks the hospital
    H-2, the unit A4, the lot LB-002 and every product but P-1's twin."""

    def rule(exclude):
        return classmethod(lambda cls, user, qs: qs.exclude(**exclude))

    monkeypatch.setattr(Customer, "visible_to", rule({"code": "H-2"}), raising=False)
    monkeypatch.setattr(Unit, "visible_to", rule({"serial": "A4"}), raising=False)
    monkeypatch.setattr(Lot, "visible_to", rule({"lot_number": "LB-002"}), raising=False)
    hidden_product = services.create_product(
        code="P-HIDDEN",
        name="Hidden",
        model_spec="H",
        manufacturer="M",
        risk_class="II",
    )
    monkeypatch.setattr(Product, "visible_to", rule({"code": "P-HIDDEN"}), raising=False)
    return hidden_product


@pytest.mark.req("PLAT-1")
def test_forms_and_prefills_find_nothing_outside_the_scope(world, hidden, quality_user, client_for):
    c = client_for(quality_user)
    a4 = Unit.objects.get(serial="A4")
    lb = world.lot_b
    # prefills by id
    for url in (
        reverse("trace:sale_create") + f"?unit={a4.pk}",
        reverse("trace:return_create") + f"?unit={a4.pk}",
    ):
        r = c.get(url)
        assert r.status_code == 200 and not shows(r, "A4")
    r = c.get(reverse("trace:drill_create") + f"?lot={lb.pk}")
    assert not shows(r, "LB-002")
    # dropdowns
    for name in ("trace:lot_list", "trace:unit_list", "trace:trace_forward"):
        assert "P-HIDDEN" not in c.get(reverse(name)).content.decode(), name
    # typed in a form
    r = c.post(
        reverse("trace:sale_create"),
        {"buyer": "H-2", "sale_date": SALE_DAY.isoformat(), "units": "A4"},
    )
    text = page_text(r)
    assert "No active customer with code or name “H-2”." in text
    assert "No unit with serial number A4." in text
    r = c.get(reverse("trace:trace_forward"), {"lots": "LB-002"})
    assert r.context["form"].errors["lots"] == ["Unknown lot(s): LB-002"]
    r = c.post(reverse("trace:drill_create"), {"lot": "LB-002", "target_percent": "100"})
    assert "No lot LB-002." in page_text(r)
    # the lot's page does not list what is out of scope
    r = c.get(reverse("trace:lot_detail", args=[world.lot_a.pk]))
    assert not shows(r, "A4") and shows(r, "A3")


@pytest.mark.req("PLAT-1")
def test_api_and_import_lookups_find_nothing_outside_the_scope(world, hidden, quality_user, client):
    auth = bearer(quality_user)
    a4 = Unit.objects.get(serial="A4")
    assert client.get(f"{API}/units/lookup", {"code": "A4"}, **auth).status_code == 404
    assert client.get(f"{API}/units/{a4.pk}", **auth).status_code == 404
    assert client.get(f"{API}/lots/{world.lot_b.pk}/forward", **auth).status_code == 404
    r = client.get(f"{API}/forward", {"lot_id": world.lot_b.pk}, **auth)
    assert r.status_code == 422 and "lot" in r.json()["error"]["fields"]
    r = client.get(
        f"{API}/forward", {"product_id": hidden.pk, "produced_from": "2025-01-01"}, **auth
    )
    assert r.json()["error"]["fields"]["product_id"] == ["Unknown product."]
    r = client.post(
        f"{API}/sales",
        {
            "buyer_code": "H-2",
            "sale_date": SALE_DAY.isoformat(),
            "lots": [{"lot_id": world.lot_b.pk, "quantity": 1}],
        },
        content_type="application/json",
        **auth,
    )
    fields = r.json()["error"]["fields"]
    assert fields["buyer_code"] == ["No customer with code H-2."]
    rows = [["销售日期", "购买方", "出厂编号"], [SALE_DAY.isoformat(), "H-2", "A4"]]
    messages = import_messages(upload(quality_user, "sales", csv_bytes(rows)))
    assert "No customer matches “H-2”." in messages


@pytest.mark.req("PLAT-1")
def test_api_record_history_requires_access_to_the_record(world, hidden, make_user, client):
    reader = user_with(make_user, "reader", "core.view_auditentry", "trace.view_customer")
    url = "/api/v1/audit/records/trace.customer/{}/history"
    h1, h2 = world.hospital, world.hospital2
    r = client.get(url.format(h1.pk), **bearer(reader))
    assert r.status_code == 200 and r.json()["count"] >= 1
    # a record outside the user's scope: 404, as its page's history panel
    assert client.get(url.format(h2.pk), **bearer(reader)).status_code == 404
    # a role without the record type's view permission: 404 too (nothing to see)
    auditor_only = user_with(make_user, "auditor2", "core.view_auditentry")
    assert client.get(url.format(h1.pk), **bearer(auditor_only)).status_code == 404
    assert client.get(url.format("not-a-number"), **bearer(reader)).status_code == 404


@pytest.mark.req("PLAT-1")
def test_customer_pages_list_licences_only_to_licence_readers(world, make_user, client_for):
    number = world.hospital.licences.get().number
    reader = user_with(make_user, "reader", "trace.view_customer")
    for url in (
        reverse("trace:customer_detail", args=[world.hospital.pk]),
        reverse("trace:customer_list"),
    ):
        r = client_for(reader).get(url)
        assert r.status_code == 200 and number not in r.content.decode(), url
    licence_reader = user_with(make_user, "lic", "trace.view_customer", "trace.view_licence")
    r = client_for(licence_reader).get(reverse("trace:customer_detail", args=[world.hospital.pk]))
    assert number in r.content.decode()


@pytest.mark.req("TRC-4", "PLAT-10")
def test_a_sale_rule_refusal_in_an_import_is_read_in_the_readers_language(world, quality_user):
    from django.utils import translation

    from medvigil.core.imports import error_message

    rows = [["销售日期", "购买方", "出厂编号"], [SALE_DAY.isoformat(), "H-2", "A1"]]
    batch = upload(quality_user, "sales", csv_bytes(rows))  # checked in English
    assert "already sold by us" in import_messages(batch)[0]
    with translation.override("zh-hans"):
        shown = error_message(batch.errors_preview[0])
    assert "already sold by us" not in shown and "A1" in shown
