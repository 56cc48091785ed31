"""The request's user in one query, compiled once (#13).

Every request reads its user: the session's (`RoleBackend.get_user`) or the API token's
(`APIToken.authenticate`), with the department and the access stamp (accounts.access) in the
same query. Building that query through the ORM (select_related, a subquery annotation, a
filter, `.first()`) costs about a millisecond of Python per request — more than running it,
and half of an authenticated `GET /api/v1/me`. Its SQL never changes, so it is written here
once per database from the models' metadata, and the rows become model instances through
the public `Model.from_db` with the same converters the ORM applies (SQLite returns
datetimes as text, PostgreSQL as datetimes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Model
from django.db.models.expressions import Col

from .access import STAMP_ATTR, STAMP_PK

# The unread notifications read with the session's user (core.context_processors.unread_for).
UNREAD_ATTR = "_mv_unread"


@dataclass(frozen=True)
class _Part:
    model: type[Model]
    attnames: list[str]
    converters: list[list[Any]]
    cols: list[Col]


@dataclass(frozen=True)
class _Compiled:
    by_id: str
    by_token: str
    user: _Part
    department: _Part
    token_converters: list[Any]
    token_col: Col


_compiled: dict[str, _Compiled] = {}


def _part(model: type[Model], alias: str, connection: Any) -> tuple[_Part, list[str]]:
    quote = connection.ops.quote_name
    fields = list(model._meta.concrete_fields)
    cols = [f.get_col(alias) for f in fields]
    converters = [
        connection.ops.get_db_converters(c) + c.get_db_converters(connection) for c in cols
    ]
    select = [f"{alias}.{quote(f.column)}" for f in fields]
    return _Part(model, [f.attname for f in fields], converters, cols), select


def _compile(using: str) -> _Compiled:
    from .models import AccessStamp, APIToken, Department, User

    connection = connections[using]
    quote = connection.ops.quote_name
    user, user_cols = _part(User, "u", connection)
    dept, dept_cols = _part(Department, "d", connection)
    dept_fk = User._meta.get_field("department").column
    stamp = (
        f"(SELECT s.{quote('value')} FROM {quote(AccessStamp._meta.db_table)} s "
        f"WHERE s.{quote(AccessStamp._meta.pk.column)} = {int(STAMP_PK)})"
    )
    head = ", ".join([*user_cols, *dept_cols, stamp])
    joined = (
        f"FROM {quote(User._meta.db_table)} u LEFT OUTER JOIN {quote(Department._meta.db_table)} d "
        f"ON d.{quote(Department._meta.pk.column)} = u.{quote(dept_fk)}"
    )
    # The session's user (the pages) also brings the count of its unread notifications, shown
    # in every page's bar (core.context_processors.unread_for): no query of its own. Counted
    # on the (user, read_at) index.
    from medvigil.core.notifications.models import Notification

    note = Notification._meta
    unread = (
        f"(SELECT COUNT(*) FROM {quote(note.db_table)} n "
        f"WHERE n.{quote(note.get_field('user').column)} = u.{quote(User._meta.pk.column)} "
        f"AND n.{quote(note.get_field('read_at').column)} IS NULL)"
    )
    by_id = f"SELECT {head}, {unread} {joined} WHERE u.{quote(User._meta.pk.column)} = %s"
    token = APIToken._meta
    used = token.get_field("last_used_at")
    token_col = used.get_col("t")
    by_token = (
        f"SELECT {head}, t.{quote(token.pk.column)}, t.{quote(used.column)} {joined} "
        f"INNER JOIN {quote(token.db_table)} t "
        f"ON t.{quote(token.get_field('user').column)} = u.{quote(User._meta.pk.column)} "
        f"WHERE t.{quote(token.get_field('token_hash').column)} = %s "
        f"AND t.{quote(token.get_field('revoked_at').column)} IS NULL"
    )
    return _Compiled(
        by_id,
        by_token,
        user,
        dept,
        connection.ops.get_db_converters(token_col) + token_col.get_db_converters(connection),
        token_col,
    )


def _convert(value: Any, converters: list[Any], col: Col, connection: Any) -> Any:
    for conv in converters:
        value = conv(value, col, connection)
    return value


def _instance(part: _Part, values: tuple[Any, ...], using: str, connection: Any) -> Model:
    converted = [
        _convert(v, convs, col, connection) if convs else v
        for v, convs, col in zip(values, part.converters, part.cols, strict=True)
    ]
    return part.model.from_db(using, part.attnames, converted)


def _fetch(sql_of: str, param: Any, using: str) -> tuple[Any, tuple[Any, ...]] | None:
    compiled = _compiled.get(using)
    if compiled is None:
        compiled = _compiled[using] = _compile(using)
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(getattr(compiled, sql_of), [param])
        row = cursor.fetchone()
    if row is None:
        return None
    n_user = len(compiled.user.attnames)
    n_dept = len(compiled.department.attnames)
    user = _instance(compiled.user, row[:n_user], using, connection)
    dept_values = row[n_user : n_user + n_dept]
    field = compiled.user.model._meta.get_field("department")
    field.set_cached_value(  # type: ignore[union-attr]
        user,
        None
        if dept_values[0] is None
        else _instance(compiled.department, dept_values, using, connection),
    )
    setattr(user, STAMP_ATTR, row[n_user + n_dept])
    return user, row[n_user + n_dept + 1 :]


def user_by_id(pk: Any, using: str = "default") -> Any:
    """The user with department, access stamp and the count of unread notifications
    (attribute UNREAD_ATTR), or None."""
    found = _fetch("by_id", pk, using)
    if found is None:
        return None
    user, (unread,) = found
    setattr(user, UNREAD_ATTR, unread)
    return user


def user_by_token(token_hash: str, using: str = "default") -> tuple[Any, int, Any] | None:
    """(user with department and stamp, token id, token's last use) of a token that is not
    revoked, or None."""
    found = _fetch("by_token", token_hash, using)
    if found is None:
        return None
    user, (token_pk, last_used) = found
    compiled = _compiled[using]
    if compiled.token_converters:
        last_used = _convert(
            last_used, compiled.token_converters, compiled.token_col, connections[using]
        )
    return user, token_pk, last_used


def forget_compiled() -> None:
    """After a schema change in tests (a field added to the user model), compile again."""
    _compiled.clear()


__all__ = ["forget_compiled", "user_by_id", "user_by_token"]
