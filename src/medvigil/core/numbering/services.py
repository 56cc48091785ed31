"""Record numbers (PLAT-4): unique and gapless per record type and year, e.g. FB-2026-00042.

Call :func:`next_number` inside the transaction that creates the record::

    with transaction.atomic():
        fb = Feedback(number=next_number("fb", prefix="FB"), ...)
        fb.save()

The counter row is incremented with ``UPDATE ... SET last_value = last_value + 1``, which
row-locks it on PostgreSQL (and holds SQLite's write lock, taken at BEGIN IMMEDIATE) until
the transaction ends: concurrent creations of the same type queue on that row for the rest
of their transaction, and a rolled-back creation gives its number back, so there are no gaps.
"""

from __future__ import annotations

import datetime as dt
import string
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

__all__ = ["format_number", "next_number", "next_numbers", "validate_pattern"]

_FIELDS = {"prefix", "year", "seq"}
_CREATE_ATTEMPTS = 5


def validate_pattern(pattern: str) -> None:
    """Refuse a pattern that could not give unique numbers or does not format.

    A pattern needs ``{year}`` and ``{seq}`` (the counter restarts every year) and may use
    ``{prefix}``; format specs are allowed (``{seq:05d}``).
    """
    try:
        names = {name for _lit, name, _spec, _conv in string.Formatter().parse(pattern) if name}
    except ValueError as exc:
        raise ValidationError(_("Invalid numbering pattern: %(error)s") % {"error": exc}) from None
    unknown = names - _FIELDS
    if unknown:
        raise ValidationError(
            _("Unknown placeholder(s) %(names)s; use {prefix}, {year} and {seq}.")
            % {"names": ", ".join(sorted(unknown))}
        )
    missing = {"year", "seq"} - names
    if missing:
        raise ValidationError(
            _("The pattern must contain {year} and {seq} so that numbers stay unique.")
        )
    try:
        pattern.format(prefix="FB", year=2026, seq=1)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ValidationError(_("Invalid numbering pattern: %(error)s") % {"error": exc}) from None


def format_number(pattern: str, *, prefix: str, year: int, seq: int) -> str:
    try:
        validate_pattern(pattern)
    except ValidationError as exc:
        raise ImproperlyConfigured(f"Numbering pattern {pattern!r}: {'; '.join(exc.messages)}")
    return pattern.format(prefix=prefix, year=year, seq=seq)


def _year(when: dt.datetime | None) -> int:
    if when is None:
        when = timezone.now()
    if timezone.is_naive(when):
        raise ValueError(
            "next_number(when=...) needs an aware datetime; the year is taken in the company "
            "time zone (settings.TIME_ZONE)"
        )
    return when.astimezone(ZoneInfo(settings.TIME_ZONE)).year


def _update_returning(record_type: str, year: int, count: int, using: str) -> int | None:
    """``UPDATE … SET last_value = last_value + count … RETURNING last_value``: the row lock
    and the new value in one round trip (PostgreSQL, SQLite ≥ 3.35); None if there is no row
    yet."""
    from ..models import Sequence

    conn = connections[using]
    table = conn.ops.quote_name(Sequence._meta.db_table)
    col = conn.ops.quote_name("last_value")
    with conn.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET {col} = {col} + %s "  # noqa: S608 (quoted identifiers)
            f"WHERE {conn.ops.quote_name('record_type')} = %s "
            f"AND {conn.ops.quote_name('year')} = %s RETURNING {col}",
            [count, record_type, year],
        )
        row = cur.fetchone()
    return None if row is None else int(row[0])


def _increment(record_type: str, year: int, using: str, count: int = 1) -> int:
    """Move the (type, year) counter on by `count` in the current transaction; return its new
    value (the last of the `count` numbers taken)."""
    from ..models import Sequence

    rows = Sequence.objects.using(using).filter(record_type=record_type, year=year)
    returning = connections[using].features.can_return_columns_from_insert
    for _attempt in range(_CREATE_ATTEMPTS):
        # The UPDATE takes the row lock (PostgreSQL) before the value is read back, so two
        # transactions never read the same value.
        if returning:
            value = _update_returning(record_type, year, count, using)
            if value is not None:
                return value
        elif rows.update(last_value=F("last_value") + count):
            return rows.values_list("last_value", flat=True).get()
        try:
            # First number of this type and year. If another transaction inserts the same
            # row first, our insert waits for it and fails on the unique constraint; the
            # savepoint keeps our transaction usable and the UPDATE above then succeeds.
            with transaction.atomic(using=using):
                Sequence.objects.using(using).create(
                    record_type=record_type, year=year, last_value=count
                )
            return count
        except IntegrityError:
            continue
    raise RuntimeError(f"could not create the number sequence for {record_type}/{year}")


def next_number(
    record_type: str, *, prefix: str | None = None, when: dt.datetime | None = None
) -> str:
    """The next number for `record_type` in the year of `when` (default: now), in the
    company time zone. See :func:`next_numbers`."""
    return next_numbers(record_type, 1, prefix=prefix, when=when)[0]


def next_numbers(
    record_type: str, count: int, *, prefix: str | None = None, when: dt.datetime | None = None
) -> list[str]:
    """The next `count` consecutive numbers for `record_type` in the year of `when` (default:
    now), in the company time zone, taken with one increment of the counter (several records
    created together: one round trip, one lock).

    The pattern and prefix come from the record type's NumberingScheme row if there is one
    (an administrator's setting wins), else from settings.NUMBER_PATTERN with `prefix`
    (default: the record type upper-cased).

    Must run inside the transaction that creates the record; outside one the number would
    be committed even if the record is never saved, leaving a gap.
    """
    from ..models import NumberingScheme, Sequence

    record_type = (record_type or "").strip()
    if not record_type or len(record_type) > 64:
        raise ValueError("next_number() needs a record type of 1 to 64 characters")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError("next_numbers() needs a count of at least 1")
    using = router.db_for_write(Sequence)
    if not connections[using].in_atomic_block:
        raise RuntimeError(
            "next_number() must be called inside the transaction that creates the record "
            "(transaction.atomic), so that a rollback gives the number back"
        )
    year = _year(when)
    scheme = (
        NumberingScheme.objects.using(using)
        .filter(record_type=record_type)
        .values_list("prefix", "pattern")
        .first()
    )
    if scheme is not None:
        prefix, pattern = scheme
    else:
        prefix = prefix if prefix is not None else record_type.upper()
        pattern = settings.NUMBER_PATTERN
    # Check the pattern before taking a number, so a bad setting fails without side effects.
    format_number(pattern, prefix=prefix, year=year, seq=1)
    last = _increment(record_type, year, using, count)
    return [
        format_number(pattern, prefix=prefix, year=year, seq=seq)
        for seq in range(last - count + 1, last + 1)
    ]
