"""PLAT-3 electronic signatures, and the shared record components (history panel PLAT-2,
signatures panel and dialog PLAT-3)."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.urls import reverse

from medvigil.accounts.models import Department, User
from medvigil.conftest import PASSWORD
from medvigil.core.audit import audit_context
from medvigil.core.audit.verify import verify_trail
from medvigil.core.models import AuditEntry, Signature
from medvigil.core.signatures.services import (
    SignatureError,
    apply_signature,
    check_signer,
    sign,
    signature_lines,
    signature_matches,
    signature_state,
    signed_content,
)

pytestmark = pytest.mark.django_db


def entries_for(obj, action=None):
    ct = ContentType.objects.get_for_model(obj)
    qs = AuditEntry.objects.filter(content_type=ct, object_id=str(obj.pk)).order_by("seq")
    if action:
        qs = qs.filter(action=action)
    return list(qs)


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
def dept(db):
    return Department.objects.create(code="qa-x", name_zh="质量部X", name_en="Quality X")


def _request(user=None):
    req = RequestFactory().post("/sign/")
    if user is not None:
        req.user = user
    return req


@pytest.mark.req("PLAT-3", "PLAT-2")
def test_sign_with_right_password_stores_name_meaning_content_hash_and_audit_entry(
    quality_user, dept
):
    sig = sign(
        dept,
        user=quality_user,
        password=PASSWORD,
        meaning=Signature.Meaning.APPROVED,
        request=_request(quality_user),
        reason="checked against seed 000",
    )
    sig.refresh_from_db()
    assert sig.printed_name == quality_user.printed_name == "Li Wei"
    assert sig.signer == quality_user and sig.meaning == "approved"
    assert sig.reason == "checked against seed 000" and sig.signed_at is not None
    # the exact content signed, and its SHA-256
    assert sig.content["name_en"] == "Quality X" and "version" not in sig.content
    canonical = json.dumps(sig.content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert sig.content_hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert signature_matches(sig)
    entry = entries_for(dept, "sign")[-1]
    assert entry.actor == quality_user
    assert entry.changes["meaning"] == [None, "approved"]
    assert entry.changes["content_hash"] == [None, sig.content_hash]
    assert entry.reason == "checked against seed 000"
    assert verify_trail().ok


@pytest.mark.req("PLAT-3", "PLAT-2")
def test_wrong_password_is_refused_and_recorded_on_the_record(quality_user, dept):
    with pytest.raises(SignatureError) as exc:
        sign(
            dept,
            user=quality_user,
            password="not-my-password",
            meaning="approved",
            request=_request(quality_user),
        )
    assert exc.value.code == "wrong_password"
    assert "password is not correct" in exc.value.messages[0]
    assert not Signature.objects.exists()
    refused = entries_for(dept, "event")[-1]
    assert refused.changes["event"] == [None, "signature refused"]
    assert refused.changes["outcome"] == [None, "wrong password"]
    assert refused.actor == quality_user


@pytest.mark.req("PLAT-3", "PLAT-1")
def test_wrong_signatures_count_toward_lockout_then_no_signing_and_no_login(quality_user, dept):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        with pytest.raises(SignatureError):
            sign(dept, user=quality_user, password="wrong-one", meaning="reviewed", request=None)
    # Now locked: even the right password cannot sign ...
    with pytest.raises(SignatureError) as exc:
        sign(dept, user=quality_user, password=PASSWORD, meaning="reviewed", request=None)
    assert exc.value.code == "locked_out"
    assert not Signature.objects.exists()
    # ... nor log in.
    c = Client()
    c.post(reverse("login"), {"username": quality_user.username, "password": PASSWORD})
    assert "_auth_user_id" not in c.session
    outcomes = [e.changes.get("outcome", [None, None])[1] for e in entries_for(dept, "event")]
    assert outcomes.count("wrong password") == settings.AXES_FAILURE_LIMIT
    assert outcomes[-1] == "locked out"


@pytest.mark.req("PLAT-3")
def test_read_only_and_inactive_users_cannot_sign(auditor, make_user, dept):
    with pytest.raises(SignatureError) as exc:
        sign(dept, user=auditor, password=PASSWORD, meaning="reviewed", request=None)
    assert exc.value.code == "not_allowed"
    gone = make_user("gone", "quality", is_active=False)
    with pytest.raises(SignatureError):
        sign(dept, user=gone, password=PASSWORD, meaning="reviewed", request=None)
    assert not Signature.objects.exists()


@pytest.mark.req("PLAT-3")
def test_password_check_inside_a_callers_transaction_is_a_programming_error(quality_user, dept):
    """The refused attempt must survive the caller's rollback, so the check refuses to run
    inside the caller's transaction at all (whatever the password)."""
    with pytest.raises(RuntimeError), transaction.atomic():
        sign(dept, user=quality_user, password=PASSWORD, meaning="approved", request=None)
    assert not Signature.objects.exists()


