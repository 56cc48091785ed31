"""Import of master and transactional data from CSV and XLSX files (PLAT-10).

An *importer* declares its columns (English and Chinese headers, required or not, a type) and
implements ``validate_row`` (turn one checked row into unsaved records, or add errors) and
``save_rows`` (bulk-insert them). The framework reads the file, maps the headers, converts and
checks every cell, resolves natural-key lookups once per batch (set-based: one query per
chunk of values, never one per row), runs the importer's checks on every row and collects
every error with the row number as shown in the spreadsheet.

All or nothing: if any row has an error nothing is written and a CSV error report (row,
column, value, message) is stored on the batch; otherwise every row is written in ONE
transaction, inside an audit context whose source is ``import``, whose request id is the
batch number and whose actor is the uploader, so each created record gets its own audit entry
pointing at the batch (``AuditedQuerySet.bulk_create``).

Importers live in an ``imports`` module of each app and register themselves with
``@register``; ``autodiscover()`` (called from CoreConfig.ready) imports those modules so the
web process and the Huey worker know the same kinds.

The package, by concern:

* ``spec``: what an importer declares (``Column``, ``Lookup``, ``Row``, ``RowError``,
  ``Importer``);
* ``registry``: ``register``, ``autodiscover``, ``get_importer``, ``importers_for``;
* ``reading``: CSV/XLSX into a table, chunked natural-key lookups;
* ``validation``: headers, cell conversion, ``run_importer`` (every error of every row);
* ``reports``: the batch's message, error preview and error report, the template CSV;
* ``leases``: the heartbeat and the detection of lost imports;
* ``services``: upload checks, ``create_batch``, ``process_batch`` (the one transaction);
* ``models`` (``ImportBatch``), ``views`` (the pages), ``api`` (the REST endpoints).

The public names are importable from this package. ``process_import_task`` (the Huey task)
is defined here so that its queued name stays ``medvigil.core.imports.process_import_task``.
"""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from .leases import (
    LOST_MESSAGE,
    WORKING,
    Heartbeat,
    fail_lost_imports,
    is_lost,
    lease_seconds,
    settle,
)
from .reading import (
    ALLOWED_EXTENSIONS,
    LOOKUP_CHUNK,
    ImportFileError,
    chunked,
    decode_text,
    filter_in,
    read_csv,
    read_table,
    read_xlsx,
)
from .registry import (
    all_importers,
    autodiscover,
    get_importer,
    importers_for,
    register,
)
from .reports import (
    ERROR_REPORT_SUFFIX,
    PREVIEW_ERRORS,
    error_report_csv,
    error_report_data,
    set_message,
    stored_errors,
    template_csv,
)
from .services import (
    KIND_HELP,
    check_upload,
    create_batch,
    next_batch_number,
    process_batch,
)
from .spec import (
    AMBIGUOUS,
    TYPES,
    Column,
    Importer,
    Lookup,
    Row,
    RowError,
    error_dicts,
    error_message,
    flatten,
    inline_max_bytes,
    max_rows,
    max_upload_bytes,
    norm_header,
)
from .validation import (
    TYPE_MESSAGES,
    Converter,
    Result,
    cell_text,
    check_headers,
    find_header,
    is_blank,
    run_importer,
    to_bool,
    to_date,
    to_decimal,
    to_int,
)


@db_task()
def process_import_task(batch_id: int) -> None:
    """Process a large upload in the worker (see ``services.create_batch``)."""
    process_batch(batch_id)


__all__ = [
    "ALLOWED_EXTENSIONS",
    "AMBIGUOUS",
    "Column",
    "Converter",
    "ERROR_REPORT_SUFFIX",
    "Heartbeat",
    "ImportFileError",
    "Importer",
    "KIND_HELP",
    "LOOKUP_CHUNK",
    "LOST_MESSAGE",
    "Lookup",
    "PREVIEW_ERRORS",
    "Result",
    "Row",
    "RowError",
    "TYPES",
    "TYPE_MESSAGES",
    "WORKING",
    "all_importers",
    "autodiscover",
    "cell_text",
    "check_headers",
    "check_upload",
    "chunked",
    "create_batch",
    "decode_text",
    "error_dicts",
    "error_message",
    "error_report_csv",
    "error_report_data",
    "fail_lost_imports",
    "filter_in",
    "find_header",
    "flatten",
    "get_importer",
    "importers_for",
    "inline_max_bytes",
    "is_blank",
    "is_lost",
    "lease_seconds",
    "max_rows",
    "max_upload_bytes",
    "next_batch_number",
    "norm_header",
    "process_batch",
    "process_import_task",
    "read_csv",
    "read_table",
    "read_xlsx",
    "register",
    "run_importer",
    "set_message",
    "settle",
    "stored_errors",
    "template_csv",
    "to_bool",
    "to_date",
    "to_decimal",
    "to_int",
]
