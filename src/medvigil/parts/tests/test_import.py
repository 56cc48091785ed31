"""PLAT-10 × SVC-10: the spare-parts list imported through core.imports — the products each
part fits by code, GTIN or model; the whole file refused on any bad row."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from medvigil.core.imports import create_batch
from medvigil.core.models import ImportBatch
from medvigil.parts import services
from medvigil.parts.models import Part, ReorderLevel
from medvigil.trace.tests.conftest import product

pytestmark = [pytest.mark.django_db, pytest.mark.req("SVC-10", "PLAT-10")]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def upload(user, rows):
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    f = SimpleUploadedFile("parts.csv", buf.getvalue().encode("utf-8"), content_type="text/csv")
    return create_batch(user=user, kind="spare_parts", uploaded=f)


def test_parts_with_chinese_headers_and_their_products(keeper):
    pump = product("P-1")
    other = product("P-2", model_spec="IP-200")
    batch = upload(
        keeper,
        [
            [
                "备件编码",
                "备件名称",
                "适用产品",
                "单价",
                "采购周期(天)",
                "年故障率",
                "最低安全库存",
            ],
            ["BAT-1", "泵电池", "P-1", "85", "14", "0.5", "4"],
            ["MB-1", "主板", f"P-1；{other.gtin}", "1650.5", "45", "0.03", ""],
        ],
    )
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.IMPORTED, batch.errors_preview
    bat = Part.objects.get(code="BAT-1")
    assert services.fitted_products(bat) == [pump]
    assert services.fitted_products(Part.objects.get(code="MB-1")) == [pump, other]
    assert ReorderLevel.objects.get(part=bat).reorder_point == 4


def test_a_bad_row_refuses_the_whole_file(keeper):
    product("P-1")
    services.create_part(by=keeper, code="OLD-1", name="exists")
    batch = upload(
        keeper,
        [
            ["Part code", "Part name", "Products it fits", "Lead time (days)", "Service level (%)"],
            ["NEW-1", "ok", "P-1", "10", "95"],
            ["OLD-1", "duplicate", "", "10", "95"],
            ["NEW-2", "unknown product", "NOPE", "10", "95"],
            ["NEW-3", "bad level", "", "10", "120"],
            ["NEW-1", "twice in the file", "", "10", "95"],
        ],
    )
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    text = " ".join(str(e.get("msg")) for e in batch.errors_preview)
    assert "already exists" in text and "No product NOPE" in text
    assert "Also on row 2" in text
    assert {e["row"] for e in batch.errors_preview} == {3, 4, 5, 6}
    assert not Part.objects.filter(code__startswith="NEW").exists()


def test_the_importer_needs_the_add_part_permission(engineer):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        upload(engineer, [["Part code", "Part name"], ["X-1", "x"]])
