"""Stock movements (SVC-10): one function, :func:`move`, that every path calls — the
movement form, the API, the work orders of the service app (:func:`issue_for_work_order`,
:func:`return_from_work_order`), reversals and the demo.

How "never negative" is kept: the stock-level rows a movement touches are created if
missing, then locked (``SELECT … FOR UPDATE``, in location order so that two transfers in
opposite directions cannot deadlock); the quantity is checked and changed under the lock, in
the same transaction as the audited, numbered movement. Two people issuing the last part at
once: the second waits for the first's commit, then reads 0 and is refused. On SQLite the
IMMEDIATE transaction takes the database's write lock at BEGIN, which serialises the same
way. The positive-integer column is the database's own last check.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Sum

from medvigil.core.i18n import gettext_msg as _
from medvigil.core.types import Actor

from ..models import (
    MAX_ON_HAND,
    MAX_QUANTITY,
    LocationKind,
    MovementKind,
    Part,
    StockLevel,
    StockLocation,
    StockMovement,
)
from .common import acting, has_perm, text

# kind -> (needs a from location, needs a to location); None: either one, exactly one
SHAPES: dict[str, tuple[bool | None, bool | None]] = {
    MovementKind.RECEIPT: (False, True),
    MovementKind.TRANSFER: (True, True),
    MovementKind.ISSUE: (True, False),
    MovementKind.RETURN: (False, True),
    MovementKind.ADJUSTMENT: (None, None),
    MovementKind.SCRAP: (True, False),
    MovementKind.REVERSAL: (None, None),
}
NEEDS_REASON: set[str] = {MovementKind.ADJUSTMENT, MovementKind.SCRAP, MovementKind.REVERSAL}
NEEDS_REFERENCE: set[str] = {MovementKind.ISSUE, MovementKind.RETURN}
# What an engineer may do with the van they own (parts.use_van_stock) without being a stock
# keeper (parts.add_stockmovement): issue to a work order, take an unused part back.
VAN_KINDS: dict[str, str] = {
    MovementKind.ISSUE: "from_location",
    MovementKind.RETURN: "to_location",
}


def parse_quantity(value: Any) -> int:
    """A whole number of parts, 1 … MAX_QUANTITY (the same message from every path)."""
    if isinstance(value, bool):
        value = None
    try:
        number = int(str(value).strip()) if value is not None else None
    except (TypeError, ValueError):
        number = None
    if number is None or not 1 <= number <= MAX_QUANTITY:
        raise ValidationError(
            {
                "quantity": _("Give a whole number of parts from 1 to %(max)s.")
                % {"max": MAX_QUANTITY}
            }
        )
    return number


def _check_shape(kind: str, source: StockLocation | None, target: StockLocation | None) -> None:
    if kind not in SHAPES:
        raise ValidationError({"kind": _("Unknown movement type.")})
    need_from, need_to = SHAPES[kind]
    if need_from is True and source is None:
        raise ValidationError({"from_location": _("Choose the location the parts leave.")})
    if need_to is True and target is None:
        raise ValidationError({"to_location": _("Choose the location the parts go to.")})
    if need_from is False and source is not None:
        raise ValidationError(
            {"from_location": _("A %(kind)s takes no from location.") % {"kind": kind}}
        )
    if need_to is False and target is not None:
        raise ValidationError(
            {"to_location": _("A %(kind)s takes no to location.") % {"kind": kind}}
        )
    if need_from is None and (source is None) == (target is None):
        raise ValidationError(
            _(
                "An adjustment either adds parts to a location (to location) or takes them "
                "from one (from location): choose exactly one."
            )
        )
    if source is not None and target is not None and source.pk == target.pk:
        raise ValidationError({"to_location": _("Choose two different locations.")})


def _check_permission(
    by: Actor, kind: str, source: StockLocation | None, target: StockLocation | None
) -> None:
    """Stock keepers (add_stockmovement) move anything; an engineer (use_van_stock) issues
    from and returns to their own van only."""
    if by is None or has_perm(by, "parts.add_stockmovement"):
        return
    if by.is_authenticated and has_perm(by, "parts.use_van_stock") and kind in VAN_KINDS:
        location = source if kind == MovementKind.ISSUE else target
        if location is not None and location.is_van and location.engineer_id == by.pk:
            return
        raise ValidationError(
            {VAN_KINDS[kind]: _("You may issue and return parts only at your own van.")}
        )
    raise PermissionDenied


def _reference(reference: Any, label: str) -> tuple[ContentType | None, str, str]:
    """(content type, id, label) of a record, or a free text reference."""
    if reference is None or isinstance(reference, str):
        return None, "", text(label or reference, 200)
    if not isinstance(reference, models.Model) or reference.pk is None:
        raise ValidationError({"reference": _("The reference is not a saved record.")})
    ct = ContentType.objects.get_for_model(reference, for_concrete_model=True)
    shown = label or getattr(reference, "number", "") or str(reference)
    return ct, str(reference.pk), text(shown, 200)


def _lock_levels(part: Part, locations: list[StockLocation]) -> dict[int, StockLevel]:
    """The part's level rows at `locations`, created if missing, locked in location order."""
    ids = sorted({loc.pk for loc in locations})
    for loc_id in ids:
        StockLevel.objects.get_or_create(part=part, location_id=loc_id)
    rows = (
        StockLevel.objects.select_for_update()
        .filter(part=part, location_id__in=ids)
        .order_by("location_id")
    )
    return {row.location_id: row for row in rows}


