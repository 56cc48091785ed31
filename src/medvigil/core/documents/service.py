"""HTML templates rendered to PDF (PLAT-6: Chinese and English documents).

The engine is xhtml2pdf (on reportlab): pure pip wheels, no system libraries, so a fresh
machine renders the same PDF as a developer's. Chinese text is set in Noto Sans SC, shipped
in this package (``data/fonts``, SIL Open Font License, see ``scripts/build_cjk_font.py``) and
embedded as a subset with a ToUnicode map, so the text can be searched and copied from the
PDF. Rendering never touches the network: remote URLs are refused and local reads are confined
to this package's data folder.

A document template extends ``documents/base.html`` and fills ``{% block content %}``; the
base prints the header (record number and title), the footer (page X of Y and when and for
whom the document was made) and, when a record is given, its electronic signatures.
"""

from __future__ import annotations

import io
import lzma
import re
import threading
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

DATA_DIR = Path(__file__).resolve().parent / "data"
FONT_FILE = DATA_DIR / "fonts" / "NotoSansSC-Regular-subset.ttf.xz"
FONT_NAME = "NotoSansSC"
# CSS family names that reach the Chinese font, including xhtml2pdf's built-in defaults, so
# that text whose template names no font (or a generic one) never falls back to a face
# without Chinese glyphs.
FONT_ALIASES = (
    "noto sans sc",
    "notosanssc",
    "sans-serif",
    "serif",
    "monospace",
    "helvetica",
    "arial",
    "times",
    "times-roman",
    "times new roman",
    "courier",
    "courier new",
)
PDF_TYPE = "application/pdf"
# Where the page numbering goes (points from the page's right and bottom edges; the base
# template's margins and footer frame leave this corner free).
PAGE_LABEL_RIGHT = 42.5  # 1.5 cm, the page's right margin
PAGE_LABEL_BOTTOM = 39.5
PAGE_LABEL_SIZE = 7.5
# Long tables are best laid out as consecutive tables of this many rows: the layout engine
# splits a table at a page end by measuring all its remaining rows again, so one 1,000-row
# table costs the square of its length; chunks keep it linear.
TABLE_CHUNK = 50

_font_lock = threading.Lock()
_font_ready = False


class DocumentError(Exception):
    """The document could not be rendered (a template or layout error, never user input)."""


def _register_font() -> None:
    """Register the Chinese font with reportlab and xhtml2pdf once per process."""
    global _font_ready
    if _font_ready:
        return
    with _font_lock:
        if _font_ready:
            return
        from reportlab.lib.fonts import addMapping
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont
        from xhtml2pdf import default

        data = lzma.decompress(FONT_FILE.read_bytes())
        pdfmetrics.registerFont(TTFont(FONT_NAME, io.BytesIO(data)))
        # One face for all four styles: bold and italic text stays readable Chinese rather
        # than falling back to a Latin-only face.
        for bold in (0, 1):
            for italic in (0, 1):
                addMapping(FONT_NAME, bold, italic, FONT_NAME)
        for alias in FONT_ALIASES:
            default.DEFAULT_FONT[alias] = FONT_NAME
        _font_ready = True


def _policy() -> Any:
    """No network at all; local reads only inside this package's data folder."""
    from xhtml2pdf.config.resources import ResourceAccessPolicy

    return ResourceAccessPolicy.server(base_dir=DATA_DIR, allow_remote=False)


def page_label(number: int, total: int) -> str:
    """The page numbering printed at the foot of every page, e.g. "Page 1 of 3" /
    "第 1 页，共 3 页"."""
    return _("Page %(n)s of %(total)s") % {"n": number, "total": total}


