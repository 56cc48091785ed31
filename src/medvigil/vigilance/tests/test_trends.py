"""Trend reporting (EU MDR Art. 88; VIG-7, KPI-3): non-serious incidents and expected
side-effects per product and period against the company's baseline, a signal when the rise is
statistically significant (one-sided Poisson test, scipy), kept once by the periodic check
with one notification to quality, and turned into a trend report that is frozen and signed
when submitted. Fixed data: the signal must fire, and must not."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from medvigil.core.audit.models import AuditEntry
from medvigil.core.models import Notification, Signature

from ..models import TrendBaseline, TrendReport, TrendSignal
from ..services import trends as trend_svc
from .conftest import PASSWORD, make_event

pytestmark = [pytest.mark.django_db, pytest.mark.req("VIG-7", "KPI-3")]

TODAY = dt.date(2026, 11, 15)
API = "/api/v1/vigilance"


def _at(day: int, month: int) -> dt.datetime:
    return dt.datetime(2026, month, day, 4, 0, tzinfo=dt.UTC)


def _events(people, unit, month: int, n: int, **extra) -> None:
    for i in range(n):
        make_event(
            people.quality,
            unit=unit,
            aware_at=_at(3 + i, month),
            outcome=extra.get("outcome", "other"),
            title=f"Trend {month}-{i}",
            expected_side_effect=extra.get("expected_side_effect", False),
        )


@pytest.fixture
def trend_world(people, world):
    """October: 5 non-serious + 2 expected side-effects (7 against 2 expected: a signal);
    September: 4 non-serious (not significant) and 5 deaths (serious: not counted)."""
    unit = world.units[0]
    trend_svc.set_baseline(
        by=people.quality, product=world.pump, expected_count="2", alpha="0.05", basis="PMS plan"
    )
    _events(people, unit, 10, 5)
    _events(people, unit, 10, 2, outcome="serious_injury", expected_side_effect=True)
    _events(people, unit, 9, 4)
    _events(people, unit, 9, 5, outcome="death")
    return world


def _poisson_tail(k: int, mean: float) -> float:
    return 1 - sum(math.exp(-mean) * mean**i / math.factorial(i) for i in range(k))


def test_the_p_value_is_the_poisson_tail():
    assert trend_svc.p_value(7, 2) == pytest.approx(_poisson_tail(7, 2), rel=1e-9)
    assert trend_svc.p_value(4, 2) == pytest.approx(_poisson_tail(4, 2), rel=1e-9)
    assert trend_svc.p_value(0, 2) == 1.0
    assert trend_svc.is_signal(7, 2, trend_svc.p_value(7, 2), 0.05)
    assert not trend_svc.is_signal(4, 2, trend_svc.p_value(4, 2), 0.05)
    # fewer than expected is never a signal, whatever the p-value
    assert not trend_svc.is_signal(1, Decimal("2"), 0.01, Decimal("0.05"))


def test_the_signal_fires_on_a_significant_rise_and_not_otherwise(people, trend_world):
    rows = {r.start: r for r in trend_svc.trend_rows(today=TODAY, count=3)}
    october, september, november = (
        rows[dt.date(2026, 10, 1)],
        rows[dt.date(2026, 9, 1)],
        rows[dt.date(2026, 11, 1)],
    )
    assert (october.observed, october.signal, october.complete) == (7, True, True)
    assert october.p_value == pytest.approx(_poisson_tail(7, 2))
    # 4 non-serious against 2 is not significant; the 5 deaths are serious incidents
    assert (september.observed, september.signal) == (4, False)
    assert september.p_value == pytest.approx(_poisson_tail(4, 2))
    assert (november.observed, november.signal, november.complete) == (0, False, False)
    # a higher baseline: the same October is not a signal
    trend_svc.set_baseline(by=people.quality, product=trend_world.pump, expected_count="5")
    october = next(r for r in trend_svc.trend_rows(today=TODAY) if r.start.month == 10)
    assert october.observed == 7 and not october.signal


def test_a_quarterly_baseline_counts_the_quarter(people, trend_world):
    trend_svc.set_baseline(
        by=people.quality, product=trend_world.pump, expected_count="3", period="quarter"
    )
    rows = trend_svc.trend_rows(today=TODAY, count=2)
    q3, q4 = (
        (r for r in rows if r.start == dt.date(2026, 7, 1)),
        (r for r in rows if r.start == dt.date(2026, 10, 1)),
    )
    q3_row, q4_row = next(q3), next(q4)
    assert (q3_row.observed, q3_row.end) == (4, dt.date(2026, 9, 30))
    assert (q4_row.observed, q4_row.signal) == (7, True)


def test_the_periodic_check_keeps_the_signal_once_and_tells_quality_once(people, trend_world):
    made = trend_svc.check_trends(today=TODAY)
    assert [(s.period_start, s.observed) for s in made] == [(dt.date(2026, 10, 1), 7)]
    told = Notification.objects.filter(user=people.quality, title__startswith="Trend signal")
    assert told.count() == 1 and "VP-" in told.get().title
    # idempotent: the next run keeps nothing new and tells nobody again
    assert trend_svc.check_trends(today=TODAY) == []
    assert TrendSignal.objects.count() == 1 and told.count() == 1
    # the technical department is not told
    assert not Notification.objects.filter(user=people.technical).exists()


def test_no_signal_below_significance(people, world):
    trend_svc.set_baseline(by=people.quality, product=world.pump, expected_count="2")
    _events(people, world.units[0], 10, 3)
    assert trend_svc.check_trends(today=TODAY) == []
    assert not TrendSignal.objects.exists()


def test_the_baseline_is_validated_and_audited(people, world):
    for bad in ({"expected_count": "0"}, {"expected_count": "x"}, {"alpha": "0.5"}):
        with pytest.raises(ValidationError):
            trend_svc.set_baseline(
                by=people.quality, product=world.pump, **{"expected_count": "2", **bad}
            )
    assert not TrendBaseline.objects.exists()
    b = trend_svc.set_baseline(by=people.quality, product=world.pump, expected_count="2")
    trend_svc.set_baseline(by=people.quality, product=world.pump, expected_count="3.5")
    entries = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(TrendBaseline), object_id=str(b.pk)
    )
    assert entries.count() == 2
    with pytest.raises(PermissionDenied):
        trend_svc.set_baseline(by=people.technical, product=world.pump, expected_count="2")


def test_the_trend_board_page_and_a_report_frozen_and_signed(people, trend_world, client_for):
    trend_svc.check_trends(today=TODAY)
    signal = TrendSignal.objects.get()
    c = client_for(people.quality)
    page = c.get(reverse("vigilance:trends") + "?periods=24").content.decode()
    assert "Open a trend report" in page and f"signal-{signal.pk}" in page
    r = c.post(reverse("vigilance:trend_report_open", args=[signal.pk]))
    report = TrendReport.objects.get()
    assert r.status_code == 302 and r["Location"] == report.get_absolute_url()
    assert "7" in report.narrative and report.status == "draft"
    # a second report for the same signal is refused
    c.post(reverse("vigilance:trend_report_open", args=[signal.pk]))
    assert TrendReport.objects.count() == 1
    # wrong password: nothing submitted
    bad = c.post(
        reverse("vigilance:trend_report_submit", args=[report.pk]),
        {"password": "wrong", "version": report.version},
    )
    assert bad.status_code in (200, 400)
    report.refresh_from_db()
    assert report.status == "draft"
    with pytest.raises(ValidationError, match="reference"):
        trend_svc.submit_trend_report(report, by=people.quality, password=PASSWORD)
    done = trend_svc.submit_trend_report(
        report, by=people.quality, password=PASSWORD, regulator_reference="EUDAMED-TR-1"
    )
    assert done.status == "submitted" and done.content["trend"]["observed"] == 7
    assert len(done.content["events"]) == 7
    assert Signature.objects.filter(
        content_type=ContentType.objects.get_for_model(TrendReport), object_id=done.pk
    ).exists()
    with pytest.raises(ValidationError, match="frozen"):
        trend_svc.update_trend_report(done, by=people.quality, version=done.version, narrative="x")
    detail = c.get(done.get_absolute_url()).content.decode()
    assert "EUDAMED-TR-1" in detail and "signature-line" in detail


def test_the_trend_api_and_its_permissions(people, trend_world, client_for, outsider):
    trend_svc.check_trends(today=TODAY)
    c = client_for(people.quality)
    rows = c.get(f"{API}/trends?periods=24").json()
    october = next(r for r in rows if r["period_start"] == "2026-10-01")
    assert october["observed"] == 7 and october["signal"] and october["signal_id"]
    assert october["p_value"] == pytest.approx(_poisson_tail(7, 2))
    # bad input: a clear refusal, nothing changed
    r = c.post(
        f"{API}/trends/baselines",
        {"product_id": trend_world.pump.pk, "expected_count": 0},
        content_type="application/json",
    )
    assert r.status_code == 422
    assert TrendBaseline.objects.get().expected_count == Decimal("2")
    assert c.get(f"{API}/trends?periods=99").status_code == 422
    # a signal becomes a trend report through the API too
    opened = c.post(f"{API}/trends/signals/{october['signal_id']}/report")
    assert opened.status_code == 201 and opened.json()["status"] == "draft"
    # technical reads the figures but sets no baseline; finance and outsiders read nothing
    tech = client_for(people.technical)
    assert tech.get(f"{API}/trends").status_code == 200
    assert tech.get(reverse("vigilance:trends")).status_code == 200
    assert (
        tech.post(
            f"{API}/trends/baselines",
            {"product_id": trend_world.pump.pk, "expected_count": 9},
            content_type="application/json",
        ).status_code
        == 403
    )
    assert tech.post(reverse("vigilance:trend_baseline"), {}).status_code == 403
    for other in (people.finance, outsider):
        assert client_for(other).get(f"{API}/trends").status_code == 403
        assert client_for(other).get(reverse("vigilance:trends")).status_code == 403


def test_the_baseline_form_on_the_board(people, world, client_for):
    c = client_for(people.quality)
    bad = c.post(
        reverse("vigilance:trend_baseline"),
        {"product": world.pump.pk, "period": "month", "expected_count": "-1", "alpha": "0.05"},
    )
    assert bad.status_code == 400 and "above zero" in bad.content.decode()
    ok = c.post(
        reverse("vigilance:trend_baseline"),
        {"product": world.pump.pk, "period": "month", "expected_count": "2", "alpha": "0.05"},
    )
    assert ok.status_code == 302
    assert TrendBaseline.objects.get().expected_count == Decimal("2")
    again = c.post(
        reverse("vigilance:trend_baseline"),
        {"product": world.pump.pk, "period": "quarter", "expected_count": "6", "alpha": "0.01"},
    )
    assert again.status_code == 302
    b = TrendBaseline.objects.get()
    assert (b.period, b.expected_count, b.alpha) == ("quarter", Decimal("6"), Decimal("0.01"))
