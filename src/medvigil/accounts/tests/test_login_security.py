"""PLAT-1: sign-in, lock-out after repeated failures, unlock, idle timeout, sign-in events in
the audit trail, password rules."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from medvigil.accounts.models import User
from medvigil.accounts.services import is_locked_out
from medvigil.conftest import PASSWORD
from medvigil.core.audit.verify import verify_trail
from medvigil.core.models import AuditEntry

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-1")]

LOCKED_MSG = (
    "Too many failed sign-in or signature attempts. Try again in %(minutes)s minutes, "
    "or ask an administrator to unlock the account."
)


def login(client: Client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def events(user) -> list[str]:
    ct = ContentType.objects.get_for_model(User)
    return [
        e.changes["event"][1]
        for e in AuditEntry.objects.filter(
            content_type=ct, object_id=str(user.pk), action="event"
        ).order_by("seq")
    ]


def fail_times(client: Client, username: str, n: int):
    response = None
    for _ in range(n):
        response = login(client, username, "wrong-password-123")
    return response


def test_login_form_signs_in_and_logout_signs_out(quality_user):
    c = Client()
    page = c.get("/login/")
    assert page.status_code == 200
    assert b'name="username"' in page.content and b'name="password"' in page.content
    r = login(c, "qe", PASSWORD)
    assert r.status_code == 302 and r["Location"] == "/"
    assert signed_in(c)
    r = c.post("/logout/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert not signed_in(c)
    # a protected page now sends the visitor to the login page
    r = c.get("/profile/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")


def test_wrong_password_is_refused_with_a_message_and_no_session(quality_user):
    c = Client()
    r = login(c, "qe", "not-the-password")
    assert r.status_code == 200
    assert not signed_in(c)
    assert r.context["form"].non_field_errors()


def test_five_failures_lock_the_account_and_the_sixth_correct_password_is_refused(
    quality_user,
):
    assert settings.AXES_FAILURE_LIMIT == 5
    c = Client()
    r = fail_times(c, "qe", 4)
    assert r.status_code == 200  # still just a failed login
    assert not is_locked_out(quality_user)
    r = fail_times(c, "qe", 1)  # the fifth failure locks
    assert r.status_code == settings.AXES_HTTP_RESPONSE_CODE
    assert b'id="locked-out"' in r.content
    assert is_locked_out(quality_user)
    r = login(c, "qe", PASSWORD)  # the sixth attempt, with the right password
    assert r.status_code == settings.AXES_HTTP_RESPONSE_CODE
    assert b'id="locked-out"' in r.content
    assert not signed_in(c)
    # the lock is per account: another user signs in from the same address
    other = User.objects.create_user("other", password=PASSWORD)
    assert other.pk
    assert login(Client(), "other", PASSWORD).status_code == 302


def test_lock_lasts_the_lockout_minutes_and_is_not_extended_by_attempts_while_locked(
    quality_user,
):
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert minutes == 15
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        c = Client()
        fail_times(c, "qe", 5)
        clock.shift(dt.timedelta(minutes=minutes - 1))
        # still locked; these refused attempts must not push the end of the lock back
        assert login(c, "qe", PASSWORD).status_code == settings.AXES_HTTP_RESPONSE_CODE
        assert login(c, "qe", "wrong-again-123").status_code == 429
        clock.shift(dt.timedelta(minutes=1, seconds=1))
        r = login(c, "qe", PASSWORD)
        assert r.status_code == 302 and signed_in(c)


def test_failures_further_apart_than_the_window_do_not_lock(quality_user):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        c = Client()
        fail_times(c, "qe", 4)
        clock.shift(dt.timedelta(minutes=16))
        r = fail_times(c, "qe", 1)
        assert r.status_code == 200
        assert not is_locked_out(quality_user)
        assert login(c, "qe", PASSWORD).status_code == 302


def test_successful_login_resets_the_failure_count(quality_user):
    c = Client()
    fail_times(c, "qe", 4)
    assert login(c, "qe", PASSWORD).status_code == 302
    c2 = Client()
    assert fail_times(c2, "qe", 4).status_code == 200  # counting starts again
    assert login(c2, "qe", PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("language", "html_lang"), [("zh-hans", 'lang="zh-hans"'), ("en", 'lang="en"')]
)
def test_lockout_page_shows_the_minutes_in_the_visitors_language(quality_user, language, html_lang):
    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with time_machine.travel(timezone.now(), tick=False) as clock:
        r = fail_times(c, "qe", 5)
        assert r.status_code == 429
        text = r.content.decode()
        assert html_lang in text
        with translation.override(language):
            assert gettext(LOCKED_MSG) % {"minutes": 15} in text
        clock.shift(dt.timedelta(minutes=5, seconds=30))
        r = login(c, "qe", PASSWORD)
        with translation.override(language):
            assert gettext(LOCKED_MSG) % {"minutes": 10} in r.content.decode()


def test_english_lockout_page_text(quality_user):
    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    r = fail_times(c, "qe", 5)
    assert "Try again in 15 minutes" in r.content.decode()


def test_unlock_command_ends_the_lock_and_is_audited(quality_user, capsys):
    c = Client()
    fail_times(c, "qe", 5)
    assert is_locked_out(quality_user)
    call_command("unlock", "qe", "--reason", "called the help desk")
    assert "qe: unlocked" in capsys.readouterr().out
    assert not is_locked_out(quality_user)
    assert not AccessAttempt.objects.filter(username="qe").exists()
    assert login(c, "qe", PASSWORD).status_code == 302
    ct = ContentType.objects.get_for_model(User)
    entry = AuditEntry.objects.filter(
        content_type=ct, object_id=str(quality_user.pk), changes__event=[None, "unlocked"]
    ).get()
    assert entry.source == "command:unlock" and entry.reason == "called the help desk"


def test_unlock_command_refuses_an_unknown_user(quality_user):
    fail_times(Client(), "qe", 5)
    with pytest.raises(CommandError):
        call_command("unlock", "qe", "nobody-here")
    assert is_locked_out(quality_user)  # all or nothing


def test_administrator_unlocks_from_the_user_admin(quality_user, admin_user, client_for):
    fail_times(Client(), "qe", 5)
    assert is_locked_out(quality_user)
    admin = client_for(admin_user)
    r = admin.post(
        "/admin/accounts/user/",
        {"action": "unlock_users", "_selected_action": [quality_user.pk]},
    )
    assert r.status_code == 302
    assert not is_locked_out(quality_user)
    entry = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(quality_user.pk),
        changes__event=[None, "unlocked"],
    ).get()
    assert entry.source == "admin" and entry.actor == admin_user


def test_deleting_the_axes_access_attempt_in_the_admin_also_unlocks(quality_user, admin_user):
    fail_times(Client(), "qe", 5)
    attempt = AccessAttempt.objects.get(username="qe")
    admin = Client()
    admin.force_login(admin_user)
    r = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}, follow=False)
    assert r.status_code == 302
    assert not is_locked_out(quality_user)


def test_logins_logouts_and_failures_are_events_on_the_user(quality_user):
    c = Client()
    login(c, "qe", "wrong-password-123")
    login(c, "qe", PASSWORD)
    c.post("/logout/")
    assert events(quality_user) == ["login failed", "login", "logout"]
    ct = ContentType.objects.get_for_model(User)
    entries = list(
        AuditEntry.objects.filter(
            content_type=ct, object_id=str(quality_user.pk), action="event"
        ).order_by("seq")
    )
    failed, ok, out = entries
    assert failed.actor is None and failed.actor_name == "anonymous"
    assert failed.changes["ip"] == [None, "127.0.0.1"]
    assert ok.actor == quality_user and ok.source == "ui"
    assert out.actor == quality_user
    assert verify_trail().ok  # the events are chained like any other entry


def test_lock_is_recorded_once_and_refused_attempts_are_recorded(quality_user):
    c = Client()
    fail_times(c, "qe", 5)
    login(c, "qe", PASSWORD)
    assert events(quality_user) == [
        "login failed",
        "login failed",
        "login failed",
        "login failed",
        "account locked",
        "login failed",
        "login refused: account locked",
    ]


def test_failed_login_of_an_unknown_user_is_kept_by_axes_not_the_audit_trail(db):
    before = AuditEntry.objects.count()
    r = login(Client(), "no-such-user", "whatever-123")
    assert r.status_code == 200
    assert AuditEntry.objects.count() == before
    assert AccessAttempt.objects.filter(username="no-such-user").exists()


def test_idle_session_expires_after_the_idle_minutes(quality_user, client_for):
    idle = settings.SESSION_COOKIE_AGE
    assert idle == 30 * 60
    with time_machine.travel(timezone.now(), tick=False) as clock:
        c = Client()
        assert login(c, "qe", PASSWORD).status_code == 302
        assert c.get("/profile/").status_code == 200
        # activity keeps the session alive well past the idle limit in total
        for _ in range(3):
            clock.shift(dt.timedelta(seconds=idle - 60))
            assert c.get("/profile/").status_code == 200
        clock.shift(dt.timedelta(seconds=idle + 1))
        r = c.get("/profile/")
        assert r.status_code == 302 and r["Location"].startswith("/login/")
        assert not signed_in(c)


def test_weak_password_is_refused_when_an_admin_creates_a_user(admin_user, client_for):
    admin = client_for(admin_user)
    base = {"username": "newbie", "usable_password": "true", "display_name": "New Bie"}
    for weak in ("12345678", "password123", "newbie2026"):
        r = admin.post("/admin/accounts/user/add/", {**base, "password1": weak, "password2": weak})
        assert r.status_code == 200, weak
        assert r.context["adminform"].form.errors, weak
        assert not User.objects.filter(username="newbie").exists()
    strong = "Ward-Round-Stethoscope-7"
    r = admin.post("/admin/accounts/user/add/", {**base, "password1": strong, "password2": strong})
    assert r.status_code == 302
    user = User.objects.get(username="newbie")
    assert user.check_password(strong)
    entry = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(user.pk),
        action="create",
    ).get()
    assert entry.source == "admin" and entry.actor == admin_user
    assert strong not in str(entry.changes)  # the password hash is masked


def test_weak_password_is_refused_when_an_admin_sets_a_password(
    admin_user, quality_user, client_for
):
    admin = client_for(admin_user)
    url = f"/admin/accounts/user/{quality_user.pk}/password/"
    r = admin.post(url, {"password1": "password", "password2": "password"})
    assert r.status_code == 200
    assert r.context["form"].errors
    quality_user.refresh_from_db()
    assert quality_user.check_password(PASSWORD)
    r = admin.post(
        url, {"password1": "Calibrated-Infusion-Pump-9", "password2": "Calibrated-Infusion-Pump-9"}
    )
    assert r.status_code == 302
    quality_user.refresh_from_db()
    assert quality_user.check_password("Calibrated-Infusion-Pump-9")


def test_the_session_is_saved_at_most_once_a_minute(quality_user):
    """#13: the idle timeout without an UPDATE of the session on every page."""
    from django.contrib.sessions.models import Session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    every = settings.SESSION_REFRESH_SECONDS
    with time_machine.travel(timezone.now(), tick=False) as clock:
        c = Client()
        assert login(c, "qe", PASSWORD).status_code == 302
        c.get("/profile/")
        expiry = Session.objects.get().expire_date

        def session_writes():
            with CaptureQueriesContext(connection) as cq:
                assert c.get("/profile/").status_code == 200
            return [
                q["sql"]
                for q in cq.captured_queries
                if "django_session" in q["sql"]
                and not q["sql"].lstrip().upper().startswith("SELECT")
            ]

        clock.shift(dt.timedelta(seconds=every - 5))
        assert session_writes() == []
        assert Session.objects.get().expire_date == expiry
        clock.shift(dt.timedelta(seconds=10))
        assert len(session_writes()) == 1
        assert Session.objects.get().expire_date == expiry + dt.timedelta(seconds=every + 5)


