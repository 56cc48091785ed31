"""A second process for the access-cache tests (test_access_cache.py): a Django process of
its own, on the database named by DATABASE_URL, that answers one JSON command per line on
stdin with one JSON line on stdout. It serves requests through Django's test client (its own
per-process permission cache) and makes role changes the way an administrator's save does
(audited, in a transaction).

    python -m medvigil.accounts.tests.access_worker   # DATABASE_URL=..., MEDVIGIL_TESTING=1
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medvigil.settings")
    os.environ.setdefault("MEDVIGIL_TESTING", "1")
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()
    print(json.dumps({"ready": os.getpid()}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = run(json.loads(line))
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)


def run(cmd: dict[str, Any]) -> dict[str, Any]:
    from django.contrib.auth.models import Permission
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from medvigil.accounts.models import Role, User
    from medvigil.core.audit import audit_context

    op = cmd["op"]
    if op == "get":
        client = Client()
        headers = {"HTTP_AUTHORIZATION": f"Bearer {cmd['token']}"} if cmd.get("token") else {}
        with CaptureQueriesContext(connection) as ctx:
            resp = client.get(cmd["path"], **headers)
        body = resp.json() if resp["Content-Type"].startswith("application/json") else None
        return {
            "status": resp.status_code,
            "json": body,
            "queries": [q["sql"] for q in ctx.captured_queries],
            "pid": os.getpid(),
        }
    admin = User.objects.get(username=cmd["by"])
    with transaction.atomic(), audit_context(actor=admin, source="admin"):
        if op == "remove_permission":
            app_label, codename = cmd["permission"].split(".")
            role = Role.objects.get(code=cmd["role"])
            role.permissions.remove(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        elif op == "set_roles":
            User.objects.get(username=cmd["user"]).roles.set(
                Role.objects.filter(code__in=cmd["roles"])
            )
        elif op == "set_read_only":
            role = Role.objects.get(code=cmd["role"])
            role.read_only = cmd["value"]
            role.save()
        else:
            return {"error": f"unknown op {op}"}
    return {"done": op, "pid": os.getpid()}


if __name__ == "__main__":
    main()
