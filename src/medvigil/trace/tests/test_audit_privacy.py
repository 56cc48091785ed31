"""PLAT-11 in the audit trail: a reader of the trail without trace.view_contact_data sees the
customer's contact changes masked on the audit search page, in its CSV export and through
the audit API — as in the record's history panel — while the stored trail keeps them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from medvigil.accounts.models import Role
from medvigil.core.models import AuditEntry

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-11", "PLAT-2")]

PHONE = "021-5555-0101"  # the hospital's phone in the world fixture


@pytest.fixture
def trail_reader(make_user):
    role = Role.objects.create(code="trail", name_zh="审计查阅", name_en="Trail reader")
    role.permissions.add(Permission.objects.get(codename="view_auditentry"))
    user = make_user("reader", "trail")
    assert user.has_perm("core.view_auditentry") and not user.has_perm("trace.view_contact_data")
    return user


def _where(world):
    return {"record_type": "trace.customer", "object_id": str(world.hospital.pk)}


def test_the_trail_keeps_the_contact_values(world):
    entries = AuditEntry.objects.filter(object_id=str(world.hospital.pk), action="create")
    assert any(PHONE in str(e.changes) for e in entries)


def test_audit_page_export_and_api_mask_contacts_for_a_reader_without_the_permission(
    world, trail_reader, client_for
):
    c = client_for(trail_reader)
    page = c.get(reverse("audit_trail"), _where(world))
    assert page.status_code == 200
    body = page.content.decode()
    assert "***" in body and PHONE not in body and world.hospital.address not in body
    export = c.get(reverse("audit_export"), _where(world))
    csv_text = b"".join(export.streaming_content).decode()
    assert "***" in csv_text and PHONE not in csv_text
    api = c.get("/api/v1/audit/entries", _where(world))
    assert api.status_code == 200
    text = api.content.decode()
    assert "***" in text and PHONE not in text


def test_a_reader_with_the_permission_sees_them(world, client_for, make_user):
    auditor = make_user("aud", "auditor")
    assert auditor.has_perm("trace.view_contact_data")
    c = client_for(auditor)
    assert PHONE in c.get(reverse("audit_trail"), _where(world)).content.decode()
    export = c.get(reverse("audit_export"), _where(world))
    assert PHONE in b"".join(export.streaming_content).decode()
    assert PHONE in c.get("/api/v1/audit/entries", _where(world)).content.decode()
