"""`medvigil demo`: demo users (one per role) and every app's demo records."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from medvigil.accounts.demo import DEMO_PASSWORD, DEMO_USERS, load_all
from medvigil.accounts.models import User
from medvigil.core.audit import audit_context


class Command(BaseCommand):
    help = "Load demo users and demo records."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if demo users already exist (first run only).",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["if_empty"] and User.objects.filter(username=DEMO_USERS[0][0]).exists():
            self.stdout.write("Demo data already loaded.")
            return
        with audit_context(source="command:demo"), transaction.atomic():
            load_all()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded. Users: {', '.join(u[0] for u in DEMO_USERS)}; "
                f"password {DEMO_PASSWORD}"
            )
        )
