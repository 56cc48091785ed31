"""The vigilance records registered with the record test kit (core/tests/record_kit.py):
core/tests/test_record_kit.py runs the shared access (PLAT-1), audit (PLAT-2),
version-conflict and list query-count tests on each."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from medvigil.core.tests.record_kit import ApiWrite, RecordCase

from ..models import AdverseEvent, TrendReport, TrendSignal, VigilanceReport
from ..services import events as ev_svc

_n = itertools.count(1)


def make_event(user: Any) -> AdverseEvent:
    return ev_svc.create_event(
        by=user,
        title=f"Kit event {next(_n)}",
        aware_at=dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC),
        outcome="serious_injury",
        markets=["CN"],
    )


def make_report(user: Any) -> VigilanceReport:
    from ..services.reports import _new_report

    event = make_event(user)
    return _new_report(
        event,
        market="CN",
        kind="initial",
        rule="cn.serious",
        started_at=event.aware_at,
        decision=None,
    )


def make_trend_report(user: Any) -> TrendReport:
    from decimal import Decimal

    from medvigil.trace import services as trace

    from ..services.trends import open_trend_report

    n = next(_n)
    product = trace.create_product(
        code=f"KIT-TR-{n}",
        name=f"Kit trend product {n}",
        model_spec="KT-1",
        manufacturer="Kit",
        risk_class="II",
    )
    signal = TrendSignal.objects.create(
        product=product,
        period="month",
        period_start=dt.date(2026, 10, 1),
        period_end=dt.date(2026, 10, 31),
        observed=7,
        expected=Decimal("2"),
        p_value=0.0045,
        alpha=Decimal("0.05"),
        found_at=dt.datetime(2026, 11, 1, 3, 50, tzinfo=dt.UTC),
    )
    return open_trend_report(signal, by=user)


CASES = [
    RecordCase(
        id="vigilance.adverseevent",
        model=AdverseEvent,
        make=make_event,
        owner_role="quality",
        other_role="technical",  # reads every event (no patient data), changes none
        list_url="vigilance:event_list",
        edit_url="vigilance:event_edit",
        edit_changes=lambda o: {
            "title": f"{o.title} (page)",
            "aware_at": "2026-11-20T16:00",
            "outcome": o.outcome,
            "occurred_place": o.occurred_place,
        },
        api_list="/api/v1/vigilance/events",
        api_detail=lambda o: f"/api/v1/vigilance/events/{o.pk}",
        api_write=ApiWrite(
            "patch",
            lambda o: f"/api/v1/vigilance/events/{o.pk}",
            lambda o: {"title": f"{o.title} (kit)"},
            versioned=True,
        ),
        reqs=("VIG-1",),
    ),
    RecordCase(
        id="vigilance.vigilancereport",
        model=VigilanceReport,
        make=make_report,
        owner_role="quality",
        other_role="technical",
        list_url="vigilance:event_list",
        edit_url="vigilance:report_edit",
        edit_changes=lambda o: {"kind": o.kind, "narrative": "kit narrative"},
        api_detail=lambda o: f"/api/v1/vigilance/reports/{o.pk}",
        api_write=ApiWrite(
            "patch",
            lambda o: f"/api/v1/vigilance/reports/{o.pk}",
            lambda o: {"narrative": "kit"},
            versioned=True,
        ),
        reqs=("VIG-4",),
    ),
    RecordCase(
        id="vigilance.trendreport",
        model=TrendReport,
        make=make_trend_report,
        owner_role="quality",
        other_role="technical",  # reads the trend figures and reports, changes none
        list_url="vigilance:trends",
        edit_url="vigilance:trend_report_edit",
        edit_changes=lambda o: {"narrative": "kit narrative", "measures": "kit measures"},
        api_detail=lambda o: f"/api/v1/vigilance/trend-reports/{o.pk}",
        api_write=ApiWrite(
            "patch",
            lambda o: f"/api/v1/vigilance/trend-reports/{o.pk}",
            lambda o: {"narrative": "kit"},
            versioned=True,
        ),
        reqs=("VIG-7",),
    ),
]
