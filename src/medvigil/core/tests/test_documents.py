"""Documents: HTML templates rendered to PDF with Chinese text (PLAT-6), a header with the record
number, page numbers, and the record's electronic signatures (PLAT-3)."""

from __future__ import annotations

import io
import re
import socket

import pytest
from django.utils import translation
from pypdf import PdfReader

from medvigil.accounts.models import Department
from medvigil.conftest import PASSWORD
from medvigil.core.documents import pdf_response, render_pdf, safe_filename, table_chunks
from medvigil.core.documents.service import FONT_FILE
from medvigil.core.models import Signature
from medvigil.core.signatures.services import sign

pytestmark = pytest.mark.django_db

TEMPLATE = """{% extends "documents/base.html" %}
{% block content %}<p>客户：{{ customer }}</p>
<table><tr><th>序号</th><th>产品</th></tr>
{% for i in rows %}<tr><td>{{ i }}</td><td>{{ product }}</td></tr>{% endfor %}</table>
{% if image %}<img src="{{ image }}">{% endif %}{% endblock %}"""


@pytest.fixture
def doc_template(settings, tmp_path):
    """A document template of the test's own, found by the template engine."""
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "test_doc.html").write_text(TEMPLATE, encoding="utf-8")
    engine = {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}
    settings.TEMPLATES = [engine]
    return "documents/test_doc.html"


@pytest.fixture
def dept(db):
    return Department.objects.create(code="qa-doc", name_zh="质量保证部", name_en="QA docs")


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def render(template, rows=3, **kw):
    context = {
        "customer": "上海第一人民医院",
        "product": "输液泵 IP-100",
        "rows": range(rows),
        **kw.pop("context", {}),
    }
    kw.setdefault("title", "正向追溯报告")
    kw.setdefault("language", "en")
    return render_pdf(template, context, **kw)


@pytest.mark.req("PLAT-6")
def test_chinese_text_is_embedded_and_extractable_without_system_fonts(doc_template):
    pdf = render(doc_template, number="TD-2026-0001")
    assert pdf.startswith(b"%PDF")
    text = "\n".join(pages_text(pdf))
    for expected in ("上海第一人民医院", "输液泵 IP-100", "客户", "正向追溯报告", "TD-2026-0001"):
        assert expected in text
    # The Chinese face is the one shipped in the package, embedded (FontFile2) with a
    # ToUnicode map -- not a system font, not a non-embedded CID font the reader must have.
    reader = PdfReader(io.BytesIO(pdf))
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[str(font["/BaseFont"])] = font
    noto = [f for name, f in fonts.items() if "NotoSansSC" in name]
    assert noto, fonts.keys()
    for font in noto:
        assert "/ToUnicode" in font
        assert "/FontFile2" in font["/FontDescriptor"].get_object()
    # every piece of visible text is set in it (none in a Latin-only base-14 face)
    used = set()

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip() and font_dict is not None:
            used.add(str(font_dict["/BaseFont"]))

    for page in reader.pages:
        page.extract_text(visitor_text=visit)
    assert used and all("NotoSansSC" in name for name in used), used
    assert FONT_FILE.is_file() and FONT_FILE.stat().st_size < 5_000_000


@pytest.mark.req("PLAT-6")
def test_every_page_has_the_record_number_and_page_x_of_y(doc_template):
    pdf = render(doc_template, rows=150, number="TD-2026-0042")
    pages = pages_text(pdf)
    assert len(pages) >= 3
    for i, text in enumerate(pages, start=1):
        assert "TD-2026-0042" in text
        assert f"Page {i} of {len(pages)}" in text


@pytest.mark.req("PLAT-6")
def test_chinese_document_has_chinese_page_numbers(doc_template):
    pdf = render(doc_template, rows=150, number="TD-2026-0043", language="zh-hans")
    pages = pages_text(pdf)
    assert len(pages) >= 2
    assert f"第 1 页，共 {len(pages)} 页" in pages[0]
    assert f"第 {len(pages)} 页，共 {len(pages)} 页" in pages[-1]
    assert "电子签名" not in pages[-1]  # no record, no signatures section


@pytest.mark.req("PLAT-6", "PLAT-3")
def test_record_signatures_are_printed_with_name_meaning_and_state(doc_template, dept, rf):
    from medvigil.accounts.models import User

    signer = User.objects.create_user(
        username="zhang", password=PASSWORD, first_name="三", last_name="张"
    )
    unsigned = pages_text(render(doc_template, record=dept))[-1]
    assert "Electronic signatures" in unsigned and "Not signed yet." in unsigned
    req = rf.post("/sign/")
    req.user = signer
    sig = sign(
        dept,
        user=signer,
        password=PASSWORD,
        meaning=Signature.Meaning.APPROVED,
        request=req,
        reason="同意发布",
    )
    text = "\n".join(pages_text(render(doc_template, record=dept, user=signer)))
    assert sig.printed_name in text and sig.printed_name.strip()
    assert "approved" in text and "同意发布" in text
    assert sig.content_hash[:16] in text
    assert "matches the record" in text.replace("\n", " ") or "matches" in text
    assert "Not signed yet." not in text
    # the header carries the record's title when none is given
    text = pages_text(render(doc_template, record=dept, title=""))[0]
    assert str(dept) in text


@pytest.mark.req("PLAT-6")
def test_rendering_never_reaches_the_network(doc_template, monkeypatch):
    calls = []

    def refuse(self, address):
        calls.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: refuse(None, a))
    pdf = render(doc_template, context={"image": "https://example.com/logo.png"})
    assert pdf.startswith(b"%PDF") and "上海第一人民医院" in pages_text(pdf)[0]
    assert calls == []


def test_safe_filename_and_response_headers():
    assert table_chunks(list(range(5)), 2) == [[0, 1], [2, 3], [4]] and table_chunks([]) == []
    assert safe_filename("forward trace/../上海 A1") == "forward-trace-..-上海-A1.pdf"
    assert safe_filename("../../etc/passwd") == "etc-passwd.pdf"
    assert safe_filename('"\r\n') == "document.pdf"
    response = pdf_response(b"%PDF-1.4", "追溯 TD-1")
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="TD-1.pdf"')
    assert "filename*=UTF-8''%E8%BF%BD%E6%BA%AF-TD-1.pdf" in disposition
    assert "\n" not in disposition and "\r" not in disposition
    assert re.fullmatch(r"[\x20-\x7e]+", disposition)
    assert pdf_response(b"", "x", inline=True)["Content-Disposition"].startswith("inline;")


def test_language_override_does_not_leak(doc_template):
    with translation.override("en"):
        render(doc_template, language="zh-hans")
        assert translation.get_language() == "en"