@pytest.mark.req("PLAT-3", "PLAT-2")
@pytest.mark.django_db(transaction=True)
def test_refused_attempt_is_committed_although_the_business_change_is_not(make_user):
    """Two-phase service: check_signer commits the refusal; the change never happens."""
    user = make_user("signer", "quality")
    d = Department.objects.create(code="t", name_zh="t", name_en="t")

    def close(record, password):
        check = check_signer(record, user=user, password=password, request=None, meaning="closed")
        with transaction.atomic():
            record.active = False
            record.save()
            apply_signature(record, check)

    with pytest.raises(SignatureError):
        close(d, "bad-password")
    d.refresh_from_db()
    assert d.active is True
    assert entries_for(d, "event")[-1].changes["outcome"] == [None, "wrong password"]
    close(d, PASSWORD)
    d.refresh_from_db()
    assert d.active is False and signature_matches(Signature.objects.get())


@pytest.mark.req("PLAT-3")
def test_a_password_check_is_for_one_record_and_one_signature(quality_user, dept):
    other = Department.objects.create(code="o", name_zh="o", name_en="o")
    check = check_signer(
        dept, user=quality_user, password=PASSWORD, request=None, meaning="authored"
    )
    with pytest.raises(SignatureError):
        apply_signature(other, check)
    apply_signature(dept, check)
    with pytest.raises(SignatureError):
        apply_signature(dept, check)
    assert Signature.objects.count() == 1


@pytest.mark.req("PLAT-3")
def test_a_later_change_voids_the_match_visibly(quality_user, dept):
    sig = sign(dept, user=quality_user, password=PASSWORD, meaning="approved", request=None)
    assert signature_state(sig) == "matches"
    dept.name_en = "Quality X (renamed)"
    dept.save()
    assert not signature_matches(sig)
    assert signature_state(sig) == "changed"
    html = Template("{% load records %}{% signatures_panel obj %}").render(Context({"obj": dept}))
    assert "NO LONGER MATCHES" in html and "Li Wei" in html
    lines = signature_lines(dept)
    assert len(lines) == 1 and "Li Wei" in lines[0] and "NO LONGER MATCHES" in lines[0]
    assert sig.content_hash[:12] in lines[0]
    # Changing it back restores the match: the binding is to content, not to a version.
    dept.name_en = "Quality X"
    dept.save()
    assert signature_matches(sig)


@pytest.mark.req("PLAT-3")
def test_signed_content_honours_signature_exclude_and_signature_content(monkeypatch, dept):
    base = signed_content(dept)
    assert "version" not in base and base["code"] == "qa-x"
    monkeypatch.setattr(Department, "signature_exclude", ("active",), raising=False)
    assert "active" not in signed_content(dept)
    monkeypatch.setattr(
        Department, "signature_content", lambda self: {"code": self.code}, raising=False
    )
    assert signed_content(dept) == {"code": "qa-x"}


@pytest.mark.req("PLAT-3")
def test_signatures_panel_shows_name_meaning_time_and_match_badge(quality_user, dept):
    empty = Template("{% load records %}{% signatures_panel obj %}").render(Context({"obj": dept}))
    assert "Not signed yet" in empty
    sign(dept, user=quality_user, password=PASSWORD, meaning="verified", request=None)
    html = Template("{% load records %}{% signatures_panel obj %}").render(Context({"obj": dept}))
    assert "Li Wei" in html and "verified" in html and "matches record" in html
    assert 'data-state="matches"' in html


