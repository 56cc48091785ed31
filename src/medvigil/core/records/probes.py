"""Row probes (#13): whether a record has rows of some kind elsewhere (its sale lines, a
timeline provider's rows, its signatures, its attachments), read in the record's own query as
one EXISTS subquery per kind — an index probe each, no extra round trip, the SQL written here
rather than compiled by the ORM on every request. A page that reads the record through
``with_row_probes`` skips the queries of the kinds the record has none of; code that reads
a record without them (``getattr(record, name, True)``) queries as before."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RowSource:
    """Rows in `table` whose `column` equals the subject's own `subject_column` (its key, or
    e.g. its lot); with `content_type_id`, a generic relation: rows of that content type
    whose `column` (text) holds the subject's key."""

    table: str
    column: str
    subject_column: str = "id"
    content_type_id: int | None = None


def rows_of(model: Any, field_name: str, subject_column: str = "id") -> RowSource:
    """The rows of `model` whose `field_name` points at the subject's `subject_column`, e.g.
    ``rows_of(Feedback, "unit")``, ``rows_of(NC.lots.through, "lot", "lot_id")``."""
    return RowSource(model._meta.db_table, model._meta.get_field(field_name).column, subject_column)


def generic_rows_of(model: Any, subject_model: Any, field_name: str = "object_id") -> RowSource:
    """The rows of `model` (content type + text object id, e.g. core.Signature) that belong
    to a record of `subject_model`."""
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(subject_model, for_concrete_model=True)
    return RowSource(
        model._meta.db_table, model._meta.get_field(field_name).column, "id", content_type_id=ct.pk
    )


def with_row_probes(qs: Any, **probes: Sequence[RowSource]) -> Any:
    """`qs` annotated, for each name, with whether rows exist in any of its sources for each
    record (a boolean: True when there may be rows to read, False when there are none)."""
    from django.db import connections
    from django.db.models import BooleanField
    from django.db.models.expressions import RawSQL

    if not probes:
        return qs
    quote = connections[qs.db].ops.quote_name
    subject = quote(qs.model._meta.db_table)
    annotations = {}
    for name, sources in probes.items():
        parts, params = [], []
        for s in sources:
            table = quote(s.table)
            key = f"{subject}.{quote(s.subject_column)}"
            if s.content_type_id is None:
                where = f"{table}.{quote(s.column)} = {key}"
            else:
                where = (
                    f"{table}.{quote('content_type_id')} = %s AND "
                    f"{table}.{quote(s.column)} = CAST({key} AS VARCHAR(255))"
                )
                params.append(s.content_type_id)
            parts.append(f"EXISTS (SELECT 1 FROM {table} WHERE {where})")
        # names from the models' metadata, quoted; the one value (a content type) a parameter
        sql = " OR ".join(parts)
        annotations[name] = RawSQL(sql, tuple(params), output_field=BooleanField())  # noqa: S611
    return qs.annotate(**annotations)


def with_panel_probes(qs: Any) -> Any:
    """`qs` with ``probe_signatures`` and ``probe_attachments``: the record page's panels
    (core.templatetags) read none when the record has none."""
    from ..models import Attachment, Signature

    return with_row_probes(
        qs,
        probe_signatures=(generic_rows_of(Signature, qs.model),),
        probe_attachments=(generic_rows_of(Attachment, qs.model),),
    )
