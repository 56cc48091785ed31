"""Documents: HTML templates rendered to PDF with Chinese text (see service.py and
docs/documents.md)."""

from .service import (
    PDF_TYPE,
    DocumentError,
    document_context,
    page_label,
    pdf_response,
    render_pdf,
    safe_filename,
    table_chunks,
)

__all__ = [
    "PDF_TYPE",
    "DocumentError",
    "document_context",
    "page_label",
    "pdf_response",
    "render_pdf",
    "safe_filename",
    "table_chunks",
]
