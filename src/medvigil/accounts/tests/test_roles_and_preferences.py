"""PLAT-1: departments and roles are data an administrator edits (audited), permissions come
from roles, the auditor role can never write, and each user's language choice is kept."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from medvigil.accounts.defaults import ROLES
from medvigil.accounts.models import Department, Role, User
from medvigil.core.models import AuditEntry

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-1")]


def entries(obj) -> list[AuditEntry]:
    ct = ContentType.objects.get_for_model(type(obj))
    return list(AuditEntry.objects.filter(content_type=ct, object_id=str(obj.pk)).order_by("seq"))


def perm(label: str) -> Permission:
    app, codename = label.split(".")
    return Permission.objects.get(content_type__app_label=app, codename=codename)


def test_departments_and_roles_of_the_domain_brief_exist_after_migrate():
    assert Department.objects.filter(code="quality").exists()
    assert set(Role.objects.values_list("code", flat=True)) >= {r[0] for r in ROLES}
    assert Role.objects.get(code="auditor").read_only


def test_admin_edits_a_department_and_the_change_is_audited_as_admin(admin_user, client_for):
    dept = Department.objects.get(code="quality")
    c = client_for(admin_user)
    assert c.get("/admin/accounts/department/").status_code == 200
    r = c.post(
        f"/admin/accounts/department/{dept.pk}/change/",
        {
            "code": "quality",
            "name_zh": "质量管理部",
            "name_en": "Quality management",
            "active": "on",
        },
    )
    assert r.status_code == 302, r.content[:500]
    dept.refresh_from_db()
    assert dept.name_zh == "质量管理部"
    last = entries(dept)[-1]
    assert last.action == "update" and last.source == "admin" and last.actor == admin_user
    assert last.changes["name_zh"] == ["质量部", "质量管理部"]
    assert last.changes["name_en"] == ["Quality", "Quality management"]


def test_admin_adds_a_department_and_cannot_delete_one(admin_user, client_for):
    c = client_for(admin_user)
    r = c.post(
        "/admin/accounts/department/add/",
        {
            "code": "regulatory",
            "name_zh": "法规部",
            "name_en": "Regulatory affairs",
            "active": "on",
        },
    )
    assert r.status_code == 302
    dept = Department.objects.get(code="regulatory")
    assert entries(dept)[0].source == "admin"
    r = c.post(f"/admin/accounts/department/{dept.pk}/delete/", {"post": "yes"})
    assert r.status_code == 403
    assert Department.objects.filter(pk=dept.pk).exists()


def test_admin_edits_a_roles_permissions_and_the_change_is_audited(admin_user, client_for):
    role = Role.objects.get(code="finance")
    extra = perm("core.add_attachment")
    current = list(role.permissions.values_list("pk", flat=True))
    c = client_for(admin_user)
    r = c.post(
        f"/admin/accounts/role/{role.pk}/change/",
        {
            "code": "finance",
            "name_zh": "财务",
            "name_en": "Finance and controlling",
            "description": "",
            "permissions": [*current, extra.pk],
        },
    )
    assert r.status_code == 302, r.content[:500]
    role.refresh_from_db()
    assert role.name_en == "Finance and controlling"
    assert role.permissions.filter(pk=extra.pk).exists()
    admin_entries = [e for e in entries(role) if e.source == "admin"]
    assert any(e.changes.get("name_en") for e in admin_entries)
    assert any(e.changes.get("permissions") == [[], [str(extra.pk)]] for e in admin_entries)
    assert all(e.actor == admin_user for e in admin_entries)


def test_admin_assigns_roles_and_department_to_a_user(admin_user, make_user, client_for):
    u = make_user("newhire")
    c = client_for(admin_user)
    data = {
        "username": "newhire",
        "first_name": "",
        "last_name": "",
        "email": "newhire@example.com",
        "is_active": "on",
        "date_joined_0": "2026-01-05",
        "date_joined_1": "09:00:00",
        "display_name": "New Hire",
        "department": Department.objects.get(code="service").pk,
        "roles": [Role.objects.get(code="service_engineer").pk],
        "phone": "",
        "language": "",
    }
    r = c.post(f"/admin/accounts/user/{u.pk}/change/", data)
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    u = User.objects.get(pk=u.pk)
    assert u.role_codes() == {"service_engineer"}
    assert u.has_perm("trace.add_installation")
    admin_entries = [e for e in entries(u) if e.source == "admin"]
    assert any("roles" in e.changes for e in admin_entries)
    assert any("department_id" in e.changes for e in admin_entries)


def test_permissions_come_from_roles(make_user):
    u = make_user("eng", "service_engineer")
    assert u.has_perm("trace.add_installation")
    assert not u.has_perm("accounts.change_role")
    nobody = make_user("nobody")
    assert not nobody.get_all_permissions()


def test_auditor_gets_only_view_permissions_even_if_a_write_permission_is_attached(auditor):
    role = Role.objects.get(code="auditor")
    role.permissions.add(
        perm("accounts.change_department"),
        perm("core.add_attachment"),
        perm("core.view_auditentry"),
    )
    u = User.objects.get(pk=auditor.pk)  # fresh permission cache
    assert u.is_read_only
    assert u.has_perm("core.view_auditentry")
    assert not u.has_perm("accounts.change_department")
    assert not u.has_perm("core.add_attachment")
    perms = u.get_all_permissions()
    assert perms, "the auditor reads everything"
    assert all(p.split(".", 1)[1].startswith(("view_", "export_")) for p in perms)
    # a write permission given directly to the user is filtered too
    u.user_permissions.add(perm("accounts.add_department"))
    u = User.objects.get(pk=auditor.pk)
    assert not u.has_perm("accounts.add_department")


def test_auditor_with_a_second_writing_role_is_no_longer_read_only(make_user):
    u = make_user("aud-qe", "auditor", "quality")
    assert not u.is_read_only
    assert u.has_perm("trace.add_product") or u.has_perm("core.add_attachment")


def test_auditor_cannot_use_the_admin_even_with_staff_flag_missing(auditor, client_for):
    c = client_for(auditor)
    dept = Department.objects.get(code="quality")
    r = c.post(
        f"/admin/accounts/department/{dept.pk}/change/",
        {"code": "quality", "name_zh": "x", "name_en": "x", "active": "on"},
    )
    assert r.status_code == 302 and "/admin/login/" in r["Location"]
    dept.refresh_from_db()
    assert dept.name_zh == "质量部"


def test_language_choice_is_kept_per_user_and_survives_a_new_session(quality_user, client_for):
    c = client_for(quality_user)
    r = c.post("/language/", {"language": "en", "next": "/profile/"})
    assert r.status_code == 302 and r["Location"] == "/profile/"
    quality_user.refresh_from_db()
    assert quality_user.language == "en"
    assert entries(quality_user)[-1].changes.get("language") == ["", "en"]
    # a new session on another browser (no cookie): the profile's choice wins
    other = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    other.force_login(quality_user)
    assert 'lang="en"' in other.get("/profile/").content.decode()
    other.post("/language/", {"language": "zh-hans", "next": "/profile/"})
    quality_user.refresh_from_db()
    assert quality_user.language == "zh-hans"
    third = Client(HTTP_ACCEPT_LANGUAGE="en")
    third.force_login(quality_user)
    assert 'lang="zh-hans"' in third.get("/profile/").content.decode()


def test_language_switch_refuses_unknown_languages_and_foreign_redirects(quality_user, client_for):
    c = client_for(quality_user)
    r = c.post("/language/", {"language": "xx", "next": "https://evil.example/"})
    assert r.status_code == 302 and r["Location"] == "/"
    quality_user.refresh_from_db()
    assert quality_user.language == ""
    assert c.get("/language/").status_code == 405


def test_language_switch_for_a_visitor_only_sets_the_cookie(db):
    c = Client()
    r = c.post("/language/", {"language": "en", "next": "/login/"})
    assert r.status_code == 302
    assert 'lang="en"' in c.get("/login/").content.decode()
