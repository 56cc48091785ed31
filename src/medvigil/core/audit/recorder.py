"""Writing audit entries: one per change, chained per record with an HMAC so that
`medvigil audit verify` detects an entry altered, removed or inserted out of order."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .context import current_context
from .values import diff, snapshot


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
    try:
        return str(instance)[:200]
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


def append(
    instance_or_model: Any,
    object_id: Any,
    action: str,
    changes: dict[str, Any],
    *,
    object_repr: str = "",
    reason: str | None = None,
) -> Any:
    """Append one entry to the chain of (model, object_id), locking only that chain."""
    from ..models import AuditChain

    model = instance_or_model if isinstance(instance_or_model, type) else type(instance_or_model)
    ct = _ct(model)
    oid = str(object_id)
    ctx = current_context()
    now = timezone.now()
    with transaction.atomic():
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
                mac=chain_mac(_label(ct), oid, 1, entry.hash),
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
            mac=chain_mac(_label(ct), oid, seq, entry.hash),
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


def record_bulk_create(objs: Sequence[models.Model]) -> None:
    """Entries and chain heads for freshly inserted rows, written in two bulk inserts."""
    from ..models import AuditChain, AuditEntry

    objs = list(objs)
    if not objs:
        return
    if any(o.pk is None for o in objs):
        raise ValidationError("bulk_create on this database did not return primary keys.")
    ct = _ct(type(objs[0]))
    label = _label(ct)
    ctx = current_context()
    now = timezone.now()
    entries = []
    chains = []
    for o in objs:
        oid = str(o.pk)
        e = _new_entry(ct, oid, _repr(o), "create", diff(None, snapshot(o)), 1, "", ctx, now)
        entries.append(e)
        chains.append(
            AuditChain(
                content_type=ct,
                object_id=oid,
                last_seq=1,
                last_hash=e.hash,
                mac=chain_mac(label, oid, 1, e.hash),
            )
        )
    AuditEntry.objects.bulk_create(entries, batch_size=2000)
    AuditChain.objects.bulk_create(chains, batch_size=2000)


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
