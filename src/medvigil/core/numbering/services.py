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


_GOOD_PATTERNS: set[str] = set()


def _check_pattern(pattern: str) -> None:
    """validate_pattern as ImproperlyConfigured; a pattern found good is not parsed again."""
    if pattern in _GOOD_PATTERNS:
        return
    try:
        validate_pattern(pattern)
    except ValidationError as exc:
        raise ImproperlyConfigured(f"Numbering pattern {pattern!r}: {'; '.join(exc.messages)}")
    if len(_GOOD_PATTERNS) < 256:
        _GOOD_PATTERNS.add(pattern)


def format_number(pattern: str, *, prefix: str, year: int, seq: int) -> str:
    _check_pattern(pattern)
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


def _update_returning(
    record_type: str, year: int, count: int, using: str
) -> tuple[int, str | None, str | None] | None:
    """``UPDATE … SET last_value = last_value + count … RETURNING last_value`` with the record
    type's NumberingScheme prefix and pattern (NULL without a scheme row) read by the same
    statement: the row lock, the new value and the scheme in one round trip (PostgreSQL,
    SQLite ≥ 3.35); None if there is no counter row yet."""
    from ..models import NumberingScheme, Sequence

    conn = connections[using]
    qn = conn.ops.quote_name
    table = qn(Sequence._meta.db_table)
    scheme = qn(NumberingScheme._meta.db_table)
    col = qn("last_value")
    with conn.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET {col} = {col} + %s "  # noqa: S608 (quoted identifiers)
            f"WHERE {qn('record_type')} = %s AND {qn('year')} = %s RETURNING {col}, "
            f"(SELECT {qn('prefix')} FROM {scheme} WHERE {qn('record_type')} = %s), "
            f"(SELECT {qn('pattern')} FROM {scheme} WHERE {qn('record_type')} = %s)",
            [count, record_type, year, record_type, record_type],
        )
        row = cur.fetchone()
    return None if row is None else (int(row[0]), row[1], row[2])


def _scheme(record_type: str, using: str) -> tuple[str | None, str | None]:
    from ..models import NumberingScheme

    row = (
        NumberingScheme.objects.using(using)
        .filter(record_type=record_type)
        .values_list("prefix", "pattern")
        .first()
    )
    return (row[0], row[1]) if row is not None else (None, None)


def _increment(
    record_type: str, year: int, using: str, count: int = 1
) -> tuple[int, str | None, str | None]:
    """Move the (type, year) counter on by `count` in the current transaction; return its new
    value (the last of the `count` numbers taken) with the record type's NumberingScheme
    prefix and pattern (None, None without a scheme row)."""
    from ..models import Sequence

    rows = Sequence.objects.using(using).filter(record_type=record_type, year=year)
    returning = connections[using].features.can_return_columns_from_insert
    for _attempt in range(_CREATE_ATTEMPTS):
        # The UPDATE takes the row lock (PostgreSQL) before the value is read back, so two
        # transactions never read the same value.
        if returning:
            found = _update_returning(record_type, year, count, using)
            if found is not None:
                return found
        elif rows.update(last_value=F("last_value") + count):
            return (rows.values_list("last_value", flat=True).get(), *_scheme(record_type, using))
        try:
            # First number of this type and year. If another transaction inserts the same
            # row first, our insert waits for it and fails on the unique constraint; the
            # savepoint keeps our transaction usable and the UPDATE above then succeeds.
            with transaction.atomic(using=using):
                Sequence.objects.using(using).create(
                    record_type=record_type, year=year, last_value=count
                )
            return (count, *_scheme(record_type, using))
        except IntegrityError:
            continue
    raise RuntimeError(f"could not create the number sequence for {record_type}/{year}")


def _give_back(record_type: str, year: int, using: str, count: int) -> None:
    """Undo an increment of this transaction (its row lock is still held): a bad pattern
    found after the increment leaves no side effect even if the caller goes on."""
    from ..models import Sequence

    rows = Sequence.objects.using(using).filter(record_type=record_type, year=year)
    rows.update(last_value=F("last_value") - count)
    rows.filter(last_value=0).delete()  # created by this increment: as if never taken


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
    from ..models import Sequence

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
    # The counter's UPDATE reads the scheme in the same statement (one round trip while the
    # row lock is held); an administrator's scheme wins over the setting.
    last, scheme_prefix, scheme_pattern = _increment(record_type, year, using, count)
    if scheme_pattern is not None:
        prefix, pattern = scheme_prefix or "", scheme_pattern
    else:
        prefix = prefix if prefix is not None else record_type.upper()
        pattern = settings.NUMBER_PATTERN
    try:
        _check_pattern(pattern)
    except ImproperlyConfigured:
        _give_back(record_type, year, using, count)
        raise
    return [
        pattern.format(prefix=prefix, year=year, seq=seq)
        for seq in range(last - count + 1, last + 1)
    ]
