"""PLAT-1, issue #13: a user's permissions are resolved once per process and checked against
the access stamp read with the user (accounts.access).

- on a warm cache `has_perm`, `is_read_only`, the navigation and `/api/v1/me` (token) make
  no query beyond the one that reads the token, its user and the stamp;
- every kind of access change gives the stamp a new value, and is still audited;
- a change made in ANOTHER PROCESS takes effect on the very next request of a process that
  has the user's permissions cached (two real processes on one database: a file copy of the
  test database on SQLite, the test database itself on PostgreSQL)."""

from __future__ import annotations

import json
import os
import select
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from medvigil.accounts import access
from medvigil.accounts.backends import RoleBackend
from medvigil.accounts.models import APIToken, Role, User
from medvigil.core.models import AuditEntry
from medvigil.core.registry import nav_menus_for

pytestmark = [pytest.mark.req("PLAT-1")]


def perm(label: str) -> Permission:
    app_label, codename = label.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def session_user(user: Any) -> Any:
    """The user as a request gets it from its session (one query, with the stamp)."""
    return RoleBackend().get_user(user.pk)


# --- no query on a warm cache ---------------------------------------------------------------


@pytest.mark.django_db
def test_has_perm_read_only_and_navigation_make_no_query_on_a_warm_cache(make_user):
    user = make_user("qe-warm", "quality")
    session_user(user).get_all_permissions()  # warms this process's cache
    with CaptureQueriesContext(connection) as ctx:
        fresh = session_user(user)  # a new request: a new user object
        assert fresh.has_perm("core.view_auditentry")
        assert not fresh.has_perm("accounts.change_role")
        assert not fresh.is_read_only
        assert fresh.role_codes() == {"quality"}
        assert [m.key for m in nav_menus_for(fresh)][:2] == ["trace", "feedback"]
        assert fresh.department is None or fresh.department.code  # read with the user
    assert len(ctx.captured_queries) == 1, [q["sql"] for q in ctx.captured_queries]
    assert "accounts_accessstamp" in ctx.captured_queries[0]["sql"]


@pytest.mark.django_db
def test_the_token_check_is_one_query_and_me_reads_roles_once(make_user, client):
    user = make_user("qe-token", "quality", department="quality")
    _token, raw = APIToken.issue(user, "bench")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    access.clear()
    with CaptureQueriesContext(connection) as cold:
        first = client.get("/api/v1/me", **auth)
    assert first.status_code == 200
    role_reads = [q for q in cold.captured_queries if 'FROM "accounts_role"' in q["sql"]]
    assert len(role_reads) == 1, [q["sql"] for q in cold.captured_queries]
    with CaptureQueriesContext(connection) as warm:
        resp = client.get("/api/v1/me", **auth)
    assert resp.status_code == 200
    assert resp.json() == first.json()
    data = resp.json()
    assert [r["code"] for r in data["roles"]] == ["quality"]
    assert data["department"]["code"] == "quality" and data["read_only"] is False
    assert "core.view_auditentry" in data["permissions"]
    assert len(warm.captured_queries) == 1, [q["sql"] for q in warm.captured_queries]


@pytest.mark.django_db
def test_a_user_object_from_elsewhere_reads_the_stamp_once(make_user):
    user = make_user("qe-shell", "quality")
    user.has_perm("x.y")  # warm
    fresh = User.objects.get(pk=user.pk)  # e.g. a service or the shell: no stamp with it
    with CaptureQueriesContext(connection) as ctx:
        assert fresh.has_perm("core.view_auditentry")
        assert not fresh.is_read_only
        assert fresh.has_perm("core.add_attachment")
    assert len(ctx.captured_queries) == 1  # the stamp; the permissions came from the cache


# --- every change bumps the stamp, and is audited ---------------------------------------------


def _bumps(change: Any) -> bool:
    before = access.current_stamp()
    change()
    return access.current_stamp() != before


@pytest.mark.django_db
def test_every_kind_of_access_change_gives_the_stamp_a_new_value(make_user):
    user = make_user("qe-bump", "quality")
    role = Role.objects.get(code="quality")
    auditor = Role.objects.get(code="auditor")
    group = Group.objects.create(name="bump-group")
    changes = {
        "a role's permission taken away": lambda: role.permissions.remove(
            perm("core.view_auditentry")
        ),
        "a role's permission given": lambda: role.permissions.add(perm("core.view_auditentry")),
        "a role's permissions cleared": lambda: auditor.permissions.clear(),
        "the user's roles": lambda: user.roles.add(auditor),
        "a role's holders (reverse side)": lambda: auditor.users.remove(user),
        "the user's direct permissions": lambda: user.user_permissions.add(perm("trace.add_lot")),
        "the user's groups": lambda: user.groups.add(group),
        "a group's permissions": lambda: group.permissions.add(perm("trace.add_sale")),
        "a role's read-only flag": lambda: Role.objects.filter(pk=role.pk).first().save(),
        "a group deleted": lambda: group.delete(),
    }
    not_bumped = [what for what, change in changes.items() if not _bumps(change)]
    assert not not_bumped
    created = Role.objects.create(code="newrole", name_zh="新", name_en="New")
    assert not _bumps(lambda: user.save())  # a profile edit changes nobody's access
    assert _bumps(lambda: user.roles.add(created))


