"""RCL-3: the recall's progress reports (召回计划实施情况报告, periodic while it runs) and its
summary evaluation (召回总结评估报告, within 10 working days of completion), as rules of the
registry with their citations, counted across the 2026 Spring Festival (with its make-up
working days, Saturday 14 and Saturday 28 February); shown on the recall and on "My work",
alerted by the deadline checker like every other clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from medvigil.core.models import AuditEntry

from .. import rules, services
from ..models import Kind, Recall, RecallClock
from ..services import work
from .conftest import decide, new_recall

pytestmark = [pytest.mark.django_db, pytest.mark.req("RCL-3")]

CN_START = dt.datetime.fromisoformat("2026-02-12T10:00+08:00")  # before the Spring Festival


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def progress(recall: Recall) -> list[RecallClock]:
    return list(
        RecallClock.objects.filter(recall=recall, deadline_rule=rules.PROGRESS.code).order_by(
            "sequence"
        )
    )


@pytest.fixture
def decided(world: Any, quality_user: Any, gm: Any) -> Recall:
    with time_machine.travel(CN_START, tick=False):
        recall = services.resolve_scope(new_recall(quality_user, level=2), by=quality_user)
        return decide(recall, gm)


def test_the_rules_cite_the_recall_measures():
    assert "第二十条" in rules.PROGRESS.citation and "定期" in rules.PROGRESS.citation
    assert "召回计划实施情况报告" in rules.PROGRESS.citation
    assert "第二十二条" in rules.SUMMARY.citation and "10个工作日" in rules.SUMMARY.citation
    assert (rules.PROGRESS.amount, rules.PROGRESS.unit) == (5, "working_days")
    assert (rules.SUMMARY.amount, rules.SUMMARY.unit) == (10, "working_days")


def test_progress_reports_repeat_while_the_recall_runs_across_the_festival(
    decided: Recall, quality_user: Any
):
    (first,) = progress(decided)
    # 5 working days from Thu 12 Feb: 13, 14 (make-up), festival 15-23, 24, 25, 26
    assert first.due_at == at("2026-02-26T23:59:59+08:00") and first.sequence == 1
    services.meet_clock(first, by=quality_user, reference="PR-1", at=at("2026-02-25T09:00+08:00"))
    first, second = progress(decided)
    assert first.met_at is not None and first.reference == "PR-1"
    # the next a period after the first was due: 27, 28 (make-up), 2, 3, 4 March
    assert (second.sequence, second.met_at) == (2, None)
    assert second.clock_started_at == first.due_at
    assert second.due_at == at("2026-03-04T23:59:59+08:00")
    # made late (Fri 6 March): the next a period after it was made: 9 … 13 March
    services.meet_clock(second, by=quality_user, reference="PR-2", at=at("2026-03-06T16:00+08:00"))
    third = progress(decided)[2]
    assert third.due_at == at("2026-03-13T23:59:59+08:00")
    ct = ContentType.objects.get_for_model(RecallClock)
    created = AuditEntry.objects.filter(content_type=ct, action="create", object_id=str(third.pk))
    assert created.get().actor == quality_user
    with pytest.raises(ValidationError):
        services.meet_clock(first, by=quality_user)  # already met


def test_completion_starts_the_summary_clock_and_ends_the_progress_reports(
    decided: Recall, quality_user: Any, logistics: Any, cs: Any
):
    with pytest.raises(PermissionDenied):
        services.complete_execution(decided, by=cs)
    with time_machine.travel(at("2026-02-12T15:00+08:00"), tick=False):
        services.record_outcome(
            decided, by=logistics, outcome="returned", serials=["A1", "A2"], evidence="RMA-1"
        )
        assert Recall.objects.get(pk=decided.pk).completed_at is None  # two units missing
        services.record_outcome(
            decided, by=logistics, outcome="destroyed", serials=["A3", "A4"], evidence="SCR-2"
        )
    recall = Recall.objects.get(pk=decided.pk)
    assert recall.completed_at == at("2026-02-12T15:00+08:00")  # the last unit completes it
    summary = RecallClock.objects.get(recall=recall, deadline_rule=rules.SUMMARY.code)
    # 10 working days: 13, 14 (make-up), festival 15-23, 24 … 27, 28 (make-up), 2, 3, 4 March
    assert summary.due_at == at("2026-03-04T23:59:59+08:00")
    assert summary.clock_started_at == recall.completed_at
    with pytest.raises(ValidationError):
        services.complete_execution(recall, by=quality_user)  # already complete
    (report,) = progress(recall)
    services.meet_clock(report, by=quality_user, reference="PR-final")
    assert len(progress(recall)) == 1  # no progress report after completion
    met = services.meet_clock(summary, by=quality_user, reference="总结评估报告 2026-03")
    assert met.met_at is not None


def test_quality_declares_completion_on_the_page_with_units_still_missing(
    decided: Recall, quality_user: Any, client_for: Any
):
    c = client_for(quality_user)
    with time_machine.travel(at("2026-02-20T11:00+08:00"), tick=False):  # in the festival
        _complete_on_the_page(c, decided)


def _complete_on_the_page(c: Any, decided: Recall) -> None:
    page = c.get(decided.get_absolute_url()).content.decode()
    assert 'data-rule="cn.recall_progress_report"' in page and "第二十条" in page
    assert 'id="recall-complete"' in page
    url = reverse("recalls:recall_complete", args=[decided.pk])
    assert c.post(url, {"version": decided.version - 1}).status_code == 302  # stale
    assert Recall.objects.get(pk=decided.pk).completed_at is None
    assert c.post(url, {"version": decided.version}).status_code == 302
    recall = Recall.objects.get(pk=decided.pk)
    assert recall.completed_at is not None
    summary = RecallClock.objects.get(recall=recall, deadline_rule=rules.SUMMARY.code)
    # from the festival: 24, 25, 26, 27, 28 (make-up), 2, 3, 4, 5, 6 March
    assert summary.due_at == at("2026-03-06T23:59:59+08:00")
    page = c.get(recall.get_absolute_url()).content.decode()
    assert 'data-rule="cn.recall_summary_10wd"' in page and "第二十二条" in page
    assert 'id="recall-complete"' not in page
    api = c.post(
        f"/api/v1/recalls/{recall.pk}/complete",
        {"version": recall.version},
        content_type="application/json",
    )
    assert api.status_code == 422  # already complete: a clear refusal, nothing changes
    clocks = c.get(f"/api/v1/recalls/{recall.pk}/clocks").json()
    assert {"rule": "cn.recall_summary_10wd", "sequence": 1}.items() <= next(
        x for x in clocks if x["rule"] == "cn.recall_summary_10wd"
    ).items()


def test_progress_and_summary_are_on_my_work_and_alerted(
    decided: Recall, quality_user: Any, logistics: Any
):
    services.complete_execution(decided, by=quality_user, at=at("2026-02-13T10:00+08:00"))
    titles = [w.title for w in work.my_work(quality_user)]
    assert any("progress report" in t for t in titles), titles
    assert any("summary evaluation" in t for t in titles), titles
    keys = {d.key: d for d in work.deadline_source(at("2026-02-13T10:00+08:00"))}
    summary = RecallClock.objects.get(recall=decided, deadline_rule=rules.SUMMARY.code)
    assert list(keys[f"recalls:clock:{summary.pk}"].users) == [quality_user]


def test_an_advisory_notice_starts_neither(world: Any, quality_user: Any, rep: Any):
    advisory = services.resolve_scope(new_recall(quality_user, kind=Kind.ADVISORY), by=quality_user)
    advisory = decide(advisory, rep)
    services.complete_execution(advisory, by=quality_user)
    assert not RecallClock.objects.filter(recall=advisory).exists()
    assert Recall.objects.get(pk=advisory.pk).completed_at is not None
