"""Sealed checkpoints of the audit trail (PLAT-2): they make a *rollback* detectable.

Each record's chain is tamper-evident on its own, but an old copy of a chain head (from any
backup) lets someone delete a record's newest entries and put the old head back: the shorter
chain is still consistent. A seal records where every chain stood: it moves the table of
sealed positions (AuditSealedHead, one row per chain) to the current heads and stores the
number of chains and a keyed digest of that table, MAC'd with the audit key and linked to
the previous seal. `medvigil audit verify` then checks, set-based, that every chain's head is
at or beyond its sealed position and that the entry at that position has the sealed hash,
and that the sealed positions still match the latest seal's digest.

Deleting the newest seals together with the sealed positions (or restoring a whole older
database) cannot be seen from inside the database; for that each seal is also appended as a
JSON line to a file outside it (setting AUDIT_SEAL_FILE; put it on other storage, or ship it
to a log host), and verify checks that every seal in the file is in the database.

Digest: the sum modulo 2**256 of a keyed BLAKE2b MAC of (content type | object id | seq | hash)
over all sealed positions — independent of row order and collation, computed in one pass;
a seal moves the sum by the rows that changed. (An order-independent sum of keyed element
MACs: without the key nobody can compute an element, so nobody can balance a change.)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .hashing import _key

log = logging.getLogger(__name__)

MOD = 1 << 256
SEAL_LOCK = 0x6D76_5345  # advisory lock key: one seal at a time (PostgreSQL)
PROBLEMS_SHOWN = 5


class SealRefused(Exception):
    """Sealing now would bless a rolled-back or altered trail."""


def seal_file() -> str:
    return str(getattr(settings, "AUDIT_SEAL_FILE", "") or "")


# --- digests and MACs -------------------------------------------------------------------------


def _element_mac() -> Callable[[int, str, int, str], int]:
    """Keyed BLAKE2b (a MAC by construction, and faster per row than HMAC-SHA256) under a
    key derived from the audit key."""
    key = hashlib.sha256(b"medvigil-sealed-head\x1f" + _key()).digest()
    blake2b, from_bytes = hashlib.blake2b, int.from_bytes

    def element(ct_id: int, object_id: str, seq: int, head_hash: str) -> int:
        data = f"{ct_id}\x1f{object_id}\x1f{seq}\x1f{head_hash}".encode()
        return from_bytes(blake2b(data, key=key, digest_size=32).digest(), "big")

    return element


def sum_of(rows: Iterable[tuple[int, str, int, str]]) -> tuple[int, int]:
    """(count, sum mod 2**256 of the keyed element MACs) of sealed positions
    (content_type_id, object_id, seq, hash)."""
    element = _element_mac()
    total = count = 0
    for row in rows:
        total += element(*row)
        count += 1
    return count, total % MOD


def hex_digest(total: int) -> str:
    return f"{total % MOD:064x}"


def _rows(sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
    """Rows of a big query in chunks (a server-side cursor on PostgreSQL)."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(20_000):
            yield from rows


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def sealed_sum() -> tuple[int, int]:
    """(count, digest sum) of the table of sealed positions as it is now: one pass, no sort."""
    from ..models import AuditSealedHead

    table = _table(AuditSealedHead)
    return sum_of(_rows(f"SELECT content_type_id, object_id, seq, hash FROM {table}"))


def sealed_digest() -> tuple[int, str]:
    count, total = sealed_sum()
    return count, hex_digest(total)


def seal_payload(seal: Any) -> bytes:
    data = {
        "created_at": seal.created_at.isoformat(),
        "kind": seal.kind,
        "actor_name": seal.actor_name,
        "reason": seal.reason,
        "chains": seal.chains,
        "advanced": seal.advanced,
        "digest": seal.digest,
        "prev_mac": seal.prev_mac,
    }
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def seal_mac(seal: Any) -> str:
    return hmac.new(_key(), b"medvigil-seal\x1f" + seal_payload(seal), hashlib.sha256).hexdigest()


# --- the checks (shared by sealing and verify) -------------------------------------------------