def _same_request(existing: StockMovement, **wanted: Any) -> StockMovement:
    for name, value in wanted.items():
        if getattr(existing, name) != value:
            raise ValidationError(
                {
                    "request_key": _("This request key was used for another movement (%(number)s).")
                    % {"number": existing.number}
                }
            )
    return existing


def move(
    *,
    kind: str,
    part: Part,
    quantity: Any,
    by: Actor,
    from_location: StockLocation | None = None,
    to_location: StockLocation | None = None,
    reason: str = "",
    reference: Any = None,
    reference_label: str = "",
    request_key: str | None = None,
    reverses: StockMovement | None = None,
) -> StockMovement:
    """Move `quantity` of `part` from `from_location` (None: from outside) to `to_location`
    (None: out of stock), as one numbered, audited, immutable movement. Refused with a clear
    message, nothing changed, when the shape does not fit the kind, a reason or reference is
    missing, the user may not, or the source location holds fewer parts than asked for."""
    qty = parse_quantity(quantity)
    kind = str(kind)
    if kind == MovementKind.REVERSAL and reverses is None:
        raise ValidationError({"kind": _("A reversal is made from the movement it reverses.")})
    _check_shape(kind, from_location, to_location)
    _check_permission(by, kind, from_location, to_location)
    reason = text(reason, 2000)
    if kind in NEEDS_REASON and not reason:
        raise ValidationError({"reason": _("Give the reason for this movement.")})
    ref_type, ref_id, ref_label = _reference(reference, reference_label)
    if kind in NEEDS_REFERENCE and not ref_label:
        raise ValidationError(
            {"reference": _("Name the work order or other record the parts are for.")}
        )
    if kind == MovementKind.RECEIPT and not part.active:
        raise ValidationError({"part": _("%(part)s is inactive.") % {"part": str(part)}})
    if to_location is not None and not to_location.active:
        raise ValidationError(
            {"to_location": _("%(location)s is inactive.") % {"location": str(to_location)}}
        )
    key = text(request_key, 64) or None
    locations = [loc for loc in (from_location, to_location) if loc is not None]
    with transaction.atomic(), acting(by, reason or None):
        levels = _lock_levels(part, locations)
        if key is not None:
            existing = StockMovement.objects.filter(request_key=key).first()
            if existing is not None:
                return _same_request(
                    existing,
                    kind=kind,
                    part_id=part.pk,
                    quantity=qty,
                    from_location_id=from_location.pk if from_location else None,
                    to_location_id=to_location.pk if to_location else None,
                )
        if from_location is not None:
            available = levels[from_location.pk].quantity
            if available < qty:
                raise ValidationError(
                    {
                        "quantity": _(
                            "Only %(available)s of %(part)s at %(location)s: %(quantity)s "
                            "cannot be taken (stock never goes below zero)."
                        )
                        % {
                            "available": available,
                            "part": str(part),
                            "location": str(from_location),
                            "quantity": qty,
                        }
                    }
                )
        if to_location is not None and levels[to_location.pk].quantity + qty > MAX_ON_HAND:
            raise ValidationError({"quantity": _("That is more than a location can hold.")})
        movement = StockMovement(
            kind=kind,
            part=part,
            quantity=qty,
            from_location=from_location,
            to_location=to_location,
            reason=reason,
            reference_type=ref_type,
            reference_id=ref_id,
            reference_label=ref_label,
            reverses=reverses,
            request_key=key,
            created_by=by if by is not None and by.is_authenticated else None,
        )
        movement.clean_fields(
            exclude=[
                "part",
                "from_location",
                "to_location",
                "reference_type",
                "reverses",
                "created_by",
                "number",
            ]
        )
        try:
            with transaction.atomic():
                movement.save()
        except IntegrityError:
            if key is not None and StockMovement.objects.filter(request_key=key).exists():
                raise ValidationError(
                    {"request_key": _("This request key was used for another movement.")}
                ) from None
            raise
        if from_location is not None:
            level = levels[from_location.pk]
            level.quantity -= qty
            level.save(update_fields=["quantity", "updated_at"])
        if to_location is not None:
            level = levels[to_location.pk]
            level.quantity += qty
            level.save(update_fields=["quantity", "updated_at"])
        from .reorder import recompute_part

        recompute_part(part)
    return movement


def issue_for_work_order(
    part: Part,
    location: StockLocation,
    quantity: Any,
    reference: Any,
    by: Actor,
    *,
    request_key: str | None = None,
) -> StockMovement:
    """Parts used on a work order leave stock (SVC-4, SVC-10): the public function of the
    service app. `reference` is the work order (any saved record: its content type, id and
    number are kept) or a text. An engineer may issue from their own van; a stock keeper
    from anywhere. `request_key` makes a resent request (a lost connection) harmless."""
    return move(
        kind=MovementKind.ISSUE,
        part=part,
        quantity=quantity,
        by=by,
        from_location=location,
        reference=reference,
        request_key=request_key,
    )


