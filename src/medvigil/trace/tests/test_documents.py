"""PDF documents of the trace app: the forward-trace report (TRC-7) and the drill report (TRC-8),
with Chinese names extracted from the PDF's text (PLAT-6), page numbers, the record number and
the drill's signatures; permissions as for the page and the CSV/XLSX exports (PLAT-1, PLAT-11)."""

from __future__ import annotations

import io
import time

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from pypdf import PdfReader

from medvigil.conftest import PASSWORD
from medvigil.trace import services
from medvigil.trace.documents import drill_pdf, forward_trace_pdf
from medvigil.trace.queries import forward_trace

from .conftest import dealer, hospital, lot, product, units
from .test_api import BASE, api


def pages_text(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF")
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(pdf: bytes) -> str:
    return "\n".join(pages_text(pdf))


@pytest.mark.req("TRC-7", "PLAT-6")
def test_forward_trace_pdf_has_the_chinese_names_contacts_and_page_numbers(
    world, client_for, quality_user
):
    c = client_for(quality_user)
    r = c.get(reverse("trace:trace_forward_pdf"), {"lots": "LA-001"})
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert 'filename="forward-trace-LA-001.pdf"' in r["Content-Disposition"]
    pages = pages_text(r.content)
    text = "\n".join(pages)
    for name in (
        world.dealer.name,  # 华东医疗器械经销公司 (consignee)
        world.hospital.name,  # 上海第一人民医院 (end user, installed in the ICU)
        world.pump.name,  # 输液泵
        "护士长 李",  # the installation's contact person (quality may see contacts)
        "13800000001",
    ):
        assert name in text, name
    for serial in ("A1", "A2", "A3", "A4"):
        assert serial in text
    assert world.hospital2.name not in text  # lot B went to H2, not part of this trace
    assert "LA-001 · Forward trace" in pages[0]
    assert f"Page 1 of {len(pages)}" in pages[0]


@pytest.mark.req("TRC-7", "PLAT-1")
def test_forward_trace_pdf_needs_trace_view_and_export_permissions(
    world, client_for, outsider, make_user
):
    url = reverse("trace:trace_forward_pdf")
    assert client_for(outsider).get(url, {"lots": "LA-001"}).status_code == 403
    tech = make_user("tech", "technical")  # sees trace records, may not export
    assert client_for(tech).get(url, {"lots": "LA-001"}).status_code == 403
    # the page offers the PDF next to CSV and XLSX to those who may export
    page = client_for(tech).get(reverse("trace:trace_forward"), {"lots": "LA-001"})
    assert 'id="export-pdf"' not in page.content.decode()


@pytest.mark.req("TRC-7", "PLAT-11")
def test_forward_trace_pdf_masks_contacts_like_the_page(world, client_for, make_user):
    tech = make_user("tech", "technical")
    tech.user_permissions.add(Permission.objects.get(codename="export_trace"))
    r = client_for(tech).get(reverse("trace:trace_forward_pdf"), {"lots": "LA-001"})
    assert r.status_code == 200
    text = flat(r.content)
    assert world.hospital.name in text and "***" in text
    assert "13800000001" not in text and "护士长" not in text


@pytest.mark.req("TRC-7")
def test_forward_trace_pdf_with_bad_criteria_goes_back_to_the_page(world, client_for, quality_user):
    c = client_for(quality_user)
    r = c.get(reverse("trace:trace_forward_pdf"), {"lots": "NOPE"})
    assert r.status_code == 302
    assert r["Location"] == reverse("trace:trace_forward") + "?lots=NOPE"
    assert "Unknown lot" in c.get(r["Location"]).content.decode()
    r = c.get(reverse("trace:trace_forward_pdf"))
    assert r.status_code == 302 and r["Location"] == reverse("trace:trace_forward")
    page = c.get(reverse("trace:trace_forward"), {"lots": "LA-001"}).content.decode()
    assert 'id="export-pdf"' in page and reverse("trace:trace_forward_pdf") in page


@pytest.mark.req("TRC-7")
def test_forward_trace_pdf_through_the_api(client, world, quality_user, make_user):
    c = api(client, quality_user)
    r = c.get(f"{BASE}/lots/{world.lot_a.pk}/forward", {"format": "pdf"})
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert world.dealer.name in flat(r.content)
    r = c.get(f"{BASE}/forward", {"serial": ["B1"], "format": "pdf"})
    assert r.status_code == 200 and world.hospital2.name in flat(r.content)
    tech = api(client, make_user("tech", "technical"))
    assert tech.get(f"{BASE}/forward", {"serial": ["B1"], "format": "pdf"}).status_code == 403


@pytest.mark.req("TRC-7", "PLAT-6")
def test_a_100_unit_forward_trace_pdf_numbers_every_page(db, quality_user):
    pump = product("P-7", name="便携式心电监护仪")
    the_lot = lot(pump, "LX-100", quantity=100)
    items = units(pump, the_lot, [f"X{i:03d}" for i in range(100)])
    d = dealer("D-7", name="华南医疗设备有限公司")
    h = hospital("H-7", name="广州市第二人民医院")
    L = services.LineInput
    services.create_sale(
        seller=None,
        buyer=d,
        sale_date=the_lot.production_date,
        lines=[L(unit=u) for u in items],
        by=quality_user,
    )
    services.create_sale(
        seller=d,
        buyer=h,
        sale_date=the_lot.production_date,
        lines=[L(unit=u) for u in items[:60]],
        by=quality_user,
    )
    trace = forward_trace(lots=[the_lot])
    forward_trace_pdf(trace, quality_user)  # first render loads the font
    started = time.perf_counter()
    pdf = forward_trace_pdf(trace, quality_user)
    elapsed = time.perf_counter() - started
    print(f"100-unit forward trace PDF: {elapsed:.2f} s, {len(pdf):,} bytes")
    pages = pages_text(pdf)
    assert len(pages) >= 3
    for i, text in enumerate(pages, start=1):
        assert "LX-100 · Forward trace" in text
        assert f"Page {i} of {len(pages)}" in text
    text = "\n".join(pages)
    assert all(f"X{i:03d}" in text for i in range(100))
    assert "便携式心电监护仪" in text and "华南医疗设备有限公司" in text
    assert "广州市第二人民医院" in text


@pytest.mark.req("TRC-8", "PLAT-6", "PLAT-3")
def test_drill_report_pdf_has_result_share_performer_names_and_signature(
    transactional_db, make_user, client_for
):
    from medvigil.trace.tests.conftest import World  # noqa: F401  (the same names as world)

    qe = make_user("qe2", "quality", department="quality", first_name="伟", last_name="李")
    pump = product("P-1")
    lot_a = lot(pump, "LA-001", quantity=4)
    a_units = units(pump, lot_a, ["A1", "A2", "A3", "A4"])
    d = dealer("D-1", name="华东医疗器械经销公司")
    h1 = hospital("H-1", name="上海第一人民医院")
    L = services.LineInput
    services.create_sale(
        seller=None,
        buyer=d,
        sale_date=lot_a.production_date,
        lines=[L(unit=u) for u in a_units[:3]],
        by=qe,
    )
    services.create_sale(
        seller=d,
        buyer=h1,
        sale_date=lot_a.production_date,
        lines=[L(unit=u) for u in a_units[:2]],
        by=qe,
    )
    drill = services.start_drill(lot_a, by=qe)
    assert drill.percent_located == 75  # A1, A2 at the hospital, A4 in stock; A3 at the dealer
    c = client_for(qe)
    r = c.get(reverse("trace:drill_report_pdf", args=[drill.pk]))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert f'filename="drill-report-{drill.number}.pdf"' in r["Content-Disposition"]
    text = flat(r.content)
    assert f"{drill.number} · Traceability drill report" in text
    assert "75.00 %" in text and "3 of 4 located" in text and "target not met" in text
    assert "华东医疗器械经销公司" in text and "上海第一人民医院" in text and "输液泵" in text
    assert qe.printed_name in text  # performed by
    assert "Not signed yet." in text
    # completed and signed: the report carries the signature and the conclusion
    drill = services.complete_drill(
        drill, by=qe, conclusion="追溯演练完成，A3 在经销商处", password=PASSWORD
    )
    pages = pages_text(drill_pdf(drill, qe))
    text = "\n".join(pages)
    assert "追溯演练完成，A3 在经销商处" in text
    assert "Electronic signatures" in text and "Not signed yet." not in text
    assert text.count(qe.printed_name) >= 2  # performed by, and the signature
    assert "closed" in text
    for i, page in enumerate(pages, start=1):
        assert drill.number in page and f"Page {i} of {len(pages)}" in page
    # the detail page links to it
    assert (
        reverse("trace:drill_report_pdf", args=[drill.pk])
        in c.get(drill.get_absolute_url()).content.decode()
    )


@pytest.mark.req("TRC-8", "PLAT-6")
def test_drill_report_pdf_in_chinese(world, quality_user):
    drill = services.start_drill(world.lot_a, by=quality_user)
    text = flat(drill_pdf(drill, quality_user, language="zh-hans"))
    assert "追溯演练报告" in text and "第 1 页，共" in text
    assert world.dealer.name in text and world.hospital.name in text


@pytest.mark.req("TRC-8", "PLAT-1")
def test_drill_report_pdf_needs_drill_view_permission(
    world, quality_user, client_for, outsider, make_user
):
    drill = services.start_drill(world.lot_a, by=quality_user)
    url = reverse("trace:drill_report_pdf", args=[drill.pk])
    assert client_for(outsider).get(url).status_code == 403
    assert client_for(make_user("auditor2", "auditor")).get(url).status_code == 200
    assert (
        client_for(quality_user)
        .get(reverse("trace:drill_report_pdf", args=[drill.pk + 999]))
        .status_code
        == 404
    )
