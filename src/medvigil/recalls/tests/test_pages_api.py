"""The recall pages and API on the kit: create, resolve, decide (signed), execute and issue
through the same services; contacts only for roles with recalls.view_contact_data (PLAT-11);
bad input gets a clear answer and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from medvigil.conftest import PASSWORD

from .. import services
from ..models import Recall, RecallConsignee, RecallDocument, RecallUnit
from .conftest import new_recall

pytestmark = pytest.mark.django_db


def post_json(client: Any, path: str, payload: Any) -> Any:
    return client.post(path, json.dumps(payload), content_type="application/json")


@pytest.mark.req("RCL-1", "RCL-2")
def test_quality_creates_and_resolves_a_recall_on_the_pages(
    world: Any, quality_user: Any, client_for: Any
):
    c = client_for(quality_user)
    assert c.get(reverse("recalls:recall_create")).status_code == 200
    resp = c.post(
        reverse("recalls:recall_create"),
        {
            "title": "页面召回",
            "reason": "原因",
            "level": "2",
            "source_kind": "complaint",
            "scope_lots": "LA-001",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    recall = Recall.objects.get(title="页面召回")
    assert c.post(reverse("recalls:recall_resolve", args=[recall.pk])).status_code == 302
    page = c.get(recall.get_absolute_url()).content.decode()
    assert 'id="unit-count">4<' in page and "recall-decide" not in page  # quality cannot sign
    execution = c.get(reverse("recalls:recall_execution", args=[recall.pk])).content.decode()
    assert "护士长 李" in execution and execution.count('class="unit-row"') == 4


@pytest.mark.req("RCL-1", "RCL-5")
def test_the_general_manager_decides_with_a_signature_on_the_page(
    world: Any, quality_user: Any, gm: Any, client_for: Any
):
    recall = services.resolve_scope(new_recall(quality_user), by=quality_user)
    c = client_for(gm)
    page = c.get(recall.get_absolute_url()).content.decode()
    assert "recall-decide" in page
    url = reverse("recalls:recall_decide", args=[recall.pk])
    bad = c.post(url, {"password": "nope", "version": recall.version, "meaning": "approved"})
    assert bad.status_code == 400 and Recall.objects.get(pk=recall.pk).status == "draft"
    ok = c.post(url, {"password": PASSWORD, "version": recall.version, "meaning": "approved"})
    assert ok.status_code == 302
    assert Recall.objects.get(pk=recall.pk).status == "open"


@pytest.mark.req("RCL-4", "PLAT-11")
def test_execution_page_paginates_and_masks_contacts(
    running: Recall, client_for: Any, make_user: Any, cs: Any, logistics: Any
):
    tech = make_user("tech", "technical")
    page = client_for(tech).get(reverse("recalls:recall_execution", args=[running.pk]))
    assert page.status_code == 200
    assert "护士长 李" not in page.content.decode()
    c = client_for(cs)
    row = RecallConsignee.objects.filter(recall=running).first()
    resp = c.post(reverse("recalls:consignee_notice", args=[row.pk]), {"channel": "phone"})
    assert resp.status_code == 302
    assert RecallConsignee.objects.get(pk=row.pk).notice_channel == "phone"
    resp = client_for(logistics).post(
        reverse("recalls:recall_outcome", args=[running.pk]),
        {"outcome": "returned", "serials": "A1\nA2", "evidence": "RMA"},
    )
    assert resp.status_code == 302
    assert RecallUnit.objects.filter(recall=running, outcome="returned").count() == 2
    page = client_for(logistics).get(
        reverse("recalls:recall_execution", args=[running.pk]) + "?outcome=returned&upage=abc"
    )
    assert page.content.decode().count('class="unit-row"') == 2
    assert 'id="effectiveness-percent">50.00 %' in page.content.decode()


@pytest.mark.req("RCL-5")
def test_documents_on_the_pages(running: Recall, client_for: Any, quality_user: Any, gm: Any):
    c = client_for(quality_user)
    resp = c.post(reverse("recalls:document_new", args=[running.pk]), {"kind": "plan"})
    doc = RecallDocument.objects.get(recall=running, kind="plan")
    assert resp.status_code == 302 and resp["Location"] == doc.get_absolute_url()
    assert "document-issue" not in c.get(doc.get_absolute_url()).content.decode()
    pdf = c.get(reverse("recalls:document_pdf", args=[doc.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    g = client_for(gm)
    assert "document-issue" in g.get(doc.get_absolute_url()).content.decode()
    resp = g.post(
        reverse("recalls:document_issue", args=[doc.pk]),
        {"password": PASSWORD, "version": doc.version, "meaning": "approved"},
    )
    assert resp.status_code == 302
    assert RecallDocument.objects.get(pk=doc.pk).status == "issued"


@pytest.mark.req("RCL-1", "RCL-2", "RCL-4")
def test_the_api_creates_resolves_lists_and_records(
    world: Any,
    quality_user: Any,
    gm: Any,
    cs: Any,
    logistics: Any,
    client_for: Any,
    settings: Any,
    tmp_path: Any,
):
    settings.MEDIA_ROOT = str(tmp_path)
    q = client_for(quality_user)
    resp = post_json(
        q,
        "/api/v1/recalls",
        {"title": "API 召回", "reason": "r", "level": 1, "scope_lots": "LA-001\nLB-002"},
    )
    assert resp.status_code == 201, resp.content
    pk = resp.json()["id"]
    resolved = q.post(f"/api/v1/recalls/{pk}/resolve")
    assert resolved.status_code == 200 and resolved.json()["unit_count"] == 6
    units = q.get(f"/api/v1/recalls/{pk}/units?limit=2").json()
    assert units["count"] == 6 and len(units["items"]) == 2
    cons = q.get(f"/api/v1/recalls/{pk}/consignees").json()
    assert cons["count"] == 3 and any(i["phone"] == "13800000001" for i in cons["items"])
    tech_view = client_for(cs)  # customer service sees contacts too
    assert tech_view.get(f"/api/v1/recalls/{pk}/consignees").status_code == 200
    recall = Recall.objects.get(pk=pk)
    from .conftest import decide, issue

    decide(recall, gm)
    issue(recall, quality_user, gm)
    clocks = q.get(f"/api/v1/recalls/{pk}/clocks").json()
    assert {c["rule"] for c in clocks} == {
        "cn.recall_event_report",
        "cn.recall_notify_l1",
        "cn.recall_plan_5wd",
        "cn.recall_progress_report",  # RCL-3: the first progress report runs from the decision
    }
    assert all(c["citation"] for c in clocks)
    row = cons["items"][0]["id"]
    sent = post_json(client_for(cs), f"/api/v1/recalls/consignees/{row}/notice", {"channel": "fax"})
    assert sent.status_code == 200 and sent.json()["notice_channel"] == "fax"
    out = post_json(
        client_for(logistics),
        f"/api/v1/recalls/{pk}/outcomes",
        {"outcome": "destroyed", "serials": ["A1", "B1", "B2"], "evidence": "销毁记录"},
    )
    assert out.status_code == 200 and out.json()["percent"] == "50.00"
    eff = q.get(f"/api/v1/recalls/{pk}/effectiveness").json()
    assert eff["by_outcome"]["destroyed"] == 3


@pytest.mark.req("RCL-1")
def test_bad_input_gets_a_clear_answer_and_changes_nothing(
    world: Any, quality_user: Any, logistics: Any, client_for: Any, running: Recall
):
    q = client_for(quality_user)
    before = Recall.objects.count()
    for payload in (
        {"title": "x", "reason": "r", "level": 7},
        {"title": "x", "reason": "r", "level": "one"},
        {"title": "x" * 300, "reason": "r", "level": 1},
        {"title": "x", "reason": "r", "level": 1, "kind": "weird"},
        {"title": "x", "reason": "r", "level": 1, "product_id": 99999999},
        {"title": "x", "reason": "r", "level": 1, "fda_class": "II"},
    ):
        resp = post_json(q, "/api/v1/recalls", payload)
        assert resp.status_code in (400, 422), (payload, resp.status_code)
    assert Recall.objects.count() == before
    assert q.get("/api/v1/recalls/99999999999999999999").status_code in (404, 422)
    assert q.get("/api/v1/recalls?kind=nope").status_code in (400, 422)
    bad = post_json(
        client_for(logistics),
        f"/api/v1/recalls/{running.pk}/outcomes",
        {"outcome": "corrected", "serials": ["ZZZ"], "evidence": "x"},
    )
    assert bad.status_code == 422 and "ZZZ" in bad.content.decode()
    resp = q.post(reverse("recalls:recall_create"), {"title": "", "reason": "", "level": "9"})
    assert resp.status_code == 200 and Recall.objects.count() == before


@pytest.mark.req("RCL-4", "TRC-7")
def test_the_unit_page_timeline_shows_the_recall(
    running: Recall, client_for: Any, world: Any, quality_user: Any
):
    page = client_for(quality_user).get(world.a_units[0].get_absolute_url())
    assert page.status_code == 200 and running.number in page.content.decode()


@pytest.mark.req("RCL-1", "PLAT-2")
def test_a_recall_is_voided_with_a_reason_never_deleted(
    world: Any, quality_user: Any, client_for: Any
):
    recall = new_recall(quality_user)
    c = client_for(quality_user)
    url = reverse("recalls:recall_void", args=[recall.pk])
    c.post(url, {"version": recall.version, "reason": ""})
    assert Recall.objects.get(pk=recall.pk).status == "draft"
    assert c.post(url, {"version": recall.version, "reason": "重复登记"}).status_code == 302
    voided = Recall.objects.get(pk=recall.pk)
    assert (voided.status, voided.void_reason) == ("voided", "重复登记")


@pytest.mark.req("RCL-3", "RCL-5")
def test_the_api_records_the_eu_report_lists_documents_and_closes(
    world: Any, quality_user: Any, gm: Any, cs: Any, client_for: Any, settings: Any, tmp_path: Any
):
    """The page steps without a signature (EU FSCA report, close) and the documents through
    the API: the same services, the same refusals."""
    from .conftest import decide, issue

    settings.MEDIA_ROOT = str(tmp_path)
    q = client_for(quality_user)
    recall = new_recall(quality_user, eu_fsca=True)
    recall = decide(services.resolve_scope(recall, by=quality_user), gm)
    notice = issue(recall, quality_user, gm)
    recall.refresh_from_db()
    url = f"/api/v1/recalls/{recall.pk}"
    docs = q.get(f"{url}/documents").json()
    assert [(d["number"], d["kind"], d["status"], d["has_pdf"]) for d in docs] == [
        (notice.number, "notice", "issued", True)
    ]
    assert (
        post_json(client_for(cs), f"{url}/eu-report", {"version": recall.version}).status_code
        == 403
    )
    assert post_json(q, f"{url}/eu-report", {"version": recall.version - 1}).status_code == 409
    resp = post_json(q, f"{url}/eu-report", {"version": recall.version})
    assert resp.status_code == 200 and resp.json()["eu_reported_at"]
    version = resp.json()["version"]
    # no final evaluation report yet: refused, nothing changed
    resp = post_json(q, f"{url}/close", {"version": version, "conclusion": "done"})
    assert resp.status_code == 422 and "final evaluation report" in resp.content.decode()
    assert post_json(q, f"{url}/close", {"version": version}).status_code in (400, 422)
    issue(recall, quality_user, gm, kind="final")
    resp = post_json(q, f"{url}/close", {"version": version, "conclusion": ""})
    assert resp.status_code == 422 and Recall.objects.get(pk=recall.pk).status == "open"
    resp = post_json(q, f"{url}/close", {"version": version, "conclusion": "全部处理完毕"})
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] == "closed"
    assert len(q.get(f"{url}/documents").json()) == 2