def return_from_work_order(
    part: Part,
    location: StockLocation,
    quantity: Any,
    reference: Any,
    by: Actor,
    *,
    request_key: str | None = None,
) -> StockMovement:
    """Unused parts of a work order back into stock (the twin of issue_for_work_order)."""
    return move(
        kind=MovementKind.RETURN,
        part=part,
        quantity=quantity,
        by=by,
        to_location=location,
        reference=reference,
        request_key=request_key,
    )


def adjust_to_count(
    part: Part, location: StockLocation, counted: Any, *, by: Actor, reason: str
) -> StockMovement | None:
    """A stock count: an adjustment that brings the level to `counted` (None when it
    already is)."""
    if isinstance(counted, bool):
        counted = None
    try:
        target = int(str(counted).strip()) if counted is not None else -1
    except (TypeError, ValueError):
        target = -1
    if not 0 <= target <= MAX_ON_HAND:
        raise ValidationError({"counted": _("Give the number of parts counted (0 or more).")})
    current = on_hand(part, location)
    if target == current:
        return None
    if target > current:
        return move(
            kind=MovementKind.ADJUSTMENT,
            part=part,
            quantity=target - current,
            by=by,
            to_location=location,
            reason=reason,
        )
    return move(
        kind=MovementKind.ADJUSTMENT,
        part=part,
        quantity=current - target,
        by=by,
        from_location=location,
        reason=reason,
    )


def reverse_movement(movement: StockMovement, *, by: Actor, reason: str) -> StockMovement:
    """Correct a movement by its exact opposite (the ledger is never edited): the same part
    and quantity, the locations swapped, linked to the original. A movement is reversed at
    most once; a reversal is not reversed (record a new movement instead). Refused, like any
    movement, when the parts are no longer there."""
    if by is not None and not has_perm(by, "parts.add_stockmovement"):
        raise PermissionDenied
    with transaction.atomic():
        original = (
            StockMovement.objects.select_for_update(of=("self",))
            .select_related("part", "from_location", "to_location")
            .get(pk=movement.pk)
        )
        if original.kind == MovementKind.REVERSAL:
            raise ValidationError(
                _("A reversal cannot be reversed: record a new movement instead.")
            )
        if StockMovement.objects.filter(reverses=original).exists():
            raise ValidationError(
                _("%(number)s has been reversed already.") % {"number": original.number}
            )
        return move(
            kind=MovementKind.REVERSAL,
            part=original.part,
            quantity=original.quantity,
            by=by,
            from_location=original.to_location,
            to_location=original.from_location,
            reason=reason,
            reference=None,
            reference_label=_("reverses %(number)s") % {"number": original.number},
            reverses=original,
        )


# --- reading stock -----------------------------------------------------------------------------


def on_hand(part: Part, location: StockLocation | None = None) -> int:
    """Quantity of `part` at `location` (None: at every location)."""
    qs = StockLevel.objects.filter(part=part)
    if location is not None:
        qs = qs.filter(location=location)
    return int(qs.aggregate(n=Sum("quantity"))["n"] or 0)


def ledger_levels() -> dict[tuple[int, int], int]:
    """(part id, location id) -> quantity as the ledger of movements says."""
    out: dict[tuple[int, int], int] = {}
    for part_id, loc_id, n in (
        StockMovement.objects.filter(to_location__isnull=False)
        .values_list("part_id", "to_location_id")
        .annotate(n=Sum("quantity"))
        .order_by()
    ):
        out[(part_id, loc_id)] = out.get((part_id, loc_id), 0) + int(n)
    for part_id, loc_id, n in (
        StockMovement.objects.filter(from_location__isnull=False)
        .values_list("part_id", "from_location_id")
        .annotate(n=Sum("quantity"))
        .order_by()
    ):
        out[(part_id, loc_id)] = out.get((part_id, loc_id), 0) - int(n)
    return out


def verify_levels() -> list[str]:
    """Every stock level that differs from the ledger (empty: all agree)."""
    ledger = ledger_levels()
    stored = {
        (p, loc): q
        for p, loc, q in StockLevel.objects.values_list("part_id", "location_id", "quantity")
    }
    problems = []
    for key in sorted(set(ledger) | set(stored)):
        if ledger.get(key, 0) != stored.get(key, 0):
            problems.append(
                f"part {key[0]} at location {key[1]}: level {stored.get(key, 0)}, "
                f"ledger {ledger.get(key, 0)}"
            )
    return problems


def van_of(user: Any) -> StockLocation | None:
    """The active van of an engineer (for the service app's work orders)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return (
        StockLocation.objects.filter(kind=LocationKind.VAN, engineer=user, active=True)
        .order_by("pk")
        .first()
    )


__all__ = [
    "adjust_to_count",
    "issue_for_work_order",
    "ledger_levels",
    "move",
    "on_hand",
    "parse_quantity",
    "return_from_work_order",
    "reverse_movement",
    "van_of",
    "verify_levels",
]
