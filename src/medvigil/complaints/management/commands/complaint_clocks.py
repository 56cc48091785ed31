"""`medvigil complaint_clocks`: recompute the stored due times of the open complaints (FBK-4).

Every save of a record, every pause and resume and every change of a market calendar keeps
them current on its own. Run this after changing what the clocks count with outside the
database — a deadline rule's company setting (e.g. a tighter first-response target), the
business hours or the business calendar in the settings — or after writing complaints outside
the ORM (a raw import).

$ medvigil complaint_clocks
recomputed the due times of 12 open records
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from medvigil.complaints.services.clocks import refresh_due_times


class Command(BaseCommand):
    help = "Recompute the stored FBK-4 due times of the open complaints."

    def handle(self, *args: Any, **opts: Any) -> None:
        n = refresh_due_times()
        self.stdout.write(f"recomputed the due times of {n} open records")
