"""`medvigil audit verify`: walk the audit trail and check it against the latest seal; exit
non-zero naming the first bad entry or record. `medvigil audit seal`: write a seal now;
`--after-restore --reason ...` acknowledges a deliberate restore of an older backup."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from medvigil.core.audit.seal import SealRefused, seal
from medvigil.core.audit.verify import verify_trail


class Command(BaseCommand):
    help = (
        "Audit trail tools. 'verify' checks every hash chain and the seals; 'seal' writes a "
        "sealed checkpoint of every chain head (--after-restore --reason to acknowledge a "
        "deliberate restore of a backup)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["verify", "seal"])
        parser.add_argument(
            "--after-restore",
            action="store_true",
            help="seal: the database was restored from a backup on purpose; seal its state "
            "as it is (recorded in the audit trail with the reason).",
        )
        parser.add_argument("--reason", default="", help="seal: why (required after a restore)")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "seal":
            self.seal(opts)
            return
        result = verify_trail()
        if not result.ok:
            raise CommandError(
                f"AUDIT TRAIL FAILED VERIFICATION: {result.problem}"
                + (f" (entry id {result.entry_id})" if result.entry_id else "")
            )
        sealed = (
            f" Checked against the seal of {result.sealed_at:%Y-%m-%d %H:%M:%S} UTC."
            if result.sealed_at
            else " Not sealed yet (run 'medvigil audit seal')."
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit trail verified: {result.entries} entries in {result.chains} chains, "
                f"intact.{sealed}"
            )
        )

    def seal(self, opts: dict[str, Any]) -> None:
        after_restore = opts["after_restore"]
        reason = opts["reason"].strip()
        if after_restore and not reason:
            raise CommandError("--after-restore needs --reason (what was restored, and why).")
        try:
            item = seal(kind="after_restore" if after_restore else "manual", reason=reason)
        except SealRefused as exc:
            raise CommandError(
                f"NOT SEALED: the audit trail does not match its latest seal: {exc}. If a "
                "backup was restored on purpose, run 'medvigil audit seal --after-restore "
                "--reason ...'; otherwise investigate (docs/audit-trail.md)."
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Sealed: seal #{item.pk}, {item.chains} chains ({item.advanced} moved since "
                "the previous seal)."
            )
        )
