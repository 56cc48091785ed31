"""Background jobs of the complaints app (PLAT-8): the FBK-10 early warning."""

from __future__ import annotations

from huey import crontab

from medvigil.core.tasks import audited_task


@audited_task(periodic=crontab(minute="15", hour="*/6"), name="complaints_early_warning")
def complaints_early_warning() -> int:
    """Every six hours: the same problem above the configured count in the rolling period
    warns quality, once per cluster per period (services.analysis.early_warnings)."""
    from django.utils import timezone

    from .services.analysis import early_warnings

    return len(early_warnings(timezone.now()))
