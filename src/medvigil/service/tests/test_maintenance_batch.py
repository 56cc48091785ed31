"""SVC-8 at scale: a run of the maintenance plan job is audited by ONE batch record
(core.audit.batch) instead of an entry per generated visit — the digest verifies, each
visit's history shows the batch as its creation, a rerun creates nothing, later changes are
audited per visit, and a row altered outside the audit is detected. Runs on SQLite and on
PostgreSQL (COPY path) alike."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.urls import reverse

from medvigil.core.audit.batch import record_batch_create, verify_batch
from medvigil.core.audit.verify import verify_trail
from medvigil.core.models import AuditBatch, AuditEntry
from medvigil.service.models import MaintenanceVisit
from medvigil.service.services import maintenance

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)


def _last_entry_id() -> int:
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.mark.req("SVC-8")
def test_a_plan_run_is_one_audit_record_whose_digest_verifies(
    world: Any, cs_user: Any, client_for: Any
) -> None:
    before = _last_entry_id()
    made = maintenance.generate_visits(today=TODAY, days=365)
    assert made >= 12
    batch = AuditBatch.objects.get()
    assert batch.count == made == MaintenanceVisit.objects.filter(audit_batch=batch).count()
    assert (batch.period_start, batch.period_end) == (TODAY, TODAY + dt.timedelta(days=365))
    assert batch.source == "task:maintenance" and batch.actor_name == "system:task:maintenance"
    assert batch.content_type == ContentType.objects.get_for_model(MaintenanceVisit)
    keys = sorted(MaintenanceVisit.objects.values_list("pk", flat=True))
    assert (batch.first_key, batch.last_key) == (keys[0], keys[-1])
    # one audit entry for the whole run: the batch's creation, in the normal chain
    new = list(AuditEntry.objects.filter(pk__gt=before))
    assert [(e.content_type.model, e.action, e.seq) for e in new] == [("auditbatch", "create", 1)]
    assert new[0].changes["digest"] == [None, batch.digest]
    assert new[0].changes["count"] == [None, made]
    assert verify_batch(batch).ok and verify_batch(batch).rows == made
    assert verify_trail().ok
    # rerun: nothing created, no second batch, no entry
    before = _last_entry_id()
    assert maintenance.generate_visits(today=TODAY, days=365) == 0
    assert AuditBatch.objects.count() == 1 and _last_entry_id() == before
    # a longer horizon later adds only the new days, in a second batch
    assert maintenance.generate_visits(today=TODAY, days=400) > 0
    assert AuditBatch.objects.count() == 2
    assert all(verify_batch(b).ok for b in AuditBatch.objects.all())


@pytest.mark.req("SVC-8")
def test_a_generated_visit_shows_its_batch_as_creation_and_later_changes_per_row(
    world: Any, cs_user: Any, client_for: Any
) -> None:
    maintenance.generate_visits(today=TODAY, days=120)
    batch = AuditBatch.objects.get()
    visit = MaintenanceVisit.objects.order_by("due_on", "pk").first()
    assert visit is not None and visit.audit_batch_id == batch.pk
    ct = ContentType.objects.get_for_model(MaintenanceVisit)
    assert not AuditEntry.objects.filter(content_type=ct, object_id=str(visit.pk)).exists()
    url = reverse("record_history", args=["service", "maintenancevisit", visit.pk])
    page = client_for(cs_user).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "history-batch" in html and f"batch #{batch.pk}" in html and batch.digest in html
    assert f"{batch.count:,}" in html and "system:task:maintenance" in html
    # a later change is audited on the visit itself (its chain starts there)
    visit = maintenance.complete_visit(visit, by=cs_user, version=visit.version, notes="正常")
    own = list(AuditEntry.objects.filter(content_type=ct, object_id=str(visit.pk)))
    assert [(e.action, e.seq) for e in own] == [("update", 1)]
    html = client_for(cs_user).get(url).content.decode()
    assert html.index('data-action="update"') < html.index("history-batch")  # newest first
    # the API's record history: the batch's creation first, then the visit's own entries
    api = client_for(cs_user).get(
        f"/api/v1/audit/records/service.maintenancevisit/{visit.pk}/history"
    )
    assert api.status_code == 200, api.content
    items = api.json()["items"]
    assert [(i["record_type"], i["action"]) for i in items] == [
        ("core.auditbatch", "create"),
        ("service.maintenancevisit", "update"),
    ]
    # the digest still verifies: the change is undone from its entry
    assert verify_batch(batch).ok
    assert verify_trail().ok


@pytest.mark.req("SVC-8")
def test_a_generated_row_altered_or_removed_outside_the_audit_is_detected(world: Any) -> None:
    maintenance.generate_visits(today=TODAY, days=120)
    batch = AuditBatch.objects.get()
    plain = models.QuerySet(model=MaintenanceVisit)  # no audit: what a raw UPDATE would do
    visit = plain.order_by("pk").last()
    assert visit is not None
    plain.filter(pk=visit.pk).update(due_on=visit.due_on + dt.timedelta(days=1))
    check = verify_batch(batch)
    assert not check.ok and "digest" in check.problem
    assert not verify_trail().ok
    plain.filter(pk=visit.pk).update(due_on=visit.due_on)
    assert verify_batch(batch).ok
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {MaintenanceVisit._meta.db_table} WHERE id = %s", [visit.pk])
    check = verify_batch(batch)
    assert not check.ok and "missing" in check.problem


def test_an_empty_batch_writes_nothing_and_operator_fields_are_refused(world: Any) -> None:
    before = _last_entry_id()
    assert record_batch_create(MaintenanceVisit, maintenance.PLAN_FIELDS, iter(())) is None
    assert not AuditBatch.objects.exists() and _last_entry_id() == before
    with pytest.raises(ValueError):
        record_batch_create(MaintenanceVisit, ("id", "kind"), [(1, "visit")])
    with pytest.raises(TypeError):
        record_batch_create(AuditBatch, ("note",), [("x",)])


@pytest.mark.req("SVC-8")
def test_the_schedule_from_near_today_gives_the_same_days() -> None:
    iv = maintenance.Intervals()
    for start, end in (
        (dt.date(2022, 1, 31), dt.date(2024, 1, 31)),
        (dt.date(2025, 8, 30), dt.date(2028, 8, 30)),
        (dt.date(2026, 2, 28), None),
        (dt.date(2026, 5, 1), dt.date(2027, 5, 1)),  # starts after today
    ):
        full = maintenance.schedule(start, end, dt.date(2027, 3, 2), iv)
        near = maintenance.schedule(start, end, dt.date(2027, 3, 2), iv, since=TODAY)
        assert near == [r for r in full if r[1] >= TODAY], start


def test_the_digest_lines_are_copy_text_whichever_way_a_column_is_rendered() -> None:
    from medvigil.core.audit import batch as b

    cases = [
        (b._int, [1, 2, 30]),
        (b._int, [1, None]),
        (b._date, [dt.date(2026, 1, 2), "2026-01-03"]),
        (b._bool, [True, False]),
        (b._bool, [True, None]),
        (b._text, ["visit", "call"]),
        (b._text, ["a\tb", "c\\d", "e\nf", None]),
    ]
    for conv, values in cases:
        assert list(b._render_column(conv, tuple(values))) == [conv(v) for v in values]
    assert b._text("a\tb\\c\n") == "a\\tb\\\\c\\n" and b._int(None) == "\\N"
    assert b._datetime("2026-03-02T10:00:00+08:00") == "2026-03-02T02:00:00+00:00"
