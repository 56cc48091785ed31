"""CAPA-1: a CAPA from any source or directly; actions with owner and due date; verification
of effectiveness; closure with an e-signature, refused while an action is open or the
effectiveness is unverified; the complaint hand-off; "no CAPA needed" decisions as records."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from medvigil.complaints.models import Handoff
from medvigil.complaints.services import evaluation as ev_svc
from medvigil.complaints.tests.flow_builders import People, evaluated, routed_complaint
from medvigil.conftest import PASSWORD
from medvigil.core.models import AuditEntry
from medvigil.core.signatures.services import signatures_for

from ..models import Capa, CapaAction
from ..services import capa as svc
from ..services import work
from .builders import action, fresh, new_capa, with_root_cause

pytestmark = [pytest.mark.django_db, pytest.mark.req("CAPA-1"), pytest.mark.usefixtures("english")]


def test_a_capa_from_a_source_links_it_generically(people: People) -> None:
    fb = routed_complaint(people.cs)
    capa = new_capa(people.quality, source=fb)
    assert capa.number.startswith("CAPA-")
    assert capa.source_record() == fb and capa.source_reference == fb.number
    direct = new_capa(people.quality, source_kind="direct")
    assert direct.source_record() is None
    assert int(direct.number.rsplit("-", 1)[1]) == int(capa.number.rsplit("-", 1)[1]) + 1


def test_only_quality_and_the_management_representative_open_capas(people: People) -> None:
    with pytest.raises(PermissionDenied):
        new_capa(people.cs)
    assert new_capa(people.mr).owner == people.mr


def test_bad_input_is_refused_with_a_message_and_nothing_saved(people: People) -> None:
    before = Capa.objects.count()
    with pytest.raises(ValidationError) as exc:
        new_capa(people.quality, title="x\x00y")
    assert "title" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        new_capa(people.quality, whys=["1", "2", "3", "4", "5", "6"])
    assert "whys" in exc.value.message_dict
    assert Capa.objects.count() == before


def test_closure_refused_while_an_action_is_open_or_effectiveness_unverified(
    people: People, qmgr: Any
) -> None:
    # given a CAPA with a root cause and an open action
    capa = with_root_cause(new_capa(people.quality), people.quality)
    act = action(capa, people.quality, people.engineer)
    capa = fresh(capa)
    # then it cannot close: the open action is named
    assert not capa.can_close()
    with pytest.raises(ValidationError) as exc:
        svc.close_capa(capa, by=qmgr, password=PASSWORD)
    assert any("still open" in m for m in exc.value.messages)
    assert any("not verified" in m for m in exc.value.messages)
    # the effectiveness cannot be verified before the actions are done
    with pytest.raises(ValidationError):
        svc.verify_effectiveness(
            capa, by=people.quality, version=capa.version, effective=True, evidence="ok"
        )
    # when the owner records the action as done
    svc.complete_action(act, by=people.engineer, version=act.version, result="Procedure revised.")
    capa = fresh(capa)
    # then it still cannot close: effectiveness unverified
    assert capa.close_errors() == ["The effectiveness is not verified as effective."]
    with pytest.raises(ValidationError):
        svc.close_capa(capa, by=qmgr, password=PASSWORD)
    # a verification "not effective" does not allow closure either
    capa = svc.verify_effectiveness(
        capa, by=people.quality, version=capa.version, effective=False, evidence="Recurred."
    )
    assert not capa.can_close()
    capa = svc.verify_effectiveness(
        capa,
        by=people.quality,
        version=capa.version,
        effective=True,
        evidence="No recurrence in 3 months of complaints.",
    )
    assert fresh(capa).status == Capa.Status.OPEN and not signatures_for(capa).exists()
    # a quality engineer prepares the closure but does not sign it (issue #12)
    with pytest.raises(PermissionDenied):
        svc.close_capa(fresh(capa), by=people.quality, password=PASSWORD)
    # when the quality manager closes it with the right password, it is closed and signed
    closed = svc.close_capa(fresh(capa), by=qmgr, password=PASSWORD, comment="Done.")
    assert closed.status == Capa.Status.CLOSED and closed.closed_by == qmgr
    sig = signatures_for(closed).get()
    assert (sig.signer, sig.meaning) == (qmgr, "closed")


def test_a_wrong_password_or_role_does_not_close(people: People, qmgr: Any) -> None:
    capa = with_root_cause(new_capa(people.quality), people.quality)
    act = action(capa, people.quality, people.quality)
    svc.complete_action(act, by=people.quality, version=act.version, result="done")
    capa = svc.verify_effectiveness(
        fresh(capa), by=people.quality, version=fresh(capa).version, effective=True, evidence="ok"
    )
    with pytest.raises(PermissionDenied):
        svc.close_capa(capa, by=people.cs, password=PASSWORD)
    with pytest.raises(PermissionDenied):
        svc.close_capa(capa, by=people.quality, password=PASSWORD)
    with pytest.raises(ValidationError):
        svc.close_capa(capa, by=qmgr, password="wrong")
    assert fresh(capa).status == Capa.Status.OPEN


def test_only_the_actions_owner_or_quality_completes_it(people: People, tech: Any) -> None:
    capa = new_capa(people.quality)
    act = action(capa, people.quality, tech)
    with pytest.raises(PermissionDenied):
        svc.complete_action(act, by=people.engineer, version=act.version, result="x")
    done = svc.complete_action(act, by=tech, version=act.version, result="done")
    assert done.status == CapaAction.Status.DONE and done.done_at is not None


def test_an_action_needs_an_owner_and_a_due_date_not_in_the_past(people: People) -> None:
    capa = new_capa(people.quality)
    with pytest.raises(ValidationError):
        svc.add_action(
            capa,
            by=people.quality,
            description="x",
            owner=people.quality,
            due_date=timezone.localdate() - dt.timedelta(days=1),
        )
    with pytest.raises(ValidationError):
        svc.add_action(
            capa, by=people.quality, description="x", owner=None, due_date=timezone.localdate()
        )
    assert not capa.actions.exists()


@pytest.mark.req("PLAT-8")
def test_actions_are_on_my_work_and_alerted_then_escalated(people: People, tech: Any) -> None:
    capa = new_capa(people.quality)
    act = action(capa, people.quality, tech, days=2)
    items = work.my_work(tech)
    assert [i.kind for i in items] == ["CAPA action"] and items[0].due == act.due_at()
    deadlines = [d for d in work.deadline_source(timezone.now()) if d.key.startswith("capa:action")]
    assert len(deadlines) == 1
    d = deadlines[0]
    assert list(d.users) == [tech] and people.quality in d.escalate_to
    assert people.mr in d.escalate_to  # the management representative hears of a breach
    assert d.levels_due(act.due_at() + dt.timedelta(hours=1))[0] == "overdue"


def test_open_a_capa_from_a_complaint_completes_the_hand_off(people: People) -> None:
    fb = routed_complaint(people.quality)
    ev = evaluated(fb, people, summary="Sensor drift suspected.")
    assert ev.capa_handoff == Handoff.PENDING
    assert list(svc.pending_complaint_handoffs(people.quality)) == [ev]
    prefill = svc.complaint_prefill(ev)
    assert prefill["title"] == fb.title and "Sensor drift suspected." in prefill["problem"]
    capa = svc.open_capa_from_complaint(ev, by=people.quality)
    ev = fresh(ev)
    assert ev.capa_handoff == Handoff.DONE and ev.capa_reference == capa.number
    assert capa.source_record() == fb and capa.source_kind == "complaint"
    assert capa.evaluation == ev
    with pytest.raises(ValidationError):
        svc.open_capa_from_complaint(ev, by=people.quality)


def test_the_create_page_opens_a_capa_from_a_complaint(people: People, client_for: Any) -> None:
    fb = routed_complaint(people.quality)
    ev = evaluated(fb, people)
    client = client_for(people.quality)
    url = reverse("capa:capa_create") + f"?evaluation={ev.pk}"
    page = client.get(url)
    assert page.status_code == 200 and fb.title in page.content.decode()
    response = client.post(
        url, {"title": fb.title, "kind": "corrective", "problem": "Alarm silent."}
    )
    capa = Capa.objects.get()
    assert response.status_code == 302 and response["Location"] == capa.get_absolute_url()
    assert fresh(ev).capa_handoff == Handoff.DONE
    assert client.get(reverse("capa:capa_create") + "?evaluation=999999").status_code == 404


def test_no_capa_decisions_arrive_as_records_with_their_justification(people: People) -> None:
    fb = routed_complaint(people.quality)
    ev = evaluated(
        fb, people, capa_needed=False, no_capa_justification="Single use error; IFU is clear."
    )
    decision = Capa.objects.get(evaluation=ev)
    assert decision.status == Capa.Status.NOT_NEEDED
    assert decision.justification == "Single use error; IFU is clear."
    assert decision.source_record() == fb and decision.decision_approved_at is None
    ev_svc.approve_evaluation(fresh(ev), by=people.mr, password=PASSWORD)
    decision = fresh(decision)
    assert decision.decision_approved_by == people.mr and decision.decision_approved_at
    assert Capa.objects.filter(evaluation=ev).count() == 1
    assert not decision.can_close()


def test_the_close_page_refuses_with_open_actions_and_changes_nothing(
    people: People, qmgr: Any, client_for: Any
) -> None:
    capa = with_root_cause(new_capa(people.quality), people.quality)
    action(capa, people.quality, people.quality)
    capa = fresh(capa)
    client = client_for(qmgr)
    page = client.get(capa.get_absolute_url())
    assert page.status_code == 200 and "still open" in page.content.decode()
    entries = AuditEntry.objects.count()
    response = client.post(
        reverse("capa:capa_close", args=[capa.pk]),
        {"password": PASSWORD, "version": capa.version, "meaning": "closed"},
    )
    assert response.status_code == 400 and "still open" in response.content.decode()
    assert fresh(capa).status == Capa.Status.OPEN
    assert AuditEntry.objects.count() == entries


def test_the_pages_run_the_whole_flow(people: People, qmgr: Any, client_for: Any) -> None:
    client = client_for(people.quality)
    capa = with_root_cause(new_capa(people.quality), people.quality)
    url = capa.get_absolute_url()
    due = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    r = client.post(
        reverse("capa:action_add", args=[capa.pk]),
        {
            "kind": "corrective",
            "description": "Revise SOP",
            "owner": people.quality.pk,
            "due_date": due,
        },
    )
    assert r.status_code == 302
    act = CapaAction.objects.get()
    client.post(
        reverse("capa:action_done", args=[act.pk]), {"version": act.version, "result": "ok"}
    )
    assert fresh(act).status == CapaAction.Status.DONE
    capa = fresh(capa)
    client.post(
        reverse("capa:capa_verify", args=[capa.pk]),
        {"version": capa.version, "effective": "yes", "evidence": "No recurrence."},
    )
    capa = fresh(capa)
    assert capa.effectiveness_verified
    close = {"password": PASSWORD, "version": capa.version, "meaning": "closed"}
    assert 'id="capa-close"' not in client.get(url).content.decode()  # the engineer: no button
    assert client.post(reverse("capa:capa_close", args=[capa.pk]), close).status_code == 403
    manager = client_for(qmgr)
    assert 'id="capa-close"' in manager.get(url).content.decode()
    r = manager.post(reverse("capa:capa_close", args=[capa.pk]), close)
    assert r.status_code == 302 and r["Location"] == url
    assert fresh(capa).status == Capa.Status.CLOSED


@pytest.mark.req("PLAT-1")
def test_the_api_opens_plans_and_refuses_an_early_close(
    people: People, qmgr: Any, client_for: Any
) -> None:
    client = client_for(people.quality)
    r = client.post(
        "/api/v1/capa/capas",
        {"title": "API CAPA", "problem": "Problem", "source_kind": "audit"},
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    r = client.post(
        f"/api/v1/capa/capas/{pk}/actions",
        {
            "description": "Do it",
            "owner_id": people.quality.pk,
            "due_date": str(timezone.localdate()),
        },
        content_type="application/json",
    )
    assert r.status_code == 201, r.content
    close = f"/api/v1/capa/capas/{pk}/close"
    r = client.post(close, {"password": PASSWORD}, content_type="application/json")
    assert r.status_code == 403  # a quality engineer does not sign the closure
    r = client_for(qmgr).post(close, {"password": PASSWORD}, content_type="application/json")
    assert r.status_code == 422 and "still open" in r.content.decode()
    r = client.post(
        "/api/v1/capa/capas",
        {"title": "x", "problem": "y", "source_kind": "nonsense"},
        content_type="application/json",
    )
    assert r.status_code == 422
    detail = client.get(f"/api/v1/capa/capas/{pk}").json()
    assert len(detail["actions"]) == 1 and detail["close_errors"]


def test_the_quality_manager_role_has_quality_rights_plus_the_closure() -> None:
    """Issue #12: the seed roles get a quality manager (质量经理); it has a quality engineer's
    grants in every app that does not name it (accounts.defaults.ROLE_BASES) and the CAPA
    closure, which the engineer no longer has; the management representative keeps it."""
    from medvigil.accounts.defaults import ROLES, matches, role_patterns

    assert "quality_manager" in {r[0] for r in ROLES}
    manager, engineer = role_patterns("quality_manager"), role_patterns("quality")
    assert matches("capa.close_capa", manager) and not matches("capa.close_capa", engineer)
    assert matches("capa.close_capa", role_patterns("management_rep"))
    for perm in (
        "recalls.change_recall",
        "complaints.evaluate_feedback",
        "vigilance.change_adverseevent",
        "core.add_signature",
    ):
        assert matches(perm, manager) == matches(perm, engineer) == True, perm  # noqa: E712
    assert not matches("capa.approve_concession", manager)
    assert not matches("recalls.approve_recall", manager)


@pytest.mark.req("PLAT-1", "PLAT-2")
def test_the_history_names_the_linked_complaint_and_capa_only_to_who_may_view_them(
    people: People, make_user: Any
) -> None:
    """Copied references name other records (RecordHooks.record_references): the CAPA's
    source reference (the complaint's number) and the evaluation's CAPA reference (the CAPA's
    number) show in their histories only to a reader who may view that record; a reader of
    the CAPA without complaints, and one of complaints without CAPAs (finance), read the
    record's type alone."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    from medvigil.accounts.models import Role
    from medvigil.core.templatetags.records import history_rows

    fb = routed_complaint(people.quality)
    ev = evaluated(fb, people)
    capa = svc.open_capa_from_complaint(ev, by=people.quality)
    ev = fresh(ev)
    role = Role.objects.create(code="capa-only", name_zh="只读", name_en="CAPA reader")
    role.permissions.add(Permission.objects.get(codename="view_capa"))
    capa_reader = make_user("hist-capa-reader", "capa-only")
    finance = make_user("hist-finance", "finance")
    assert finance.has_perm("complaints.view_evaluation") and not finance.has_perm("capa.view_capa")

    def history(record: Any, user: Any) -> str:
        ct = ContentType.objects.get_for_model(type(record))
        entries = list(AuditEntry.objects.filter(content_type=ct, object_id=str(record.pk)))
        rows = history_rows(entries, type(record), user=user, obj=record)
        return "\n".join(f"{r['old']} {r['new']}" for i in rows for r in i["rows"])

    text = history(capa, capa_reader)
    assert fb.number not in text and "feedback you may not view" in text
    assert fb.number in history(capa, people.quality)
    text = history(ev, finance)
    assert capa.number not in text and "capa you may not view" in text.lower()
    assert capa.number in history(ev, people.quality)
    # the audit search's rows, its CSV export and the audit API (change_rows) alike
    from medvigil.core.audit.search import change_rows

    ct = ContentType.objects.get_for_model(type(ev))
    entries = AuditEntry.objects.filter(content_type=ct, object_id=str(ev.pk))
    values = [str(r[k]) for e in entries for r in change_rows(e, finance) for k in ("old", "new")]
    assert capa.number not in values and any("you may not view" in v for v in values)
    values = [str(r["new"]) for e in entries for r in change_rows(e, people.quality)]
    assert capa.number in values
