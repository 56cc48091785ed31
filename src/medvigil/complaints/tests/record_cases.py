"""Complaint records registered with the record test kit (core/tests/record_kit.py):
core/tests/test_record_kit.py runs the shared access (PLAT-1), audit (PLAT-2), version-conflict
and list query-count tests on each."""

from __future__ import annotations

import itertools
from typing import Any

from medvigil.complaints.models import EightDReport, Feedback, ProblemNotice
from medvigil.complaints.services import eight_d, intake
from medvigil.core.tests.record_kit import ApiWrite, RecordCase

_n = itertools.count(1)


def make_feedback(user: Any) -> Feedback:
    n = next(_n)
    return intake.register_feedback(
        by=user,
        kind="complaint",
        channel="phone",
        title=f"Kit complaint {n}",
        description=f"Kit complaint {n}: the alarm did not sound.",
        complainant_organisation=f"Kit hospital {n}",
        category="product_quality",
    )


CASES = [
    RecordCase(
        id="complaints.feedback",
        model=Feedback,
        make=make_feedback,
        owner_role="customer_service",
        other_role="technical",  # view_* (every feedback), no change
        list_url="complaints:feedback_list",
        edit_url="complaints:feedback_edit",
        edit_changes=lambda f: {"title": f"{f.title} (edited)"},
        api_list="/api/v1/complaints",
        api_detail=lambda f: f"/api/v1/complaints/{f.pk}",
        api_write=ApiWrite(
            "patch",
            lambda f: f"/api/v1/complaints/{f.pk}",
            lambda f: {"title": f"{f.title} (kit)"},
            versioned=True,
        ),
        reqs=("FBK-1", "PLAT-11"),
    ),
]


def make_notice(user: Any) -> ProblemNotice:
    fb = make_feedback(user)
    return fb.notices.order_by("id").first()  # type: ignore[return-value]


def make_eight_d(user: Any) -> EightDReport:
    return eight_d.draft_eight_d(make_feedback(user), by=user, language="zh-hans")


CASES += [
    RecordCase(
        id="complaints.problemnotice",
        model=ProblemNotice,
        make=make_notice,
        owner_role="customer_service",
        other_role="finance",  # view_* (every notice through every feedback)
        list_url="complaints:notice_list",
        reqs=("FBK-8",),
    ),
    RecordCase(
        id="complaints.eightdreport",
        model=EightDReport,
        make=make_eight_d,
        owner_role="customer_service",
        other_role="technical",
        list_url="complaints:eightdreport_list",
        reqs=("FBK-8",),
    ),
]
