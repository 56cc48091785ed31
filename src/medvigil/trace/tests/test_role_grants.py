"""PLAT-11: customers' and installation sites' contact data go only to the roles that need
them. Trace declares its role grants in its AppConfig (TraceConfig.role_permissions), with
trace.view_contact_data marked sensitive, so that no wildcard ("view_*", "*.view_*",
"trace.*") carries it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from medvigil.accounts.defaults import ROLE_PERMISSIONS
from medvigil.core.records.domain import role_grants, sensitive_permissions

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-11")]

PHONE = "021-5555-0101"  # the hospital's phone in the trace test world
NEED_CONTACTS = (
    "customer_service",
    "service_engineer",
    "logistics",
    "quality",
    "sales",
    "management_rep",
    "auditor",
)
NO_CONTACTS = ("finance", "technical", "general_manager")


def test_trace_grants_live_in_the_trace_app_not_in_the_central_defaults():
    assert not [p for ps in ROLE_PERMISSIONS.values() for p in ps if p.startswith("trace.")]
    assert "trace.view_*" in role_grants()["finance"]
    assert "trace.view_contact_data" in sensitive_permissions()


@pytest.mark.parametrize("role", NO_CONTACTS)
def test_roles_without_the_need_see_the_records_but_not_the_contacts(
    role, world, make_user, client_for
):
    user = make_user(f"u_{role}", role)
    assert user.has_perm("trace.view_customer") and not user.has_perm("trace.view_contact_data")
    c = client_for(user)
    page = c.get(reverse("trace:customer_detail", args=[world.hospital.pk]))
    assert page.status_code == 200
    assert world.hospital.name in page.content.decode()
    assert PHONE not in page.content.decode()
    api = c.get("/api/v1/trace/customers", {"q": world.hospital.name})
    items = api.json()["items"]
    assert [i["code"] for i in items] == [world.hospital.code] and items[0]["phone"] == "***"


@pytest.mark.parametrize("role", NEED_CONTACTS)
def test_roles_that_need_the_contacts_still_see_them(role, world, make_user, client_for):
    user = make_user(f"u_{role}", role)
    assert user.has_perm("trace.view_contact_data")
    page = client_for(user).get(reverse("trace:customer_detail", args=[world.hospital.pk]))
    assert PHONE in page.content.decode()


def test_an_existing_database_takes_the_wildcard_grant_back_once_and_audits_it(db):
    """Databases set up before contact data was sensitive: finance got it through
    trace.view_*. The next migrate takes it back (audited); an administrator's later grant
    stays."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    from medvigil.accounts.defaults import ensure_defaults
    from medvigil.accounts.models import Role
    from medvigil.core.models import AuditEntry

    perm = Permission.objects.get(content_type__app_label="trace", codename="view_contact_data")
    finance = Role.objects.get(code="finance")
    finance.permissions.add(perm)  # as the old wildcard did
    finance.offered_permissions = sorted({*finance.offered_permissions, "trace.view_contact_data"})
    finance.save()
    before = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(Role)).count()
    ensure_defaults()
    finance.refresh_from_db()
    assert perm not in finance.permissions.all()
    assert "trace.view_contact_data" not in finance.offered_permissions
    after = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(Role)).count()
    assert after > before  # the change is in the role's trail
    finance.permissions.add(perm)  # an administrator decides finance needs them after all
    ensure_defaults()
    assert perm in Role.objects.get(code="finance").permissions.all()
    quality = Role.objects.get(code="quality")
    assert perm in quality.permissions.all()  # granted by name: untouched
