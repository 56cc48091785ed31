"""PLAT-5 retention and controlled destruction (with PLAT-3 signatures and PLAT-2 trail)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from medvigil.accounts.models import Department
from medvigil.conftest import PASSWORD
from medvigil.core.audit.verify import verify_trail
from medvigil.core.models import AuditEntry, DestructionRequest, RetentionRule, Signature
from medvigil.core.retention.services import (
    add_years,
    approve_destruction,
    explain_retention,
    reject_destruction,
    request_destruction,
    retention_until,
)
from medvigil.core.retention.views import pending_destructions
from medvigil.core.signatures.services import SignatureError, signature_matches

pytestmark = [pytest.mark.django_db]

UTC = dt.UTC
OLD = dt.datetime(2012, 3, 1, 8, 0, tzinfo=UTC)


def dept_ct():
    return ContentType.objects.get_for_model(Department)


def entries_for(ct, object_id):
    return list(
        AuditEntry.objects.filter(content_type=ct, object_id=str(object_id)).order_by("seq")
    )


@pytest.fixture(autouse=True)
def quality_views_departments(db):
    """Departments stand in for a regulated record type here; the quality role does not see
    them by default, so grant it the view permission the pages require."""
    from django.contrib.auth.models import Permission

    from medvigil.accounts.models import Role

    Role.objects.get(code="quality").permissions.add(
        Permission.objects.get(content_type__app_label="accounts", codename="view_department")
    )


@pytest.fixture
def rule(db):
    return RetentionRule.objects.create(
        content_type=dept_ct(), basis=RetentionRule.Basis.CREATED, years=5, citation="test rule"
    )


@pytest.fixture
def old_dept(db):
    with time_machine.travel(OLD, tick=False):
        return Department.objects.create(code="old", name_zh="旧部门", name_en="Old dept")


@pytest.fixture
def new_dept(db):
    return Department.objects.create(code="new", name_zh="新部门", name_en="New dept")


@pytest.fixture
def approver(make_user):
    return make_user("qe2", "quality", department="quality", first_name="Zhang", last_name="Min")


# --- retention dates ----------------------------------------------------------------------


@pytest.mark.req("PLAT-5")
def test_default_rule_is_ten_years_from_creation(old_dept):
    assert retention_until(old_dept) == dt.date(2022, 3, 1)
    assert "default rule" in explain_retention(old_dept).explanation


@pytest.mark.req("PLAT-5")
def test_created_basis_counts_from_the_first_audit_entry(rule, old_dept):
    assert retention_until(old_dept) == dt.date(2017, 3, 1)


@pytest.mark.req("PLAT-5", "TRC-9")
def test_expiry_basis_and_implantables_through_the_retention_dates_hook(
    monkeypatch, rule, old_dept
):
    rule.basis = RetentionRule.Basis.EXPIRY
    rule.years = 2
    rule.minimum_years = 5
    rule.permanent_if_implantable = True
    rule.save()
    dates = {"created": dt.date(2020, 1, 10), "expiry": dt.date(2030, 6, 30)}
    monkeypatch.setattr(Department, "retention_dates", lambda self: dates, raising=False)
    assert retention_until(old_dept) == dt.date(2032, 6, 30)  # expiry + 2 years
    dates["expiry"] = dt.date(2021, 1, 1)
    assert retention_until(old_dept) == dt.date(2025, 1, 10)  # never less than 5 years
    dates["expiry"] = None
    assert retention_until(old_dept) == dt.date(2025, 1, 10)  # no expiry: 5 years
    dates["implantable"] = True
    assert retention_until(old_dept) is None  # permanent for implantables


@pytest.mark.req("PLAT-5")
def test_lifetime_and_permanent_bases(monkeypatch, rule, old_dept):
    rule.basis = RetentionRule.Basis.LIFETIME
    rule.years = 0
    rule.minimum_years = 2
    rule.save()
    dates = {"created": dt.date(2024, 2, 29), "lifetime_end": dt.date(2034, 2, 28)}
    monkeypatch.setattr(Department, "retention_dates", lambda self: dates, raising=False)
    assert retention_until(old_dept) == dt.date(2034, 2, 28)
    dates["lifetime_end"] = dt.date(2024, 6, 1)
    assert retention_until(old_dept) == dt.date(2026, 2, 28)  # 2 years from release
    rule.basis = RetentionRule.Basis.PERMANENT
    rule.save()
    assert retention_until(old_dept) is None
    assert add_years(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)


# --- request ------------------------------------------------------------------------------


@pytest.mark.req("PLAT-5")
def test_request_is_refused_before_the_retention_date_naming_the_date(rule, new_dept, quality_user):
    with pytest.raises(ValidationError) as exc:
        request_destruction(new_dept, by=quality_user, reason="clean-up")
    until = retention_until(new_dept)
    assert until is not None and until.isoformat() in exc.value.messages[0]
    assert not DestructionRequest.objects.exists()


@pytest.mark.req("PLAT-5")
def test_request_is_refused_for_permanent_records_and_without_a_reason(
    rule, old_dept, quality_user
):
    with pytest.raises(ValidationError):
        request_destruction(old_dept, by=quality_user, reason="  ")
    rule.basis = RetentionRule.Basis.PERMANENT
    rule.save()
    with pytest.raises(ValidationError) as exc:
        request_destruction(old_dept, by=quality_user, reason="clean-up")
    assert "permanently" in exc.value.messages[0]
    assert not DestructionRequest.objects.exists()


@pytest.mark.req("PLAT-5", "PLAT-1")
def test_request_needs_permission(rule, old_dept, auditor, outsider):
    for user in (auditor, outsider):
        with pytest.raises(PermissionDenied):
            request_destruction(old_dept, by=user, reason="clean-up")
    assert not DestructionRequest.objects.exists()


@pytest.mark.req("PLAT-5", "PLAT-4")
def test_request_gets_a_number_and_a_second_open_request_is_refused(rule, old_dept, quality_user):
    req = request_destruction(old_dept, by=quality_user, reason="clean-up")
    assert req.number.startswith("DR-") and req.status == "requested"
    assert req.retain_until == dt.date(2017, 3, 1)
    with pytest.raises(ValidationError) as exc:
        request_destruction(old_dept, by=quality_user, reason="again")
    assert req.number in exc.value.messages[0]


# --- approval -----------------------------------------------------------------------------


@pytest.mark.req("PLAT-5", "PLAT-3", "PLAT-2")
def test_approved_destruction_removes_the_record_and_keeps_its_trail(
    rule, old_dept, quality_user, approver
):
    ct, pk = dept_ct(), old_dept.pk
    req = request_destruction(old_dept, by=quality_user, reason="retention expired")
    req = approve_destruction(
        req, by=approver, password=PASSWORD, request=None, note="checked the retention list"
    )
    assert req.status == "approved" and req.decided_by == approver
    assert not Department.objects.filter(pk=pk).exists()
    trail = entries_for(ct, pk)
    assert trail[0].action == "create" and trail[-1].action == "delete"
    assert trail[-1].actor == approver and req.number in trail[-1].reason
    assert trail[-1].changes["name_en"] == ["Old dept", None]
    sig = Signature.objects.get()
    assert sig.meaning == "approved" and sig.printed_name == approver.printed_name
    assert sig.object_id == str(req.pk) and signature_matches(sig)
    assert [e.action for e in entries_for(ContentType.objects.get_for_model(req), req.pk)] == [
        "create",
        "update",
        "sign",
        "event",
    ]
    assert verify_trail().ok


@pytest.mark.req("PLAT-5", "PLAT-1")
def test_approval_needs_the_approve_permission_and_a_second_person(
    rule, old_dept, quality_user, auditor, outsider, make_user
):
    req = request_destruction(old_dept, by=quality_user, reason="retention expired")
    for user in (auditor, outsider):
        with pytest.raises(PermissionDenied):
            approve_destruction(req, by=user, password=PASSWORD, request=None)
    with pytest.raises(ValidationError) as exc:
        approve_destruction(req, by=quality_user, password=PASSWORD, request=None)
    assert "another person" in exc.value.messages[0]
    assert Department.objects.filter(pk=old_dept.pk).exists()
    req.refresh_from_db()
    assert req.status == "requested" and not Signature.objects.exists()


@pytest.mark.req("PLAT-5", "PLAT-3")
def test_wrong_password_on_approval_destroys_nothing_and_is_recorded(
    rule, old_dept, quality_user, approver
):
    req = request_destruction(old_dept, by=quality_user, reason="retention expired")
    with pytest.raises(SignatureError):
        approve_destruction(req, by=approver, password="nope-nope-nope", request=None)
    assert Department.objects.filter(pk=old_dept.pk).exists()
    req.refresh_from_db()
    assert req.status == "requested"
    last = entries_for(ContentType.objects.get_for_model(req), req.pk)[-1]
    assert last.action == "event" and last.changes["outcome"] == [None, "wrong password"]


@pytest.mark.req("PLAT-5")
def test_approval_rechecks_the_date_and_protected_records_roll_back_everything(
    rule, old_dept, quality_user, approver
):
    req = request_destruction(old_dept, by=quality_user, reason="retention expired")
    # The rule was lengthened after the request: no longer expired.
    rule.years = 50
    rule.save()
    with pytest.raises(ValidationError) as exc:
        approve_destruction(req, by=approver, password=PASSWORD, request=None)
    assert "2062-03-01" in exc.value.messages[0]
    rule.years = 5
    rule.save()
    # A user still belongs to the department: PROTECT refuses, nothing is half-done.
    quality_user.department = old_dept
    quality_user.save()
    with pytest.raises(ValidationError) as exc:
        approve_destruction(req, by=approver, password=PASSWORD, request=None)
    assert "referenced" in exc.value.messages[0]
    req.refresh_from_db()
    assert req.status == "requested" and not Signature.objects.exists()
    assert Department.objects.filter(pk=old_dept.pk).exists()


@pytest.mark.req("PLAT-5", "PLAT-3")
def test_rejection_needs_a_note_and_is_signed(rule, old_dept, quality_user, approver):
    req = request_destruction(old_dept, by=quality_user, reason="retention expired")
    with pytest.raises(ValidationError):
        reject_destruction(req, by=approver, password=PASSWORD, request=None, note="")
    req = reject_destruction(
        req, by=approver, password=PASSWORD, request=None, note="still under litigation hold"
    )
    assert req.status == "rejected" and req.decision_note == "still under litigation hold"
    assert Signature.objects.get().meaning == "reviewed"
    assert Department.objects.filter(pk=old_dept.pk).exists()
    with pytest.raises(ValidationError):
        approve_destruction(req, by=approver, password=PASSWORD, request=None)


@pytest.mark.req("PLAT-5")
def test_my_work_lists_pending_requests_for_approvers_only(
    rule, old_dept, quality_user, approver, auditor
):
    req = request_destruction(old_dept, by=quality_user, reason="retention expired")
    items = pending_destructions(approver)
    assert [i.url for i in items] == [reverse("destruction_detail", args=[req.pk])]
    assert pending_destructions(quality_user) == []  # own request: someone else approves
    assert pending_destructions(auditor) == []


# --- pages --------------------------------------------------------------------------------


@pytest.mark.req("PLAT-5", "PLAT-1")
def test_outsider_gets_403_or_404_on_every_retention_page_and_post(
    rule, old_dept, quality_user, outsider, client_for
):
    req = request_destruction(old_dept, by=quality_user, reason="retention expired")
    c = client_for(outsider)
    assert c.get(reverse("destruction_list")).status_code == 403
    assert c.get(reverse("destruction_new")).status_code == 403
    post = {"record_type": "accounts.department", "record_id": old_dept.pk, "reason": "x"}
    assert c.post(reverse("destruction_new"), post).status_code == 403
    assert c.get(reverse("destruction_detail", args=[req.pk])).status_code == 404
    for name in ("destruction_approve", "destruction_reject"):
        r = c.post(reverse(name, args=[req.pk]), {"password": PASSWORD, "comment": "x"})
        assert r.status_code in (403, 404)
    assert Department.objects.filter(pk=old_dept.pk).exists()
    assert DestructionRequest.objects.get().status == "requested"


@pytest.mark.req("PLAT-5", "PLAT-1")
def test_auditor_reads_but_cannot_request_approve_or_reject(
    rule, old_dept, quality_user, auditor, client_for
):
    req = request_destruction(old_dept, by=quality_user, reason="retention expired")
    c = client_for(auditor)
    assert c.get(reverse("destruction_list")).status_code == 200
    detail = c.get(reverse("destruction_detail", args=[req.pk]))
    assert detail.status_code == 200 and b"approve-dialog" not in detail.content
    assert c.get(reverse("destruction_new")).status_code == 403
    post = {"record_type": "accounts.department", "record_id": old_dept.pk, "reason": "x"}
    assert c.post(reverse("destruction_new"), post).status_code == 403
    for name in ("destruction_approve", "destruction_reject"):
        r = c.post(reverse(name, args=[req.pk]), {"password": PASSWORD, "comment": "x"})
        assert r.status_code == 403
    assert Department.objects.filter(pk=old_dept.pk).exists()


@pytest.mark.req("PLAT-5")
def test_request_form_shows_retention_and_refuses_too_early_with_a_field_message(
    rule, old_dept, new_dept, quality_user, client_for
):
    c = client_for(quality_user)
    page = c.get(reverse("destruction_new"), {"type": "accounts.department", "id": new_dept.pk})
    assert page.status_code == 200
    until = retention_until(new_dept).isoformat()
    assert until in page.content.decode()
    r = c.post(
        reverse("destruction_new"),
        {"record_type": "accounts.department", "record_id": new_dept.pk, "reason": "tidy"},
    )
    assert r.status_code == 400 and until in r.content.decode()
    r = c.post(
        reverse("destruction_new"),
        {"record_type": "accounts.department", "record_id": "999999", "reason": "tidy"},
    )
    assert r.status_code == 400 and b"no record of this type" in r.content
    r = c.post(
        reverse("destruction_new"),
        {"record_type": "core.destructionrequest", "record_id": "1", "reason": "tidy"},
    )
    assert r.status_code == 400  # never-destroyed types are not even offered
    assert not DestructionRequest.objects.exists()
    r = c.post(
        reverse("destruction_new"),
        {"record_type": "accounts.department", "record_id": old_dept.pk, "reason": "expired"},
    )
    req = DestructionRequest.objects.get()
    assert r.status_code == 302 and r.url == reverse("destruction_detail", args=[req.pk])


@pytest.mark.req("PLAT-5", "PLAT-3")
def test_detail_page_dialog_shows_errors_then_approves_and_destroys(
    rule, old_dept, quality_user, approver, client_for
):
    req = request_destruction(old_dept, by=quality_user, reason="retention expired")
    c = client_for(approver)
    detail = c.get(reverse("destruction_detail", args=[req.pk]))
    html = detail.content.decode()
    assert detail.status_code == 200
    assert 'id="approve-dialog"' in html and 'id="reject-dialog"' in html
    assert "history-entry" in html and "Not signed yet" in html
    url = reverse("destruction_approve", args=[req.pk])
    # wrong password, plain form post: page again, error in the dialog which opens itself
    r = c.post(url, {"password": "wrong-wrong", "comment": "", "version": req.version})
    assert r.status_code == 400
    body = r.content.decode()
    assert "password is not correct" in body and "data-autoshow" in body
    # the same with htmx: only the dialog comes back
    r = c.post(url, {"password": "wrong-wrong", "version": req.version}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "password is not correct" in r.content.decode()
    assert "<html" not in r.content.decode()
    assert Department.objects.filter(pk=old_dept.pk).exists()
    # stale version: conflict message, nothing changed
    r = c.post(url, {"password": PASSWORD, "version": req.version - 1 or 99})
    assert r.status_code == 400 and Department.objects.filter(pk=old_dept.pk).exists()
    # right password
    r = c.post(url, {"password": PASSWORD, "comment": "ok", "version": req.version})
    assert r.status_code == 302
    assert not Department.objects.filter(pk=old_dept.pk).exists()
    page = c.get(reverse("destruction_detail", args=[req.pk])).content.decode()
    assert "matches record" in page and approver.printed_name in page
    assert 'data-action="delete"' in page  # the destroyed record's trail is still shown


@pytest.mark.req("PLAT-5", "PLAT-3", "PLAT-1")
def test_lockout_through_the_dialog_logs_the_user_out(
    rule, old_dept, quality_user, approver, client_for, settings
):
    settings.AXES_FAILURE_LIMIT = 2
    req = request_destruction(old_dept, by=quality_user, reason="retention expired")
    c = client_for(approver)
    url = reverse("destruction_approve", args=[req.pk])
    c.post(url, {"password": "wrong-1", "version": req.version})
    c.post(url, {"password": "wrong-2", "version": req.version})
    assert "_auth_user_id" not in c.session
    fresh = Client()
    fresh.post(reverse("login"), {"username": approver.username, "password": PASSWORD})
    assert "_auth_user_id" not in fresh.session
    assert Department.objects.filter(pk=old_dept.pk).exists()


@pytest.mark.req("PLAT-5")
def test_list_filters_by_status_paginates_and_keeps_queries_flat(
    rule, quality_user, client_for, django_assert_max_num_queries
):
    with time_machine.travel(OLD, tick=False):
        depts = [
            Department.objects.create(code=f"d{i}", name_zh=f"部门{i}", name_en=f"D{i}")
            for i in range(30)
        ]
    for d in depts:
        request_destruction(d, by=quality_user, reason="retention expired")
    c = client_for(quality_user)
    with django_assert_max_num_queries(15):
        page = c.get(reverse("destruction_list"))
    assert page.status_code == 200 and page.content.decode().count("/destruction/") >= 25
    assert "Page 1 of 2" in page.content.decode()
    empty = c.get(reverse("destruction_list"), {"status": "rejected"})
    assert b"destruction-empty" in empty.content


@pytest.mark.req("PLAT-5")
def test_destruction_button_only_for_users_who_may_request(old_dept, quality_user, auditor, rf):
    from django.template import Context, Template

    tpl = Template("{% load records %}{% destruction_button obj %}")
    request = rf.get("/")
    request.user = quality_user
    html = tpl.render(Context({"obj": old_dept, "request": request}))
    assert "type=accounts.department" in html and f"id={old_dept.pk}" in html
    request.user = auditor
    assert "destruction-button" not in tpl.render(Context({"obj": old_dept, "request": request}))


@pytest.mark.req("PLAT-5", "PLAT-2")
def test_rows_deleted_with_the_record_are_counted_and_the_trail_verifies(
    make_user, quality_user, approver
):
    """A former employee's account after its retention: its notifications (CASCADE) and
    role links go with it; the destruction event counts them."""
    from medvigil.accounts.models import User
    from medvigil.core.notifications.services import notify

    with time_machine.travel(OLD, tick=False):
        leaver = make_user("leaver", "sales")
    notify([leaver], "one", email=False)
    notify([leaver], "two", email=False)
    req = request_destruction(leaver, by=quality_user, reason="account retention expired")
    req = approve_destruction(req, by=approver, password=PASSWORD, request=None)
    assert not User.objects.filter(pk=leaver.pk).exists()
    event = entries_for(ContentType.objects.get_for_model(req), req.pk)[-1]
    assert event.changes["event"] == [None, "record destroyed"]
    assert event.changes["dependent_rows"][1] >= 3  # 2 notifications + 1 role link
    assert entries_for(ContentType.objects.get_for_model(User), leaver.pk)[-1].action == "delete"
    assert verify_trail().ok
