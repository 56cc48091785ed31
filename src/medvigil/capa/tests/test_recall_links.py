"""RCL-1 / CAPA-1 / CAPA-2: a recall started from a CAPA (or a complaint, or an adverse event)
is linked both ways — the recall names its source, the source's page lists its recalls — and
an after-delivery nonconformity links to the recall or advisory notice it caused. One audited,
permission-checked service per link (recalls.services.create_recall_from,
capa.services.nonconformity.link_related); the pages and the API call them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from medvigil.complaints.tests.flow_builders import People, routed_complaint
from medvigil.core.models import AuditEntry
from medvigil.recalls import services as rcl
from medvigil.recalls.models import Kind, Recall, SourceKind
from medvigil.recalls.services.records import recalls_from
from medvigil.trace.tests.conftest import World

from ..models import Nonconformity
from ..services import nonconformity as nc_svc
from .builders import new_capa

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def recall_from(record: Any, by: Any, **extra: Any) -> Recall:
    values = {
        "title": "输液泵报警失灵召回",
        "reason": "报警模块在低电量时可能不响",
        "level": 2,
        "scope_lots": "LA-001",
        **extra,
    }
    return rcl.create_recall_from(record, by=by, **values)


@pytest.mark.req("RCL-1", "CAPA-1")
def test_a_recall_started_from_a_capa_is_linked_both_ways_and_audited(
    people: People, world: World
) -> None:
    capa = new_capa(people.quality)
    recall = recall_from(capa, people.quality)
    assert (recall.source_kind, recall.source_reference) == (SourceKind.CAPA, capa.number)
    assert recall.source_type == ContentType.objects.get_for_model(capa)
    assert recall.source_id == str(capa.pk)
    assert list(recalls_from(capa, people.quality)) == [recall]
    ct = ContentType.objects.get_for_model(Recall)
    entries = AuditEntry.objects.filter(content_type=ct, object_id=str(recall.pk))
    assert {e.action for e in entries} == {"create", "update"}
    assert all(e.actor == people.quality for e in entries)
    assert "source_id" in entries.get(action="update").changes
    # customer service may not start recalls: refused, nothing written
    with pytest.raises(PermissionDenied):
        recall_from(capa, people.cs)
    assert Recall.objects.count() == 1
    # a voided CAPA starts nothing
    from ..services import capa as capa_svc

    other = capa_svc.void_capa(new_capa(people.quality), by=people.quality, reason="duplicate")
    with pytest.raises(ValidationError):
        recall_from(other, people.quality)
    # only records a recall may start from
    with pytest.raises(ValidationError):
        recall_from(people.cs, people.quality)
    assert Recall.objects.count() == 1


@pytest.mark.req("RCL-1")
def test_complaints_and_adverse_events_start_recalls_too(people: People, world: World) -> None:
    fb = routed_complaint(people.quality)
    recall = recall_from(fb, people.quality, kind=Kind.ADVISORY, level=None)
    assert (recall.kind, recall.source_kind, recall.source_reference) == (
        Kind.ADVISORY,
        SourceKind.COMPLAINT,
        fb.number,
    )
    assert list(recalls_from(fb, people.quality)) == [recall]
    from medvigil.vigilance.tests.conftest import make_event

    event = make_event(people.quality)
    recall = recall_from(event, people.quality)
    assert recall.source_kind == SourceKind.ADVERSE_EVENT
    assert list(recalls_from(event, people.quality)) == [recall]
    assert list(recalls_from(event, people.finance)) == [recall]  # finance reads the list


@pytest.mark.req("RCL-1", "CAPA-1")
def test_the_capa_page_starts_a_recall_and_lists_it(
    people: People, world: World, client_for: Any
) -> None:
    capa = new_capa(people.quality)
    c = client_for(people.quality)
    page = c.get(capa.get_absolute_url()).content.decode()
    assert 'id="start-recall"' in page and 'id="start-advisory"' in page
    url = reverse("recalls:recall_create") + f"?source=capa.capa:{capa.pk}"
    form = c.get(url).content.decode()
    assert capa.number in form and 'value="Occlusion alarm silent"' in form
    assert 'value="capa" selected' in form  # the source kind prefilled
    resp = c.post(
        url,
        {
            "title": "Occlusion alarm recall",
            "reason": capa.problem,
            "level": "2",
            "source_kind": "capa",
            "source_reference": capa.number,
            "scope_lots": "LA-001",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:3000]
    recall = Recall.objects.get(title="Occlusion alarm recall")
    assert recall.source_id == str(capa.pk)
    page = c.get(capa.get_absolute_url()).content.decode()
    assert f'href="{recall.get_absolute_url()}"' in page and recall.number in page
    rpage = c.get(recall.get_absolute_url()).content.decode()
    assert f'href="{capa.get_absolute_url()}"' in rpage  # the recall links back to its CAPA
    # a source the user cannot see, an unknown model or a bad id: 404, nothing created
    for bad in ("capa.capa:999999", "accounts.user:1", "capa.capa:x", "nonsense"):
        assert c.get(reverse("recalls:recall_create") + f"?source={bad}").status_code == 404
    # people without the recall permissions see no button and may not post
    cs_page = client_for(people.cs).get(capa.get_absolute_url()).content.decode()
    assert 'id="start-recall"' not in cs_page
    assert client_for(people.cs).post(url, {"title": "x"}).status_code == 403
    assert Recall.objects.count() == 1


@pytest.mark.req("RCL-1")
def test_the_api_creates_a_recall_from_its_source(
    people: People, world: World, client_for: Any
) -> None:
    capa = new_capa(people.quality)
    c = client_for(people.quality)
    payload = {"title": "API recall", "reason": "r", "level": 3, "source": f"capa.capa:{capa.pk}"}
    resp = c.post("/api/v1/recalls", json.dumps(payload), content_type="application/json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["source_kind"], body["source_id"], body["source_reference"]) == (
        "capa",
        str(capa.pk),
        capa.number,
    )
    for bad in ("capa.capa:999999", "accounts.user:1", "capa.capa:"):
        payload["source"] = bad
        resp = c.post("/api/v1/recalls", json.dumps(payload), content_type="application/json")
        assert resp.status_code == 422, (bad, resp.content)
    assert Recall.objects.count() == 1


def after_delivery(by: Any, world: World, **extra: Any) -> Nonconformity:
    values = {
        "title": "Alarm module fails in the field",
        "stage": "after_delivery",
        "description": "Alarm silent at low battery at two hospitals.",
        "quantity": 2,
        "product": world.pump,
        **extra,
    }
    return nc_svc.create_nonconformity(by=by, **values)


@pytest.mark.req("CAPA-2")
def test_an_after_delivery_nonconformity_links_the_recall_it_caused_on_its_page(
    people: People, world: World, client_for: Any
) -> None:
    fb = routed_complaint(people.quality)
    nc = after_delivery(people.quality, world, complaint=fb)
    recall = rcl.create_recall(by=people.quality, title="召回", reason="r", level=2)
    c = client_for(people.quality)
    page = c.get(nc.get_absolute_url()).content.decode()
    assert 'id="link-recall"' in page and fb.number in page
    url = reverse("capa:nc_link_recall", args=[nc.pk])
    resp = c.post(url, {"number": "RC-1999-99999"}, follow=True)
    assert "No recall or advisory notice with this number." in resp.content.decode()
    assert Nonconformity.objects.get(pk=nc.pk).related_id == ""
    assert c.post(url, {"number": recall.number.lower()}).status_code == 302
    nc = Nonconformity.objects.get(pk=nc.pk)
    assert (nc.related_reference, nc.related_id) == (recall.number, str(recall.pk))
    page = c.get(nc.get_absolute_url()).content.decode()
    assert f'<a href="{recall.get_absolute_url()}">{recall.number}</a>' in page
    ct = ContentType.objects.get_for_model(Nonconformity)
    entry = AuditEntry.objects.filter(content_type=ct, object_id=str(nc.pk)).latest("seq")
    assert entry.actor == people.quality and "related_id" in entry.changes
    # an advisory notice likewise; a voided one is refused
    advisory = rcl.create_recall(by=people.quality, kind=Kind.ADVISORY, title="忠告", reason="r")
    voided = rcl.void_recall(advisory, by=people.quality, version=advisory.version, reason="dup")
    resp = c.post(url, {"number": voided.number}, follow=True)
    assert "A voided record cannot be linked." in resp.content.decode()
    assert Nonconformity.objects.get(pk=nc.pk).related_id == str(recall.pk)
    # customer service may read the nonconformity but not link
    assert (
        'id="link-recall"' not in client_for(people.cs).get(nc.get_absolute_url()).content.decode()
    )
    assert client_for(people.cs).post(url, {"number": recall.number}).status_code == 403


@pytest.mark.req("CAPA-2")
def test_only_after_delivery_nonconformities_link_a_field_action(
    people: People, world: World, client_for: Any
) -> None:
    nc = after_delivery(people.quality, world, stage="in_process")
    recall = rcl.create_recall(by=people.quality, title="召回", reason="r", level=2)
    assert (
        'id="link-recall"'
        not in client_for(people.quality).get(nc.get_absolute_url()).content.decode()
    )
    with pytest.raises(ValidationError):
        nc_svc.link_related(nc, recall, by=people.quality)
    with pytest.raises(PermissionDenied):
        nc_svc.link_related(after_delivery(people.quality, world), recall, by=people.cs)
