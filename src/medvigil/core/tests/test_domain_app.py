"""The domain-app contract (core.records.domain) and the record contract
(core.records.contract), proven on the example app that exists only in the test suite
(core/tests/exampleapp): one regulated record declared in five places of its own gets
numbering, audit, history, attachments, signatures, retention, access rules, navigation, role
grants, its URLs and API router mounted, "My work" items, deadlines, demo data and an
importer — nothing central was edited for it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import resolve, reverse

import medvigil
from medvigil.conftest import PASSWORD
from medvigil.core.attachments.services import attach
from medvigil.core.audit import audit_context
from medvigil.core.audit.models import RegulatedDeleteError
from medvigil.core.calendar.deadlines import deadline_sources
from medvigil.core.models import AuditEntry, RetentionRule
from medvigil.core.records.domain import DomainApp
from medvigil.core.registry import nav_for_all, nav_menus_for, work_for
from medvigil.core.retention.services import (
    approve_destruction,
    explain_retention,
    request_destruction,
)
from medvigil.core.signatures.services import sign, signature_matches, signatures_for
from medvigil.core.tests.exampleapp import services
from medvigil.core.tests.exampleapp.models import Inspection

pytestmark = [pytest.mark.django_db]

SRC = Path(medvigil.__file__).parent
UTC = dt.UTC


@pytest.fixture
def owner(make_user):
    return make_user("cs1", "customer_service")


@pytest.fixture
def colleague(make_user):
    return make_user("cs2", "customer_service")


@pytest.fixture
def qe(make_user):
    return make_user("qe1", "quality", first_name="Li", last_name="Na")


@pytest.fixture
def inspection(owner):
    return services.create_inspection(by=owner, title="Annual check", site_contact="Dr. Gao")


def test_the_app_is_a_domain_app_and_nothing_central_names_it():
    config = apps.get_app_config("exampleapp")
    assert isinstance(config, DomainApp)
    central = ["urls.py", "api.py", "accounts/defaults.py", "core/registry.py", "core/apps.py"]
    for name in central:
        assert "exampleapp" not in (SRC / name).read_text(encoding="utf-8"), name


@pytest.mark.req("PLAT-4")
def test_numbering_is_gapless_and_a_rollback_gives_the_number_back(owner):
    year = dt.datetime.now(UTC).year
    first = services.create_inspection(by=owner, title="one")
    with pytest.raises(RuntimeError), transaction.atomic(), audit_context(actor=owner):
        Inspection.objects.create(title="rolled back", owner=owner)
        raise RuntimeError("abort")
    second = Inspection.objects.create(title="two", owner=owner)  # save() numbers it
    assert first.number == f"EX-{year}-00001"
    assert second.number == f"EX-{year}-00002"


@pytest.mark.req("PLAT-2")
def test_every_change_is_audited_with_the_actor_and_created_by_is_stamped(owner, inspection):
    assert inspection.created_by == owner and inspection.owner == owner
    services.close_inspection(inspection, by=owner, conclusion="all fine")
    ct = ContentType.objects.get_for_model(Inspection)
    entries = list(
        AuditEntry.objects.filter(content_type=ct, object_id=str(inspection.pk)).order_by("seq")
    )
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[0].actor_id == owner.pk and entries[0].object_repr.startswith("EX-")
    assert entries[1].changes["status"] == ["open", "closed"]
    assert entries[1].reason == "all fine"


def test_status_guards_and_voiding_with_a_reason(owner, inspection):
    assert not inspection.can_close()  # no conclusion yet
    with pytest.raises(ValidationError):
        services.close_inspection(inspection, by=owner, conclusion=" ")
    with pytest.raises(ValidationError):
        services.void_inspection(inspection, by=owner, reason="")
    voided = services.void_inspection(inspection, by=owner, reason="entered twice")
    assert voided.is_voided and voided.void_reason == "entered twice"
    assert not voided.can_void() and not voided.can_close()


@pytest.mark.req("PLAT-5")
def test_never_deleted_outside_the_retention_process(inspection):
    with pytest.raises(RegulatedDeleteError):
        inspection.delete()
    with pytest.raises(RegulatedDeleteError):
        Inspection.objects.all().delete()
    assert Inspection.objects.filter(pk=inspection.pk).exists()


@pytest.mark.req("PLAT-5")
def test_the_declared_retention_rule_is_created_and_destruction_works(owner, qe, make_user):
    rule = RetentionRule.objects.get(content_type=ContentType.objects.get_for_model(Inspection))
    assert (rule.basis, rule.years, rule.citation) == ("created", 3, "EXAMPLE-1: three years")
    with time_machine.travel(dt.datetime(2020, 1, 10, tzinfo=UTC), tick=False):
        old = services.create_inspection(by=owner, title="old")
    decision = explain_retention(old)
    assert decision.until == dt.date(2023, 1, 10) and decision.rule == rule
    approver = make_user("qe2", "quality")
    req = request_destruction(old, by=qe, reason="retention period over")
    approve_destruction(req, by=approver, password=PASSWORD, request=None)
    assert not Inspection.objects.filter(pk=old.pk).exists()


@pytest.mark.req("PLAT-3")
def test_signatures_bind_to_the_record(owner, inspection):
    sig = sign(inspection, user=owner, password=PASSWORD, meaning="reviewed", request=None)
    assert signature_matches(sig)
    services.close_inspection(inspection, by=owner, conclusion="done")
    assert not signature_matches(signatures_for(inspection).get())


@pytest.mark.req("PLAT-1")
def test_access_rules_owner_colleague_other_role_outsider(
    owner, colleague, inspection, make_user, outsider, client_for
):
    finance = make_user("fin", "finance")  # view_* wildcard: every inspection
    url = inspection.get_absolute_url()
    assert client_for(owner).get(url).status_code == 200
    assert client_for(colleague).get(url).status_code == 404  # object rule: not theirs
    assert client_for(finance).get(url).status_code == 200
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(outsider).get(reverse("exampleapp:inspection_list")).status_code == 403
    api = f"/api/v1/exampleapp/inspections/{inspection.pk}"
    assert client_for(owner).get(api).json()["number"] == inspection.number
    assert client_for(colleague).get(api).status_code == 404
    assert client_for(colleague).get("/api/v1/exampleapp/inspections").json() == []


@pytest.mark.req("PLAT-11")
def test_a_sensitive_permission_is_never_granted_by_a_wildcard(make_user):
    quality = make_user("q", "quality")
    finance = make_user("f", "finance")
    auditor = make_user("a", "auditor")
    assert quality.has_perm("exampleapp.view_site_contact")  # named exactly
    assert quality.has_perm("exampleapp.add_inspection")  # "*"
    for user in (finance, auditor):  # "view_*" and "*.view_*"
        assert user.has_perm("exampleapp.view_inspection")
        assert not user.has_perm("exampleapp.view_site_contact")
        assert not user.has_perm("exampleapp.add_inspection")


def test_urls_and_api_router_are_mounted_automatically(inspection, owner, client_for):
    path = reverse("exampleapp:inspection_detail", args=[inspection.pk])
    assert path == f"/exampleapp/inspections/{inspection.pk}/"
    assert resolve(path).namespace == "exampleapp"
    schema = client_for(owner).get("/api/v1/openapi.json").json()
    assert "/api/v1/exampleapp/inspections" in schema["paths"]


@pytest.mark.req("PLAT-2", "PLAT-3", "PLAT-9")
def test_the_record_page_shows_history_attachments_signatures_and_destruction(
    owner, qe, inspection, client_for
):
    attach(
        inspection,
        uploaded_file=SimpleUploadedFile("report.txt", b"inspection report\n"),
        by=owner,
    )
    sign(inspection, user=owner, password=PASSWORD, meaning="reviewed", request=None)
    page = client_for(owner).get(inspection.get_absolute_url()).content.decode()
    assert "report.txt" in page  # attachments panel
    assert "attachment added" in page  # history panel
    assert reverse("destruction_new") not in page  # customer service may not request
    page = client_for(qe).get(inspection.get_absolute_url()).content.decode()
    assert reverse("destruction_new") in page
    # the history hides the sensitive field's value from whoever lacks the permission
    assert "Dr. Gao" in page
    assert "Dr. Gao" not in client_for(owner).get(inspection.get_absolute_url()).content.decode()


def test_navigation_my_work_deadlines_demo_and_importer(owner, colleague, outsider):
    due = dt.datetime.now(UTC) + dt.timedelta(hours=5)
    mine = services.create_inspection(by=owner, title="mine", due_at=due)
    assert any(n.url_name == "exampleapp:inspection_list" for n in nav_for_all(owner))
    assert not any(n.url_name == "exampleapp:inspection_list" for n in nav_for_all(outsider))
    # filed under its menu of the main bar
    menus = {m.key: [i.url_name for i in m.items] for m in nav_menus_for(owner)}
    assert "exampleapp:inspection_list" in menus["quality"]
    assert [w.url for w in work_for(owner) if w.kind == "inspection"] == [mine.get_absolute_url()]
    assert not [w for w in work_for(colleague) if w.kind == "inspection"]
    assert services.inspection_deadlines in deadline_sources()
    keys = [d.key for d in services.inspection_deadlines(dt.datetime.now(UTC))]
    assert keys == [f"exampleapp:inspection:{mine.pk}"]
    from medvigil.accounts.demo import _loaders
    from medvigil.core.imports import get_importer

    assert services.load_demo in _loaders
    assert get_importer("exampleapp_inspection") is services.InspectionImporter


def test_an_importer_creates_numbered_records_through_the_service(owner):
    importer = services.InspectionImporter(user=owner)
    made = [Inspection(title="from file")]
    with transaction.atomic():
        assert importer.save_rows(made, lambda n: None) == 1
    assert Inspection.objects.get(title="from file").number.startswith("EX-")


def test_permission_checks_refuse_without_the_grant(outsider):
    with pytest.raises(PermissionDenied):
        services.create_inspection(by=outsider, title="x")