def test_a_stale_session_cookie_creates_no_session(db):
    from django.contrib.sessions.models import Session

    c = Client()
    c.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
    assert c.get("/login/").status_code == 200
    assert not Session.objects.exists()


def test_the_session_is_read_with_one_statement_and_an_unknown_or_expired_one_is_empty(
    quality_user,
):
    """#13: the session store (accounts/sessions.py) reads the row with one SELECT written
    once; what it loads is what Django's database store loads; a key naming no session, or an
    expired one, loads nothing and is forgotten."""
    from django.contrib.sessions.backends.db import SessionStore as DjangoStore
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from medvigil.accounts.sessions import SessionStore

    assert settings.SESSION_ENGINE == "medvigil.accounts.sessions"
    with time_machine.travel(timezone.now(), tick=False) as clock:
        c = Client()
        assert login(c, "qe", PASSWORD).status_code == 302
        key = c.cookies[settings.SESSION_COOKIE_NAME].value
        store = SessionStore(key)
        with CaptureQueriesContext(connection) as cq:
            data = store.load()
        assert len(cq.captured_queries) == 1
        assert cq.captured_queries[0]["sql"].lstrip().upper().startswith("SELECT")
        assert data == DjangoStore(key).load() and data["_auth_user_id"] == str(quality_user.pk)
        assert store.session_key == key
        unknown = SessionStore("x" * 32)
        assert unknown.load() == {} and unknown.session_key is None
        clock.shift(dt.timedelta(seconds=settings.SESSION_COOKIE_AGE + 1))
        expired = SessionStore(key)
        assert expired.load() == {} and expired.session_key is None
        assert DjangoStore(key).load() == {}
