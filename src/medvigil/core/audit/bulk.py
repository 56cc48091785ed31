"""The bulk path: entries for many records at once (``bulk_create`` with COPY on
PostgreSQL, executemany elsewhere) and audited queryset ``update`` / ``bulk_update``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from operator import attrgetter
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone

from .context import current_context
from .fastpath import _drop_reserved_keys
from .hashing import chain_mac
from .recorder import (
    _CHAIN_FIELDS,
    _ENTRY_FIELDS,
    _Creations,
    _ct,
    _fields,
    _label,
    _new_entry,
    _repr,
    _require_reason,
)
from .values import diff, snapshot


class CreationRows:
    """The entries and chain heads of new records of one model, made ENTRY_ROUND records at a
    time (_Creations.rows_many) as the records get their keys — on PostgreSQL during the
    records' own COPY (copy_insert's `each_round`), so that the client hashes while the
    server stores the rows sent before (#13 item 7). Written by record_bulk_create."""

    def __init__(self, model: type[models.Model]) -> None:
        self.creations = _Creations(model)
        self.entries: list[tuple] = []
        self.heads: list[tuple] = []

    def add(self, objs: Sequence[models.Model]) -> None:
        entries, heads = self.creations.rows_many(objs)
        self.entries += entries
        self.heads += heads

    def are_of(self, objs: Sequence[models.Model]) -> bool:
        """Whether these are the rows of `objs`, in their order."""
        return [h[1] for h in self.heads] == [str(o.pk) for o in objs]


def record_bulk_create(objs: Sequence[models.Model], made: CreationRows | None = None) -> None:
    """Entries and chain heads for freshly inserted rows, written with COPY on PostgreSQL
    (executemany elsewhere): the rows `made` while the records were written if they are the
    rows of `objs`, else made here ENTRY_ROUND records at a time (_Creations.rows_many) — on
    PostgreSQL each round goes into the COPY as soon as it is made, so that the server stores
    and indexes it while the next one is hashed."""
    from ..models import AuditChain, AuditEntry

    objs = list(objs)
    if not objs:
        return
    if any(o.pk is None for o in objs):
        raise ValidationError("bulk_create on this database did not return primary keys.")
    if made is not None and made.are_of(objs):
        _bulk_insert(AuditEntry, _ENTRY_FIELDS, made.entries)
        _bulk_insert(AuditChain, _CHAIN_FIELDS, made.heads)
        return
    creations = _Creations(type(objs[0]))
    chain_rows: list[tuple] = []

    def entry_rows() -> Iterator[tuple]:
        for i in range(0, len(objs), ENTRY_ROUND):
            entries, heads = creations.rows_many(objs[i : i + ENTRY_ROUND])
            chain_rows.extend(heads)
            yield from entries

    _bulk_insert(AuditEntry, _ENTRY_FIELDS, entry_rows())
    _bulk_insert(AuditChain, _CHAIN_FIELDS, chain_rows)


ENTRY_ROUND = 1000  # records whose entries are made at once


_M = TypeVar("_M", bound=models.Model)


def instance_maker(model: type[_M]) -> Callable[[Sequence[Any]], _M]:
    """A maker of new, unsaved instances of `model` from the values of its concrete fields in
    order — what ``model(*values)`` makes, at a third of the cost for the many instances of
    a bulk create (#13 item 7: Model.__init__ sets each field through its descriptor and sends
    two signals). Where a receiver listens to the model's pre_init/post_init, or the model
    defines its own __init__, it is ``model(*values)`` itself."""
    from django.db.models.base import ModelState
    from django.db.models.signals import post_init, pre_init

    if (
        pre_init.has_listeners(model)
        or post_init.has_listeners(model)
        or any("__init__" in vars(c) for c in model.__mro__ if c not in (models.Model, object))
    ):
        return lambda values: model(*values)
    names = tuple(f.attname for f in model._meta.concrete_fields)
    new = model.__new__

    def make(values: Sequence[Any]) -> _M:
        obj = new(model)
        obj._state = ModelState()
        obj.__dict__.update(zip(names, values, strict=True))
        return obj

    return make


COPY_MIN_ROWS = 200  # below this, Django's multi-row INSERT is as fast


_COPY_PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BigIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
    models.SmallIntegerField,
    models.BooleanField,
    models.DecimalField,
    models.ForeignKey,
    models.AutoField,
    models.BigAutoField,
)


@lru_cache(maxsize=64)
def _copy_plan(model: type[models.Model]) -> tuple[tuple[str, Any], ...]:
    """(attname, field or None) per column: values psycopg adapts as they are (strings,
    numbers, booleans, keys, and dates without auto_now) skip Django's per-value preparation."""
    plan = []
    for f in model._meta.concrete_fields:
        plain = isinstance(f, _COPY_PLAIN) or (
            isinstance(f, models.DateField)
            and not isinstance(f, models.DateTimeField)
            and not (f.auto_now or f.auto_now_add)
        )
        plan.append((f.attname, None if plain else f))
    return tuple(plan)


