"""Writing audit entries: one per change, chained per record with an HMAC so that
`medvigil audit verify` detects an entry altered, removed or inserted out of order.

This module appends one entry (``append``, ``record_change``, ``record_event``,
``record_creation``); the payload hash and chain MAC are in ``hashing``, the PostgreSQL
one-statement create in ``fastpath``, the bulk operations in ``bulk``."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Sequence
from functools import lru_cache
from itertools import repeat
from operator import attrgetter
from typing import Any, NamedTuple

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..records.hooks import hook
from .context import current_context
from .hashing import _key, chain_mac, entry_hash
from .values import diff, jsonable, mask, snapshot, snapshot_plan

# Databases on which a new record's first entry is written by _insert_first.
_FAST_VENDORS = {"postgresql", "sqlite"}


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


# json.dumps with options builds a new encoder on every call; these are built once, with
# the options of hashing.entry_payload (the canonical payload) and of a plain json.dumps.
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
_PLAIN = json.JSONEncoder(ensure_ascii=False).encode
_json_str = json.encoder.encode_basestring  # how both quote a string (ensure_ascii=False)


@lru_cache(maxsize=128)
def _creation_plan(model: type[models.Model]) -> tuple[Any, tuple[tuple[str, bool], ...]]:
    """(a getter of the audited fields' values as a tuple, then per field: the JSON text of
    `"attname":[null,` and whether the value is masked), in the sorted key order of the
    canonical payload."""
    plan = sorted(snapshot_plan(model))
    names = [attname for attname, _masked in plan]
    getter = attrgetter(*names) if len(names) > 1 else (lambda obj: (getattr(obj, names[0]),))
    return getter, tuple((f"{_json_str(attname)}:[null,", masked) for attname, masked in plan)


def creation_changes_json(obj: models.Model) -> str:
    """The canonical JSON of a new record's changes — exactly _CANONICAL(_Creations.values(obj)
    [1]) (tested byte for byte) — written directly: no snapshot and changes dicts, and the
    common values (text, whole numbers, booleans, dates) serialised without the encoder
    (#13 item 7: one per imported row)."""
    getter, plan = _creation_plan(type(obj))
    parts = []
    for value, (key, masked) in zip(getter(obj), plan, strict=True):
        if masked:
            parts.append(f"{key}{_json_str(mask(value))}]")
            continue
        cls = value.__class__
        if cls is str:
            parts.append(f"{key}{_json_str(value)}]")
        elif value is None:
            continue
        elif cls is int:
            parts.append(f"{key}{value}]")
        elif cls is bool:
            parts.append(f"{key}{'true' if value else 'false'}]")
        elif cls is dt.date:
            parts.append(f'{key}"{value.isoformat()}"]')
        else:
            parts.append(f"{key}{_CANONICAL(jsonable(value))}]")
    return "{" + ",".join(parts) + "}"


_ALL_NONE = object()
_JSON_BOOL = {True: "true", False: "false"}


def _json_column(values: Sequence[Any]) -> tuple[Sequence[str], str] | Any:
    """One field's values over many new records as JSON texts, the common columns at C
    speed: (the texts, the quote written around each: dates are their bare isoformat);
    _ALL_NONE when every value is None (the field is left out of every entry), None when some
    are None and some not (the caller renders record by record)."""
    kinds = set(map(type, values))
    if type(None) in kinds:
        return _ALL_NONE if len(kinds) == 1 else None
    if len(kinds) == 1:
        (kind,) = kinds
        if issubclass(kind, str):  # text, and text choices (an enum member is a str)
            return list(map(_json_str, values)), ""
        if kind is int:
            return list(map(int.__repr__, values)), ""
        if kind is bool:
            return list(map(_JSON_BOOL.__getitem__, values)), ""
        if kind is dt.date:
            return list(map(dt.date.isoformat, values)), '"'
    return [_CANONICAL(jsonable(v)) for v in values], ""


def creation_changes_jsons(objs: Sequence[models.Model]) -> list[str]:
    """creation_changes_json of each of `objs` (new records of one model), rendered column by
    column (#13 item 7: one per imported row): each field's values at once where they are of
    one plain type, then each record's text by one join of its values and the constant text
    between them. Falls back to the record by record rendering where a field is masked, or
    None in some records and not in others."""
    if not objs:
        return []
    getter, plan = _creation_plan(type(objs[0]))
    if any(masked for _key, masked in plan):
        return [creation_changes_json(o) for o in objs]
    parts: list[Any] = []  # constant text, texts of a field, constant text, ...
    before, after = "{", ""
    for values, (key, _masked) in zip(zip(*map(getter, objs), strict=True), plan, strict=True):
        rendered = _json_column(values)
        if rendered is None:
            return [creation_changes_json(o) for o in objs]
        if rendered is _ALL_NONE:
            continue
        texts, quote = rendered
        parts += [repeat(f"{after}{before}{key}{quote}"), texts]
        before, after = ",", f"{quote}]"
    if not parts:
        return ["{}"] * len(objs)
    parts.append(repeat(f"{after}}}"))
    return list(map("".join, zip(*parts, strict=False)))  # (the constants repeat forever)


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
        return self.rows_json(obj, _CANONICAL(changes))

    def rows_json(self, obj: models.Model, changes_json: str) -> tuple[tuple, tuple]:
        """rows() with the changes already serialised (creation_changes_json)."""
        oid = str(obj.pk)
        mac = self.t.base_mac.copy()
        oid_json = _PLAIN(oid)
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

    def rows_many(self, objs: Sequence[models.Model]) -> tuple[list[tuple], list[tuple]]:
        """rows_json() of each of `objs` (new records of one model, keys set), the changes
        rendered by creation_changes_jsons — the same rows, at half the cost per record (#13
        item 7: the import's audit rows)."""
        t = self.t
        # the pre-keyed HMAC's OpenSSL object, copied without the Python wrapper's cost
        base = getattr(t.base_mac, "_hmac", None) or t.base_mac
        head_part, mid_part, tail_part, label = t.head_part, t.mid_part, self.tail_part, t.label
        ts, actor_id, actor_name, source, rid, reason = (
            self.ts_db,
            t.actor_id,
            t.actor_name,
            t.source,
            t.rid,
            t.reason,
        )
        ct_id = self.ct_id
        entries: list[tuple] = []
        heads: list[tuple] = []
        add_entry, add_head = entries.append, heads.append
        for obj, changes_json in zip(objs, creation_changes_jsons(objs), strict=True):
            pk = obj.pk
            oid = str(pk)
            oid_json = f'"{oid}"' if pk.__class__ is int else _PLAIN(oid)
            mac = base.copy()
            mac.update(f"{head_part}{changes_json}{mid_part}{oid_json}{tail_part}".encode())
            digest = mac.hexdigest()
            head = base.copy()
            head.update(f"{label}|{oid}|1|{digest}".encode())
            add_entry(
                (
                    ts,
                    actor_id,
                    actor_name,
                    source,
                    rid,
                    ct_id,
                    oid,
                    _repr(obj),
                    "create",
                    changes_json,
                    reason,
                    1,
                    "",
                    digest,
                )
            )
            add_head((ct_id, oid, 1, digest, head.hexdigest()))
        return entries, heads


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
