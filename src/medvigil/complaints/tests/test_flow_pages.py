"""The evaluation, investigation and resolution steps from the record page (FBK-5/6/7): each
step through its form or signature dialog, refusals with a clear message and nothing changed,
and the next step shown for the reader's role."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from medvigil.conftest import PASSWORD
from medvigil.core.signatures.services import signatures_for

from ..models import Feedback
from .flow_builders import (
    ANSWERS,
    People,
    evaluated,
    fresh,
    investigated,
    people,
    replied,
    routed_complaint,
)

__all__ = ["people"]

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Any:
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def page(client: Any, fb: Feedback) -> str:
    r = client.get(fb.get_absolute_url())
    assert r.status_code == 200
    return r.content.decode()


@pytest.mark.req("FBK-5")
def test_evaluation_from_the_record_page(people: People, client_for: Any) -> None:
    fb = routed_complaint(people.cs)
    qa, mr, cs = client_for(people.quality), client_for(people.mr), client_for(people.cs)
    assert "Start quality&#x27;s evaluation" in page(qa, fb)
    assert "Waiting for quality&#x27;s evaluation." in page(cs, fb)
    r = qa.post(reverse("complaints:evaluation_start", args=[fb.pk]), {"version": fb.version})
    assert r.status_code == 302
    ev = fresh(fb).current_evaluation
    url = reverse("complaints:evaluation_edit", args=[ev.pk])
    assert qa.get(url).status_code == 200
    assert cs.get(url).status_code == 403
    # no CAPA without a justification: refused with the message, nothing saved
    data = {**ANSWERS, "investigate": "on", "complete": "on", "version": ev.version}
    r = qa.post(url, data)
    assert r.status_code == 200 and "Write why no CAPA is needed." in r.content.decode()
    assert fresh(ev).evaluated_at is None and fresh(ev).nonconforming == ""
    data["no_capa_justification"] = "Isolated user error."
    data["note_misused"] = "Used per the IFU."
    r = qa.post(url, data)
    assert r.status_code == 302
    ev = fresh(ev)
    assert ev.evaluated_at is not None and ev.question_notes == {"misused": "Used per the IFU."}
    html = page(mr, fb)
    assert "Approve the evaluation (e-signature)" in html
    assert "waiting for the management representative" in html
    approve = reverse("complaints:evaluation_approve", args=[ev.pk])
    # a wrong password: the page again with the dialog open, nothing changed
    r = mr.post(approve, {"password": "wrong", "version": ev.version, "meaning": "approved"})
    assert r.status_code == 400
    assert fresh(ev).approved_at is None and not signatures_for(ev).exists()
    # quality may not approve
    assert qa.post(approve, {"password": PASSWORD, "version": ev.version}).status_code == 403
    r = mr.post(approve, {"password": PASSWORD, "version": ev.version, "meaning": "approved"})
    assert r.status_code == 302
    assert fresh(ev).approved_by == people.mr
    html = page(client_for(people.engineer), fb)
    assert "Start the investigation" in html
    assert reverse("complaints:investigation_start", args=[fb.pk]) in html


@pytest.mark.req("FBK-6")
def test_investigation_from_the_record_page(people: People, client_for: Any) -> None:
    fb = routed_complaint(people.cs)
    evaluated(fb, people)
    eng = client_for(people.engineer)
    fb = fresh(fb)
    r = eng.post(reverse("complaints:investigation_start", args=[fb.pk]), {"version": fb.version})
    assert r.status_code == 302
    inv = fresh(fb).current_investigation
    done = reverse("complaints:investigation_complete", args=[inv.pk])
    r = eng.post(done, {"version": inv.version}, follow=True)
    assert "Choose the root-cause method." in r.content.decode()
    assert fresh(inv).completed_at is None
    r = eng.post(
        reverse("complaints:investigation_edit", args=[inv.pk]),
        {
            "version": inv.version,
            "method": "fault_tree",
            "root_cause": "Loose connector.",
            "responsibility": "carrier",
            "test_results": "Connector loose after transport.",
        },
    )
    assert r.status_code == 302
    inv = fresh(inv)
    html = page(eng, fb)
    assert "Loose connector." in html and "attachments-complaints-investigation" in html
    assert eng.post(done, {"version": inv.version}).status_code == 302
    assert fresh(fb).status == Feedback.Status.RESOLUTION


@pytest.mark.req("FBK-7")
def test_resolution_reply_and_closure_from_the_record_page(
    people: People, client_for: Any, mailoutbox: list[Any]
) -> None:
    fb = routed_complaint(people.cs)
    evaluated(fb, people)
    investigated(fb, people)
    cs, gm, qa = client_for(people.cs), client_for(people.gm), client_for(people.quality)
    fb = fresh(fb)
    edit = reverse("complaints:resolution_edit", args=[fb.pk])
    r = cs.post(
        edit,
        {"version": fb.version, "remedies": ["return"], "reply_text": "Please return the pump."},
    )
    assert r.status_code == 302
    res = fresh(fb).current_resolution
    # the reply waits for the agreement, which waits for the division head
    r = cs.post(
        reverse("complaints:resolution_agree", args=[res.pk]),
        {"version": res.version},
        follow=True,
    )
    assert "Waiting for the approval of" in r.content.decode()
    assert fresh(res).agreed_at is None
    assert "Approve the resolution (e-signature)" in page(gm, fb)
    a = res.approvals.get()
    r = gm.post(
        reverse("complaints:approval_approve", args=[a.pk]),
        {"password": PASSWORD, "version": a.version, "meaning": "approved"},
    )
    assert r.status_code == 302 and fresh(a).decision == "approved"
    res = fresh(res)
    assert (
        cs.post(
            reverse("complaints:resolution_agree", args=[res.pk]), {"version": res.version}
        ).status_code
        == 302
    )
    res = fresh(res)
    r = cs.post(
        reverse("complaints:resolution_reply", args=[res.pk]),
        {"version": res.version, "channel": "email"},
    )
    assert r.status_code == 302 and len(mailoutbox) == 1
    res = fresh(res)
    cs.post(
        reverse("complaints:resolution_confirm", args=[res.pk]),
        {"version": res.version, "confirmation": "accepted"},
    )
    assert "Close the complaint (e-signature)" in page(qa, fb)
    close = reverse("complaints:feedback_close", args=[fb.pk])
    fb = fresh(fb)
    assert cs.post(close, {"password": PASSWORD, "version": fb.version}).status_code == 403
    r = qa.post(close, {"password": "nope", "version": fb.version, "meaning": "closed"})
    assert r.status_code == 400 and fresh(fb).status == Feedback.Status.REPLIED
    r = qa.post(close, {"password": PASSWORD, "version": fb.version, "meaning": "closed"})
    assert r.status_code == 302 and fresh(fb).status == Feedback.Status.CLOSED
    reopen = reverse("complaints:feedback_reopen", args=[fb.pk])
    r = qa.post(reopen, {"version": fresh(fb).version, "reason": ""})
    assert r.status_code == 200 and fresh(fb).status == Feedback.Status.CLOSED
    r = qa.post(reopen, {"version": fresh(fb).version, "reason": "Pump failed again."})
    assert r.status_code == 302 and fresh(fb).status == Feedback.Status.ROUTED


@pytest.mark.req("FBK-7")
def test_callback_from_the_record_page(people: People, client_for: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    fb = routed_complaint(people.cs, category="service_attitude")
    res = replied(fb, people, remedies=["apology"])
    cs = client_for(people.cs)
    due = timezone.localdate() + dt.timedelta(days=3)
    r = cs.post(
        reverse("complaints:callback_schedule", args=[res.pk]),
        {"version": res.version, "due": due.isoformat()},
    )
    assert r.status_code == 302 and fresh(res).callback_due == due
    r = cs.post(
        reverse("complaints:callback_done", args=[res.pk]),
        {"version": fresh(res).version, "note": ""},
        follow=True,
    )
    assert "required" in r.content.decode() and fresh(res).callback_done_at is None
    html = cs.get("/").content.decode()
    assert fb.number in html


@pytest.mark.req("FBK-1", "FBK-3")
def test_a_complaint_not_yet_routed_asks_customer_service_to_route_it(
    people: People, client_for: Any
) -> None:
    """A complaint from the public form has no category: its next step is customer service's
    (give the category, route), not "nothing to do"."""
    fb = routed_complaint(
        people.cs, status=Feedback.Status.RECEIVED, category="", routed_at=None, department=None
    )
    assert "Give the category and route the complaint" in page(client_for(people.cs), fb)
    html = page(client_for(people.finance), fb)
    assert "Waiting for customer service to route the complaint." in html
    assert "Give the category and route the complaint" not in html
