"""Writing audit entries: one per change, chained per record with an HMAC so that
`medvigil audit verify` detects an entry altered, removed or inserted out of order."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..records.hooks import hook
from .context import current_context
from .values import diff, snapshot

# Databases on which a new record's first entry is written by _insert_first.
_FAST_VENDORS = {"postgresql", "sqlite"}


def _key() -> bytes:
    return str(settings.AUDIT_HMAC_KEY).encode()


def entry_payload(entry: Any, ct_label: str) -> bytes:
    data = {
        "ct": ct_label,
        "oid": entry.object_id,
        "seq": entry.seq,
        "ts": entry.timestamp.isoformat(),
        "actor": entry.actor_id,
        "actor_name": entry.actor_name,
        "source": entry.source,
        "rid": entry.request_id,
        "action": entry.action,
        "changes": entry.changes,
        "reason": entry.reason,
        "prev": entry.prev_hash,
    }
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def entry_hash(entry: Any, ct_label: str) -> str:
    return hmac.new(_key(), entry_payload(entry, ct_label), hashlib.sha256).hexdigest()


def chain_mac(ct_label: str, object_id: str, last_seq: int, last_hash: str) -> str:
    msg = f"{ct_label}|{object_id}|{last_seq}|{last_hash}".encode()
    return hmac.new(_key(), msg, hashlib.sha256).hexdigest()


def _ct(model: type[models.Model]) -> ContentType:
    return ContentType.objects.get_for_model(model, for_concrete_model=True)


def _label(ct: ContentType) -> str:
    return f"{ct.app_label}.{ct.model}"


def _repr(instance: models.Model) -> str:
    """The record's name in the trail: its `audit_repr()` hook (default str())."""
    try:
        return str(hook(instance, "audit_repr")())[:200]
    except Exception:  # a __str__ that fails must not stop the audit
        return f"{type(instance).__name__} {instance.pk}"


def _new_entry(
    ct: ContentType,
    object_id: str,
    object_repr: str,
    action: str,
    changes: dict[str, Any],
    seq: int,
    prev_hash: str,
    ctx: Any,
    now: Any,
    reason: str | None = None,
) -> Any:
    from ..models import AuditEntry

    actor = ctx.actor if getattr(ctx.actor, "pk", None) else None
    entry = AuditEntry(
        timestamp=now,
        actor=actor,
        actor_name=ctx.actor_name[:200],
        source=ctx.source[:80],
        request_id=ctx.request_id[:64],
        content_type=ct,
        object_id=object_id,
        object_repr=object_repr,
        action=action,
        changes=changes,
        reason=reason if reason is not None else ctx.reason,
        seq=seq,
        prev_hash=prev_hash,
    )
    entry.hash = entry_hash(entry, _label(ct))
    return entry


# Columns written by the one-statement "first entry" insert (see _insert_first).
_ENTRY_FIELDS = (
    "timestamp",
    "actor",
    "actor_name",
    "source",
    "request_id",
    "content_type",
    "object_id",
    "object_repr",
    "action",
    "changes",
    "reason",
    "seq",
    "prev_hash",
    "hash",
)
_CHAIN_FIELDS = ("content_type", "object_id", "last_seq", "last_hash", "mac")


