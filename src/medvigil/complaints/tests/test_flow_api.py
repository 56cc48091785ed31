"""The evaluation, investigation and resolution steps through the REST API (FBK-5/6/7): the
same services, the same refusals."""

from __future__ import annotations

from typing import Any

import pytest

from medvigil.conftest import PASSWORD

from ..models import Feedback
from .flow_builders import ANSWERS, People, fresh, people, routed_complaint

__all__ = ["people"]

pytestmark = [pytest.mark.django_db]
API = "/api/v1/complaints"


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Any:
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def api(user: Any) -> Any:
    from django.test import Client

    from medvigil.accounts.models import APIToken

    _token, raw = APIToken.issue(user, "test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.mark.req("FBK-5", "FBK-6", "FBK-7")
def test_the_whole_flow_through_the_api(people: People, mailoutbox: list[Any]) -> None:
    fb = routed_complaint(people.cs)
    qa, mr, eng, cs = api(people.quality), api(people.mr), api(people.engineer), api(people.cs)
    j = "application/json"
    r = cs.post(f"{API}/feedback/{fb.pk}/evaluation", {"version": fb.version}, content_type=j)
    assert r.status_code == 403
    r = qa.post(f"{API}/feedback/{fb.pk}/evaluation", {"version": fb.version}, content_type=j)
    assert r.status_code == 200, r.content
    flow = r.json()
    ev = flow["evaluation"]
    # no CAPA without a justification: 400 with the field's message, nothing changed
    body = {"version": ev["version"], **ANSWERS, "capa_needed": False, "complete": True}
    r = qa.patch(f"{API}/evaluations/{ev['id']}", body, content_type=j)
    assert r.status_code == 422, r.content
    assert "Write why no CAPA is needed." in r.content.decode()
    assert fresh(fb).current_evaluation.evaluated_at is None
    body["no_capa_justification"] = "Isolated."
    r = qa.patch(f"{API}/evaluations/{ev['id']}", body, content_type=j)
    assert r.status_code == 200, r.content
    r = mr.post(f"{API}/evaluations/{ev['id']}/approve", {"password": "bad"}, content_type=j)
    assert r.status_code == 422 and fresh(fb).current_evaluation.approved_at is None
    r = mr.post(f"{API}/evaluations/{ev['id']}/approve", {"password": PASSWORD}, content_type=j)
    assert r.status_code == 200 and r.json()["evaluation"]["approved_at"]
    fb = fresh(fb)
    r = eng.post(f"{API}/feedback/{fb.pk}/investigation", {"version": fb.version}, content_type=j)
    inv = r.json()["investigation"]
    r = eng.patch(
        f"{API}/investigations/{inv['id']}",
        {
            "version": inv["version"],
            "method": "5m1e",
            "root_cause": "Worn roller.",
            "responsibility": "company",
        },
        content_type=j,
    )
    assert r.status_code == 200, r.content
    inv = r.json()["investigation"]
    r = eng.post(
        f"{API}/investigations/{inv['id']}/complete", {"version": inv["version"]}, content_type=j
    )
    assert r.json()["status"] == "resolution"
    r = cs.put(
        f"{API}/feedback/{fb.pk}/resolution",
        {"version": r.json()["version"], "remedies": ["repair"], "reply_text": "Repaired."},
        content_type=j,
    )
    assert r.status_code == 200, r.content
    res = r.json()["resolution"]
    r = cs.post(
        f"{API}/resolutions/{res['id']}/reply",
        {"version": res["version"], "channel": "email"},
        content_type=j,
    )
    assert r.status_code == 422 and "internal agreement" in r.content.decode()
    r = cs.post(f"{API}/resolutions/{res['id']}/agree", {"version": res["version"]}, content_type=j)
    res = r.json()["resolution"]
    r = cs.post(
        f"{API}/resolutions/{res['id']}/reply",
        {"version": res["version"], "channel": "email"},
        content_type=j,
    )
    assert r.status_code == 200 and len(mailoutbox) == 1
    res = r.json()["resolution"]
    r = cs.post(
        f"{API}/resolutions/{res['id']}/confirmation",
        {"version": res["version"], "confirmation": "accepted"},
        content_type=j,
    )
    assert r.json()["next_steps"] == []
    r = qa.get(f"{API}/feedback/{fb.pk}/flow")
    assert r.json()["next_steps"] == ["Close the complaint (e-signature)"]
    r = qa.post(f"{API}/feedback/{fb.pk}/close", {"password": PASSWORD}, content_type=j)
    assert r.status_code == 200 and fresh(fb).status == Feedback.Status.CLOSED
    r = qa.post(
        f"{API}/feedback/{fb.pk}/reopen",
        {"version": fresh(fb).version, "reason": "Again."},
        content_type=j,
    )
    assert r.json()["status"] == "routed"
