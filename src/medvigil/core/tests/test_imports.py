"""PLAT-10: the generic import framework (reading, conversion, all-or-nothing, report, pages).

The trace importers are tested in trace/tests/test_imports.py; here a small importer of
departments exercises the framework without depending on a domain app."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from medvigil.accounts.models import Department
from medvigil.core import imports
from medvigil.core.imports import (
    Column,
    Converter,
    Importer,
    Lookup,
    create_batch,
    decode_text,
    error_report_csv,
    read_table,
    register,
    run_importer,
    stored_errors,
)
from medvigil.core.imports import services as import_services
from medvigil.core.imports import validation as import_validation
from medvigil.core.models import AuditEntry, ImportBatch

pytestmark = [pytest.mark.req("PLAT-10")]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # messages are checked in English; uploaders without a language get LANGUAGE_CODE
    settings.LANGUAGE_CODE = "en"


@register
class DepartmentImporter(Importer):
    kind = "test-departments"
    label = "Departments (test)"
    permission = "accounts.add_department"
    model = Department
    columns = [
        Column("code", "Code", "代码", required=True, max_length=40),
        Column("name_zh", "Chinese name", "中文名称", required=True, max_length=100),
        Column("name_en", "English name", "英文名称", required=True, max_length=100),
        Column("active", "Active", "启用", type="bool"),
    ]

    def prepare(self, rows):
        codes = [r["code"] for r in rows if r["code"]]
        self.existing = set(
            Department.objects.filter(code__in=codes).values_list("code", flat=True)
        )
        self.seen = set()

    def validate_row(self, row):
        code = row["code"]
        if code in self.existing:
            row.error("code", "A department with this code exists already.")
        elif code in self.seen:
            row.error("code", "This code appears twice in the file.")
        self.seen.add(code)
        if not row.ok:
            return None
        return Department(
            code=code,
            name_zh=row["name_zh"],
            name_en=row["name_en"],
            active=row.get("active", True),
        )


def csv_bytes(rows, encoding="utf-8", bom=False):
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows, title_rows=0):
    wb = openpyxl.Workbook()
    ws = wb.active
    for _ in range(title_rows):
        ws.append(["部门清单"])
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture
def importer_user(make_user):
    # quality: core.* (may import); admin: accounts.* (may create departments)
    return make_user("imp", "quality", "admin", department="quality")


def upload(user, data, name="deps.csv", kind="test-departments"):
    return create_batch(user=user, kind=kind, uploaded=SimpleUploadedFile(name, data))


def audit_count():
    return AuditEntry.objects.count()


GOOD = [
    ["Code", "Chinese name", "English name", "Active"],
    ["d1", "一部", "One", "yes"],
    ["d2", "二部", "Two", "否"],
    ["d3", "三部", "Three", ""],
]


@pytest.mark.django_db
def test_csv_import_creates_every_row_and_audits_it_as_one_batch(importer_user):
    batch = upload(importer_user, csv_bytes(GOOD))
    assert batch.status == ImportBatch.Status.IMPORTED, batch.errors_preview
    assert batch.number.startswith("IMP-")
    assert batch.file.path.startswith(str(settings.MEDIA_ROOT))
    assert (batch.total_rows, batch.created_rows, batch.processed_rows) == (3, 3, 3)
    d1, d2, d3 = (Department.objects.get(code=c) for c in ("d1", "d2", "d3"))
    assert (d1.active, d2.active, d3.active) == (True, False, True)
    ct = ContentType.objects.get_for_model(Department)
    entries = AuditEntry.objects.filter(content_type=ct, object_id__in=[d1.pk, d2.pk, d3.pk])
    assert entries.count() == 3
    for e in entries:
        assert e.action == "create"
        assert e.source == "import"
        assert e.request_id == batch.number
        assert e.actor == importer_user
    # the batch's own status change is in the same trail, under the same request id
    batch_ct = ContentType.objects.get_for_model(ImportBatch)
    assert AuditEntry.objects.filter(
        content_type=batch_ct, object_id=str(batch.pk), request_id=batch.number
    ).exists()


@pytest.mark.django_db
def test_xlsx_import_with_a_title_row_above_the_header(importer_user):
    data = xlsx_bytes(GOOD, title_rows=1)
    batch = upload(importer_user, data, name="deps.xlsx")
    assert batch.status == ImportBatch.Status.IMPORTED, batch.errors_preview
    assert Department.objects.filter(code__in=["d1", "d2", "d3"]).count() == 3


@pytest.mark.django_db
def test_xlsx_falls_back_to_openpyxl_when_calamine_fails(importer_user, monkeypatch):
    import python_calamine

    def broken(*a, **k):
        raise RuntimeError("calamine down")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", broken)
    table = read_table(xlsx_bytes(GOOD), "x.xlsx")
    assert table[0] == ["Code", "Chinese name", "English name", "Active"]
    assert table[1][:3] == ["d1", "一部", "One"]


@pytest.mark.django_db
def test_one_bad_row_changes_nothing_and_reports_row_and_column(importer_user):
    Department.objects.create(code="d9", name_zh="九部", name_en="Nine")
    before_deps, before_audit = Department.objects.count(), audit_count()
    rows = [
        ["Code", "Chinese name", "English name", "Active"],
        ["d1", "一部", "One", "yes"],
        ["d2", "二部", "", "maybe"],  # row 3: missing name, bad bool
        ["d9", "九部", "Nine", "1"],  # row 4: exists already
        ["d1", "一部", "One", "1"],  # row 5: duplicate in file
    ]
    batch = upload(importer_user, csv_bytes(rows))
    assert batch.status == ImportBatch.Status.FAILED
    assert Department.objects.count() == before_deps
    # only the batch's own entries were added (creation + status changes), no record entries
    new_entries = AuditEntry.objects.order_by("id")[before_audit:]
    assert all(e.content_type.model == "importbatch" for e in new_entries)
    errors = {(e["row"], e["column"]) for e in batch.errors_preview}
    assert errors == {
        (3, "English name"),
        (3, "Active"),
        (4, "Code"),
        (5, "Code"),
    }
    assert batch.error_count == 4
    # the downloadable report: row, column, value, message
    report = b"".join(error_report_csv(stored_errors(batch))).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(report)))
    assert lines[0] == ["row", "column", "value", "message"]
    assert ["3", "Active", "maybe", "Enter yes or no (是/否)."] in lines
    assert any(r[0] == "4" and r[1] == "Code" and r[2] == "d9" for r in lines[1:])


@pytest.mark.django_db
def test_chinese_headers_and_gb18030_csv(importer_user):
    rows = [["代码", "中文名称", "英文名称", "启用"], ["k1", "客服二部", "CS 2", "是"]]
    data = csv_bytes(rows, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    batch = upload(importer_user, data)
    assert batch.status == ImportBatch.Status.IMPORTED, batch.errors_preview
    assert Department.objects.get(code="k1").name_zh == "客服二部"


@pytest.mark.django_db
def test_utf8_bom_csv_and_mixed_headers(importer_user):
    rows = [["代码", "Chinese name", "英文名称"], ["b1", "乙部", "B"]]
    batch = upload(importer_user, csv_bytes(rows, bom=True))
    assert batch.status == ImportBatch.Status.IMPORTED, batch.errors_preview
    assert Department.objects.filter(code="b1").exists()


def test_decode_text_encodings():
    assert decode_text("\ufeff代码".encode()) == "代码"
    assert decode_text("代码".encode("gb18030")) == "代码"
    assert decode_text("代码,x".encode("utf-16")) == "代码,x"


@pytest.mark.django_db
def test_missing_required_column_is_a_clear_file_error(importer_user):
    batch = upload(importer_user, csv_bytes([["Code", "English name"], ["x", "X"]]))
    assert batch.status == ImportBatch.Status.FAILED
    msgs = [e["msg"] for e in batch.errors_preview]
    assert any("Chinese name" in m and "中文名称" in m for m in msgs)


@pytest.mark.django_db
def test_garbage_file_fails_cleanly(importer_user):
    batch = upload(importer_user, b"\x00\x01\x02 not a table", name="x.csv")
    assert batch.status == ImportBatch.Status.FAILED
    batch = upload(importer_user, b"PK\x03\x04broken zip", name="x.xlsx")
    assert batch.status == ImportBatch.Status.FAILED
    assert "spreadsheet" in batch.message


def _spy_progress(monkeypatch):
    seen = []
    original = import_services._plain

    def spy(model):
        qs = original(model)

        class Q:
            def filter(self, **kw):
                inner = qs.filter(**kw)

                class U:
                    def update(self, **values):
                        seen.append((values["processed_rows"], values["total_rows"]))
                        return inner.update(**values)

                return U()

        return Q()

    monkeypatch.setattr(import_services, "_plain", spy)
    return seen


@pytest.mark.django_db
def test_progress_numbers_are_published_while_validating(importer_user, monkeypatch):
    seen = _spy_progress(monkeypatch)
    monkeypatch.setattr(import_validation, "PROGRESS_SECONDS", 0)
    rows = [GOOD[0]] + [[f"p{i}", f"部{i}", f"D{i}", "1"] for i in range(1200)]
    batch = upload(importer_user, csv_bytes(rows))
    assert batch.status == ImportBatch.Status.IMPORTED
    assert seen[0] == (256, 1200)
    assert seen[-1] == (1200, 1200)
    assert [n for n, _t in seen] == sorted(n for n, _t in seen)
    assert batch.percent == 100


@pytest.mark.django_db
def test_progress_is_published_by_time_not_by_rows(importer_user, monkeypatch):
    """Each progress report is a committed UPDATE: a file validated within the interval
    reports once, at its end (#13: 40 reports per 20,000 rows were a fifth of the import)."""
    seen = _spy_progress(monkeypatch)
    monkeypatch.setattr(import_validation, "PROGRESS_SECONDS", 3600)
    rows = [GOOD[0]] + [[f"p{i}", f"部{i}", f"D{i}", "1"] for i in range(1200)]
    batch = upload(importer_user, csv_bytes(rows))
    assert batch.status == ImportBatch.Status.IMPORTED
    assert seen == [(1200, 1200)]


def test_paused_gc_nests_and_restores():
    import gc

    from medvigil.core.imports.memory import paused_gc

    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError
    assert gc.isenabled()


@pytest.mark.django_db
def test_large_file_runs_as_a_huey_task(
    importer_user, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_INLINE_MAX_BYTES = 10
    with django_capture_on_commit_callbacks(execute=True):
        batch = upload(importer_user, csv_bytes(GOOD))
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.IMPORTED
    assert Department.objects.filter(code="d3").exists()


@pytest.mark.django_db
def test_a_batch_is_processed_once(importer_user):
    batch = upload(importer_user, csv_bytes(GOOD))
    assert imports.process_batch(batch.pk) is None  # already claimed and done
    assert Department.objects.filter(code="d1").count() == 1


@pytest.mark.django_db
def test_auditor_and_outsider_are_refused(auditor, outsider, client_for):
    from django.core.exceptions import PermissionDenied

    for user in (auditor, outsider):
        with pytest.raises(PermissionDenied):
            upload(user, csv_bytes(GOOD))
        c = client_for(user)
        r = c.post(
            reverse("import_new"),
            {"kind": "test-departments", "file": SimpleUploadedFile("d.csv", csv_bytes(GOOD))},
        )
        assert r.status_code == 403
    assert not Department.objects.filter(code="d1").exists()
    assert not ImportBatch.objects.exists()


@pytest.mark.django_db
def test_importer_permission_is_needed_besides_the_import_right(make_user, client_for):
    # quality may use imports (core.*) but may not create departments (accounts.add_department)
    user = make_user("q2", "quality")
    c = client_for(user)
    r = c.get(reverse("import_new"))
    assert r.status_code == 200
    assert b"test-departments" not in r.content
    r = c.post(
        reverse("import_new"),
        {"kind": "test-departments", "file": SimpleUploadedFile("d.csv", csv_bytes(GOOD))},
    )
    assert r.status_code == 200
    assert b"is-invalid" in r.content or b"no-importers" in r.content
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        upload(user, csv_bytes(GOOD))
    assert not ImportBatch.objects.exists()


@pytest.mark.django_db
def test_pages_upload_detail_status_errors_template_and_list(importer_user, client_for, auditor):
    c = client_for(importer_user)
    r = c.get(reverse("import_new"))
    assert r.status_code == 200 and b"test-departments" in r.content
    r = c.get(reverse("import_template", args=["test-departments"]) + "?lang=zh-hans")
    assert r.status_code == 200
    assert r.content.decode("utf-8-sig").strip() == "代码,中文名称,英文名称,启用"
    bad = csv_bytes([GOOD[0], ["x1", "甲", "", "1"]])
    r = c.post(
        reverse("import_new"),
        {"kind": "test-departments", "file": SimpleUploadedFile("b.csv", bad)},
    )
    assert r.status_code == 302
    batch = ImportBatch.objects.get()
    assert r["Location"] == reverse("import_detail", args=[batch.pk])
    r = c.get(r["Location"])
    assert r.status_code == 200 and b"import-errors" in r.content
    r = c.get(reverse("import_errors", args=[batch.pk]))
    assert r.status_code == 200 and b"English name" in b"".join(r.streaming_content)
    r = c.get(reverse("import_status", args=[batch.pk]), HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and r["HX-Refresh"] == "true"
    r = c.get(reverse("import_list"))
    assert r.status_code == 200 and batch.number.encode() in r.content
    # the auditor sees every batch (read-only); an unrelated importer sees only their own
    r = client_for(auditor).get(reverse("import_detail", args=[batch.pk]))
    assert r.status_code == 200


@pytest.mark.django_db
def test_other_users_batches_are_hidden(importer_user, make_user, client_for):
    batch = upload(importer_user, csv_bytes(GOOD))
    seller = make_user("seller", "sales")
    c = client_for(seller)
    assert c.get(reverse("import_detail", args=[batch.pk])).status_code == 404
    assert c.get(reverse("import_errors", args=[batch.pk])).status_code == 404
    assert batch.number.encode() not in c.get(reverse("import_list")).content


@pytest.mark.django_db
def test_bad_upload_gets_a_field_error_not_a_500(importer_user, client_for):
    c = client_for(importer_user)
    r = c.post(
        reverse("import_new"),
        {"kind": "test-departments", "file": SimpleUploadedFile("d.exe", b"MZ")},
    )
    assert r.status_code == 200 and b"is-invalid" in r.content
    r = c.post(reverse("import_new"), {"kind": "nope"})
    assert r.status_code == 200
    assert not ImportBatch.objects.exists()


# --- conversion rules ------------------------------------------------------------------------


def test_converters():
    date = Converter(Column("d", "D", "日期", type="date"))
    for text in ("2024-03-05", "2024/3/5", "2024.03.05", "20240305", "2024年3月5日", 45356):
        assert date(text) == dt.date(2024, 3, 5), text
    assert date(dt.datetime(2024, 3, 5, 10, 0)) == dt.date(2024, 3, 5)
    with pytest.raises(ValueError):
        date("05/03/2024")
    n = Converter(Column("n", "N", "数量", type="int", min_value=1))
    assert n("12") == 12 and n(12.0) == 12 and n("1,200") == 1200
    for bad in ("1.5", "x", 0, True):
        with pytest.raises(ValueError):
            n(bad)
    dec = Converter(Column("p", "P", "价格", type="decimal", max_digits=6, decimal_places=2))
    assert dec("12.50") == Decimal("12.50") and dec(1.25) == Decimal("1.25")
    for bad in ("1.234", "12345", "abc", "NaN"):
        with pytest.raises(ValueError):
            dec(bad)
    s = Converter(Column("s", "S", "序列号", max_length=5))
    assert s(12345.0) == "12345"
    with pytest.raises(ValueError):
        s("123456")
    ch = Converter(
        Column(
            "k",
            "Kind",
            "类型",
            type="choice",
            choices=[("hospital", "hospital"), ("dealer", "dealer")],
            choice_aliases={"医院": "hospital"},
        )
    )
    assert ch("医院") == "hospital" and ch("Dealer") == "dealer"
    with pytest.raises(ValueError):
        ch("patient")


@given(st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_any_iso_or_chinese_date_round_trips(day):
    conv = Converter(Column("d", "D", "日期", type="date"))
    assert conv(day.isoformat()) == day
    assert conv(f"{day.year}年{day.month}月{day.day}日") == day


@pytest.mark.django_db
def test_lookup_resolves_natural_keys_set_based(django_assert_max_num_queries):
    for i in range(30):
        Department.objects.create(code=f"lk{i}", name_zh=f"部{i}", name_en="Dup")
    look = Lookup(Department, keys=("code", "name_zh"))
    with django_assert_max_num_queries(2):
        found = look.resolve([f"lk{i}" for i in range(30)] + ["部3", "none"])
    assert found["lk7"].code == "lk7"
    assert found["部3"].code == "lk3"
    assert "none" not in found
    dup = Lookup(Department, keys=("name_en",)).resolve(["Dup"])
    assert dup["Dup"] is imports.AMBIGUOUS


@pytest.mark.django_db
def test_run_importer_reports_blank_file():
    result = run_importer(DepartmentImporter(), [["Code", "Chinese name", "English name"]])
    assert [e.message for e in result.errors] == ["The file has no data rows."]


@pytest.mark.django_db
def test_list_page_query_count_does_not_grow_with_batches(
    importer_user, client_for, django_assert_max_num_queries
):
    c = client_for(importer_user)
    upload(importer_user, csv_bytes(GOOD))
    with django_assert_max_num_queries(30) as few:
        assert c.get(reverse("import_list")).status_code == 200
    for i in range(5):
        upload(importer_user, csv_bytes([GOOD[0], [f"m{i}", "甲", "A", "1"]]))
    with django_assert_max_num_queries(len(few.captured_queries)):
        r = c.get(reverse("import_list"))
    assert r.content.count(b"IMP-") >= 6