@pytest.mark.req("PLAT-3")
def test_signature_dialog_renders_password_comment_meaning_and_errors():
    from medvigil.core.signatures.services import SignatureForm

    tpl = Template(
        '{% load records %}{% signature_dialog "/x/approve/" "approved" button="Approve" %}'
    )
    html = tpl.render(Context({"csrf_token": "tok"}))
    assert 'action="/x/approve/"' in html and 'name="password"' in html
    assert 'name="comment"' in html and "approved" in html and 'value="tok"' in html
    assert 'data-bs-target="#signature-dialog"' in html
    assert "data-autoshow" not in html
    form = SignatureForm({"password": "x"})
    form.is_valid()
    form.add_signature_error(SignatureError("The password is not correct", code="wrong_password"))
    tpl = Template('{% load records %}{% signature_dialog "/x/" "closed" form=form %}')
    html = tpl.render(Context({"form": form}))
    assert "The password is not correct" in html and "is-invalid" in html
    assert "data-autoshow" in html


# --- history panel (PLAT-2) ---------------------------------------------------------------


@pytest.mark.req("PLAT-2")
def test_history_panel_renders_field_by_field_old_and_new_values(quality_user, dept):
    with audit_context(actor=quality_user, source="ui", reason="typo in the name"):
        dept.name_en = "Quality Y"
        dept.active = False
        dept.save()
    request = RequestFactory().get("/")
    request.user = quality_user
    html = Template("{% load records %}{% history_panel obj %}").render(
        Context({"obj": dept, "request": request})
    )
    assert "name (English)" in html  # verbose field name, not "name_en"
    assert "Quality X" in html and "Quality Y" in html
    assert "typo in the name" in html and "Li Wei" in html and "ui" in html
    assert settings.TIME_ZONE in html
    # newest first
    assert html.index('data-action="update"') < html.index('data-action="create"')


@pytest.mark.req("PLAT-2")
def test_history_panel_pages_with_show_older_and_htmx_fragment(
    quality_user, outsider, client_for, dept
):
    for i in range(25):
        dept.name_en = f"v{i}"
        dept.save()
    request = RequestFactory().get("/")
    request.user = quality_user
    html = Template("{% load records %}{% history_panel obj %}").render(
        Context({"obj": dept, "request": request})
    )
    assert html.count('class="list-group-item history-entry"') == 20
    url = reverse("record_history", args=["accounts", "department", dept.pk])
    assert f"{url}?page=2" in html
    c = client_for(quality_user)
    page2 = c.get(url, {"page": 2}, HTTP_HX_REQUEST="true")
    assert page2.status_code == 200
    assert page2.content.decode().count('class="list-group-item history-entry"') == 6
    assert client_for(outsider).get(url).status_code == 404
    assert c.get(reverse("record_history", args=["nope", "none", 1])).status_code == 404


@pytest.mark.req("PLAT-2")
def test_history_panel_resolves_foreign_keys_and_users_are_named(quality_user, make_user):
    user = make_user("mover", "quality", department="quality")
    with audit_context(actor=quality_user):
        user.department = Department.objects.get(code="service")
        user.save()
    request = RequestFactory().get("/")
    request.user = quality_user
    html = Template("{% load records %}{% history_panel obj %}").render(
        Context({"obj": User.objects.get(pk=user.pk), "request": request})
    )
    import re

    new_values = re.findall(r'history-new">([^<]*)<', html)
    assert any(v in ("售后服务部", "After-sales service") for v in new_values)
    assert f"#{Department.objects.get(code='service').pk}" not in new_values


@pytest.mark.req("PLAT-2", "PLAT-6")
def test_history_in_chinese_shows_labels_and_names_not_codes(make_user, dept):
    from django.utils import translation

    signer = make_user("zhangwei", "quality", display_name="张伟", department="quality")
    with pytest.raises(SignatureError):
        sign(dept, user=signer, password="wrong", meaning="approved", request=_request(signer))
    sign(dept, user=signer, password=PASSWORD, meaning="approved", request=_request(signer))
    request = RequestFactory().get("/")
    request.user = signer
    with translation.override("zh-hans"):
        html = Template("{% load records %}{% history_panel obj %}").render(
            Context({"obj": dept, "request": request})
        )
    import re

    new_values = re.findall(r'history-new">([^<]*)<', html)
    assert "批准" in new_values and "approved" not in new_values  # meaning: its label
    assert "张伟" in new_values and "zhangwei" not in new_values  # signer: the name
    assert "密码错误" in new_values and "wrong password" not in new_values  # outcome
    sources = re.findall(r'history-source"[^>]*>([^<]*)<', html)
    assert sources and "ui" not in sources
