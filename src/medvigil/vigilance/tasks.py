"""Background job of the vigilance app (Huey, found by autodiscovery of `tasks` modules): the
daily trend check of MDR Art. 88 — a statistically significant rise of non-serious incidents
or expected side-effects over a product's baseline is kept as a signal and quality is told,
once per product and period (services.trends.check_trends)."""

from __future__ import annotations

from huey import crontab

from medvigil.core.tasks import audited_task


@audited_task(periodic=crontab(minute="50", hour="3"), name="vigilance_trends")
def vigilance_trends() -> int:
    from .services.trends import check_trends

    return len(check_trends())
