"""TRC-7 / TRC-8 / PLAT-6 in a real browser: the forward trace's *Export PDF* button and a
drill's *Report (PDF)* link download PDFs whose text carries the Chinese names."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader

from medvigil.conftest import PASSWORD
from medvigil.trace import services
from medvigil.trace.tests.conftest import dealer, lot, product, units

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _text(download: Any) -> str:
    data = open(download.path(), "rb").read()  # noqa: SIM115
    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.req("TRC-7", "TRC-8", "PLAT-6")
def test_forward_trace_and_drill_pdfs_download_from_their_pages(
    new_page: Any, quality_user: Any, live_server: Any, screenshots: Any
) -> None:
    pump = product("P-7", name="便携式心电监护仪")
    the_lot = lot(pump, "L2601")
    items = units(pump, the_lot, ["SN1", "SN2"])
    d = dealer("D-9", name="华东医疗器械经销公司")
    services.create_sale(
        seller=None,
        buyer=d,
        sale_date=the_lot.production_date,
        lines=[services.LineInput(unit=u) for u in items],
        by=quality_user,
    )
    drill = services.start_drill(the_lot, by=quality_user)

    page = new_page(locale="zh-CN")
    login(page, quality_user.username, PASSWORD)
    page.goto(f"{live_server.url}/trace/trace/forward/?lots=L2601")
    with page.expect_download() as info:
        page.click("#export-pdf")
    assert info.value.suggested_filename == "forward-trace-L2601.pdf"
    text = _text(info.value)
    assert "华东医疗器械经销公司" in text and "便携式心电监护仪" in text and "第 1 页" in text

    page.goto(f"{live_server.url}{drill.get_absolute_url()}")
    page.screenshot(path=str(screenshots / "drill-with-pdf-link.png"), full_page=True)
    with page.expect_download() as info:
        page.click("#drill-pdf")
    text = _text(info.value)
    assert drill.number in text and "追溯演练报告" in text and "华东医疗器械经销公司" in text