def _number_pages(pdf: bytes) -> bytes:
    """Print "page X of Y" at the bottom right of every page.

    Stamped on the finished PDF rather than laid out by xhtml2pdf (``<pdf:pagecount>``),
    which needs a second layout pass of the whole document: this halves the time a long
    report takes. The label is set in the same embedded font, so it stays extractable."""
    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen.canvas import Canvas

    reader = PdfReader(io.BytesIO(pdf))
    total = len(reader.pages)
    buf = io.BytesIO()
    canvas = Canvas(buf, pageCompression=1)
    for number, page in enumerate(reader.pages, start=1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        canvas.setPageSize((width, height))
        canvas.setFont(FONT_NAME, PAGE_LABEL_SIZE)
        canvas.setFillColorRGB(0.13, 0.15, 0.16)
        canvas.drawRightString(
            width - PAGE_LABEL_RIGHT, PAGE_LABEL_BOTTOM, page_label(number, total)
        )
        canvas.showPage()
    canvas.save()
    labels = PdfReader(io.BytesIO(buf.getvalue()))
    writer = PdfWriter(clone_from=reader)
    for page, label in zip(writer.pages, labels.pages, strict=True):
        page.merge_page(label)
        page.compress_content_streams()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _person(user: Any) -> str:
    if user is None:
        return ""
    return str(getattr(user, "printed_name", "") or user.get_full_name() or user.get_username())


def document_context(
    *,
    record: Any = None,
    title: Any = "",
    number: str = "",
    user: Any = None,
) -> dict[str, Any]:
    """What ``documents/base.html`` prints around the content."""
    from ..templatetags.records import signatures_context

    ctx: dict[str, Any] = {
        "title": str(title) if title else (str(record) if record is not None else ""),
        "number": number or (getattr(record, "number", "") if record is not None else ""),
        "record": record,
        "generated_at": timezone.localtime(),
        "generated_for": _person(user),
        "font_family": FONT_NAME,
        "signatures": None,
    }
    if record is not None and getattr(record, "pk", None) is not None:
        ctx["signatures"] = signatures_context(record)
    return ctx


def render_pdf(
    template_name: str,
    context: dict[str, Any] | None = None,
    *,
    record: Any = None,
    title: Any = "",
    number: str = "",
    language: str | None = None,
    user: Any = None,
) -> bytes:
    """Render `template_name` (which extends ``documents/base.html``) to PDF bytes.

    `record` gives the header its number (``record.number`` unless `number` is given) and the
    document its signatures section; `title` heads the document; `language` renders it in
    that language (default: the active one); `user` is printed as the one the document was
    made for."""
    from xhtml2pdf import pisa

    _register_font()
    with translation.override(language or translation.get_language()):
        ctx = {
            **(context or {}),
            "doc": document_context(record=record, title=title, number=number, user=user),
        }
        html = render_to_string(template_name, ctx)
        out = io.BytesIO()
        result = pisa.CreatePDF(html, dest=out, encoding="utf-8", resource_policy=_policy())
        if result.err:
            raise DocumentError(f"{template_name}: {result.err} error(s) while rendering the PDF")
        return _number_pages(out.getvalue())


def table_chunks(rows: list[Any], size: int = TABLE_CHUNK) -> list[list[Any]]:
    """`rows` in consecutive pieces of `size`, one ``<table repeat="1">`` each."""
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def safe_filename(name: str, extension: str = "pdf") -> str:
    """A file name that every browser and file system accepts: the name's letters and digits
    (Chinese kept), other characters as "-", at most 120 characters, with `extension`."""
    name = unicodedata.normalize("NFC", str(name))
    name = re.sub(r"[^\w.-]+", "-", name, flags=re.UNICODE).strip("-._")
    name = name[:120] or "document"
    return f"{name}.{extension}"


def pdf_response(pdf: bytes, filename: str, *, inline: bool = False) -> HttpResponse:
    """An HTTP response that downloads (or, `inline`, shows) `pdf` as `filename`."""
    name = safe_filename(filename.removesuffix(".pdf"))
    ascii_name = safe_filename(name.encode("ascii", "ignore").decode().removesuffix(".pdf"))
    disposition = "inline" if inline else "attachment"
    response = HttpResponse(pdf, content_type=PDF_TYPE)
    response["Content-Disposition"] = (
        f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


__all__ = [
    "DocumentError",
    "PDF_TYPE",
    "document_context",
    "page_label",
    "pdf_response",
    "render_pdf",
    "safe_filename",
    "table_chunks",
]
