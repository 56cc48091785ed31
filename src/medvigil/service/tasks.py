"""Background jobs of the service app (Huey, found by autodiscovery of `tasks` modules)."""

from __future__ import annotations

from huey import crontab

from medvigil.core.tasks import audited_task


@audited_task(periodic=crontab(minute="20", hour="2"), name="service_maintenance_plans")
def service_maintenance_plans() -> int:
    """SVC-8: every night, the maintenance visits and call-backs of the installed base due in
    the next SERVICE_MAINTENANCE_HORIZON_DAYS days (default 60) are generated ahead."""
    from .services.maintenance import generate_visits

    return generate_visits()
