"""Safety stock, reorder point and the reorder list (SVC-10): the inputs of
rules.reorder_figures read from the installed base (trace's current installations of the
products a part fits), the ledger (parts used in the last 12 months) and the stock levels;
the figures kept per part (ReorderLevel); the stock keepers told when a part falls to or below
its reorder point; their "My work" entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone

from medvigil.core.i18n import gettext_msg as _
from medvigil.core.registry import WorkItem
from medvigil.trace.models import Installation

from ..models import MovementKind, Part, PartFit, ReorderLevel, StockLevel, StockMovement
from ..rules import ReorderFigures, ReorderInput, history_days, reorder_figures

STOCK_KEEPER_PERM = ("parts", "add_stockmovement")


# --- inputs ------------------------------------------------------------------------------------


def installed_by_product(product_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Current installations (the installed base, TRC-5) per product id."""
    qs = Installation.objects.filter(current=True)
    if product_ids is not None:
        qs = qs.filter(unit__product_id__in=list(product_ids))
    return dict(qs.values_list("unit__product_id").annotate(n=Count("id")).order_by())


def fits_by_part(part_ids: Iterable[int] | None = None) -> dict[int, list[int]]:
    qs = PartFit.objects.filter(active=True)
    if part_ids is not None:
        qs = qs.filter(part_id__in=list(part_ids))
    out: dict[int, list[int]] = {}
    for part_id, product_id in qs.values_list("part_id", "product_id"):
        out.setdefault(part_id, []).append(product_id)
    return out


