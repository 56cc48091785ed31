"""Background job of the spare-parts app (Huey, found by autodiscovery of `tasks` modules):
the nightly recomputation of every part's reorder figures (SVC-10) — the installed base grows
and the 12-month window moves without any stock movement; a part that falls to or below its
reorder point this way is announced to the stock keepers like one that falls by a movement."""

from __future__ import annotations

from huey import crontab

from medvigil.core.tasks import audited_task


@audited_task(periodic=crontab(minute="40", hour="2"), name="parts_recompute_reorder")
def recompute_reorder_levels() -> int:
    from .services import recompute_all

    return recompute_all()
