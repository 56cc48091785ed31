"""FBK-10: quarterly analysis by department, product, category, severity and root cause, the
year-end summary, the pages with their charts and PDFs, and the early warning (idempotent,
sent to quality)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from medvigil.complaints.models import EarlyWarning, Feedback, Investigation
from medvigil.complaints.services import analysis, intake
from medvigil.complaints.tasks import complaints_early_warning
from medvigil.core.audit import audit_context
from medvigil.core.models import Notification

from .conftest import complaint_data

pytestmark = pytest.mark.django_db


def _at(y: int, m: int, d: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(y, m, d, 10, 0))


def _complaint(user: Any, world: Any, when: dt.datetime, **kw: Any) -> Feedback:
    data = complaint_data(received_at=when)
    data.update(kw)
    return intake.register_feedback(by=user, product=world.pump.pk, **data)


def _cause(fb: Feedback, factor: str) -> None:
    with audit_context(source="test"):
        Investigation.objects.create(feedback=fb, factor=factor, method="5m1e")


@pytest.mark.req("FBK-10")
def test_quarter_counts_by_each_dimension(world: Any, cs_user: Any, quality_user: Any) -> None:
    a = _complaint(cs_user, world, _at(2026, 1, 10))
    b = _complaint(cs_user, world, _at(2026, 2, 10), category="installation")
    _complaint(cs_user, world, _at(2026, 3, 31), patient_involvement="injury")
    _complaint(cs_user, world, _at(2026, 4, 1))  # next quarter
    intake.register_feedback(by=cs_user, kind="inquiry", channel="phone", description="How?")
    _cause(a, "material")
    _cause(b, "man")
    _cause(b, "method")  # the newest investigation counts
    start, end = analysis.quarter_bounds(2026, 1)
    data = analysis.period_analysis(start=start, end=end, user=quality_user)
    assert data["total"] == 3 and data["serious"] == 1
    dims = {d["key"]: {r["key"]: r["count"] for r in d["rows"]} for d in data["dimensions"]}
    assert dims["product"] == {str(world.pump.pk): 3}
    assert dims["category"] == {"product_quality": 2, "installation": 1}
    assert dims["severity"]["serious"] == 1
    assert dims["root_cause"] == {"material": 1, "method": 1, "": 1}
    assert sum(dims["department"].values()) == 3
    with pytest.raises(ValueError):
        analysis.period_analysis(start=end, end=start, user=quality_user)


@pytest.mark.req("FBK-10")
def test_analysis_counts_only_what_the_reader_may_see(
    world: Any, cs_user: Any, sales_user: Any
) -> None:
    _complaint(cs_user, world, _at(2026, 1, 10))
    _complaint(sales_user, world, _at(2026, 1, 11))
    data = analysis.period_analysis(
        start=dt.date(2026, 1, 1), end=dt.date(2026, 4, 1), user=sales_user
    )
    assert data["total"] == 1


@pytest.mark.req("FBK-10")
def test_year_end_summary_by_quarter(world: Any, cs_user: Any, quality_user: Any) -> None:
    for m in (1, 2, 5, 11):
        _complaint(cs_user, world, _at(2025, m, 3))
    data = analysis.year_end_summary(year=2025, user=quality_user)
    assert [q["count"] for q in data["quarters"]] == [2, 1, 0, 1]
    assert data["total"] == 4


@pytest.mark.req("FBK-10")
@override_settings(COMPLAINTS_WARNING_COUNT=3, COMPLAINTS_WARNING_DAYS=30)
def test_early_warning_once_per_cluster_per_period_to_quality(
    world: Any, cs_user: Any, quality_user: Any
) -> None:
    now = timezone.now()
    fbs = [_complaint(cs_user, world, now - dt.timedelta(days=d)) for d in (1, 2)]
    _complaint(cs_user, world, now - dt.timedelta(days=40))  # outside the rolling period
    assert analysis.early_warnings(now) == []  # 2 < 3
    fbs.append(_complaint(cs_user, world, now - dt.timedelta(hours=3)))
    for fb in fbs:
        _cause(fb, "material")
    made = analysis.early_warnings(now)
    assert {m["basis"] for m in made} == {"product_category", "root_cause"}
    assert {m["count"] for m in made} == {3}
    note = Notification.objects.filter(user=quality_user, level="warning")
    assert note.count() == 2
    assert not Notification.objects.filter(user=cs_user, level="warning").exists()
    # idempotent: the job again (and again) in the same period warns no more
    assert analysis.early_warnings(now + dt.timedelta(minutes=5)) == []
    assert complaints_early_warning.call_local() == 0
    assert EarlyWarning.objects.count() == 2
    assert note.count() == 2
    w = EarlyWarning.objects.get(basis="product_category")
    assert set(analysis.warning_complaints(w, quality_user)) == set(fbs)


@pytest.mark.req("FBK-10")
@override_settings(COMPLAINTS_WARNING_COUNT=2, COMPLAINTS_WARNING_DAYS=30)
def test_warning_threshold_is_a_setting_and_voided_do_not_count(world: Any, cs_user: Any) -> None:
    now = timezone.now()
    a = _complaint(cs_user, world, now - dt.timedelta(days=1))
    _complaint(cs_user, world, now - dt.timedelta(days=2))
    Feedback.objects.filter(pk=a.pk).update(status=Feedback.Status.VOIDED)
    assert analysis.early_warnings(now) == []
    _complaint(cs_user, world, now - dt.timedelta(days=3))
    assert len(analysis.early_warnings(now)) == 1


@pytest.mark.req("FBK-10")
def test_analysis_page_chart_and_bad_input(
    client: Any, world: Any, cs_user: Any, quality_user: Any
) -> None:
    _complaint(cs_user, world, _at(2026, 1, 10))
    client.force_login(quality_user)
    url = reverse("complaints:analysis")
    r = client.get(url, {"year": 2026, "quarter": 1})
    assert r.status_code == 200
    body = r.content.decode()
    assert "<svg" in body and 'id="dim-root_cause"' in body
    assert world.pump.code in body
    r = client.get(url, {"year": 2026, "quarter": 0})
    assert r.status_code == 200 and "Q4" in r.content.decode()
    assert client.get(url, {"year": "x"}).status_code == 400
    assert client.get(url, {"quarter": "9"}).status_code == 400


@pytest.mark.req("FBK-10")
def test_analysis_pdf_in_chinese_and_english(
    client: Any, world: Any, cs_user: Any, quality_user: Any
) -> None:
    _complaint(cs_user, world, _at(2026, 1, 10))
    client.force_login(quality_user)
    url = reverse("complaints:analysis_pdf")
    for lang in ("zh-hans", "en"):
        r = client.get(url, {"year": 2026, "quarter": 1, "lang": lang})
        assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
        assert r.content.startswith(b"%PDF")
    r = client.get(url, {"year": 2026, "quarter": 0, "lang": "en"})
    assert r.status_code == 200
    assert client.get(url, {"lang": "fr"}).status_code == 400


@pytest.mark.req("FBK-10")
def test_analysis_needs_the_view_permission(client: Any, make_user: Any) -> None:
    client.force_login(make_user("nobody"))
    assert client.get(reverse("complaints:analysis")).status_code == 403
    assert client.get(reverse("complaints:analysis_pdf")).status_code == 403
