"""Issue #8, item 4: what trace pages, exports and the API show a reader — in Chinese as in
English — when scanning, adding units, running drills and reading expiries (TRC-2, TRC-3,
TRC-7, TRC-8)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from openpyxl import load_workbook

from medvigil.accounts.models import APIToken
from medvigil.core.imports import create_batch, error_message
from medvigil.core.models import ImportBatch
from medvigil.core.registry import work_for
from medvigil.trace import services
from medvigil.trace.models import LicenceKind, TraceDrill, Unit, located_share
from medvigil.trace.udi import UdiError, parse_udi

from .conftest import customer, lot, make_gtin, product, units

CJK = re.compile(r"[\u4e00-\u9fff]")
# Words of biip's own error texts: none may reach a reader.
BIIP_WORDS = ("Failed", "Invalid GTIN", "Expected", "pattern", "Application Identifier")

GTIN = make_gtin(1)
WRONG = GTIN[:-1] + str((int(GTIN[-1]) + 1) % 10)

# One bad input per kind of biip error, and the code of our message for it.
BAD_UDIS = [
    (f"01{WRONG}", "gtin_check_digit"),
    (f"(01){WRONG}(21)X", "gtin_check_digit"),
    (f"01{GTIN}17271399", "date"),  # month 13: fails biip's pattern
    (f"(01){GTIN}(17)270231(21)X", "date"),  # 31 February: fails biip's date parse
    (f"(01){GTIN}(11)251301", "date"),
    ("(01)12", "gtin_length"),
    ("(01)0690123456789A", "gtin_length"),
    ("(0)12", "unknown_ai"),
    ("garbage!", "unknown_ai"),
    (f"01{GTIN}(21)X", "unknown_ai"),
    (f"01{GTIN}172712311" + "0", "ai_value"),  # (10) without data
    ("00157035381410375177", "no_gtin"),
]


def _zh(user_factory, name="zh_quality"):
    return user_factory(name, "quality", department="quality", language="zh-hans")


# --- biip's errors become our translatable messages (TRC-3) -------------------------------


@pytest.mark.req("TRC-3")
@pytest.mark.parametrize(("value", "code"), BAD_UDIS)
def test_every_biip_error_maps_to_our_message(value, code):
    with pytest.raises(UdiError) as info:
        parse_udi(value)
    err = info.value
    assert err.code == code, (value, str(err))  # not the generic fallback
    assert isinstance(err.msgid, Promise)  # untranslated until read: kept with its params
    assert err.message == str(err)  # the text as callers always had it
    assert "%(" not in str(err)  # parameters filled in
    with translation.override("zh-hans"):
        zh = str(err)
    assert CJK.search(zh), zh
    assert not any(word in zh for word in BIIP_WORDS), zh
    with translation.override("en"):
        assert not any(word in str(err) for word in BIIP_WORDS), str(err)


@pytest.mark.req("TRC-3")
def test_message_parameters_name_the_faulty_part():
    with pytest.raises(UdiError) as info:
        parse_udi(f"(01){WRONG}(21)X")
    assert info.value.params == {"gtin": WRONG, "expected": GTIN[-1]}
    assert "check digit of GTIN " + WRONG in str(info.value)
    with pytest.raises(UdiError) as info:
        parse_udi(f"(01){GTIN}(17)270231(21)X")
    assert info.value.params == {"value": "270231", "ai": "17"}
    with pytest.raises(UdiError) as info:
        parse_udi("(0)12")
    assert info.value.params == {"ai": "0"}
    # Kept as lazy text (an import's error rows), it renders in whoever reads it's language.
    kept = info.value.lazy_text
    with translation.override("zh-hans"):
        assert str(kept) == "无效的 UDI：未知的应用标识符 (0)。"
    with translation.override("en"):
        assert str(kept) == "Not a valid UDI: unknown application identifier (0)."
    # A form shows the same message: the ValidationError carries message and params.
    err = info.value.validation_error()
    assert err.params == {"ai": "0"} and err.messages == [str(info.value)]


@pytest.fixture
def scan_world(db, quality_user):
    pump = product("P-1")
    glove = product("P-2", tracking="lot")
    pump_lot = lot(pump, "L1", quantity=3)
    glove_lot = lot(glove, "G1", quantity=500)
    made = units(pump, pump_lot, ["SN1", "SN2"])
    return pump, pump_lot, glove, glove_lot, made


@pytest.mark.req("TRC-3")
def test_failed_scan_in_unit_search_shows_the_reason_in_chinese_and_no_list(
    scan_world, client_for, make_user
):
    c = client_for(_zh(make_user))
    r = c.get(reverse("trace:unit_list"), {"q": f"(01){WRONG}(21)SN1"})
    page = r.content.decode()
    assert r.status_code == 200
    assert "GTIN " + WRONG + " 的校验位错误" in page
    assert 'id="scan-error"' in page
    assert 'id="unit-table"' not in page and "SN2" not in page  # not the whole unit list
    assert not any(word in page for word in BIIP_WORDS)
    # a valid UDI of no recorded unit: also no list
    r = c.get(reverse("trace:unit_list"), {"q": f"(01){GTIN}(21)SN9"})
    assert 'id="unit-table"' not in r.content.decode() and "SN9" in r.content.decode()


@pytest.mark.req("TRC-3", "TRC-7")
def test_backward_trace_and_api_speak_chinese(scan_world, client_for, make_user, client):
    c = client_for(_zh(make_user))
    r = c.get(reverse("trace:trace_backward"), {"scan": f"(01){GTIN}(17)271399(21)SN1"})
    assert "(17) 中的日期 271399 不是有效日期" in r.content.decode()
    _token, raw = APIToken.issue(make_user("api_q", "quality"), "t")
    r = client.get(
        "/api/v1/trace/units/lookup",
        {"code": f"(01){WRONG}(21)SN1"},
        HTTP_AUTHORIZATION=f"Bearer {raw}",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert r.status_code == 422
    message = r.json()["error"]["fields"]["code"][0]
    assert "校验位错误" in message and not any(word in message for word in BIIP_WORDS)


@pytest.mark.req("TRC-3")
def test_import_error_report_has_no_biip_english(scan_world, make_user):
    rows = [["UDI", "Serial number"], [f"(01){WRONG}(21)SN7", "SN7"]]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    batch = create_batch(
        user=_zh(make_user),  # the import runs in its user's language
        kind="units",
        uploaded=SimpleUploadedFile("u.csv", buf.getvalue().encode()),
    )
    assert batch.status == ImportBatch.Status.FAILED
    # Stored language-neutral and read in the reader's language (PLAT-6): a Chinese reader.
    with translation.override("zh-hans"):
        shown = " ".join(error_message(e) for e in batch.errors_preview)
    assert "校验位错误" in shown and not any(word in shown for word in BIIP_WORDS)


@pytest.mark.req("TRC-3")
def test_lot_label_in_unit_search_and_backward_trace_opens_the_lot(
    scan_world, client_for, quality_user
):
    _pump, _pump_lot, glove, glove_lot, _made = scan_world
    c = client_for(quality_user)
    label = f"(01){glove.gtin}(17)300101(10)G1"
    r = c.get(reverse("trace:unit_list"), {"q": label})
    assert r.status_code == 302 and r["Location"] == glove_lot.get_absolute_url()
    r = c.get(reverse("trace:trace_backward"), {"scan": label})
    assert r.status_code == 302 and r["Location"] == glove_lot.get_absolute_url()
    # a lot that does not exist: the reason, not a list
    r = c.get(reverse("trace:unit_list"), {"q": f"(01){glove.gtin}(10)G9"})
    assert "No lot G9" in r.content.decode() and 'id="unit-table"' not in r.content.decode()


# --- Add units: scanned labels, and the lot's quantity produced (TRC-3) -------------------


@pytest.mark.req("TRC-3")
def test_add_units_takes_a_scanned_udi_of_the_lot(scan_world, client_for, quality_user):
    pump, pump_lot, glove, _glove_lot, _made = scan_world
    c = client_for(quality_user)
    url = reverse("trace:units_add", args=[pump_lot.pk])
    page = c.get(url).content.decode()
    assert "quantity produced 3, 2 units recorded, 1 more can be added" in page
    assert "&lt;GS&gt;" in page  # the scan hint, escaped
    # a label of another product, and one of another lot: refused with the reason
    r = c.post(url, {"serials": f"(01){glove.gtin}(21)X1\n(01){pump.gtin}(10)L2(21)X2"})
    text = r.content.decode()
    assert r.status_code == 200
    assert "is not the product" in text and "not lot L1" in text
    assert not Unit.objects.filter(serial__in=["X1", "X2"]).exists()
    # the scanner's own form: symbology identifier, group separator typed as <GS>
    r = c.post(url, {"serials": f"]d201{pump.gtin}10L1<GS>21SN3"})
    assert r.status_code == 302, r.content.decode()
    assert Unit.objects.get(serial="SN3").lot == pump_lot


@pytest.mark.req("TRC-3")
def test_lot_refuses_more_units_than_produced_in_form_import_and_service(
    scan_world, client_for, quality_user
):
    pump, pump_lot, _glove, _glove_lot, _made = scan_world
    c = client_for(quality_user)
    url = reverse("trace:units_add", args=[pump_lot.pk])
    r = c.post(url, {"serials": "SN3\nSN4"})
    text = r.content.decode()
    assert r.status_code == 200
    assert "produced in a quantity of 3 and 2 of its units are recorded" in text
    assert "2 more would make 4" in text
    assert not Unit.objects.filter(serial__in=["SN3", "SN4"]).exists()
    # the importer: the row that overfills the lot is refused, the file changes nothing
    buf = io.StringIO()
    csv.writer(buf).writerows(
        [["Product", "Serial number", "Lot number"], ["P-1", "SN3", "L1"], ["P-1", "SN4", "L1"]]
    )
    batch = create_batch(
        user=quality_user,
        kind="units",
        uploaded=SimpleUploadedFile("u.csv", buf.getvalue().encode()),
    )
    assert batch.status == ImportBatch.Status.FAILED
    assert [(e["row"], e["column"]) for e in batch.errors_preview] == [(3, "Lot number")]
    assert "more would make 4" in batch.errors_preview[0]["msg"]
    problem = services.over_quantity(pump_lot, recorded=2, adding=2)
    with translation.override("zh-hans"):
        assert "再添加 2 件将达到 4 件" in str(problem)
    assert Unit.objects.filter(lot=pump_lot).count() == 2
    # the service itself (any caller), and the lot's quantity cannot drop below its units
    with pytest.raises(services.ValidationError):
        services.create_units(
            [services.build_unit(product=pump, lot=pump_lot, serial=s) for s in ("S5", "S6")]
        )
    with pytest.raises(services.ValidationError) as info:
        services.update_lot(pump_lot, quantity=1, version=pump_lot.version)
    assert "quantity" in info.value.message_dict
    # exactly the quantity produced is fine; a lot without a quantity has no bound
    services.create_units([services.build_unit(product=pump, lot=pump_lot, serial="SN3")])
    free = lot(pump, "L0")
    services.create_units(
        [services.build_unit(product=pump, lot=free, serial=f"F{n}") for n in range(5)]
    )


@pytest.mark.req("TRC-4")
def test_sale_form_scan_hint_shows_gs_as_text(db, client_for, quality_user):
    page = client_for(quality_user).get(reverse("trace:sale_create")).content.decode()
    hint = page[page.index('id="scan-hint"') :][:300]
    assert "“&lt;GS&gt;”" in hint and "<GS>" not in hint


# --- drills: share rounded half up, history readable (TRC-8) ------------------------------


@pytest.mark.req("TRC-8")
def test_located_share_rounds_half_up_and_never_claims_the_whole():
    assert located_share(10, 11) == Decimal("90.91")  # was 90.90 (rounded down)
    assert located_share(2, 3) == Decimal("66.67")
    assert located_share(1, 8) == Decimal("12.50")
    assert located_share(19_999, 20_000) == Decimal("99.99")  # 99.995 is not 100 %
    assert located_share(5, 5) == Decimal("100.00") and located_share(0, 0) == Decimal("0.00")
    drill = TraceDrill(located_units=10, total_units=11, target_percent=Decimal("90.91"))
    assert drill.located_percent == Decimal("90.91") and not drill.target_met
    drill.target_percent = Decimal("90.90")
    assert drill.target_met
    assert not TraceDrill(
        located_units=19_999, total_units=20_000, target_percent=Decimal(100)
    ).target_met


@pytest.mark.req("TRC-8")
def test_drill_history_shows_the_result_as_a_translated_table(
    world, client_for, make_user, quality_user
):
    drill = services.start_drill(world.lot_a, by=quality_user)
    services.run_drill(drill, by=quality_user)
    c = client_for(_zh(make_user))
    page = c.get(drill.get_absolute_url()).content.decode()
    history = page[page.index("history-panel") :]
    assert 'class="table table-sm table-bordered mb-0 small drill-result"' in history
    assert '"basis"' not in history and "&quot;basis&quot;" not in history  # no raw JSON
    assert "按出厂编号管理的器械" in history  # the basis, translated
    # the unit not located, its status and location in the reader's language (the drill ran
    # in English)
    assert "<td>A3</td><td>已销售</td>" in history and "经销商 华东医疗器械经销公司" in history
    assert "at dealer" not in page
    # older entries, loaded by htmx, are rendered the same way
    r = c.get(reverse("trace:drill_history", args=[drill.pk]))
    assert r.status_code == 200 and "drill-result" in r.content.decode()
    assert client_for(make_user("nobody")).get(
        reverse("trace:drill_history", args=[drill.pk])
    ).status_code in (302, 403, 404)


# --- expiries read "expired" when past (TRC-1, TRC-2) -------------------------------------


@pytest.mark.req("TRC-2")
def test_an_expired_licence_reads_expired(db, make_user):
    owner = make_user("owner", "sales")
    today = timezone.localdate()
    h = customer("H-5", "hospital", name="过期医院", owner=owner)
    services.add_licence(
        customer=h,
        kind=LicenceKind.PRACTICE,
        number="PX-1",
        expires_on=today - dt.timedelta(days=3),
    )
    (item,) = [w for w in work_for(owner) if "过期医院" in str(w.title)]
    assert "expired" in item.title and "expires" not in item.title
    assert "expired" in item.detail
    with translation.override("zh-hans"):
        (item,) = [w for w in work_for(owner) if "过期医院" in str(w.title)]
    assert "已过期" in item.title and "到期" not in item.title


@pytest.mark.req("TRC-1")
def test_an_expired_registration_reads_expired(db, client_for, quality_user):
    today = timezone.localdate()
    p = product("P-4", registration_expiry=today - dt.timedelta(days=10))
    page = client_for(quality_user).get(p.get_absolute_url()).content.decode()
    assert "(expired " in page and "(expires " not in page
    titles = [str(w.title) for w in work_for(quality_user)]
    assert any("expired" in t for t in titles if p.registration_number in t)


# --- the backward-trace export names the unit (TRC-7) -------------------------------------


@pytest.mark.req("TRC-7")
def test_backward_trace_export_has_serial_and_udi(world, client_for, quality_user):
    unit = world.a_units[0]
    c = client_for(quality_user)
    url = reverse("trace:unit_export", args=[unit.pk])
    text = b"".join(c.get(url).streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["Serial number", "UDI", "Product code", "Lot"]
    assert len(rows) == 3  # two sales
    for row in rows[1:]:
        assert row[0] == "A1" and row[1] == unit.udi_hri and row[1].startswith("(01)")
    wb = load_workbook(io.BytesIO(c.get(url + "?format=xlsx").content))
    sheet = list(wb.active.values)
    assert sheet[0][:2] == ("Serial number", "UDI") and sheet[1][:2] == ("A1", unit.udi_hri)
    # a unit never sold still has its row
    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(
                    c.get(
                        reverse("trace:unit_export", args=[world.a_units[3].pk])
                    ).streaming_content
                ).decode("utf-8-sig")
            )
        )
    )
    assert len(rows) == 2 and rows[1][0] == "A4"
