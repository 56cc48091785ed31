"""RCL-1/RCL-2: a recall from a source, with its level and markets; its scope resolved
through traceability (the forward trace of TRC-7) into units, consignees at every sale level
and end users with contacts, written in bulk with one audit entry per row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from medvigil.core.models import AuditEntry
from medvigil.trace.queries import forward_trace

from .. import services
from ..models import Kind, Recall, RecallConsignee, RecallUnit, SourceKind
from .conftest import new_recall

pytestmark = pytest.mark.django_db


@pytest.mark.req("RCL-2")
def test_the_recall_scope_equals_the_forward_trace_of_its_lots(world: Any, quality_user: Any):
    recall = services.resolve_scope(new_recall(quality_user), by=quality_user)
    trace = forward_trace(lots=[world.lot_a], limit=None)
    units = set(RecallUnit.objects.filter(recall=recall).values_list("unit_id", flat=True))
    assert units == {ut.unit.pk for ut in trace.units} == {u.pk for u in world.a_units}
    reached = {c.pk for c, _n in trace.consignees()} | {c.pk for c, _n in trace.end_users()}
    rows = {r.customer_id: r for r in RecallConsignee.objects.filter(recall=recall)}
    assert set(rows) == reached == {world.dealer.pk, world.hospital.pk}
    assert (recall.unit_count, recall.consignee_count) == (4, 2)
    # every sale level: the dealer bought from us (1), the hospital from the dealer (2)
    dealer, hospital = rows[world.dealer.pk], rows[world.hospital.pk]
    assert (dealer.sale_level, dealer.is_end_user, dealer.unit_count) == (1, False, 3)
    assert (hospital.sale_level, hospital.is_end_user, hospital.unit_count) == (2, True, 2)
    # the end user's contacts: the installation's (A1 is installed at H1's ICU)
    assert (hospital.contact_person, hospital.phone) == ("护士长 李", "13800000001")
    assert dealer.contact_person == "Contact D-1" and dealer.address == "D-1 Road 1, Shanghai"
    a1 = RecallUnit.objects.get(recall=recall, serial="A1")
    assert (a1.consignee_id, a1.holder_id, a1.end_user_id) == (
        world.dealer.pk,
        world.hospital.pk,
        world.hospital.pk,
    )
    assert RecallUnit.objects.get(recall=recall, serial="A4").consignee_id is None  # in stock


@pytest.mark.req("RCL-2", "PLAT-2")
def test_scope_rows_are_written_in_bulk_with_one_audit_entry_each(world: Any, quality_user: Any):
    recall = services.resolve_scope(new_recall(quality_user), by=quality_user)
    for model in (RecallUnit, RecallConsignee):
        ct = ContentType.objects.get_for_model(model)
        ids = {str(pk) for pk in model.objects.filter(recall=recall).values_list("pk", flat=True)}
        entries = AuditEntry.objects.filter(content_type=ct, object_id__in=ids)
        assert entries.count() == len(ids) and {e.action for e in entries} == {"create"}
        assert {e.actor_id for e in entries} == {quality_user.pk}


@pytest.mark.req("RCL-2")
def test_scope_by_serials_udis_and_a_production_date_range(world: Any, quality_user: Any):
    by_serial = services.resolve_scope(
        new_recall(quality_user, lots="", scope_serials="A2\nB1"), by=quality_user
    )
    assert set(by_serial.units.values_list("serial", flat=True)) == {"A2", "B1"}
    udi = f"(01){world.pump.gtin}(21)B2"
    by_udi = services.resolve_scope(
        new_recall(quality_user, lots="", scope_serials=udi), by=quality_user
    )
    assert list(by_udi.units.values_list("serial", flat=True)) == ["B2"]
    by_date = services.resolve_scope(
        new_recall(quality_user, lots="", product=world.pump, produced_from=dt.date(2025, 8, 1)),
        by=quality_user,
    )
    assert set(by_date.units.values_list("serial", flat=True)) == {"B1", "B2"}


@pytest.mark.req("RCL-2")
def test_resolving_again_adds_only_what_is_new(world: Any, quality_user: Any):
    recall = services.resolve_scope(new_recall(quality_user), by=quality_user)
    recall = services.update_recall(
        recall, by=quality_user, version=recall.version, scope_lots="LA-001\nLB-002"
    )
    recall = services.resolve_scope(recall, by=quality_user)
    assert recall.unit_count == 6 == RecallUnit.objects.filter(recall=recall).count()
    assert recall.consignee_count == 3  # + H2, bought B1 directly


@pytest.mark.req("RCL-2")
def test_bad_scope_is_refused_on_the_recall_fields_and_nothing_is_written(
    world: Any, quality_user: Any
):
    recall = new_recall(quality_user, lots="NO-SUCH-LOT")
    with pytest.raises(ValidationError) as exc:
        services.resolve_scope(recall, by=quality_user)
    assert "scope_lots" in exc.value.message_dict
    empty = new_recall(quality_user, lots="")
    with pytest.raises(ValidationError):
        services.resolve_scope(empty, by=quality_user)
    assert not RecallUnit.objects.exists() and not RecallConsignee.objects.exists()
    assert Recall.objects.get(pk=recall.pk).scope_resolved_at is None


@pytest.mark.req("RCL-1")
def test_a_recall_has_a_level_and_the_us_market_needs_its_806_facts(world: Any, quality_user: Any):
    with pytest.raises(ValidationError) as exc:
        new_recall(quality_user, level=None)
    assert "level" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        new_recall(quality_user, fda_class="II")
    assert {"us_action", "fda_registration"} <= set(exc.value.message_dict)
    us = new_recall(quality_user, fda_class="II", us_action="R", fda_registration="3001234567")
    assert us.us_affected and us.number.startswith("RC-")
    advisory = new_recall(quality_user, kind=Kind.ADVISORY, level=None)
    assert advisory.number.startswith("AN-") and advisory.level is None


@pytest.mark.req("RCL-1")
def test_the_source_is_linked_generically(world: Any, quality_user: Any):
    recall = new_recall(quality_user, source_kind=SourceKind.REGULATOR_ORDER)
    assert recall.get_source_kind_display() == "regulator order"
    # any record can be the source (a CAPA of medvigil.capa, a complaint, ...): a sale here
    recall = services.link_source(recall, by=quality_user, record=world.sale1, kind="capa")
    assert recall.source_kind == SourceKind.CAPA
    assert services.records.source_record(recall) == world.sale1
    assert recall.source_reference == world.sale1.number


@pytest.mark.req("RCL-1", "PLAT-1")
def test_only_roles_that_may_create_recalls_do(world: Any, cs: Any, make_user: Any):
    with pytest.raises(PermissionDenied):
        new_recall(cs)
    with pytest.raises(PermissionDenied):
        new_recall(make_user("tech", "technical"))
