"""The tamper evidence of the trail: the canonical payload of an entry, its hash, and
the MAC of a record's chain head (keyed by the audit key, settings.AUDIT_HMAC_KEY)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings


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
