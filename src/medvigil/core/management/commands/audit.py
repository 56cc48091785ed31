"""`medvigil audit verify`: walk the audit trail; exit non-zero naming the first bad entry."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from medvigil.core.audit.verify import verify_trail


class Command(BaseCommand):
    help = "Audit trail tools. 'verify' checks every hash chain."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **opts: Any) -> None:
        result = verify_trail()
        if not result.ok:
            raise CommandError(
                f"AUDIT TRAIL FAILED VERIFICATION: {result.problem}"
                + (f" (entry id {result.entry_id})" if result.entry_id else "")
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit trail verified: {result.entries} entries in {result.chains} chains, intact."
            )
        )
