"""`core.records.views.signed_action` (#7 item 3): every signed transition answers the same
way — password re-entry with its meaning, axes lock-out, and the same status codes for a plain
POST and for htmx (PLAT-3)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django_htmx.middleware import HtmxDetails

from medvigil.accounts.models import Department
from medvigil.conftest import PASSWORD
from medvigil.core.models import Signature
from medvigil.core.records.views import signed_action
from medvigil.core.signatures.services import sign, signatures_for
from medvigil.core.templatetags.records import signature_dialog_context

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-3")]

DONE = "/done/"


@pytest.fixture
def dept(db: Any) -> Department:
    return Department.objects.create(code="sx", name_zh="签名部", name_en="Signing")


def post(rf: Any, user: Any, data: dict[str, Any], *, htmx: bool) -> Any:
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    request = rf.post("/sign/", data, **headers)
    SessionMiddleware(lambda r: HttpResponse()).process_request(request)
    MessageMiddleware(lambda r: HttpResponse()).process_request(request)
    request.user = user
    request.session["_auth_user_id"] = str(user.pk)
    request.htmx = HtmxDetails(request)
    return request


def run(request: Any, dept: Department) -> HttpResponse:
    def perform(password: str, comment: str) -> Department:
        sign(
            dept,
            user=request.user,
            password=password,
            meaning=Signature.Meaning.APPROVED,
            request=request,
            reason=comment,
        )
        return dept

    def dialog(form: Any) -> dict[str, Any]:
        return signature_dialog_context(
            form_action="/sign/", meaning=Signature.Meaning.APPROVED, form=form
        )

    def page(ctx: dict[str, Any]) -> HttpResponse:
        return HttpResponse("<html>" + render_to_string("core/_signature_dialog.html", ctx))

    return signed_action(
        request,
        dept,
        meaning=Signature.Meaning.APPROVED,
        perform=perform,
        dialog=dialog,
        page=page,
        success=lambda done: "signed",
        next_url=lambda done: DONE,
    )


@pytest.mark.parametrize("htmx", [False, True])
def test_success_redirects(rf: Any, dept: Department, quality_user: Any, htmx: bool) -> None:
    data = {"password": PASSWORD, "meaning": "approved", "version": dept.version}
    r = run(post(rf, quality_user, data, htmx=htmx), dept)
    if htmx:
        assert r.status_code == 204 and r["HX-Redirect"] == DONE
    else:
        assert r.status_code == 302 and r["Location"] == DONE
    assert signatures_for(dept).count() == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_wrong_password_shows_the_dialog_again(
    rf: Any, dept: Department, quality_user: Any, htmx: bool
) -> None:
    data = {"password": "wrong-wrong", "version": dept.version}
    r = run(post(rf, quality_user, data, htmx=htmx), dept)
    body = r.content.decode()
    assert "password is not correct" in body and 'name="password"' in body
    if htmx:
        assert r.status_code == 200 and "<html" not in body  # the dialog alone
    else:
        assert r.status_code == 400 and "<html" in body and "data-autoshow" in body
    assert not signatures_for(dept).exists()


@pytest.mark.parametrize("htmx", [False, True])
def test_other_meaning_is_refused(rf: Any, dept: Department, quality_user: Any, htmx: bool):
    data = {"password": PASSWORD, "meaning": "reviewed", "version": dept.version}
    r = run(post(rf, quality_user, data, htmx=htmx), dept)
    assert r.status_code == (200 if htmx else 400)
    assert "meaning does not match" in r.content.decode()
    assert not signatures_for(dept).exists()


@pytest.mark.parametrize("htmx", [False, True])
def test_locked_out_logs_out_to_the_login_page(
    rf: Any, dept: Department, quality_user: Any, htmx: bool, settings: Any
) -> None:
    settings.AXES_FAILURE_LIMIT = 1
    request = post(
        rf, quality_user, {"password": "wrong-wrong", "version": dept.version}, htmx=htmx
    )
    r = run(request, dept)
    login = reverse("login")
    if htmx:
        assert r.status_code == 204 and r["HX-Redirect"] == login
    else:
        assert r.status_code == 302 and r["Location"] == login
    assert "_auth_user_id" not in request.session
    assert isinstance(request.user, AnonymousUser)
    # still locked: the right password is refused the same way
    again = post(rf, quality_user, {"password": PASSWORD, "version": dept.version}, htmx=htmx)
    r = run(again, dept)
    assert r.status_code == (204 if htmx else 302)
    assert not signatures_for(dept).exists()


@pytest.mark.parametrize(
    ("current", "target", "refresh"),
    [
        # the same page with a fragment: the browser would only scroll, so htmx reloads it
        ("http://testserver/records/7/", "/records/7/#approval", True),
        ("http://testserver/records/7/#history", "/records/7/#approval", True),
        # another page, or the same page without a fragment: the browser loads it anyway
        ("http://testserver/records/7/", "/records/8/#approval", False),
        ("http://testserver/records/7/?tab=a", "/records/7/#approval", False),
        ("http://testserver/records/7/#approval", "/records/7/", False),
        (None, "/records/7/#approval", False),
    ],
)
def test_htmx_redirect_to_the_same_page_with_a_fragment_reloads_it(
    rf: Any, current: str | None, target: str, refresh: bool
) -> None:
    """After a signature in the dialog the record page must show the signed state: a redirect
    to a fragment of the page the dialog is on gets HX-Refresh (else no page load at all)."""
    from medvigil.core.records.views import htmx_redirect

    headers = {"HTTP_HX_REQUEST": "true"}
    if current:
        headers["HTTP_HX_CURRENT_URL"] = current
    request = rf.post("/sign/", **headers)
    request.htmx = HtmxDetails(request)
    r = htmx_redirect(request, target)
    assert r.status_code == 204 and r["HX-Redirect"] == target
    assert (r.get("HX-Refresh") == "true") is refresh
