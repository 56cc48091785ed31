"""Writing audit entries: one per change, chained per record with an HMAC so that
`medvigil audit verify` detects an entry altered, removed or inserted out of order."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .context import current_context
from .values import diff, mask, snapshot

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
    """The record's name in the trail: `audit_repr()` if the model has one (language-neutral,
    no queries), else str()."""
    try:
        custom = getattr(instance, "audit_repr", None)
        return (custom() if custom is not None else str(instance))[:200]
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
def _first_entry_sql(vendor: str) -> tuple[str, ...]:
    """SQL that creates a chain head and its first entry only if the head does not exist.
    PostgreSQL: one statement (a data-modifying CTE), so one round trip. SQLite: two
    statements (in-process, no round trip), the second run only if the first inserted."""
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
        return (
            f"WITH head AS ({insert_head} RETURNING 1) "
            f"INSERT INTO {qn(e_meta.db_table)} ({e_cols}) SELECT {casts} FROM head "
            f"RETURNING {qn(e_meta.pk.column)}",
        )
    e_vals = ", ".join(["%s"] * len(_ENTRY_FIELDS))
    return insert_head, f"INSERT INTO {qn(e_meta.db_table)} ({e_cols}) VALUES ({e_vals})"


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


def _insert_first(entry: Any, mac: str) -> bool:
    """Write a new record's chain head and first entry without a lock or a read: a record
    that was just inserted cannot have a chain yet. Returns False, writing nothing, if a
    chain exists after all (a natural key re-used after destruction); the caller then takes
    the locked path."""
    from ..models import AuditEntry

    conn = connections[DEFAULT_DB_ALIAS]
    statements = _first_entry_sql(conn.vendor)
    head = [entry.content_type_id, entry.object_id, 1, entry.hash, mac]  # _CHAIN_FIELDS
    row = _prep(AuditEntry, entry, _ENTRY_FIELDS, conn)
    with conn.cursor() as cursor:
        if len(statements) == 1:
            cursor.execute(statements[0], [*head, *row])
            found = cursor.fetchone()
            if found is None:
                return False
            entry.pk = found[0]
        else:
            cursor.execute(statements[0], head)
            if cursor.rowcount != 1:
                return False
            cursor.execute(statements[1], row)
            entry.pk = cursor.lastrowid
    entry._state.adding = False
    entry._state.db = conn.alias
    return True


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
            if _insert_first(entry, chain_mac(label, oid, 1, entry.hash)):
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
    if created or not getattr(instance, "audit_reason_required", False):
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


@lru_cache(maxsize=64)
def _snapshot_plan(model: type[models.Model]) -> tuple[tuple[str, bool], ...]:
    """(attname, masked) of the audited fields, computed once per model."""
    from .values import audited_fields

    masked = set(getattr(model, "audit_masked", ()))
    return tuple((f.attname, f.name in masked) for f in audited_fields(model))


def _creation_changes(obj: models.Model, plan: tuple[tuple[str, bool], ...]) -> dict[str, Any]:
    """diff(None, snapshot(obj)) without the intermediate dicts: {field: [None, value]}."""
    from .values import jsonable

    out: dict[str, Any] = {}
    for attname, masked in plan:
        value = getattr(obj, attname)
        if value is None:
            continue
        value = mask(value) if masked else jsonable(value)
        if value is not None:
            out[attname] = [None, value]
    return out


def record_bulk_create(objs: Sequence[models.Model]) -> None:
    """Entries and chain heads for freshly inserted rows.

    This is the import's hot path (PLAT-10 targets 10,000 rows/s), so it avoids model
    instances: the rows are built as tuples, hashed with one pre-keyed HMAC, and written with
    COPY on PostgreSQL (executemany elsewhere). The entries are the same as `append` writes —
    `medvigil audit verify` checks them with the same payload function."""
    from ..models import AuditChain, AuditEntry

    objs = list(objs)
    if not objs:
        return
    if any(o.pk is None for o in objs):
        raise ValidationError("bulk_create on this database did not return primary keys.")
    model = type(objs[0])
    ct = _ct(model)
    label = _label(ct)
    ctx = current_context()
    now = timezone.now()
    ts_iso = now.isoformat()
    ts_db = connections[DEFAULT_DB_ALIAS].ops.adapt_datetimefield_value(now)
    actor_id = ctx.actor.pk if getattr(ctx.actor, "pk", None) else None
    actor_name, source, rid = ctx.actor_name[:200], ctx.source[:80], ctx.request_id[:64]
    reason = ctx.reason
    plan = _snapshot_plan(model)
    base_mac = hmac.new(_key(), digestmod=hashlib.sha256)

    def j(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    # Keys in sorted order: action, actor, actor_name, changes, ct, oid, prev, reason, rid,
    # seq, source, ts — the same bytes entry_payload() produces for the stored row.
    head_part = f'{{"action":"create","actor":{j(actor_id)},"actor_name":{j(actor_name)},"changes":'
    mid_part = f',"ct":{j(label)},"oid":'
    tail_part = (
        f',"prev":"","reason":{j(reason)},"rid":{j(rid)},"seq":1,"source":{j(source)},'
        f'"ts":{j(ts_iso)}}}'
    )
    dumps = json.dumps
    entry_rows = []
    chain_rows = []
    for o in objs:
        oid = str(o.pk)
        changes = _creation_changes(o, plan)
        # The canonical payload (entry_payload: sorted keys, compact) spliced around the one
        # serialisation of `changes`, which is also what is stored.
        changes_json = dumps(changes, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        mac = base_mac.copy()
        mac.update(f"{head_part}{changes_json}{mid_part}{dumps(oid)}{tail_part}".encode())
        digest = mac.hexdigest()
        entry_rows.append(
            (
                ts_db,
                actor_id,
                actor_name,
                source,
                rid,
                ct.pk,
                oid,
                _repr(o),
                "create",
                changes_json,
                reason,
                1,
                "",
                digest,
            )
        )
        head = base_mac.copy()
        head.update(f"{label}|{oid}|1|{digest}".encode())  # = chain_mac(label, oid, 1, digest)
        chain_rows.append((ct.pk, oid, 1, digest, head.hexdigest()))
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
        count = do_update(objs, fields, *args, **kwargs)
        items = []
        for o in objs:
            if o.pk in before:
                changes = diff(snapshot(before[o.pk]), snapshot(o))
                changes.pop("version", None)
                items.append((o.pk, _repr(o), changes))
        _append_many(model, items)
        return count