@dataclass
class RolledBack:
    label: str  # app_label.model
    object_id: str
    sealed_seq: int
    head_seq: int | None  # None: the chain head is gone
    entry_ok: bool  # the entry at the sealed position exists with the sealed hash

    def describe(self) -> str:
        where = f"record {self.label}:{self.object_id}"
        if self.head_seq is None:
            return f"{where}: its chain head is gone (sealed at seq {self.sealed_seq})"
        if self.head_seq < self.sealed_seq:
            return (
                f"{where} was rolled back: sealed at seq {self.sealed_seq}, "
                f"its chain now ends at seq {self.head_seq}"
            )
        return f"{where}: its entry at sealed seq {self.sealed_seq} was replaced"


def rolled_back(limit: int = PROBLEMS_SHOWN) -> list[RolledBack]:
    """Chains behind their sealed position, or whose entry at that position is missing or
    has another hash: one set-based query over the sealed positions, the chain heads and the
    entries (by their unique (content type, object, seq) index)."""
    from django.contrib.contenttypes.models import ContentType

    from ..models import AuditChain, AuditEntry, AuditSealedHead

    qn = connection.ops.quote_name
    s, c, e = (qn(m._meta.db_table) for m in (AuditSealedHead, AuditChain, AuditEntry))
    sql = (
        f"SELECT s.content_type_id, s.object_id, s.seq, c.last_seq, "
        f"CASE WHEN e.hash = s.hash THEN 1 ELSE 0 END "
        f"FROM {s} s "
        f"LEFT JOIN {c} c ON c.content_type_id = s.content_type_id AND c.object_id = s.object_id "
        f"LEFT JOIN {e} e ON e.content_type_id = s.content_type_id AND e.object_id = s.object_id "
        f"AND e.seq = s.seq "
        f"WHERE c.id IS NULL OR c.last_seq < s.seq OR e.id IS NULL OR e.hash <> s.hash "
        f"ORDER BY s.content_type_id, s.object_id LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])  # table names are quoted constants
        rows = cursor.fetchall()
    labels = {ct.pk: f"{ct.app_label}.{ct.model}" for ct in ContentType.objects.all()}
    return [
        RolledBack(labels.get(ct_id, "?"), oid, seq, head, bool(ok))
        for ct_id, oid, seq, head, ok in rows
    ]


def seal_chain_problem() -> str:
    """The seals themselves: each one's MAC, and each one linked to the one before it."""
    from ..models import AuditSeal

    prev = ""
    for seal in AuditSeal.objects.order_by("id").iterator(2000):
        if not hmac.compare_digest(seal.mac, seal_mac(seal)):
            return f"seal #{seal.pk} was altered"
        # (a seal after a restore acknowledges whatever came before it)
        if seal.prev_mac != prev and seal.kind != AuditSeal.Kind.AFTER_RESTORE:
            return f"seal #{seal.pk} does not follow the seal before it (a seal was removed)"
        prev = seal.mac
    return ""


def latest_seal() -> Any:
    from ..models import AuditSeal

    return AuditSeal.objects.order_by("-id").first()


def sealed_positions_problem(seal: Any, current: tuple[int, str] | None = None) -> str:
    """The table of sealed positions (`current`: its count and digest, if known) must be
    exactly what `seal` digested."""
    if seal is None:
        from ..models import AuditSealedHead

        return "sealed positions exist without a seal" if AuditSealedHead.objects.exists() else ""
    count, digest = current or sealed_digest()
    if count != seal.chains or not hmac.compare_digest(digest, seal.digest):
        return (
            f"the sealed positions do not match seal #{seal.pk} of "
            f"{seal.created_at:%Y-%m-%d %H:%M} ({count} rows, {seal.chains} sealed): "
            "they were altered"
        )
    return ""


# --- sealing -----------------------------------------------------------------------------------


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK])