@lru_cache(maxsize=8)
def _fields(model: type[models.Model], names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(model._meta.get_field(name) for name in names)


@lru_cache(maxsize=4)
def _first_entry_parts(vendor: str) -> tuple[str, str]:
    """(INSERT of a chain head that does nothing if the head exists, INSERT of its first
    entry: on PostgreSQL only if the head was inserted — it selects FROM head —, elsewhere
    unconditional)."""
    from ..models import AuditChain, AuditEntry

    conn = connections[DEFAULT_DB_ALIAS]
    qn = conn.ops.quote_name
    c_meta, e_meta = AuditChain._meta, AuditEntry._meta
    c_fields, e_fields = _fields(AuditChain, _CHAIN_FIELDS), _fields(AuditEntry, _ENTRY_FIELDS)
    c_cols = ", ".join(qn(f.column) for f in c_fields)
    e_cols = ", ".join(qn(f.column) for f in e_fields)
    unique = ", ".join(qn(f.column) for f in c_fields[:2])  # audit_chain_uniq
    c_vals = ", ".join(["%s"] * len(_CHAIN_FIELDS))
    insert_head = (
        f"INSERT INTO {qn(c_meta.db_table)} ({c_cols}) VALUES ({c_vals}) "
        f"ON CONFLICT ({unique}) DO NOTHING"
    )
    if vendor == "postgresql":
        casts = ", ".join(f"CAST(%s AS {f.cast_db_type(conn)})" for f in e_fields)
        insert_entry = (
            f"INSERT INTO {qn(e_meta.db_table)} ({e_cols}) SELECT {casts} FROM head "
            f"RETURNING {qn(e_meta.pk.column)}"
        )
    else:
        e_vals = ", ".join(["%s"] * len(_ENTRY_FIELDS))
        insert_entry = f"INSERT INTO {qn(e_meta.db_table)} ({e_cols}) VALUES ({e_vals})"
    return insert_head, insert_entry


@lru_cache(maxsize=4)
def _first_entry_sql(vendor: str) -> tuple[str, ...]:
    """SQL that creates a chain head and its first entry only if the head does not exist.
    PostgreSQL: one statement (a data-modifying CTE), so one round trip. SQLite: two
    statements (in-process, no round trip), the second run only if the first inserted."""
    insert_head, insert_entry = _first_entry_parts(vendor)
    if vendor == "postgresql":
        return (f"WITH head AS ({insert_head} RETURNING 1) {insert_entry}",)
    return insert_head, insert_entry


@lru_cache(maxsize=1)
def _after_record_sql() -> str:
    """The same on PostgreSQL, to follow `WITH rec AS (<the record's INSERT … RETURNING>`:
    the record, its chain head and its first entry in one statement, answering the record's
    returned columns and the entry's id (NULL if the head existed)."""
    insert_head, insert_entry = _first_entry_parts("postgresql")
    return (
        f"), head AS ({insert_head} RETURNING 1), entry AS ({insert_entry}) "
        "SELECT rec.*, (SELECT id FROM entry) FROM rec"
    )


@lru_cache(maxsize=8)
def _adapters(model: type[models.Model], names: tuple[str, ...]) -> tuple[tuple[str, Any], ...]:
    """(attname, field or None): only fields whose Python value needs the database's
    adaptation (dates, JSON) keep their field; ints and strings are passed as they are."""
    plain = (models.CharField, models.TextField, models.IntegerField, models.ForeignKey)
    return tuple((f.attname, None if isinstance(f, plain) else f) for f in _fields(model, names))


def _prep(model: type[models.Model], obj: Any, names: tuple[str, ...], conn: Any) -> list[Any]:
    return [
        getattr(obj, att) if f is None else f.get_db_prep_save(getattr(obj, att), conn)
        for att, f in _adapters(model, names)
    ]


def _insert_first(entry_row: Sequence[Any], head_row: Sequence[Any]) -> int | None:
    """Write a new record's chain head and first entry without a lock or a read: a record
    that was just inserted cannot have a chain yet. The rows are in _ENTRY_FIELDS and
    _CHAIN_FIELDS order, values ready for the database. Returns the entry's id, or None,
    writing nothing, if a chain exists after all (a natural key re-used after destruction);
    the caller then takes the locked path."""
    conn = connections[DEFAULT_DB_ALIAS]
    statements = _first_entry_sql(conn.vendor)
    with conn.cursor() as cursor:
        if len(statements) == 1:
            cursor.execute(statements[0], [*head_row, *entry_row])
            found = cursor.fetchone()
            return None if found is None else found[0]
        cursor.execute(statements[0], head_row)
        if cursor.rowcount != 1:
            return None
        cursor.execute(statements[1], entry_row)
        return cursor.lastrowid


def _entry_row(entry: Any) -> list[Any]:
    from ..models import AuditEntry

    return _prep(AuditEntry, entry, _ENTRY_FIELDS, connections[DEFAULT_DB_ALIAS])


def append(
    instance_or_model: Any,
    object_id: Any,
    action: str,
    changes: dict[str, Any],
    *,
    object_repr: str = "",
    reason: str | None = None,
) -> Any:
    """Append one entry to the chain of (model, object_id), locking only that chain.

    The entry is written in the caller's transaction without a savepoint: if writing it
    fails, the error propagates and the whole change is rolled back with it (a change must
    never commit without its entry), and two round trips per change are saved.
    """
    from ..models import AuditChain

    model = instance_or_model if isinstance(instance_or_model, type) else type(instance_or_model)
    ct = _ct(model)
    oid = str(object_id)
    label = _label(ct)
    ctx = current_context()
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        if action == "create" and connections[DEFAULT_DB_ALIAS].vendor in _FAST_VENDORS:
            entry = _new_entry(ct, oid, object_repr, action, changes, 1, "", ctx, now, reason)
            head = (ct.pk, oid, 1, entry.hash, chain_mac(label, oid, 1, entry.hash))
            pk = _insert_first(_entry_row(entry), head)
            if pk is not None:
                entry.pk = pk
                entry._state.adding = False
                entry._state.db = DEFAULT_DB_ALIAS
                return entry
        chain = (
            AuditChain.objects.select_for_update().filter(content_type=ct, object_id=oid).first()
        )
        if chain is None:
            entry = _new_entry(ct, oid, object_repr, action, changes, 1, "", ctx, now, reason)
            entry.save()
            AuditChain.objects.create(
                content_type=ct,
                object_id=oid,
                last_seq=1,
                last_hash=entry.hash,
                mac=chain_mac(label, oid, 1, entry.hash),
            )
            return entry
        seq = chain.last_seq + 1
        entry = _new_entry(
            ct, oid, object_repr, action, changes, seq, chain.last_hash, ctx, now, reason
        )
        entry.save()
        AuditChain.objects.filter(pk=chain.pk).update(
            last_seq=seq,
            last_hash=entry.hash,
            mac=chain_mac(label, oid, seq, entry.hash),
        )
        return entry


def _require_reason(instance: models.Model, deleted: bool, created: bool) -> None:
    if created or not hook(instance, "audit_reason_required"):
        return
    if not current_context().reason:
        raise ValidationError(_("A reason is required to change or delete this record."))


def record_change(
    instance: models.Model,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    *,
    created: bool,
    deleted: bool = False,
    pk: Any = None,
) -> Any:
    changes = diff(old, new)
    if not created and not deleted:
        changes.pop("version", None)
        if not changes:
            return None  # a save that changed nothing leaves no entry
    _require_reason(instance, deleted, created)
    action = "create" if created else "delete" if deleted else "update"
    return append(
        instance,
        pk if pk is not None else instance.pk,
        action,
        changes,
        object_repr=_repr(instance),
    )


def record_event(
    instance: models.Model,
    message: str,
    data: dict[str, Any] | None = None,
    *,
    action: str = "event",
    reason: str | None = None,
) -> Any:
    """A regulated event that is not a field change (a signature, a transition, an export)."""
    payload = {"event": [None, message]}
    for k, v in (data or {}).items():
        payload[k] = [None, v]
    return append(
        instance, instance.pk, action, payload, object_repr=_repr(instance), reason=reason
    )


class _Template(NamedTuple):
    """What the entries of new records of one model share within one audit context."""

    label: str
    actor_id: int | None
    actor_name: str
    source: str
    rid: str
    reason: str
    base_mac: Any  # HMAC-SHA256 already keyed
    head_part: str  # the canonical payload before the changes
    mid_part: str  # between the changes and the object id
    tail_part: str  # after the object id, up to the time stamp


@lru_cache(maxsize=256)
def _creation_template(label: str, ctx: Any, key: bytes) -> _Template:
    """Keys of the canonical payload in sorted order: action, actor, actor_name, changes, ct,
    oid, prev, reason, rid, seq, source, ts."""
    actor_id = ctx.actor.pk if getattr(ctx.actor, "pk", None) else None
    actor_name, source, rid = ctx.actor_name[:200], ctx.source[:80], ctx.request_id[:64]

    def j(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    return _Template(
        label=label,
        actor_id=actor_id,
        actor_name=actor_name,
        source=source,
        rid=rid,
        reason=ctx.reason,
        base_mac=hmac.new(key, digestmod=hashlib.sha256),
        head_part=(
            f'{{"action":"create","actor":{j(actor_id)},"actor_name":{j(actor_name)},"changes":'
        ),
        mid_part=f',"ct":{j(label)},"oid":',
        tail_part=(
            f',"prev":"","reason":{j(ctx.reason)},"rid":{j(rid)},"seq":1,"source":{j(source)},'
        ),
    )


class _Creations:
    """Audit rows for newly inserted records, built without model instances: the hot path of
    every create (`record_creation`) and of imports (`record_bulk_create`, PLAT-10 targets
    10,000 rows/s). The canonical payload that entry_payload() would produce (sorted keys,
    compact) is spliced around the one serialisation of the record's values, which is also
    what is stored; the HMAC is pre-keyed once. `medvigil audit verify` checks these entries
    with entry_payload() like any other (tested byte for byte)."""

    def __init__(self, model: type[models.Model]) -> None:
        ct = _ct(model)
        self.t = _creation_template(_label(ct), current_context(), _key())
        self.ct_id = ct.pk
        now = timezone.now()
        self.ts_db = connections[DEFAULT_DB_ALIAS].ops.adapt_datetimefield_value(now)
        self.tail_part = f'{self.t.tail_part}"ts":{json.dumps(now.isoformat())}}}'

    @staticmethod
    def values(obj: models.Model) -> tuple[dict[str, Any], dict[str, Any]]:
        """(snapshot, changes) of a new record: changes = diff(None, snapshot)."""
        snap = snapshot(obj)
        return snap, {k: [None, v] for k, v in snap.items() if v is not None}

    def rows(self, obj: models.Model, changes: dict[str, Any]) -> tuple[tuple, tuple]:
        """(entry row in _ENTRY_FIELDS order, chain head row in _CHAIN_FIELDS order)."""
        oid = str(obj.pk)
        changes_json = json.dumps(
            changes, sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        mac = self.t.base_mac.copy()
        oid_json = json.dumps(oid, ensure_ascii=False)
        mac.update(
            f"{self.t.head_part}{changes_json}{self.t.mid_part}{oid_json}{self.tail_part}".encode()
        )
        digest = mac.hexdigest()
        head = self.t.base_mac.copy()
        head.update(f"{self.t.label}|{oid}|1|{digest}".encode())  # = chain_mac(label, oid, 1, …)
        entry_row = (
            self.ts_db,
            self.t.actor_id,
            self.t.actor_name,
            self.t.source,
            self.t.rid,
            self.ct_id,
            oid,
            _repr(obj),
            "create",
            changes_json,
            self.t.reason,
            1,
            "",
            digest,
        )
        return entry_row, (self.ct_id, oid, 1, digest, head.hexdigest())


def record_creation(instance: models.Model) -> dict[str, Any]:
    """The first entry of a record just inserted (AuditedModel.save), written with its chain
    head in one statement and no lock. Returns the record's snapshot."""
    creations = _Creations(type(instance))
    snap, changes = creations.values(instance)
    if connections[DEFAULT_DB_ALIAS].vendor in _FAST_VENDORS:
        entry_row, head_row = creations.rows(instance, changes)
        if _insert_first(entry_row, head_row) is not None:
            return snap
    append(instance, instance.pk, "create", changes, object_repr=_repr(instance))
    return snap


# Keys reserved from a table's sequence, per process: a new record's key is known before
# its INSERT, so the record, its chain head and its first entry go to PostgreSQL as one
# statement (one round trip; benchmarks/audit_write.py). Like a sequence with CACHE, keys
# are handed out in blocks, so records made by different processes at the same moment may
# not be numbered in time order (nothing orders by key alone; gaps were always possible).
KEY_BLOCK = 32
_key_stock: dict[tuple[int, str, str], list[int]] = {}
_key_lock = threading.Lock()


def _after_fork() -> None:  # a worker forked from a parent starts with no keys and a free lock
    global _key_lock
    _key_lock = threading.Lock()
    _key_stock.clear()


os.register_at_fork(after_in_child=_after_fork)


def one_statement_create(model: type[models.Model], using: str) -> bool:
    """Whether a new `model` record is inserted together with its first entry."""
    meta = model._meta
    return (
        connections[using].vendor == "postgresql"
        and using == DEFAULT_DB_ALIAS
        and not meta.parents
        and isinstance(meta.pk, models.AutoField | models.BigAutoField)
    )


def reserved_key(model: type[models.Model], using: str) -> int:
    """The next key for a new `model` record, from this process's block of the sequence."""
    meta = model._meta
    slot = (os.getpid(), using, meta.db_table)  # a forked worker never reuses its parent's
    with _key_lock:
        stock = _key_stock.get(slot)
        if not stock:
            with connections[using].cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [meta.db_table, meta.pk.column, KEY_BLOCK],
                )
                stock = sorted((r[0] for r in cursor.fetchall()), reverse=True)
            _key_stock[slot] = stock
        return stock.pop()


def _drop_reserved_keys(model: type[models.Model], using: str) -> None:
    """Forget this process's reserved keys of `model` once it has taken later ones from the
    sequence directly (copy_insert), so that its records stay numbered in creation order."""
    with _key_lock:
        _key_stock.pop((os.getpid(), using, model._meta.db_table), None)


@lru_cache(maxsize=1)
def _preparing_cursor_class() -> type:
    import psycopg

    class PreparingCursor(psycopg.Cursor):  # type: ignore[type-arg]
        """Server-side binding, and every statement prepared on first use."""

        _converted: Any = None

        def _convert_query(self, query: Any, params: Any = None) -> Any:
            self._converted = super()._convert_query(query, params)
            return self._converted

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs["prepare"] = True
            result = super().execute(query, params, **kwargs)
            if self._query is None:
                # psycopg leaves the query unset when it runs a prepared statement; Django's
                # query log (DEBUG, tests) reads it from there.
                self._query = self._converted
            return result

    return PreparingCursor


def _prepared_cursor(conn: Any) -> Any:
    """A cursor whose statements PostgreSQL prepares once per connection instead of parsing
    and planning them on every run — for the create-with-entry statement, planning took
    longer than executing. Django's own cursors bind parameters client-side and never
    prepare; this one is wrapped like them (error translation, query logging). psycopg keeps
    at most 100 prepared statements per connection (least recently used are dropped)."""
    conn.ensure_connection()
    return conn._prepare_cursor(_preparing_cursor_class()(conn.connection))


def insert_with_first_entry(
    instance: models.Model,
    model: type[models.Model],
    using: str,
    fields: Sequence[Any],
    returning_fields: Sequence[Any],
    raw: bool,
) -> tuple[list[tuple[Any, ...]], dict[str, Any] | None]:
    """AuditedModel._do_insert on PostgreSQL: Django's INSERT … RETURNING for the record
    (key already reserved), then its chain head and first entry, in one statement.

    Returns Django's returned rows and the record's snapshot, or None for the snapshot if a
    chain for this key already existed (nothing was written to it; the caller appends)."""
    from django.db.models.sql import InsertQuery

    conn = connections[using]
    query = InsertQuery(model)
    query.insert_values(fields, [instance], raw=raw)
    compiler = query.get_compiler(using=using)
    returning = list(returning_fields) or [model._meta.pk]
    compiler.returning_fields = returning
    [(insert_sql, insert_params)] = compiler.as_sql()  # runs pre_save (auto_now, …)
    creations = _Creations(model)
    snap, changes = creations.values(instance)
    entry_row, head_row = creations.rows(instance, changes)
    with _prepared_cursor(conn) as cursor:
        cursor.execute(
            f"WITH rec AS ({insert_sql}{_after_record_sql()}",
            [*insert_params, *head_row, *entry_row],
        )
        *values, entry_id = cursor.fetchone()
    rows: list[tuple[Any, ...]] = [tuple(values)]
    converters = compiler.get_converters([f.get_col(model._meta.db_table) for f in returning])
    if converters:
        rows = [tuple(r) for r in compiler.apply_converters(rows, converters)]
    return (rows if returning_fields else []), (snap if entry_id is not None else None)


def record_bulk_create(objs: Sequence[models.Model]) -> None:
    """Entries and chain heads for freshly inserted rows, written with COPY on PostgreSQL
    (executemany elsewhere)."""
    from ..models import AuditChain, AuditEntry

    objs = list(objs)
    if not objs:
        return
    if any(o.pk is None for o in objs):
        raise ValidationError("bulk_create on this database did not return primary keys.")
    creations = _Creations(type(objs[0]))
    entry_rows = []
    chain_rows = []
    for o in objs:
        entry_row, head_row = creations.rows(o, creations.values(o)[1])
        entry_rows.append(entry_row)
        chain_rows.append(head_row)
    _bulk_insert(AuditEntry, _ENTRY_FIELDS, entry_rows)
    _bulk_insert(AuditChain, _CHAIN_FIELDS, chain_rows)


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


def copy_insert(model: type[models.Model], objs: list[models.Model], using: str) -> bool:
    """Insert many new rows of a regulated model with COPY on PostgreSQL (the import's hot
    path): primary keys are taken from the table's sequence first, so the audit entries can
    point at them. Returns False (nothing done) where this path does not apply."""
    conn = connections[using]
    meta = model._meta
    if (
        conn.vendor != "postgresql"
        or len(objs) < COPY_MIN_ROWS
        or meta.parents
        or not isinstance(meta.pk, models.AutoField | models.BigAutoField)
    ):
        return False
    qn = conn.ops.quote_name
    fields = list(meta.concrete_fields)
    need_ids = [o for o in objs if o.pk is None]
    with conn.cursor() as cursor:
        if need_ids:
            _drop_reserved_keys(model, using)
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(need_ids)],
            )
            for obj, (new_id,) in zip(need_ids, cursor.fetchall(), strict=True):
                obj.pk = new_id
        plan = _copy_plan(model)
        rows = [
            [
                getattr(o, att) if f is None else f.get_db_prep_save(f.pre_save(o, True), conn)
                for att, f in plan
            ]
            for o in objs
        ]
        cols = ", ".join(qn(f.column) for f in fields)
        with (
            conn.wrap_database_errors,
            cursor.cursor.copy(f"COPY {qn(meta.db_table)} ({cols}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
    for o in objs:
        o._state.adding = False
        o._state.db = using
    return True


def _bulk_insert(model: type[models.Model], names: tuple[str, ...], rows: list[tuple]) -> None:
    conn = connections[DEFAULT_DB_ALIAS]
    qn = conn.ops.quote_name
    cols = ", ".join(qn(f.column) for f in _fields(model, names))
    table = qn(model._meta.db_table)
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(names))
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