def used_by_part(since: dt.datetime, part_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Parts used since `since`: issued, less returned, less issues reversed (plus returns
    reversed)."""
    qs = StockMovement.objects.filter(created_at__gte=since)
    if part_ids is not None:
        qs = qs.filter(part_id__in=list(part_ids))
    rows = (
        qs.values("part_id")
        .annotate(
            issued=Sum("quantity", filter=Q(kind=MovementKind.ISSUE)),
            returned=Sum("quantity", filter=Q(kind=MovementKind.RETURN)),
            unissued=Sum(
                "quantity",
                filter=Q(kind=MovementKind.REVERSAL, reverses__kind=MovementKind.ISSUE),
            ),
            unreturned=Sum(
                "quantity",
                filter=Q(kind=MovementKind.REVERSAL, reverses__kind=MovementKind.RETURN),
            ),
        )
        .order_by()
    )
    return {
        r["part_id"]: max(
            0,
            (r["issued"] or 0)
            - (r["returned"] or 0)
            - (r["unissued"] or 0)
            + (r["unreturned"] or 0),
        )
        for r in rows
    }


def on_hand_by_part(part_ids: Iterable[int] | None = None) -> dict[int, int]:
    qs = StockLevel.objects.all()
    if part_ids is not None:
        qs = qs.filter(part_id__in=list(part_ids))
    return {
        pid: int(n or 0)
        for pid, n in qs.values_list("part_id").annotate(n=Sum("quantity")).order_by()
    }


def reorder_input(part: Part, *, installed: int, used: int, on_hand: int) -> ReorderInput:
    return ReorderInput(
        installed_units=installed,
        failure_rate=part.failure_rate,
        used_in_window=used,
        rate_source=part.rate_source,
        lead_time_days=part.lead_time_days,
        safety_method=part.safety_method,
        service_level=part.service_level,
        cover_days=part.cover_days,
        min_stock=part.min_stock,
        order_cycle_days=part.order_cycle_days,
        order_multiple=part.order_multiple,
        on_hand=on_hand,
        window_days=history_days(),
    )


def figures_for(part: Part, now: dt.datetime | None = None) -> tuple[ReorderInput, ReorderFigures]:
    """The inputs and figures of one part as of now (a few queries)."""
    now = now or timezone.now()
    products = fits_by_part([part.pk]).get(part.pk, [])
    installed = sum(installed_by_product(products).values()) if products else 0
    used = used_by_part(now - dt.timedelta(days=history_days()), [part.pk]).get(part.pk, 0)
    stock = on_hand_by_part([part.pk]).get(part.pk, 0)
    inputs = reorder_input(part, installed=installed, used=used, on_hand=stock)
    return inputs, reorder_figures(inputs)


# --- keeping the figures -----------------------------------------------------------------------


def _store(
    part: Part,
    state: ReorderLevel,
    inputs: ReorderInput,
    figures: ReorderFigures,
    now: dt.datetime,
    notify: bool,
) -> ReorderLevel:
    was_below = state.below and state.computed_at is not None
    state.installed_units = inputs.installed_units
    state.used_12_months = inputs.used_in_window
    state.rate_used = figures.rate_used
    state.demand_per_day = figures.demand_per_day
    state.lead_time_demand = figures.lead_time_demand
    state.safety_stock = figures.safety_stock
    state.reorder_point = figures.reorder_point
    state.order_up_to = figures.order_up_to
    state.on_hand = inputs.on_hand
    state.suggested_quantity = figures.suggested_quantity
    below = figures.below and part.active
    state.below = below
    if below and not was_below:
        state.below_since = now
    elif not below:
        state.below_since = None
    state.computed_at = now
    state.save()
    if below and not was_below and notify:
        notify_below(part, state)
    return state


def recompute_part(
    part: Part, *, notify: bool = True, now: dt.datetime | None = None
) -> ReorderLevel:
    """Recompute one part's figures (after a movement or a change of the part), under a lock
    of its row; tell the stock keepers when it has just fallen to or below its reorder
    point."""
    now = now or timezone.now()
    with transaction.atomic():
        ReorderLevel.objects.get_or_create(part=part)
        state = ReorderLevel.objects.select_for_update().get(part=part)
        part = Part.objects.get(pk=part.pk)  # the settings as stored, not the caller's copy
        inputs, figures = figures_for(part, now)
        return _store(part, state, inputs, figures, now, notify)


def recompute_all(*, notify: bool = True, now: dt.datetime | None = None) -> int:
    """Recompute every part (the nightly job; the reorder page's button): the installed base
    grows and the 12-month window moves without any movement. Returns the number of parts."""
    now = now or timezone.now()
    parts = list(Part.objects.all())
    fits = fits_by_part()
    installed = installed_by_product()
    used = used_by_part(now - dt.timedelta(days=history_days()))
    for part in parts:
        with transaction.atomic():
            ReorderLevel.objects.get_or_create(part=part)
            state = ReorderLevel.objects.select_for_update().get(part=part)
            stock = on_hand_by_part([part.pk]).get(part.pk, 0)
            inputs = reorder_input(
                part,
                installed=sum(installed.get(p, 0) for p in fits.get(part.pk, [])),
                used=used.get(part.pk, 0),
                on_hand=stock,
            )
            _store(part, state, inputs, reorder_figures(inputs), now, notify)
    return len(parts)


# --- who hears about it ------------------------------------------------------------------------


def stock_keepers() -> list[Any]:
    """Active users who may record stock movements (the logistics / warehouse role)."""
    app_label, codename = STOCK_KEEPER_PERM
    perm = Q(
        roles__permissions__content_type__app_label=app_label,
        roles__permissions__codename=codename,
    ) | Q(
        user_permissions__content_type__app_label=app_label,
        user_permissions__codename=codename,
    )
    return list(get_user_model().objects.filter(perm, is_active=True).distinct().order_by("pk"))


def notify_below(part: Part, state: ReorderLevel) -> None:
    from medvigil.core.notifications.services import notify

    notify(
        stock_keepers(),
        _("Spare part %(part)s is at or below its reorder point") % {"part": str(part)},
        body=_(
            "%(on_hand)s on hand, reorder point %(rop)s (safety stock %(ss)s); suggested "
            "order %(qty)s."
        )
        % {
            "on_hand": state.on_hand,
            "rop": state.reorder_point,
            "ss": state.safety_stock,
            "qty": state.suggested_quantity,
        },
        url=part.get_absolute_url(),
        level="warning",
    )


def reorder_work(user: Any) -> list[WorkItem]:
    """ "My work" of the stock keeper: each part to reorder (at most 20, the longest below
    first), linking to the part; the reorder list has them all."""
    if not (user.is_authenticated and user.has_perm("parts.add_stockmovement")):
        return []
    from medvigil.core.permissions import scope_for_user

    rows = (
        scope_for_user(user, ReorderLevel)
        .filter(below=True, part__active=True)
        .select_related("part")
        .order_by("below_since", "part__code")[:20]
    )
    list_url = reverse("parts:reorderlevel_list")
    return [
        WorkItem(
            title=str(_("Reorder %(part)s") % {"part": str(r.part)}),
            url=r.part.get_absolute_url(),
            kind=_("spare part"),
            detail=str(
                _("%(on_hand)s on hand, reorder point %(rop)s; order %(qty)s")
                % {"on_hand": r.on_hand, "rop": r.reorder_point, "qty": r.suggested_quantity}
            ),
            extra={"list_url": list_url},
        )
        for r in rows
    ]