def _advance(count: int, total: int, drop_missing: bool) -> tuple[int, int, int]:
    """Move every sealed position to its chain's current head, set-based, and update the
    digest sum with the rows that changed only. `count` and `total` describe the table as it
    is. Returns (positions moved or added or dropped, new count, new sum)."""
    from ..models import AuditChain, AuditSealedHead

    s, c = _table(AuditSealedHead), _table(AuditChain)
    element = _element_mac()
    with connection.cursor() as cursor:
        # One join finds what moved. (Collected first: an INSERT that reads its own target
        # in an anti-join can be planned as a nested loop re-scanning the table it grows.)
        cursor.execute(
            "CREATE TEMPORARY TABLE medvigil_moved AS "
            "SELECT c.content_type_id, c.object_id, c.last_seq, c.last_hash, "
            "x.id AS sealed_id, x.seq AS old_seq, x.hash AS old_hash "
            f"FROM {c} c LEFT JOIN {s} x ON x.content_type_id = c.content_type_id "
            "AND x.object_id = c.object_id "
            "WHERE c.last_seq > 0 AND (x.id IS NULL OR x.seq <> c.last_seq "
            "OR x.hash <> c.last_hash)"
        )
        moved = 0
        for ct_id, oid, seq, head_hash, sealed_id, old_seq, old_hash in _rows(
            "SELECT content_type_id, object_id, last_seq, last_hash, sealed_id, old_seq, "
            "old_hash FROM medvigil_moved"
        ):
            total += element(ct_id, oid, seq, head_hash)
            if sealed_id is None:
                count += 1
            else:
                total -= element(ct_id, oid, old_seq, old_hash)
            moved += 1
        if moved > 10_000 and connection.vendor == "postgresql":
            cursor.execute("ANALYZE medvigil_moved")
        cursor.execute(
            f"UPDATE {s} SET seq = m.last_seq, hash = m.last_hash FROM medvigil_moved m "
            f"WHERE {s}.id = m.sealed_id"
        )
        cursor.execute(
            f"INSERT INTO {s} (content_type_id, object_id, seq, hash) "
            "SELECT content_type_id, object_id, last_seq, last_hash FROM medvigil_moved "
            "WHERE sealed_id IS NULL"
        )
        if cursor.rowcount > 10_000 and connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {s}")  # later plans see its size
        # (on an error the transaction is rolled back, and the temporary table with it)
        cursor.execute("DROP TABLE medvigil_moved")
        # After a restore: positions of chains that the restored database does not have.
        gone = (
            f"NOT EXISTS (SELECT 1 FROM {c} c WHERE c.content_type_id = {s}.content_type_id "
            f"AND c.object_id = {s}.object_id)"
        )
        dropped = (
            list(_rows(f"SELECT content_type_id, object_id, seq, hash FROM {s} WHERE {gone}"))
            if drop_missing
            else []
        )
        if dropped:
            for row in dropped:
                total -= element(*row)
            count -= len(dropped)
            cursor.execute(f"DELETE FROM {s} WHERE {gone}")
    return moved + len(dropped), count, total % MOD


def seal(*, kind: str = "periodic", reason: str = "", actor_name: str = "") -> Any:
    """Write a seal of the trail as it is now and return it.

    A periodic or manual seal first checks that nothing was rolled back or altered since the
    latest seal, and refuses (SealRefused) otherwise: sealing must not bless a rollback.
    A seal after a restore (kind "after_restore", reason required) acknowledges that the
    database was deliberately put back to an earlier state: it seals the restored state and
    is itself recorded in the audit trail with the reason and what it acknowledged."""
    from ..models import AuditSeal
    from . import recorder
    from .context import current_context

    after_restore = kind == AuditSeal.Kind.AFTER_RESTORE
    if after_restore and not reason.strip():
        raise ValueError("A seal after a restore needs a reason.")
    with transaction.atomic():
        _lock()
        previous = latest_seal()
        count, total = sealed_sum()
        acknowledged = []
        for problem in (
            seal_chain_problem(),
            sealed_positions_problem(previous, (count, hex_digest(total))),
            *(r.describe() for r in rolled_back()),
            *file_problems(),
        ):
            if problem:
                acknowledged.append(problem)
        if acknowledged and not after_restore:
            raise SealRefused("; ".join(acknowledged))
        advanced, chains, total = _advance(count, total, drop_missing=after_restore)
        digest = hex_digest(total)
        item = AuditSeal(
            created_at=timezone.now(),
            kind=kind,
            actor_name=(actor_name or current_context().actor_name)[:200],
            reason=reason,
            chains=chains,
            advanced=advanced,
            digest=digest,
            prev_mac=previous.mac if previous is not None else "",
        )
        item.mac = seal_mac(item)
        item.save()
        if kind != AuditSeal.Kind.PERIODIC:
            recorder.append(
                AuditSeal,
                item.pk,
                "event",
                {
                    "event": [None, f"audit trail sealed ({kind})"],
                    "chains": [None, chains],
                    "acknowledged": [None, acknowledged],
                },
                object_repr=str(item),
                reason=reason,
            )
        if seal_file():
            transaction.on_commit(lambda: append_to_file(item))
    return item


