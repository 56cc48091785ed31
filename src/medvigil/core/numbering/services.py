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

__all__ = ["format_number", "next_number", "validate_pattern"]

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


def _increment(record_type: str, year: int, using: str) -> int:
    """Take the next value of the (type, year) counter in the current transaction."""
    from ..models import Sequence

    rows = Sequence.objects.using(using).filter(record_type=record_type, year=year)
    for _attempt in range(_CREATE_ATTEMPTS):
        # The UPDATE takes the row lock (PostgreSQL) before the value is read back, so two
        # transactions never read the same value.
        if rows.update(last_value=F("last_value") + 1):
            return rows.values_list("last_value", flat=True).get()
        try:
            # First number of this type and year. If another transaction inserts the same
            # row first, our insert waits for it and fails on the unique constraint; the
            # savepoint keeps our transaction usable and the UPDATE above then succeeds.
            with transaction.atomic(using=using):
                Sequence.objects.using(using).create(
                    record_type=record_type, year=year, last_value=1
                )
            return 1
        except IntegrityError:
            continue
    raise RuntimeError(f"could not create the number sequence for {record_type}/{year}")


def next_number(
    record_type: str, *, prefix: str | None = None, when: dt.datetime | None = None
) -> str:
    """The next number for `record_type` in the year of `when` (default: now), in the
    company time zone.

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
    seq = _increment(record_type, year, using)
    return format_number(pattern, prefix=prefix, year=year, seq=seq)
