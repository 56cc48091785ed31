"""The example app's record registered with the record test kit (core/tests/record_kit.py):
core/tests/test_record_kit.py runs the shared access, audit, conflict and query-count tests
on it."""

from __future__ import annotations

import itertools
from typing import Any

from medvigil.core.tests.record_kit import ApiWrite, RecordCase

from .. import services
from ..models import Inspection, InspectionReport

_n = itertools.count(1)


def make(user: Any) -> Inspection:
    return services.create_inspection(by=user, title=f"Kit inspection {next(_n)}")


def make_report(user: Any) -> InspectionReport:
    return services.draft_report(make(user), by=user, text=f"Kit report {next(_n)}")


CASES = [
    RecordCase(
        id="exampleapp.inspection",
        model=Inspection,
        make=make,
        owner_role="customer_service",
        other_role="finance",  # view_* (every inspection), no change
        list_url="exampleapp:inspection_list",
        edit_url="exampleapp:inspection_edit",
        edit_changes=lambda o: {"title": f"{o.title} (page)"},
        api_list="/api/v1/exampleapp/inspections",
        api_detail=lambda o: f"/api/v1/exampleapp/inspections/{o.pk}",
        api_write=ApiWrite(
            "patch",
            lambda o: f"/api/v1/exampleapp/inspections/{o.pk}",
            lambda o: {"title": f"{o.title} (kit)"},
            versioned=True,
        ),
    ),
    RecordCase(
        id="exampleapp.inspectionreport",
        model=InspectionReport,
        make=make_report,
        owner_role="quality",
        other_role="finance",  # view_* (every inspection and report), no change
        list_url="exampleapp:inspection_list",
        detail_url="exampleapp:inspectionreport_detail",
    ),
]
