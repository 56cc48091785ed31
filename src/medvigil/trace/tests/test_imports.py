"""PLAT-10 × TRC: importing products, customers, licences, lots, units, sales and
installations with the same rules as the UI services, all or nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from medvigil.core.imports import create_batch, get_importer, read_table, run_importer
from medvigil.core.models import AuditEntry, ImportBatch
from medvigil.trace import services
from medvigil.trace.models import (
    Customer,
    Installation,
    Licence,
    LicenceKind,
    Lot,
    Product,
    Sale,
    SaleLine,
    Unit,
    UnitStatus,
)

from .conftest import dealer, hospital, lot, make_gtin, product, units

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-10")]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # messages are checked in English; uploaders without a language get LANGUAGE_CODE
    settings.LANGUAGE_CODE = "en"


def csv_bytes(rows, encoding="utf-8"):
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows):
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(user, kind, data, name="data.csv"):
    return create_batch(user=user, kind=kind, uploaded=SimpleUploadedFile(name, data))


def errors_of(batch):
    return {(e["row"], e["column"]) for e in batch.errors_preview}


def counts():
    return (
        Product.objects.count(),
        Customer.objects.count(),
        Licence.objects.count(),
        Lot.objects.count(),
        Unit.objects.count(),
        Sale.objects.count(),
        SaleLine.objects.count(),
        Installation.objects.count(),
        AuditEntry.objects.exclude(
            content_type=ContentType.objects.get_for_model(ImportBatch)
        ).count(),
    )


# --- products, customers, licences --------------------------------------------------------


@pytest.mark.req("TRC-1")
def test_products_with_chinese_headers_and_class_aliases(quality_user):
    rows = [
        [
            "产品编码",
            "产品名称",
            "规格型号",
            "生产企业",
            "管理类别",
            "产品标识(UDI-DI)",
            "植入器械",
        ],
        ["P-10", "心脏起搏器", "PM-1", "医械科技", "第三类", make_gtin(10), "是"],
        ["P-11", "体温计", "T-1", "医械科技", "一类", "", "否"],
    ]
    batch = upload(quality_user, "products", csv_bytes(rows))
    assert batch.status == ImportBatch.Status.IMPORTED, batch.errors_preview
    pm = Product.objects.get(code="P-10")
    assert (pm.risk_class, pm.implantable, pm.gtin) == ("III", True, make_gtin(10))
    assert Product.objects.get(code="P-11").gtin is None


@pytest.mark.req("TRC-1")
def test_a_wrong_gtin_check_digit_refuses_the_whole_file(quality_user):
    bad = make_gtin(12)[:-1] + str((int(make_gtin(12)[-1]) + 1) % 10)
    rows = [
        ["Product code", "Product name", "Model", "Manufacturer", "Risk class", "UDI-DI (GTIN)"],
        ["P-12", "Pump", "IP-1", "ACME", "II", make_gtin(13)],
        ["P-13", "Pump", "IP-2", "ACME", "II", bad],
        ["P-12", "Pump", "IP-3", "ACME", "IV", ""],
    ]
    before = counts()
    batch = upload(quality_user, "products", csv_bytes(rows))
    assert batch.status == ImportBatch.Status.FAILED
    assert counts() == before
    assert errors_of(batch) == {(3, "UDI-DI (GTIN)"), (4, "Risk class")}
    assert "check digit" in str(batch.errors_preview)


@pytest.mark.req("TRC-2")
def test_customers_from_a_gb18030_csv_then_licences(quality_user):
    rows = [
        ["客户编码", "客户名称", "客户类型", "统一社会信用代码", "地址"],
        ["H-9", "上海第九人民医院", "医院", "12310000425006117X", "上海市黄浦区制造局路639号"],
        ["D-9", "华北医疗器械有限公司", "经销商", "91110000MA01ABCD2X", "北京市"],
    ]
    batch = upload(quality_user, "customers", csv_bytes(rows, "gb18030"))
    assert batch.status == ImportBatch.Status.IMPORTED, batch.errors_preview
    assert Customer.objects.get(code="H-9").kind == "hospital"
    rows = [
        ["客户", "证照类型", "证照编号", "发证日期", "有效期至"],
        ["H-9", "医疗机构执业许可证", "PDY0001", "2020-01-01", "2030-12-31"],
        ["华北医疗器械有限公司", "营业执照", "BL-9", "2019/5/1", "长期"],
        [
            "91110000MA01ABCD2X",
            "经营许可证",
            "沪食药监械经营许20200001号",
            "2020-01-01",
            "2029-01-01",
        ],
    ]
    batch = upload(quality_user, "licences", csv_bytes(rows))
    assert batch.status == ImportBatch.Status.IMPORTED, batch.errors_preview
    bl = Licence.objects.get(number="BL-9")
    assert bl.customer.code == "D-9" and bl.expires_on is None
    assert Licence.objects.filter(customer__code="D-9", kind=LicenceKind.OPERATING).exists()


@pytest.mark.req("TRC-2")
def test_unknown_customer_and_bad_licence_dates_are_reported(quality_user):
    hospital("H-1")
    rows = [
        ["Customer", "Licence type", "Licence number", "Issued on", "Expires on"],
        ["H-404", "practice", "X1", "2020-01-01", "2030-01-01"],
        ["H-1", "practice", "X2", "2030-01-01", "2020-01-01"],
        ["H-1", "practice", "X3", "31/12/2020", ""],
    ]
    batch = upload(quality_user, "licences", csv_bytes(rows))
    assert batch.status == ImportBatch.Status.FAILED
    assert errors_of(batch) == {(2, "Customer"), (3, "Expires on"), (4, "Issued on")}


# --- lots and units -----------------------------------------------------------------------


@pytest.mark.req("TRC-3")
def test_lots_then_units_from_xlsx_inherit_lot_data(quality_user):
    product("P-1")
    rows = [
        ["产品", "批号", "生产日期", "失效日期", "生产记录编号"],
        [make_gtin(1), "L-100", dt.date(2025, 5, 1), dt.date(2030, 5, 1), "DHR-100"],
        ["P-1", "L-101", "2025-06-01", None, ""],
    ]
    batch = upload(quality_user, "lots", xlsx_bytes(rows), "lots.xlsx")
    assert batch.status == ImportBatch.Status.IMPORTED, batch.errors_preview
    rows = [["产品", "出厂编号", "批号"]] + [["IP-100", f"S{i:04d}", "L-100"] for i in range(50)]
    rows.append(["P-1", 12345.0, "L-101"])  # a number cell in Excel: serial "12345"
    batch = upload(quality_user, "units", xlsx_bytes(rows), "units.xlsx")
    assert batch.status == ImportBatch.Status.IMPORTED, batch.errors_preview
    assert batch.created_rows == 51
    u = Unit.objects.get(serial="S0007")
    assert (u.lot.lot_number, u.production_date, u.expiry_date) == (
        "L-100",
        dt.date(2025, 5, 1),
        dt.date(2030, 5, 1),
    )
    assert u.production_record == "DHR-100" and u.udi_di == make_gtin(1)
    assert u.udi_pi == "(11)250501(17)300501(10)L-100(21)S0007"
    assert Unit.objects.filter(serial="12345", lot__lot_number="L-101").exists()
    # every unit has its own create entry, attributed to the batch
    ct = ContentType.objects.get_for_model(Unit)
    entries = AuditEntry.objects.filter(content_type=ct, request_id=batch.number)
    assert entries.count() == 51
    assert set(entries.values_list("source", "actor", "action")) == {
        ("import", quality_user.pk, "create")
    }


@pytest.mark.req("TRC-3")
def test_units_by_scanned_udi_with_check_digits(quality_user):
    pump = product("P-1")
    lot(pump, "L1", produced=dt.date(2025, 6, 1))
    gtin = make_gtin(1)
    wrong = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
    rows = [
        ["UDI", "Serial number"],
        [f"(01){gtin}(11)250601(10)L1(21)U-1", "U-1"],
        [f"]d201{gtin}10L1\x1d21U-2", "U-2"],
        [f"(01){wrong}(21)U-3", "U-3"],  # bad check digit
        [f"(01){gtin}(21)U-9", "U-4"],  # serial differs
    ]
    before = counts()
    batch = upload(quality_user, "units", csv_bytes(rows))
    assert batch.status == ImportBatch.Status.FAILED
    assert counts() == before
    assert errors_of(batch) == {(4, "UDI"), (5, "UDI")}
    batch = upload(quality_user, "units", csv_bytes(rows[:3]))
    assert batch.status == ImportBatch.Status.IMPORTED, batch.errors_preview
    u2 = Unit.objects.get(serial="U-2")
    assert u2.product == pump and u2.lot.lot_number == "L1"


@pytest.mark.req("TRC-3")
def test_existing_and_repeated_serials_unknown_lot_and_product(quality_user):
    pump = product("P-1")
    the_lot = lot(pump, "L1")
    units(pump, the_lot, ["A1"])
    rows = [
        ["Product", "Serial number", "Lot number"],
        ["P-1", "A1", "L1"],  # exists
        ["P-1", "A2", "L1"],
        ["P-1", "A2", "L1"],  # twice in file
        ["P-1", "A3", "L9"],  # no such lot
        ["P-404", "A4", ""],  # no such product
        ["", "A5", ""],  # neither product nor UDI
    ]
    before = counts()
    batch = upload(quality_user, "units", csv_bytes(rows))
    assert batch.status == ImportBatch.Status.FAILED
    assert counts() == before
    assert errors_of(batch) == {
        (2, "Serial number"),
        (4, "Serial number"),
        (5, "Lot number"),
        (6, "Product"),
        (7, "Product"),
    }


@pytest.mark.req("TRC-3")
def test_unit_validation_is_set_based(quality_user, django_assert_max_num_queries):
    pump = product("P-1")
    lots = [lot(pump, f"L{i}") for i in range(5)]
    table = [["Product", "Serial number", "Lot number"]] + [
        ["P-1", f"S{i}", lots[i % 5].lot_number] for i in range(3000)
    ]
    importer = get_importer("units")(user=quality_user)
    # the user's permissions once (lookups are scoped to what the user may see: 4), product
    # lookup 1, lots 1, existing serials 2 chunks, recorded units per lot 1: independent of
    # the row count
    with django_assert_max_num_queries(9):
        result = run_importer(importer, table)
    assert not result.errors and len(result.items) == 3000


# --- sales ---------------------------------------------------------------------------------


SALE_HEAD = ["单据号", "销售日期", "销售方", "购买方", "出厂编号", "批号", "数量", "经办人"]


@pytest.mark.req("TRC-4", "TRC-7")
def test_two_levels_of_distribution_in_one_file(quality_user):
    pump = product("P-1")
    lot_a = lot(pump, "LA", quantity=10)
    units(pump, lot_a, ["A1", "A2", "A3"])
    d = dealer("D-1")
    h = hospital("H-1")
    rows = [
        SALE_HEAD,
        # the dealer's onward sale comes first in the file but is dated later
        ["SO-D-77", "2026-02-01", "D-1", "H-1", "A1", "", "", "王五"],
        ["SO-1", "2026-01-10", "", "D-1", "A1", "LA", "1", "张三"],
        ["SO-1", "2026-01-10", "", "D-1", "A2", "", "", "张三"],
        ["SO-1", "2026-01-10", "", "D-1", "", "LA", "4", "张三"],
        ["", "2026-01-11", "", "H-1", f"(01){make_gtin(1)}(21)A3", "", "", ""],
    ]
    batch = upload(quality_user, "sales", csv_bytes(rows))
    assert batch.status == ImportBatch.Status.IMPORTED, batch.errors_preview
    assert Sale.objects.count() == 3
    so1 = Sale.objects.get(reference="SO-1")
    assert so1.seller is None and so1.buyer == d and so1.handler_name == "张三"
    assert so1.number.startswith("SO-")
    assert so1.lines.count() == 3
    assert so1.lines.get(unit__isnull=True).quantity == 4
    a1, a2, a3 = (Unit.objects.get(serial=s) for s in ("A1", "A2", "A3"))
    assert (a1.status, a1.holder) == (UnitStatus.SOLD_ON, h)
    assert (a2.status, a2.holder) == (UnitStatus.SOLD, d)
    assert (a3.status, a3.holder) == (UnitStatus.SOLD, h)
    onward = Sale.objects.get(reference="SO-D-77")
    assert onward.seller == d and onward.lines.get().unit == a1
    # the unit changes are audited under the batch too
    ct = ContentType.objects.get_for_model(Unit)
    assert AuditEntry.objects.filter(
        content_type=ct, object_id=str(a1.pk), action="update", request_id=batch.number
    ).exists()


@pytest.mark.req("TRC-2", "TRC-4")
def test_sale_to_an_unlicensed_buyer_changes_nothing(quality_user):
    pump = product("P-1")
    units(pump, lot(pump, "LA"), ["A1", "A2"])
    hospital("H-1")
    services.create_customer(code="H-0", name="无证医院", kind="hospital")
    rows = [
        SALE_HEAD,
        ["SO-1", "2026-01-10", "", "H-1", "A1", "", "", ""],
        ["SO-2", "2026-01-10", "", "H-0", "A2", "", "", ""],
    ]
    before = counts()
    batch = upload(quality_user, "sales", csv_bytes(rows))
    assert batch.status == ImportBatch.Status.FAILED
    assert counts() == before
    assert errors_of(batch) == {(3, "购买方")}
    assert "Sale refused" in batch.errors_preview[0]["msg"]
    assert Unit.objects.get(serial="A1").status == UnitStatus.IN_STOCK


@pytest.mark.req("TRC-4")
def test_double_sale_is_refused_in_the_file_and_against_the_database(quality_user, world):
    rows = [
        SALE_HEAD,
        ["X-1", "2026-03-01", "", "H-2", "A1", "", "", ""],  # A1 already sold (world)
        ["X-2", "2026-03-01", "", "H-2", "A4", "", "", ""],
        ["X-3", "2026-03-02", "", "H-1", "A4", "", "", ""],  # A4 sold twice by us in the file
        ["X-4", "2026-03-02", "", "H-1", "B2", "", "", ""],
        ["X-4", "2026-03-02", "", "H-1", "B2", "", "", ""],  # twice in one sale
        ["X-5", "2026-03-02", "D-1", "H-1", "A3", "", "", ""],
        ["X-6", "2026-03-03", "D-1", "H-2", "A3", "", "", ""],  # dealer sells A3 twice
        ["X-7", "2026-03-02", "", "H-1", "NOPE", "", "", ""],
    ]
    before = counts()
    batch = upload(quality_user, "sales", csv_bytes(rows))
    assert batch.status == ImportBatch.Status.FAILED
    assert counts() == before
    assert errors_of(batch) == {
        (2, "出厂编号"),
        (4, "出厂编号"),
        (6, "出厂编号"),
        (8, "出厂编号"),
        (9, "出厂编号"),
    }
    msgs = {e["row"]: e["msg"] for e in batch.errors_preview}
    assert "already sold by us" in msgs[2] and "already sold by us" in msgs[4]
    assert "listed twice" in msgs[6]


@pytest.mark.req("TRC-4")
def test_lot_quantity_beyond_what_the_seller_has(quality_user):
    pump = product("P-1", tracking="lot")
    lot(pump, "LQ", quantity=5)
    dealer("D-1")
    rows = [
        SALE_HEAD,
        ["S1", "2026-01-10", "", "D-1", "", "LQ", "3", ""],
        ["S2", "2026-01-11", "", "D-1", "", "LQ", "3", ""],  # only 2 left
    ]
    batch = upload(quality_user, "sales", csv_bytes(rows))
    assert batch.status == ImportBatch.Status.FAILED
    assert errors_of(batch) == {(3, "数量")}


@pytest.mark.req("TRC-4")
def test_recheck_catches_a_unit_sold_between_checking_and_writing(quality_user):
    pump = product("P-1")
    (a1,) = units(pump, lot(pump, "LA"), ["A1"])
    d = dealer("D-1")
    importer = get_importer("sales")(user=quality_user)
    table = read_table(
        csv_bytes([SALE_HEAD, ["S1", "2026-01-10", "", "D-1", "A1", "", "", ""]]), "x.csv"
    )
    result = run_importer(importer, table)
    assert not result.errors
    services.create_sale(
        seller=None, buyer=d, sale_date=dt.date(2026, 1, 9), lines=[services.LineInput(unit=a1)]
    )
    late = importer.recheck(result.items)
    assert [(e.row, e.value) for e in late] == [(2, "A1")]


# --- installations -------------------------------------------------------------------------


@pytest.mark.req("TRC-5")
def test_installations_follow_the_install_rules(quality_user, world):
    rows = [
        ["出厂编号", "使用单位", "科室", "安装日期", "验收日期"],
        ["A2", "H-1", "手术室", "2026-02-10", "2026-02-12"],
        ["B1", "H-2", "ICU", "2026-02-11", ""],
    ]
    batch = upload(quality_user, "installations", csv_bytes(rows))
    assert batch.status == ImportBatch.Status.IMPORTED, batch.errors_preview
    inst = Installation.objects.get(unit__serial="A2", current=True)
    assert inst.department == "手术室" and inst.customer == world.hospital
    assert inst.warranty_end == dt.date(2028, 2, 12)  # 24 months from acceptance
    assert inst.address == world.hospital.address
    assert Unit.objects.get(serial="A2").status == UnitStatus.INSTALLED
    # refused: A4 is in stock, A3 is held by the dealer, acceptance before installation
    rows = [
        ["Serial number or UDI", "End-user hospital", "Installed on", "Accepted on"],
        ["A4", "H-1", "2026-02-10", ""],
        ["A3", "H-1", "2026-02-10", ""],
        ["A1", "H-1", "2026-02-10", "2026-02-01"],
    ]
    before = counts()
    batch = upload(quality_user, "installations", csv_bytes(rows))
    assert batch.status == ImportBatch.Status.FAILED
    assert counts() == before
    assert errors_of(batch) == {
        (2, "Serial number or UDI"),
        (3, "End-user hospital"),
        (4, "Accepted on"),
    }


@pytest.mark.req("TRC-5")
def test_reinstalling_moves_the_current_location(quality_user, world):
    rows = [
        ["Serial number or UDI", "End-user hospital", "Installed on"],
        ["A1", "H-1", "2026-03-01"],
    ]
    batch = upload(quality_user, "installations", csv_bytes(rows))
    assert batch.status == ImportBatch.Status.IMPORTED, batch.errors_preview
    assert Installation.objects.filter(unit__serial="A1").count() == 2
    assert Installation.objects.get(unit__serial="A1", current=True).installed_on == dt.date(
        2026, 3, 1
    )


# --- permissions ---------------------------------------------------------------------------


@pytest.mark.req("PLAT-1")
def test_auditor_and_outsider_may_not_import_trace_data(auditor, outsider, client_for):
    data = csv_bytes([["Product code"], ["P-1"]])
    for user in (auditor, outsider):
        for kind in ("products", "units", "sales"):
            with pytest.raises(PermissionDenied):
                upload(user, kind, data)
        r = client_for(user).post(
            reverse("import_new"), {"kind": "units", "file": SimpleUploadedFile("u.csv", data)}
        )
        assert r.status_code == 403
        assert client_for(user).get(reverse("import_template", args=["units"])).status_code in (
            403,
            404,
        )
    assert not ImportBatch.objects.exists()


def test_sales_staff_may_import_sales_but_not_products(make_user, client_for):
    seller = make_user("seller", "sales", department="sales")
    r = client_for(seller).get(reverse("import_new"))
    assert r.status_code == 200
    assert b'value="sales"' in r.content and b'value="products"' not in r.content
    with pytest.raises(PermissionDenied):
        upload(seller, "products", csv_bytes([["Product code"], ["P-1"]]))


def test_templates_list_every_column_in_both_languages(quality_user, client_for):
    c = client_for(quality_user)
    for kind in ("products", "customers", "licences", "lots", "units", "sales", "installations"):
        cls = get_importer(kind)
        en = c.get(reverse("import_template", args=[kind]) + "?lang=en")
        zh = c.get(reverse("import_template", args=[kind]) + "?lang=zh-hans")
        assert en.content.decode("utf-8-sig").strip().split(",") == [x.en for x in cls.columns]
        assert zh.content.decode("utf-8-sig").strip().split(",") == [x.zh for x in cls.columns]
        # the template, filled with nothing, is a file with no rows, not a crash
        batch = upload(quality_user, kind, zh.content)
        assert batch.status == ImportBatch.Status.FAILED
        assert batch.errors_preview[0]["msg"] == "The file has no data rows."