@pytest.mark.django_db
def test_a_role_change_still_writes_its_audit_entry(make_user):
    user = make_user("qe-audit", "quality")
    before = AuditEntry.objects.count()
    user.roles.add(Role.objects.get(code="auditor"))
    entry = AuditEntry.objects.order_by("-pk").first()
    assert AuditEntry.objects.count() == before + 1
    assert entry is not None and "roles" in entry.changes


@pytest.mark.django_db
def test_a_change_takes_effect_on_the_next_request_in_this_process(make_user, client_for):
    user = make_user("qe-next", "quality")
    c = client_for(user)
    assert c.get("/api/v1/audit/entries").status_code == 200
    Role.objects.get(code="quality").permissions.remove(perm("core.view_auditentry"))
    assert c.get("/api/v1/audit/entries").status_code == 403
    user.roles.add(Role.objects.get(code="auditor"))
    assert c.get("/api/v1/audit/entries").status_code == 200


@pytest.mark.django_db
def test_the_stamp_row_missing_means_no_cache_not_stale_permissions(make_user):
    from medvigil.accounts.models import AccessStamp

    user = make_user("qe-nostamp", "quality")
    AccessStamp.objects.all().delete()
    assert session_user(user).has_perm("core.view_auditentry")
    Role.objects.get(code="quality").permissions.remove(perm("core.view_auditentry"))
    assert AccessStamp.objects.count() == 1  # the bump made the row again
    assert not session_user(user).has_perm("core.view_auditentry")


# --- another process --------------------------------------------------------------------------


def shared_database_url(tmp_path: Path) -> str:
    """A DATABASE_URL another process can open and see the test's committed data through:
    on SQLite a file copy of the (in-memory) test database, on PostgreSQL the test database."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        path = tmp_path / "shared.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()
        return f"sqlite:///{path}"
    user = quote(s["USER"] or "")
    password = f":{quote(s['PASSWORD'])}" if s.get("PASSWORD") else ""
    host = s.get("HOST") or "127.0.0.1"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{quote(s['NAME'])}"


class Worker:
    """A second Django process (accounts/tests/access_worker.py) on the shared database."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "MEDVIGIL_TESTING": "1",
            "MEDVIGIL_DATA_DIR": str(data_dir),
            "DJANGO_SETTINGS_MODULE": "medvigil.settings",
        }
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "medvigil.accounts.tests.access_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        self.pid = self._read()["ready"]

    def _read(self, timeout: float = 120) -> Any:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        assert line, f"worker gave no answer (exit code {self.proc.poll()})"
        answer = json.loads(line)
        assert "error" not in answer, answer["error"]
        return answer

    def __call__(self, **cmd: Any) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.mark.django_db(transaction=True)
def test_a_change_made_in_another_process_takes_effect_on_the_next_request(make_user, tmp_path):
    make_user("boss", is_superuser=True, is_staff=True)
    user = make_user("qe-remote", "quality", department="quality")
    _token, raw = APIToken.issue(user, "remote")
    url = shared_database_url(tmp_path)
    server = Worker(url, tmp_path / "server")
    try:
        admin = Worker(url, tmp_path / "admin")
        try:
            assert server.pid != admin.pid != os.getpid()

            def me() -> Any:
                answer = server(op="get", path="/api/v1/me", token=raw)
                assert answer["status"] == 200, answer
                return answer

            def audit_list() -> int:
                return int(server(op="get", path="/api/v1/audit/entries", token=raw)["status"])

            assert "core.view_auditentry" in me()["json"]["permissions"]
            warm = me()
            assert len(warm["queries"]) == 1, warm["queries"]  # token + user + stamp
            assert audit_list() == 200

            # a role's permission taken away by the other process
            admin(
                op="remove_permission", role="quality", permission="core.view_auditentry", by="boss"
            )
            after = me()
            assert "core.view_auditentry" not in after["json"]["permissions"]
            assert audit_list() == 403

            # the user's roles changed by the other process
            admin(op="set_roles", user="qe-remote", roles=["auditor"], by="boss")
            data = me()["json"]
            assert [r["code"] for r in data["roles"]] == ["auditor"]
            assert data["read_only"] is True and "core.add_attachment" not in data["permissions"]
            assert audit_list() == 200  # the auditor reads the trail

            # a role's read-only flag
            admin(op="set_read_only", role="auditor", value=False, by="boss")
            assert me()["json"]["read_only"] is False
            warm = me()
            assert len(warm["queries"]) == 1, warm["queries"]
        finally:
            admin.close()
    finally:
        server.close()
    if connection.vendor == "postgresql":  # the other processes' writes are visible here
        role_entries = AuditEntry.objects.filter(source="admin", changes__has_key="permissions")
        user_entries = AuditEntry.objects.filter(source="admin", changes__has_key="roles")
        assert role_entries.exists() and user_entries.exists()
    else:
        check = sqlite3.connect(url.removeprefix("sqlite:///"))
        sources = {
            row[0]
            for row in check.execute(
                "SELECT changes FROM core_auditentry WHERE source = 'admin'"
            ).fetchall()
        }
        check.close()
        assert any('"permissions"' in s for s in sources), sources
        assert any('"roles"' in s for s in sources), sources
