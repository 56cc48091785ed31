"""The PostgreSQL fast path of a new record: keys reserved from the table's sequence in
blocks, so that the record, its chain head and its first entry go to the database as ONE
prepared statement (one round trip; benchmarks/audit_write.py)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models

from .recorder import _after_record_sql, _Creations

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
            from .bulk import take_keys  # (bulk imports this module)

            stock = take_keys(connections[using], model, KEY_BLOCK)[::-1]
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
    from psycopg._queries import PostgresQuery, _query2pg_nocache

    # psycopg parses a statement's text (placeholders → $n) once and caches it, but not for a
    # statement of more than 50 parameters or 4 KiB, which it takes for an ORM's one-off
    # multi-row INSERT. The create-with-entry statement is one text per model, run again and
    # again, and over those limits for a record of many fields (a complaint: ~65 parameters,
    # the parse 15 % of the statement's Python time): this cursor caches its parse.
    parse = lru_cache(maxsize=64)(_query2pg_nocache)

    class CachedParseQuery(PostgresQuery):
        def convert(self, query: Any, vars: Any) -> None:
            if vars is None or not isinstance(query, str | bytes):
                super().convert(query, vars)
                return
            self.query, self._want_formats, self._order, self._parts = parse(
                self._ensure_bytes(query), self._tx.encoding
            )
            self.dump(vars)

    class PreparingCursor(psycopg.Cursor):  # type: ignore[type-arg]
        """Server-side binding, every statement prepared on first use, its parse cached."""

        _query_cls = CachedParseQuery
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
