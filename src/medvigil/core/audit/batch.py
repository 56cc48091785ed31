"""Batch audit (PLAT-2): many system-generated records created with ONE audit record.

A periodic job that plans ahead (SVC-8: a year of maintenance visits and call-backs for the
installed base, millions of rows) cannot afford an entry and a chain head per row. For such
records — system-generated *planned* records only, never an operator's entry (the rule is in
docs/audit-trail.md) — :func:`record_batch_create` writes the rows (COPY on PostgreSQL, a
bulk insert elsewhere) and one :class:`~medvigil.core.audit.models.AuditBatch`: the audit
context's actor, source and request id, the time, the record type, the number of rows, the
runs of keys they got, and a SHA-256 digest over their values in key order. The batch gets
its own creation entry in the normal hash chain; each row refers to its batch
(``BatchAuditedMixin.audit_batch``), and its history shows the batch's entry as its creation
(:func:`creation_entry`). A later change of a row is audited per row as always (its own
chain then starts at that change).

The digest: for each row in key order, its values in the batch's ``columns`` order, each as
PostgreSQL's COPY text format writes it (``\\N`` for none, ``t``/``f``, ISO dates, UTC
ISO date-times, text with ``\\``, tab, newline and return escaped), tab-separated, one line
per row; on PostgreSQL these are exactly the bytes sent to COPY. :func:`verify_batch`
recomputes it from the table, undoing the rows' later audited changes (their entries hold the
old values), so a row altered, removed or added outside the audit is detected.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .context import current_context
from .values import jsonable

CHUNK = 10_000  # rows rendered and written per round: memory stays bounded

_NULL = "\\N"
_PLAIN_TEXT = (models.CharField, models.TextField)
_PLAIN_INT = (
    models.IntegerField,
    models.BigIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
    models.SmallIntegerField,
    models.AutoField,
    models.BigAutoField,
    models.ForeignKey,
)


def _text(v: Any) -> str:
    if v is None:
        return _NULL
    v = str(v)
    if "\\" in v or "\t" in v or "\n" in v or "\r" in v:
        v = v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return v


def _int(v: Any) -> str:
    return _NULL if v is None else str(int(v))


def _bool(v: Any) -> str:
    return _NULL if v is None else ("t" if v else "f")


def _date(v: Any) -> str:
    return _NULL if v is None else (v if isinstance(v, str) else v.isoformat())


def _datetime(v: Any) -> str:
    if v is None:
        return _NULL
    if isinstance(v, str):
        v = parse_datetime(v)
    if timezone.is_naive(v):
        v = timezone.make_aware(v, dt.UTC)
    return v.astimezone(dt.UTC).isoformat()


def _converter(field: models.Field) -> Callable[[Any], str]:
    """The COPY text of one value of `field` (a Python value or the trail's JSON value)."""
    if isinstance(field, models.BooleanField):
        return _bool
    if isinstance(field, _PLAIN_INT):
        return _int
    if isinstance(field, models.DateTimeField):
        return _datetime
    if isinstance(field, models.DateField):
        return _date
    if isinstance(field, _PLAIN_TEXT):
        return _text
    raise TypeError(
        f"{field.model.__name__}.{field.name}: a {type(field).__name__} cannot be batch-audited "
        "(its value would not read back byte for byte)"
    )


def batch_field(model: type[models.Model]) -> models.ForeignKey | None:
    """The model's reference to its AuditBatch (BatchAuditedMixin), if it has one."""
    from .models import AuditBatch

    for f in model._meta.concrete_fields:
        if f.many_to_one and f.related_model is AuditBatch:
            return f  # type: ignore[return-value]
    return None


@lru_cache(maxsize=32)
def _plan(
    model: type[models.Model], fields: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[Callable[[Any], str], ...], tuple[models.Field, ...]]:
    """(every column in digest order: key, the given fields, the others in model order;
    their converters; the fields not given, which take their default)."""
    meta = model._meta
    by_att = {f.attname: f for f in meta.concrete_fields}
    unknown = [n for n in fields if n not in by_att or n == meta.pk.attname]
    if unknown:
        raise ValueError(f"{model.__name__}: not a field to give: {', '.join(unknown)}")
    rest = tuple(f for f in meta.concrete_fields if f.attname not in {meta.pk.attname, *fields})
    columns = (meta.pk.attname, *fields, *(f.attname for f in rest))
    return columns, tuple(_converter(by_att[c]) for c in columns), rest


def _default(field: models.Field, now: dt.datetime) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.has_default():
        return field.get_default()
    if field.null:
        return None
    if isinstance(field, _PLAIN_TEXT) and not field.null:
        return ""
    raise ValueError(f"{field.model.__name__}.{field.name} has no default: give it")


_BOOL_TEXT = {True: "t", False: "f"}
_SPECIAL = ("\\", "\t", "\n", "\r")


def _render_column(conv: Callable[[Any], str], values: Sequence[Any]) -> list[str] | Sequence[str]:
    """`conv` over one column of a round, the common cases at C speed (the per-row cost of a
    year of plans): keys and numbers by str, dates by isoformat, booleans by a lookup, text
    as it is unless it holds a character COPY escapes; a column holding a None value (or
    anything else) value by value."""
    types = set(map(type, values))
    if len(types) == 1:
        (kind,) = types
        if conv is _int and kind is int:
            return list(map(str, values))
        if conv is _date and kind is dt.date:
            return list(map(dt.date.isoformat, values))
        if conv is _bool and kind is bool:
            return list(map(_BOOL_TEXT.__getitem__, values))
        if conv is _text and kind is str:
            joined = "".join(values)
            if not any(c in joined for c in _SPECIAL):
                return values
    return [conv(v) for v in values]


def render_row(convs: Sequence[Callable[[Any], str]], values: Sequence[Any]) -> str:
    return "\t".join([c(v) for c, v in zip(convs, values, strict=True)]) + "\n"


@dataclass
class _Keys:
    ranges: list[list[int]]

    def add(self, keys: Sequence[int]) -> None:
        """`keys` ascending."""
        if keys and keys[-1] - keys[0] == len(keys) - 1:  # one run (the usual case)
            keys = [keys[0], keys[-1]] if len(keys) > 1 else [keys[0]]
            if len(keys) == 2:
                if self.ranges and self.ranges[-1][1] + 1 == keys[0]:
                    self.ranges[-1][1] = keys[1]
                else:
                    self.ranges.append([keys[0], keys[1]])
                return
        for k in keys:
            if self.ranges and self.ranges[-1][1] + 1 == k:
                self.ranges[-1][1] = k
            else:
                self.ranges.append([k, k])


def record_batch_create(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    note: str = "",
    period: tuple[dt.date, dt.date] | None = None,
    chunk: int = CHUNK,
) -> Any:
    """Insert system-generated records of `model` (a BatchAuditedMixin model with an integer
    key) from `rows` — tuples of values of `fields` (attnames; every other field takes its
    default) — in rounds of `chunk` rows, and write ONE AuditBatch with its creation entry,
    inside the caller's transaction. Returns the batch, or None (nothing written) when
    `rows` is empty. `rows` may be a generator: memory holds one round."""
    from . import recorder
    from .models import AuditBatch

    bf = batch_field(model)
    meta = model._meta
    if bf is None or not isinstance(meta.pk, models.AutoField | models.BigAutoField):
        raise TypeError(f"{model.__name__} is not batch-audited (BatchAuditedMixin)")
    fields = tuple(fields)
    columns, convs, rest = _plan(model, fields)
    conn = connections[DEFAULT_DB_ALIAS]
    ctx = current_context()
    now = timezone.now()
    ct = ContentType.objects.get_for_model(model, for_concrete_model=True)
    it = iter(rows)
    first = list(islice(it, chunk))
    if not first:
        return None
    with transaction.atomic():
        # the batch row first (its key is what the rows refer to); its values are completed
        # at the end, in this transaction, before its entry is written
        batch = AuditBatch(
            created_at=now,
            content_type=ct,
            actor=ctx.actor if getattr(ctx.actor, "pk", None) else None,
            actor_name=ctx.actor_name[:200],
            source=ctx.source[:80],
            request_id=ctx.request_id[:64],
            note=note[:200],
            period_start=period[0] if period else None,
            period_end=period[1] if period else None,
            columns=list(columns),
        )
        batch.save()
        constants = tuple(batch.pk if f is bf else _default(f, now) for f in rest)
        digest = hashlib.sha256()
        keys = _Keys([])
        count = 0
        write = _copy_round if conn.vendor == "postgresql" else _insert_round
        block = first
        while block:
            count += write(model, fields, columns, convs, constants, block, digest, keys, conn)
            block = list(islice(it, chunk))
        _check_references(model, fields, keys.ranges, conn)
        values = {"count": count, "key_ranges": keys.ranges, "digest": digest.hexdigest()}
        models.QuerySet(model=AuditBatch).filter(pk=batch.pk).update(**values)
        for k, v in values.items():
            setattr(batch, k, v)
        recorder.append(
            AuditBatch,
            batch.pk,
            "create",
            batch_changes(batch),
            object_repr=f"{batch} {ct.app_label}.{ct.model} ×{count}"[:200],
        )
    return batch


def _check_references(
    model: type[models.Model], fields: tuple[str, ...], ranges: list[list[int]], conn: Any
) -> None:
    """A reference without a database constraint (``db_constraint=False``: a check per row
    would be a trigger per generated row, millions a year) is checked here, once, set-wise:
    one anti-join per such field over the rows just written."""
    from django.core.exceptions import ValidationError

    meta = model._meta
    qn = conn.ops.quote_name
    for f in meta.concrete_fields:
        if not f.many_to_one or f.attname not in fields or f.db_constraint:
            continue
        target = f.related_model._meta  # type: ignore[union-attr]
        col, pk = qn(f.column), qn(meta.pk.column)
        tcol = qn(f.target_field.column)  # type: ignore[attr-defined]
        where = " OR ".join([f"t.{pk} BETWEEN %s AND %s"] * len(ranges))
        sql = (
            f"SELECT t.{col} FROM {qn(meta.db_table)} t WHERE ({where}) AND t.{col} IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {qn(target.db_table)} r WHERE r.{tcol} = t.{col}) "
            "LIMIT 1"
        )
        with conn.cursor() as cursor:
            cursor.execute(sql, [k for r in ranges for k in r])
            missing = cursor.fetchone()
        if missing is not None:
            raise ValidationError(f"{meta.label}.{f.name}: no {target.label} {missing[0]}")


def batch_changes(batch: Any) -> dict[str, list[Any]]:
    """The batch's creation entry: every field it holds, as [None, value]."""
    return {
        f.attname: [None, jsonable(getattr(batch, f.attname))]
        for f in type(batch)._meta.concrete_fields
        if getattr(batch, f.attname) not in (None, "", [])
    }


def _copy_round(
    model: type[models.Model],
    fields: tuple[str, ...],
    columns: tuple[str, ...],
    convs: tuple[Callable[[Any], str], ...],
    constants: tuple[Any, ...],
    block: list[Sequence[Any]],
    digest: Any,
    keys: _Keys,
    conn: Any,
) -> int:
    """PostgreSQL: keys from the table's sequence, then the rows by COPY in text format —
    the very bytes the digest is taken over."""
    from .bulk import take_keys
    from .fastpath import _drop_reserved_keys

    meta = model._meta
    qn = conn.ops.quote_name
    n = len(fields)
    given, tail_convs = convs[1 : n + 1], convs[n + 1 :]
    tail = "".join("\t" + c(v) for c, v in zip(tail_convs, constants, strict=True)) + "\n"
    _drop_reserved_keys(model, DEFAULT_DB_ALIAS)
    ids = take_keys(conn, model, len(block))
    with conn.cursor() as cursor:
        cols = [list(map(str, ids))]
        cols += [_render_column(c, v) for c, v in zip(given, zip(*block, strict=True), strict=True)]
        data = tail.join(map("\t".join, zip(*cols, strict=True))) + tail
        digest.update(data.encode())
        by_att = {f.attname: f for f in meta.concrete_fields}
        names = ", ".join(qn(by_att[c].column) for c in columns)
        with (
            conn.wrap_database_errors,
            cursor.cursor.copy(f"COPY {qn(meta.db_table)} ({names}) FROM STDIN") as copy,
        ):
            copy.write(data)
    keys.add(ids)
    return len(block)


def _insert_round(
    model: type[models.Model],
    fields: tuple[str, ...],
    columns: tuple[str, ...],
    convs: tuple[Callable[[Any], str], ...],
    constants: tuple[Any, ...],
    block: list[Sequence[Any]],
    digest: Any,
    keys: _Keys,
    conn: Any,
) -> int:
    """Elsewhere: Django's bulk insert (keys returned), the digest over the same lines."""
    names = columns[1:]
    objs = [model(**dict(zip(names, (*row, *constants), strict=True))) for row in block]
    plain: Any = models.QuerySet(model=model)
    plain.bulk_create(objs)
    if any(o.pk is None for o in objs):
        raise TypeError("this database does not return the keys of a bulk insert")
    objs.sort(key=lambda o: o.pk)
    digest.update(
        "".join(render_row(convs, [getattr(o, c) for c in columns]) for o in objs).encode()
    )
    keys.add([o.pk for o in objs])
    return len(objs)


# --- reading and verifying --------------------------------------------------------------------


def creation_entry(model: type[models.Model] | None, object_id: Any) -> tuple[Any, Any] | None:
    """(the AuditBatch, its creation entry) of a record created by a batch, or None."""
    from .models import AuditBatch, AuditEntry

    bf = batch_field(model) if model is not None else None
    if bf is None:
        return None
    try:
        batch_id = (
            model._base_manager.filter(pk=object_id)  # type: ignore[union-attr]
            .values_list(bf.attname, flat=True)
            .first()
        )
    except (ValueError, TypeError):
        return None
    if batch_id is None:
        return None
    batch = AuditBatch.objects.filter(pk=batch_id).first()
    ct = ContentType.objects.get_for_model(AuditBatch)
    entry = (
        AuditEntry.objects.filter(content_type=ct, object_id=str(batch_id), seq=1)
        .select_related("actor")
        .first()
    )
    return (batch, entry) if batch is not None and entry is not None else None


@dataclass
class BatchCheck:
    ok: bool
    rows: int
    problem: str = ""


def verify_batch(batch: Any, chunk: int = CHUNK) -> BatchCheck:
    """Recompute the batch's digest from its table: each row's values as created — its
    current values with its later audited changes undone (entries hold the old values), a
    row destroyed since from its delete entry — in key order. Checks the batch row against
    its creation entry too."""
    from .models import AuditEntry

    ct = ContentType.objects.get_for_id(batch.content_type_id)
    model = ct.model_class()
    if model is None:
        return BatchCheck(False, 0, f"{batch}: unknown record type")
    entry = creation_entry_of(batch)
    if entry is None or entry.changes != batch_changes(batch):
        return BatchCheck(False, 0, f"{batch} does not match its creation entry")
    bf = batch_field(model)
    by_att = {f.attname: f for f in model._meta.concrete_fields}
    columns = list(batch.columns)
    if bf is None or any(c not in by_att for c in columns):
        return BatchCheck(False, 0, f"{batch}: its columns are no longer those of the table")
    convs = [_converter(by_att[c]) for c in columns]
    pk_att = model._meta.pk.attname
    digest = hashlib.sha256()
    seen = 0
    for first, last in batch.key_ranges:
        lo = first
        while lo <= last:
            hi = min(last, lo + chunk - 1)
            current = {
                r[0]: list(r)
                for r in models.QuerySet(model=model)
                .filter(**{f"{pk_att}__gte": lo, f"{pk_att}__lte": hi})
                .values_list(*columns)
            }
            history: dict[str, list[Any]] = {}
            for e in (
                AuditEntry.objects.filter(
                    content_type=ct, object_id__in=[str(k) for k in range(lo, hi + 1)]
                )
                .order_by("object_id", "seq")
                .only("object_id", "action", "changes")
            ):
                history.setdefault(e.object_id, []).append(e)
            for key in range(lo, hi + 1):
                values = _as_created(key, current.get(key), history.get(str(key), []), columns)
                if values is None:
                    return BatchCheck(False, seen, f"{batch}: row {key} is missing")
                if values[columns.index(bf.attname)] != batch.pk:
                    return BatchCheck(False, seen, f"{batch}: row {key} is not of this batch")
                digest.update(render_row(convs, values).encode())
                seen += 1
            lo = hi + 1
    if seen != batch.count:
        return BatchCheck(False, seen, f"{batch}: {seen} rows, the batch says {batch.count}")
    if digest.hexdigest() != batch.digest:
        return BatchCheck(False, seen, f"{batch}: the rows do not match its digest")
    return BatchCheck(True, seen)


def _as_created(
    key: int, row: list[Any] | None, entries: list[Any], columns: list[str]
) -> list[Any] | None:
    """The values a row had when the batch created it."""
    if row is None:
        deleted = [e for e in entries if e.action == "delete"]
        if not deleted:
            return None
        row = [key, *[None] * (len(columns) - 1)]
        for i, c in enumerate(columns[1:], 1):
            pair = deleted[-1].changes.get(c)
            row[i] = pair[0] if isinstance(pair, list) else None
    for e in reversed(entries):
        if e.action == "delete":
            continue
        for i, c in enumerate(columns):
            pair = (e.changes or {}).get(c)
            if isinstance(pair, list) and len(pair) == 2:
                row[i] = pair[0]
    if "version" in columns:
        row[columns.index("version")] = 1  # the lock counter starts at 1; entries omit it
    return row


def creation_entry_of(batch: Any) -> Any:
    from .models import AuditBatch, AuditEntry

    ct = ContentType.objects.get_for_model(AuditBatch)
    return AuditEntry.objects.filter(content_type=ct, object_id=str(batch.pk), seq=1).first()


def verify_batches() -> list[str]:
    """Every batch's problem (verify_trail)."""
    from .models import AuditBatch

    problems = []
    for batch in AuditBatch.objects.order_by("pk").iterator(100):
        check = verify_batch(batch)
        if not check.ok:
            problems.append(check.problem)
    return problems
