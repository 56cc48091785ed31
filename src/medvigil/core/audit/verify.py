"""Walk the audit trail and report the first entry that does not verify."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType

from .hashing import chain_mac, entry_hash


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    chains: int
    problem: str = ""
    entry_id: int | None = None
    sealed_at: Any = None  # time of the latest seal the trail was checked against


def verify_trail() -> VerifyResult:
    """Check every chain: sequence numbers contiguous from 1, each entry's HMAC, each link to
    the previous entry, time and id order, and the chain head (detects a removed last entry).
    Then the seals (core.audit.seal): no chain is behind its sealed position (a rollback with
    an old chain head), the sealed positions and the seals are intact, and every seal in the
    seal file is in the database."""
    from ..models import AuditChain, AuditEntry

    labels = {ct.pk: f"{ct.app_label}.{ct.model}" for ct in ContentType.objects.all()}
    heads = {(c.content_type_id, c.object_id): c for c in AuditChain.objects.all().iterator(5000)}
    seen: set[tuple[int, str]] = set()
    count = 0
    key = None
    expect_seq = 1
    prev_hash = ""
    prev_entry = None

    def close_chain(k: tuple[int, str] | None, last_seq: int, last_hash: str) -> str:
        if k is None:
            return ""
        head = heads.get(k)
        label = labels.get(k[0], "?")
        if head is None:
            return f"chain {label}:{k[1]} has no head record"
        if head.last_seq != last_seq or head.last_hash != last_hash:
            return f"chain {label}:{k[1]} ends at seq {last_seq} but its head says {head.last_seq}"
        if head.mac != chain_mac(label, k[1], head.last_seq, head.last_hash):
            return f"chain head {label}:{k[1]} was altered"
        return ""

    qs = AuditEntry.objects.order_by("content_type_id", "object_id", "seq").iterator(5000)
    for e in qs:
        count += 1
        k = (e.content_type_id, e.object_id)
        if k != key:
            problem = close_chain(key, expect_seq - 1, prev_hash)
            if problem:
                return VerifyResult(
                    False, count, len(seen), problem, prev_entry.id if prev_entry else None
                )
            key, expect_seq, prev_hash, prev_entry = k, 1, "", None
            seen.add(k)
        label = labels.get(e.content_type_id, "?")
        if e.seq != expect_seq:
            what = "removed" if e.seq > expect_seq else "inserted out of order"
            return VerifyResult(
                False,
                count,
                len(seen),
                f"entry {e.id} ({label}:{e.object_id}) has seq {e.seq}, expected {expect_seq}: "
                f"an entry was {what}",
                e.id,
            )
        if e.prev_hash != prev_hash:
            return VerifyResult(
                False, count, len(seen), f"entry {e.id} does not link to the entry before it", e.id
            )
        if entry_hash(e, label) != e.hash:
            return VerifyResult(
                False, count, len(seen), f"entry {e.id} ({label}:{e.object_id}) was altered", e.id
            )
        if prev_entry is not None and (e.id < prev_entry.id or e.timestamp < prev_entry.timestamp):
            return VerifyResult(
                False, count, len(seen), f"entry {e.id} is out of order in time", e.id
            )
        expect_seq += 1
        prev_hash = e.hash
        prev_entry = e
    problem = close_chain(key, expect_seq - 1, prev_hash)
    if problem:
        return VerifyResult(False, count, len(seen), problem, prev_entry.id if prev_entry else None)
    for k, head in heads.items():
        if k not in seen and head.last_seq > 0:
            return VerifyResult(
                False,
                count,
                len(seen),
                f"all entries of chain {labels.get(k[0], '?')}:{k[1]} were removed",
            )
    from .batch import verify_batches
    from .seal import latest_seal, seal_problems

    problems = seal_problems() + verify_batches()
    if problems:
        return VerifyResult(False, count, len(seen), "; ".join(problems))
    latest = latest_seal()
    return VerifyResult(True, count, len(seen), sealed_at=getattr(latest, "created_at", None))