# --- the seal file outside the database --------------------------------------------------------


def _file_record(seal: Any) -> dict[str, Any]:
    return {
        "seal": seal.pk,
        "created_at": seal.created_at.isoformat(),
        "kind": seal.kind,
        "actor_name": seal.actor_name,
        "reason": seal.reason,
        "chains": seal.chains,
        "advanced": seal.advanced,
        "digest": seal.digest,
        "prev_mac": seal.prev_mac,
        "mac": seal.mac,
    }


def append_to_file(seal: Any) -> None:
    """Append the seal as one JSON line, flushed to disk (after its transaction commits)."""
    path = seal_file()
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(_file_record(seal), ensure_ascii=False, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError:
        log.exception("audit seal #%s could not be appended to %s", seal.pk, path)


class _FileSeal:
    """A seal as read back from the file, for seal_mac()."""

    def __init__(self, data: dict[str, Any]) -> None:
        import datetime as dt

        self.pk = data["seal"]
        self.created_at = dt.datetime.fromisoformat(data["created_at"])
        for name in ("kind", "actor_name", "reason", "chains", "advanced", "digest", "prev_mac"):
            setattr(self, name, data[name])
        self.mac = data["mac"]


def file_problems() -> list[str]:
    """Every seal in the file since the latest seal after a restore must be in the database.
    A seal missing from the database means the trail was put back to an earlier state."""
    from ..models import AuditSeal

    path = seal_file()
    if not path or not os.path.exists(path):
        return []
    seals: list[_FileSeal] = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                item = _FileSeal(json.loads(line))
            except (ValueError, KeyError, TypeError):
                return [f"line {n} of the seal file {path} cannot be read"]
            if not hmac.compare_digest(item.mac, seal_mac(item)):
                return [f"line {n} of the seal file {path} was altered"]
            seals.append(item)
    in_db = set(AuditSeal.objects.values_list("mac", flat=True))
    start = 0
    for i, item in enumerate(seals):
        if item.kind == AuditSeal.Kind.AFTER_RESTORE and item.mac in in_db:
            start = i
    for item in seals[start:]:
        if item.mac not in in_db:
            return [
                f"seal #{item.pk} of {item.created_at:%Y-%m-%d %H:%M} recorded in the seal file "
                "is not in the database: the audit trail was rolled back to an earlier state "
                "(a restore, or seals removed)"
            ]
    return []


# --- what verify runs --------------------------------------------------------------------------


def seal_problems() -> list[str]:
    """Everything the seals can prove wrong, for `medvigil audit verify`. The sealed
    positions are compared with the latest seal read before and after them, so a seal
    written meanwhile is not mistaken for tampering."""
    problems = [p for p in (seal_chain_problem(),) if p]
    for _attempt in range(3):
        before = latest_seal()
        positions = sealed_positions_problem(before)
        after = latest_seal()
        if getattr(before, "pk", None) == getattr(after, "pk", None):
            break
    if positions:
        problems.append(positions)
    problems.extend(r.describe() for r in rolled_back())
    problems.extend(file_problems())
    return problems
