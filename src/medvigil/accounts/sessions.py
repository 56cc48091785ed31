"""Django's database sessions, the session's row read with one SQL statement written once per
database (#13).

Every signed-in page reads its session first. Django's store builds that read through the
ORM (``Session.objects.get(session_key=…, expire_date__gt=now)``: a queryset, its compilation
and a model instance) on every request — a few hundred microseconds of Python for a statement
that never changes. Here the same statement (same table, same conditions, the same now as
the ORM would send it) is written once per database and its one column decoded as before;
saving, creating and deleting sessions are Django's own. ``SESSION_ENGINE`` names this
module.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

__all__ = ["SessionStore"]

_sql: dict[str, str] = {}


def _statement(model: Any, using: str) -> str:
    sql = _sql.get(using)
    if sql is None:
        quote = connections[using].ops.quote_name
        opts = model._meta
        data = opts.get_field("session_data").column
        key = opts.get_field("session_key").column
        expires = opts.get_field("expire_date").column
        sql = (
            f"SELECT {quote(data)} FROM {quote(opts.db_table)} "
            f"WHERE {quote(expires)} > %s AND {quote(key)} = %s"
        )
        _sql[using] = sql
    return sql


class SessionStore(db.SessionStore):
    def _session_data_from_db(self) -> str | None:
        """The stored data of this session when it exists and has not expired, else None
        (and, as Django's store does, the key forgotten)."""
        if self.session_key is None:
            return None
        using = router.db_for_read(self.model)
        connection = connections[using]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(_statement(self.model, using), [now, self.session_key])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return str(row[0])

    def load(self) -> dict[str, Any]:
        data = self._session_data_from_db()
        return self.decode(data) if data is not None else {}
