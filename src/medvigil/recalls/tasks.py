"""Background jobs of the recalls app (PLAT-8; Huey, found by autodiscovery of `tasks`
modules): consignees that have not acknowledged a recall notice are chased (RCL-4)."""

from __future__ import annotations

from huey import crontab

from medvigil.core.tasks import audited_task


@audited_task(periodic=crontab(minute="30", hour="*/4"), name="recalls_chase_acknowledgements")
def recalls_chase_acknowledgements() -> int:
    """Every four hours: consignees told more than RECALL_CHASE_DAYS ago without an
    acknowledgement are listed to the recall's owner (services.execution.chase_unacknowledged)."""
    from .services.execution import chase_unacknowledged

    return chase_unacknowledged()
