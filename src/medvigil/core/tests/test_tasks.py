"""PLAT-8 (deadline alerts and escalation, run by the periodic job) and PLAT-2 (what a job
changes is attributed to a named system actor)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import connection
from huey.contrib.djhuey import HUEY

from medvigil.accounts.models import Department
from medvigil.core.audit import audit_context
from medvigil.core.calendar import deadlines as deadlines_module
from medvigil.core.calendar.deadlines import (
    Deadline,
    check_deadlines,
    register_deadline_source,
    unregister_deadline_source,
)
from medvigil.core.models import AuditEntry, DeadlineAlert, Notification
from medvigil.core.tasks import audited_task
from medvigil.core.tasks import check_deadlines as check_deadlines_task

UTC = dt.UTC
DUE = dt.datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


@audited_task
def create_department(code: str) -> None:
    Department.objects.create(code=code, name_zh=code, name_en=code)


@audited_task(retries=0, name="rename_department_job")
def rename_department(code: str, name: str) -> None:
    d = Department.objects.get(code=code)
    d.name_en = name
    d.save()


def entries_for(obj):
    ct = ContentType.objects.get_for_model(obj)
    return list(AuditEntry.objects.filter(content_type=ct, object_id=str(obj.pk)).order_by("seq"))


@pytest.fixture
def open_deadlines():
    """A deadline source the test fills in; removed afterwards."""
    items: list[Deadline] = []

    def source(now):
        return list(items)

    register_deadline_source(source)
    yield items
    unregister_deadline_source(source)


def titles(user, level=None):
    qs = Notification.objects.filter(user=user).order_by("pk")
    if level:
        qs = qs.filter(level=level)
    return list(qs.values_list("title", flat=True))


# --- jobs are audited as a named system actor ---------------------------------------------


@pytest.mark.django_db
@pytest.mark.req("PLAT-2", "PLAT-8")
def test_changes_made_by_a_task_carry_the_system_task_actor_and_task_id(quality_user):
    assert HUEY.immediate  # tests run jobs inline
    # Queued from inside a user's request: the job still runs as the system, not the user.
    with audit_context(actor=quality_user, source="ui", reason="user reason"):
        result = create_department("lab")
    d = Department.objects.get(code="lab")
    (entry,) = entries_for(d)
    assert entry.actor is None
    assert entry.actor_name == "system:task:create_department"
    assert entry.source == "task:create_department"
    assert entry.request_id == result.id
    assert entry.reason == ""


@pytest.mark.django_db
@pytest.mark.req("PLAT-2", "PLAT-8")
def test_task_name_can_be_given_and_each_run_has_its_own_request_id():
    create_department("lab")
    first = rename_department("lab", "Lab 1")
    second = rename_department("lab", "Lab 2")
    entries = entries_for(Department.objects.get(code="lab"))
    assert [e.actor_name for e in entries[1:]] == ["system:task:rename_department_job"] * 2
    assert [e.request_id for e in entries[1:]] == [first.id, second.id]
    assert first.id != second.id


# --- deadline alerts ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.req("PLAT-8")
def test_due_soon_overdue_and_escalation_are_each_sent_exactly_once(
    make_user, open_deadlines, django_capture_on_commit_callbacks
):
    owner = make_user("owner", language="en")
    boss = make_user("boss", language="en")
    open_deadlines.append(
        Deadline(
            key="capa:1:close",
            title="CAPA-2026-00001",
            url="/capa/1/",
            due_at=DUE,
            users=[owner],
            escalate_to=[boss],
        )
    )
    with time_machine.travel(DUE - dt.timedelta(hours=30), tick=False):
        check_deadlines_task()
    assert not Notification.objects.exists()

    with (
        time_machine.travel(DUE - dt.timedelta(hours=10), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        check_deadlines_task()
        check_deadlines_task()  # the next run (or a second worker) sends nothing new
    assert titles(owner) == ["Due soon: CAPA-2026-00001"]
    assert titles(boss) == []
    assert [m.to for m in mail.outbox] == [["owner@example.com"]]
    assert Notification.objects.get(user=owner).url == "/capa/1/"

    with time_machine.travel(DUE + dt.timedelta(hours=1), tick=False):
        check_deadlines_task()
        check_deadlines_task()
    assert titles(owner) == ["Due soon: CAPA-2026-00001", "Overdue: CAPA-2026-00001"]
    assert titles(boss) == ["Escalation, overdue: CAPA-2026-00001"]
    assert "owner" in Notification.objects.get(user=boss).body
    assert Notification.objects.get(user=boss).level == "danger"

    with time_machine.travel(DUE + dt.timedelta(days=3), tick=False):
        check_deadlines_task()
    assert Notification.objects.count() == 3
    assert set(DeadlineAlert.objects.values_list("key", "level")) == {
        ("capa:1:close", "due_soon"),
        ("capa:1:close", "overdue"),
        ("capa:1:close", "escalated"),
    }


@pytest.mark.django_db
@pytest.mark.req("PLAT-8")
def test_a_deadline_first_seen_overdue_skips_due_soon(make_user, open_deadlines):
    owner = make_user("owner", language="en")
    open_deadlines.append(Deadline("k", "X", "/x/", DUE, users=[owner]))
    result = check_deadlines(now=DUE + dt.timedelta(minutes=5))
    assert result.sent == {"due_soon": 0, "overdue": 1, "escalated": 0}
    assert titles(owner) == ["Overdue: X"]


@pytest.mark.django_db
@pytest.mark.req("PLAT-8")
def test_due_soon_comes_at_20_percent_of_a_short_clock(make_user, open_deadlines):
    owner = make_user("owner")
    start = DUE - dt.timedelta(hours=10)  # a 10-hour clock: warn 2 hours before, not 24
    open_deadlines.append(Deadline("short", "X", "/x/", DUE, users=[owner], started_at=start))
    assert check_deadlines(now=DUE - dt.timedelta(hours=3)).total_sent == 0
    assert check_deadlines(now=DUE - dt.timedelta(hours=1, minutes=59)).sent["due_soon"] == 1


@pytest.mark.django_db
@pytest.mark.req("PLAT-8")
def test_lead_and_escalation_delay_are_configurable(make_user, open_deadlines, settings):
    owner = make_user("owner")
    boss = make_user("boss")
    settings.DEADLINE_DUE_SOON_HOURS = 48
    settings.DEADLINE_ESCALATE_AFTER_HOURS = 4
    open_deadlines.append(Deadline("cfg", "X", "/x/", DUE, users=[owner], escalate_to=[boss]))
    assert check_deadlines(now=DUE - dt.timedelta(hours=47)).sent["due_soon"] == 1
    r = check_deadlines(now=DUE + dt.timedelta(hours=1))
    assert r.sent == {"due_soon": 0, "overdue": 1, "escalated": 0}
    r = check_deadlines(now=DUE + dt.timedelta(hours=4))
    assert r.sent == {"due_soon": 0, "overdue": 0, "escalated": 1}
    explicit = Deadline("own", "Y", "/y/", DUE, users=[owner], lead=dt.timedelta(hours=1))
    assert explicit.levels_due(DUE - dt.timedelta(hours=2)) == []
    assert explicit.levels_due(DUE - dt.timedelta(minutes=30)) == ["due_soon"]


@pytest.mark.django_db
@pytest.mark.req("PLAT-8")
def test_a_failing_source_does_not_stop_the_others(make_user, open_deadlines):
    owner = make_user("owner")

    def broken(now):
        raise RuntimeError("bug in some app")

    register_deadline_source(broken)
    try:
        open_deadlines.append(Deadline("ok", "X", "/x/", DUE, users=[owner]))
        result = check_deadlines(now=DUE)
    finally:
        unregister_deadline_source(broken)
    assert result.sent["overdue"] == 1
    assert result.failed_sources and "broken" in result.failed_sources[0]


@pytest.mark.django_db
@pytest.mark.req("PLAT-8")
def test_a_deadline_without_recipients_is_not_claimed(make_user, open_deadlines):
    open_deadlines.append(Deadline("nobody", "X", "/x/", DUE, users=[]))
    assert check_deadlines(now=DUE).total_sent == 0
    assert not DeadlineAlert.objects.exists()
    owner = make_user("owner")
    open_deadlines[0] = Deadline("nobody", "X", "/x/", DUE, users=[owner])
    assert check_deadlines(now=DUE).sent["overdue"] == 1  # assigned later: still alerted


@pytest.mark.django_db
@pytest.mark.req("PLAT-8")
def test_a_failed_send_releases_the_claim_for_the_next_run(make_user, open_deadlines, monkeypatch):
    owner = make_user("owner")
    open_deadlines.append(Deadline("retry", "X", "/x/", DUE, users=[owner]))
    import medvigil.core.notifications.services as notify_module

    real = notify_module.notify

    def failing(*a, **k):
        real(*a, **k)
        raise RuntimeError("mail queue down")

    monkeypatch.setattr(notify_module, "notify", failing)
    assert check_deadlines(now=DUE).total_sent == 0
    assert not DeadlineAlert.objects.exists() and not Notification.objects.exists()
    monkeypatch.setattr(notify_module, "notify", real)
    assert check_deadlines(now=DUE).sent["overdue"] == 1


@pytest.mark.django_db
@pytest.mark.req("PLAT-8")
def test_an_alert_claimed_by_another_worker_meanwhile_is_not_sent_again(
    make_user, open_deadlines, monkeypatch
):
    """The other worker claimed after this one's pre-check: the insert decides."""
    owner = make_user("owner")
    open_deadlines.append(Deadline("race", "X", "/x/", DUE, users=[owner]))
    monkeypatch.setattr(deadlines_module, "_already_alerted", lambda keys: set())
    DeadlineAlert.objects.create(key="race", level="overdue")
    result = check_deadlines(now=DUE)
    assert result.total_sent == 0 and result.skipped == 1
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.req("PLAT-8")
def test_two_workers_at_once_send_each_alert_once(make_user, open_deadlines, monkeypatch):
    """Two threads, two database connections, the same deadlines at the same moment."""
    owners = [make_user(f"owner{i}") for i in range(3)]
    boss = make_user("boss")
    for i, owner in enumerate(owners):
        open_deadlines.append(
            Deadline(f"conc:{i}", f"D{i}", "/x/", DUE, users=[owner], escalate_to=[boss])
        )
    # Both workers pass the cheap pre-check, so the unique insert alone must decide.
    monkeypatch.setattr(deadlines_module, "_already_alerted", lambda keys: set())
    if connection.vendor == "postgresql":
        # Meet inside the transaction, right before the insert: the real race.
        barrier = threading.Barrier(2, timeout=20)
        real_claim = deadlines_module.claim

        def racing_claim(key, level):
            if key == "conc:0" and level == "overdue":
                barrier.wait()
            return real_claim(key, level)

        monkeypatch.setattr(deadlines_module, "claim", racing_claim)
    else:
        # SQLite has one writer at a time (BEGIN IMMEDIATE): start together, queue on the lock.
        barrier = threading.Barrier(2, timeout=20)
    results = []
    errors = []

    def worker():
        try:
            if connection.vendor != "postgresql":
                barrier.wait()
            results.append(check_deadlines(now=DUE + dt.timedelta(hours=1)))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sum(r.total_sent for r in results) == 6  # 3 overdue + 3 escalations, once each
    for owner in owners:
        assert Notification.objects.filter(user=owner).count() == 1
    assert Notification.objects.filter(user=boss).count() == 3
    assert DeadlineAlert.objects.count() == 6