def _row_getter(model: type[models.Model], conn: Any, fields: Sequence[Any]) -> Callable:
    """A function giving a new record's values for the columns of `fields`, ready to write."""
    plan = [p for p in _copy_plan(model) if p[0] in {f.attname for f in fields}]
    if len(plan) > 1 and all(f is None for _att, f in plan):  # values as they are: C getter
        return attrgetter(*(a for a, _f in plan))

    def row_of(o: models.Model) -> Sequence[Any]:
        return [
            getattr(o, att) if f is None else f.get_db_prep_save(f.pre_save(o, True), conn)
            for att, f in plan
        ]

    return row_of


# The sequence is looked up once per statement (an InitPlan): written as the argument of
# nextval, pg_get_serial_sequence ran once per key, nine tenths of the statement's time
# (#13 item 7: 20,000 keys in 118 ms, 13 ms with the look-up hoisted).
_TAKE_KEYS_SQL = (
    "SELECT nextval((SELECT pg_get_serial_sequence(%s, %s)::regclass)) FROM generate_series(1, %s)"
)


def take_keys(conn: Any, model: type[models.Model], n: int) -> list[int]:
    """`n` new primary keys of `model` from its table's sequence (PostgreSQL), ascending: one
    statement whatever `n`. Keys taken are never given out again (a rolled-back
    transaction leaves a gap, as any insert does)."""
    meta = model._meta
    with conn.cursor() as cursor:
        cursor.execute(_TAKE_KEYS_SQL, [meta.db_table, meta.pk.column, n])
        keys = [r[0] for r in cursor.fetchall()]
    keys.sort()
    return keys


def copy_insert(
    model: type[models.Model],
    objs: list[models.Model],
    using: str,
    each_round: Callable[[list[models.Model]], None] | None = None,
) -> bool:
    """Insert many new rows of a regulated model the fast way (the import's hot path):
    PostgreSQL: primary keys taken from the table's sequence first (so that the audit entries
    can point at them), then one COPY, rows streamed ENTRY_ROUND at a time with
    `each_round(those records)` after each (the server stores a round while the caller works
    on it: CreationRows.add); SQLite: one executemany (see _sqlite_insert). Returns False
    (nothing done) where this path does not apply."""
    conn = connections[using]
    meta = model._meta
    if (
        conn.vendor not in ("postgresql", "sqlite")
        or len(objs) < COPY_MIN_ROWS
        or meta.parents
        or not isinstance(meta.pk, models.AutoField | models.BigAutoField)
    ):
        return False
    if conn.vendor == "sqlite":
        return _sqlite_insert(model, objs, using)
    qn = conn.ops.quote_name
    fields = list(meta.concrete_fields)
    need_ids = [o for o in objs if o.pk is None]
    if need_ids:
        _drop_reserved_keys(model, using)
        for obj, new_id in zip(need_ids, take_keys(conn, model, len(need_ids)), strict=True):
            obj.pk = new_id
    with conn.cursor() as cursor:
        row_of = _row_getter(model, conn, fields)
        cols = ", ".join(qn(f.column) for f in fields)
        # Rows streamed as they are made: the server stores them meanwhile.
        with (
            conn.wrap_database_errors,
            cursor.cursor.copy(f"COPY {qn(meta.db_table)} ({cols}) FROM STDIN") as copy,
        ):
            write = copy.write_row
            for i in range(0, len(objs), ENTRY_ROUND):
                part = objs[i : i + ENTRY_ROUND]
                for row in map(row_of, part):
                    write(row)
                if each_round is not None:
                    each_round(part)
    _saved(objs, using)
    return True


