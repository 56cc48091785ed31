"""`medvigil unlock <user> [<user> ...]`: end a lock-out after too many failed sign-ins."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from medvigil.accounts.services import is_locked_out, unlock_user
from medvigil.core.audit import audit_context


class Command(BaseCommand):
    help = "Unlock user accounts locked after too many failed sign-in or signature attempts."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("usernames", nargs="+", metavar="user")
        parser.add_argument("--reason", default="", help="Why the account is unlocked.")

    def handle(self, *args: Any, **opts: Any) -> None:
        user_model = get_user_model()
        users = []
        for name in opts["usernames"]:
            user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: name}).first()
            if user is None:
                raise CommandError(f"No user named {name!r}; nothing was unlocked.")
            users.append(user)
        with audit_context(source="command:unlock"):
            for user in users:
                was_locked = is_locked_out(user)
                unlock_user(user, reason=opts["reason"])
                state = "unlocked" if was_locked else "was not locked; failure count cleared"
                self.stdout.write(f"{user.get_username()}: {state}")
