"""FBK-10 demo: the narrative demo set has a complaint in every state, built from MAUDE
narratives (report key kept), raises the early warning, and loads once."""

from __future__ import annotations

from typing import Any

import pytest

from medvigil.accounts.demo import load_demo_users
from medvigil.complaints.demo_narratives import REF, load_narratives
from medvigil.complaints.models import EarlyWarning, Feedback

pytestmark = pytest.mark.django_db


@pytest.mark.req("FBK-10")
def test_narratives_cover_every_state_and_load_once(world: Any) -> None:
    load_demo_users()
    load_narratives()
    qs = Feedback.objects.filter(source_reference__startswith=REF)
    states = set(qs.values_list("status", flat=True))
    assert states == {s for s, _label in Feedback.Status.choices}
    maude = qs.exclude(source_reference__contains="history")
    assert maude.filter(language="zh-hans").exists() and maude.filter(language="en").exists()
    assert maude.get(source_reference=f"{REF}3959401").investigations.get().factor == "measurement"
    assert EarlyWarning.objects.exists()
    n = qs.count()
    load_narratives()
    assert qs.count() == n
