"""PLAT-2 history of a complaint: a multi-select kept as a list of codes shows the items by
their labels (the kit's history, RecordHooks.choice_lists), in both languages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import translation

from medvigil.complaints.models import Feedback
from medvigil.complaints.services import intake
from medvigil.core.templatetags.records import choice_labels

from .conftest import complaint_data

pytestmark = pytest.mark.django_db


def _history(obj: Any, user: Any, language: str) -> tuple[list[str], list[str]]:
    request = RequestFactory().get("/")
    request.user = user
    with translation.override(language):
        html = Template("{% load records %}{% history_panel obj %}").render(
            Context({"obj": obj, "request": request})
        )
    old = re.findall(r'history-old">(?:<del>)?([^<]*)<', html)
    return old, re.findall(r'history-new">([^<]*)<', html)


@pytest.mark.req("PLAT-2", "PLAT-6", "FBK-1")
def test_list_field_values_show_their_labels_in_history(world: Any, cs_user: Any) -> None:
    fb = intake.register_feedback(
        by=cs_user, customer_wants=["repair"], outside_parties=[], **complaint_data()
    )
    fb = intake.update_feedback(
        fb,
        by=cs_user,
        version=fb.version,
        customer_wants=["repair", "refund"],
        outside_parties=["regulator"],
    )
    fb = Feedback.objects.get(pk=fb.pk)
    old, new = _history(fb, cs_user, "zh-hans")
    assert "维修, 退款" in new and "维修" in old  # labels, not the codes
    assert not [v for v in old + new if "refund" in v or "regulator" in v]
    # the severity rules that fired (codes of complaints.rules): their descriptions
    assert "outside-party" not in new
    old, new = _history(fb, cs_user, "en")
    assert "repair, refund" in new and "regulator / government" in new


def test_choice_labels_reads_choices_classes_pairs_and_groups() -> None:
    from medvigil.complaints.models import Want

    assert choice_labels(Want)["visit"] == "onsite visit"
    grouped = [("a", "A"), ("Group", [("b", "B"), ("c", "C")])]
    assert choice_labels(grouped) == {"a": "A", "b": "B", "c": "C"}


@pytest.mark.req("PLAT-2", "VIG-1")
def test_a_linked_evaluation_is_named_by_its_complaint(world: Any, cs_user: Any) -> None:
    """The vigilance event's history names the complaint evaluation it came from, not
    "<complaint id>: <time>"; the trail keeps its language-neutral name."""
    from types import SimpleNamespace

    from medvigil.complaints.models import Evaluation
    from medvigil.core.templatetags.records import history_rows
    from medvigil.vigilance.models import AdverseEvent

    fb = intake.register_feedback(by=cs_user, **complaint_data())
    ev = Evaluation.objects.create(feedback=fb)
    entry = SimpleNamespace(action="update", changes={"evaluation": [None, ev.pk]}, source="web")
    with translation.override("zh-hans"):
        (row,) = history_rows([entry], AdverseEvent)[0]["rows"]
    assert row["new"] == f"{fb.number} 的评价"
    with translation.override("en"):
        (row,) = history_rows([entry], AdverseEvent)[0]["rows"]
    assert row["new"] == f"Evaluation of {fb.number}"
    assert ev.audit_repr() == f"{fb.pk}: -"
