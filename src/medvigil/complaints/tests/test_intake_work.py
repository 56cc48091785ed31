"""FBK-1, FBK-4: feedback that came in by itself (the public form) waits on the "My work" of
customer service, who route it, until one of them does; nobody else's list grows."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from medvigil.complaints.models import Feedback
from medvigil.complaints.services import clocks, intake, public, routing

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits(settings: Any) -> Any:
    cache.clear()
    settings.PUBLIC_FEEDBACK_MIN_SECONDS = 0
    yield
    cache.clear()


def web_submission(n: int) -> Feedback:
    """What the public form's view sends the one intake service."""
    return public.submit_public_feedback(
        data={
            "kind": "complaint",
            "complainant_name": f"王护士长{n}",
            "complainant_phone": "13900000001",
            "title": f"监护仪屏幕闪烁 {n}",
            "description": f"监护仪开机后屏幕持续闪烁，无法读数。{n}",
            "website": "",
            "started": public.form_token(),
        },
        files=[],
        address=f"203.0.113.{n}",
    )


def _titles(user: Any) -> list[str]:
    return [i.title for i in clocks.my_work(user)]


@pytest.mark.req("FBK-1", "FBK-4")
def test_web_submissions_wait_on_customer_services_my_work_until_routed(
    cs_user: Any, make_user: Any, client_for: Any
) -> None:
    colleague = make_user("cs2", "customer_service", department="customer-service")
    qe = make_user("qe", "quality", department="quality")
    sales = make_user("s1", "sales", department="sales")
    clocks.my_work(cs_user)  # warms the permission cache
    with CaptureQueriesContext(connection) as before:
        clocks.my_work(cs_user)
    fbs = [web_submission(n) for n in range(3)]
    assert all(f.status == Feedback.Status.RECEIVED and f.owner_id is None for f in fbs)

    with CaptureQueriesContext(connection) as after:
        items = clocks.my_work(cs_user)
    assert len(after.captured_queries) == len(before.captured_queries)  # the same one query
    listed = {i.url: i for i in items}
    for f in fbs:
        assert f.get_absolute_url() in listed
        assert "to route" in str(listed[f.get_absolute_url()].kind)
    assert {str(f) for f in fbs} <= set(_titles(colleague))
    # who may route but takes nothing in (quality), and who may not route: not on their list
    assert not {str(f) for f in fbs} & set(_titles(qe))
    assert not {str(f) for f in fbs} & set(_titles(sales))
    # the home page (My work) shows them, linked
    home = client_for(cs_user).get(reverse("home")).content.decode()
    assert all(f.get_absolute_url() in home for f in fbs)

    # routed by one of customer service: theirs now, gone from the colleague's list
    first = fbs[0]
    first = intake.update_feedback(
        first, by=cs_user, version=first.version, category="delivery", severity="general"
    )
    routing.route_feedback(first, by=cs_user, version=first.version)
    assert str(first) in _titles(cs_user)
    assert str(first) not in _titles(colleague)
    assert {str(f) for f in fbs[1:]} <= set(_titles(colleague))