def _sqlite_insert(model: type[models.Model], objs: list[models.Model], using: str) -> bool:
    """SQLite: the rows without their keys in one executemany; SQLite numbers them one after
    the other (an AUTOINCREMENT key is one more than any key the table had, and no other
    connection can write while this transaction writes), so the keys are the last one
    inserted and the n - 1 before it — checked against the table."""
    if any(o.pk is not None for o in objs):
        return False
    conn = connections[using]
    meta = model._meta
    qn = conn.ops.quote_name
    fields = [f for f in meta.concrete_fields if f is not meta.pk]
    row_of = _row_getter(model, conn, fields)
    cols = ", ".join(qn(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    table, pk = qn(meta.db_table), qn(meta.pk.column)
    with conn.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({cols}) VALUES ({marks})", [row_of(o) for o in objs]
        )
        cursor.execute("SELECT last_insert_rowid()")
        last = cursor.fetchone()[0]
        first = last - len(objs) + 1
        cursor.execute(
            f"SELECT COUNT(*), MIN({pk}) FROM {table} WHERE {pk} >= %s",  # noqa: S608
            [first],
        )
        if tuple(cursor.fetchone()) != (len(objs), first):
            raise ValidationError("The new records' keys could not be determined.")
    for obj, new_id in zip(objs, range(first, last + 1), strict=True):
        obj.pk = new_id
    _saved(objs, using)
    return True


def _saved(objs: list[models.Model], using: str) -> None:
    for o in objs:
        o._state.adding = False
        o._state.db = using


def _bulk_insert(model: type[models.Model], names: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """Insert `rows` (consumed as they are written: PostgreSQL streams them to the server)."""
    conn = connections[DEFAULT_DB_ALIAS]
    qn = conn.ops.quote_name
    cols = ", ".join(qn(f.column) for f in _fields(model, names))
    table = qn(model._meta.db_table)
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            with (
                conn.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy,
            ):
                write = copy.write_row
                for row in rows:
                    write(row)
        else:
            marks = ", ".join(["%s"] * len(names))
            rows = rows if isinstance(rows, list) else list(rows)  # (no gain in streaming)
            cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)


def _append_many(
    model: type[models.Model], items: Iterable[tuple[Any, str, dict[str, Any]]]
) -> None:
    """Append one 'update' entry per (pk, repr, changes), locking the chains in pk order."""
    from ..models import AuditChain, AuditEntry

    items = [(str(pk), r, c) for pk, r, c in items if c]
    if not items:
        return
    ct = _ct(model)
    label = _label(ct)
    ctx = current_context()
    now = timezone.now()
    ids = sorted({i[0] for i in items})
    chains = {
        c.object_id: c
        for c in AuditChain.objects.select_for_update()
        .filter(content_type=ct, object_id__in=ids)
        .order_by("object_id")
    }
    entries = []
    for oid, rep, changes in items:
        chain = chains.get(oid)
        if chain is None:
            chain = AuditChain(content_type=ct, object_id=oid, last_seq=0, last_hash="")
            chain.save()
            chains[oid] = chain
        seq = chain.last_seq + 1
        e = _new_entry(ct, oid, rep, "update", changes, seq, chain.last_hash, ctx, now)
        entries.append(e)
        chain.last_seq, chain.last_hash = seq, e.hash
        chain.mac = chain_mac(label, oid, seq, e.hash)
    AuditEntry.objects.bulk_create(entries, batch_size=2000)
    AuditChain.objects.bulk_update(
        list(chains.values()), ["last_seq", "last_hash", "mac"], batch_size=2000
    )


def audited_update(qs: models.QuerySet, values: dict[str, Any]) -> int:
    """QuerySet.update on a regulated model: lock the rows, update, write one entry each."""
    model = qs.model
    plain = models.QuerySet(model=model, using=qs.db)
    with transaction.atomic(using=qs.db):
        before = {o.pk: o for o in qs.select_for_update()}
        if not before:
            return 0
        if "version" not in values and any(f.name == "version" for f in model._meta.fields):
            values = {**values, "version": models.F("version") + 1}
        count = plain.filter(pk__in=list(before)).update(**values)
        after = plain.filter(pk__in=list(before)).in_bulk()
        items = []
        for pk, old_obj in before.items():
            new_obj = after.get(pk)
            if new_obj is None:
                continue
            changes = diff(snapshot(old_obj), snapshot(new_obj))
            changes.pop("version", None)
            for obj in (new_obj,):
                _require_reason(obj, False, False)
            items.append((pk, _repr(new_obj), changes))
        _append_many(model, items)
        return count


def audited_bulk_update(
    qs: models.QuerySet,
    objs: Sequence[models.Model],
    fields: Sequence[str],
    do_update: Callable[..., int],
    args: Any,
    kwargs: Any,
) -> int:
    model = qs.model
    objs = list(objs)
    with transaction.atomic(using=qs.db):
        before = qs.select_for_update().in_bulk([o.pk for o in objs])
        for o in objs:
            o.version = (before[o.pk].version if o.pk in before else o.version) + 1
        fields = list({*fields, "version"})
        # Django's bulk_update writes through QuerySet.update: on a plain queryset, or each
        # object would be audited twice (here and by audited_update)
        plain = models.QuerySet(model=model, using=qs.db)
        count = plain.bulk_update(objs, fields, *args, **kwargs)
        items = []
        for o in objs:
            if o.pk in before:
                changes = diff(snapshot(before[o.pk]), snapshot(o))
                changes.pop("version", None)
                items.append((o.pk, _repr(o), changes))
        _append_many(model, items)
        return count
