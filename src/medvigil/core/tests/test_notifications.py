"""PLAT-8: in-app notifications, e-mail on commit, the bell, the list and marking read."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy

from medvigil.core.models import Notification
from medvigil.core.notifications.services import notify
from medvigil.core.tasks import send_notification_email

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-8")]


def test_notify_creates_one_row_per_active_user_and_emails_on_commit(
    make_user, django_capture_on_commit_callbacks
):
    a = make_user("alice")
    b = make_user("bob")
    gone = make_user("gone", is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        made = notify([a, b, a, gone], "CAPA assigned", body="CAPA-2026-00001", url="/capa/1/")
        assert mail.outbox == []  # nothing leaves before the transaction commits
    assert {n.user for n in made} == {a, b}
    assert Notification.objects.count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "bob@example.com"]
    msg = mail.outbox[0]
    assert msg.subject == "[MedVigil] CAPA assigned"
    assert "CAPA-2026-00001" in msg.body
    n = Notification.objects.get(user=a)
    assert reverse("notification_open", args=[n.pk]) in msg.body
    assert n.emailed_at is not None


def test_email_is_sent_once_even_if_the_task_runs_again(
    make_user, django_capture_on_commit_callbacks
):
    a = make_user("alice")
    with django_capture_on_commit_callbacks(execute=True):
        (n,) = notify(a, "Hello")
    assert len(mail.outbox) == 1
    send_notification_email(n.pk)  # a duplicate delivery of the job
    assert len(mail.outbox) == 1


def test_a_rolled_back_change_sends_no_mail(make_user, django_capture_on_commit_callbacks):
    a = make_user("alice")
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                notify(a, "Will be rolled back")
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_email_false_and_users_without_address_get_no_mail(
    make_user, django_capture_on_commit_callbacks
):
    a = make_user("alice")
    b = make_user("bob")
    b.email = ""
    b.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify(a, "In-app only", email=False)
        notify(b, "No address")
    assert mail.outbox == []
    assert Notification.objects.count() == 2


def test_titles_are_rendered_in_each_recipients_language(make_user):
    en = make_user("en_user", language="en")
    zh = make_user("zh_user", language="zh-hans")
    notify([en, zh], gettext_lazy("This field is required."), email=False)
    assert Notification.objects.get(user=en).title == "This field is required."
    assert Notification.objects.get(user=zh).title == "这个字段是必填项。"


def test_bad_level_is_refused(make_user):
    with pytest.raises(ValueError):
        notify(make_user("alice"), "x", level="purple")


def test_bell_shows_the_unread_count(make_user, client_for):
    a = make_user("alice")
    notify(a, "one", email=False)
    notify(a, "two", email=False)
    notify(make_user("bob"), "not yours", email=False)
    html = client_for(a).get(reverse("home")).content.decode()
    assert 'id="bell-count">2<' in html


def test_bell_count_comes_with_the_user_and_follows_every_change(
    make_user, client_for, django_assert_num_queries
):
    """#13: on a GET the count is read in the query that reads the session's user (no query
    of its own), so each request shows the count as it is when the request starts."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    a = make_user("alice")
    c = client_for(a)
    with CaptureQueriesContext(connection) as ctx:
        html = c.get(reverse("notifications")).content.decode()
    assert 'id="bell-count"' not in html
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(*) AS" in q["sql"]]
    assert not [q for q in counts if "read_at" in q]  # only the list's own paginator count
    notify(a, "one", email=False)
    assert 'id="bell-count">1<' in c.get(reverse("home")).content.decode()
    notify(a, "two", email=False)
    assert 'id="bell-count">2<' in c.get(reverse("home")).content.decode()
    c.post(reverse("notifications_read_all"))
    assert 'id="bell-count"' not in c.get(reverse("home")).content.decode()


def test_list_shows_only_own_notifications_unread_first(make_user, client_for):
    a = make_user("alice")
    old = notify(a, "old unread", email=False)[0]
    read = notify(a, "newer but read", email=False)[0]
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)
    notify(make_user("bob"), "bob's secret", email=False)
    html = client_for(a).get(reverse("notifications")).content.decode()
    assert "bob&#x27;s secret" not in html and "bob's secret" not in html
    assert html.index(f'id="notification-{old.pk}"') < html.index(f'id="notification-{read.pk}"')


def test_list_empty_state_and_pagination(make_user, client_for, django_assert_max_num_queries):
    a = make_user("alice")
    c = client_for(a)
    assert 'id="notifications-empty"' in c.get(reverse("notifications")).content.decode()
    for i in range(30):
        notify(a, f"n{i}", email=False)
    with django_assert_max_num_queries(12):
        page1 = c.get(reverse("notifications")).content.decode()
    assert page1.count("data-unread=") == 25
    page2 = c.get(reverse("notifications") + "?page=2").content.decode()
    assert page2.count("data-unread=") == 5
    assert c.get(reverse("notifications") + "?page=abc").status_code == 200


def test_mark_read_by_htmx_returns_the_row_and_updates_the_bell(make_user, client_for):
    a = make_user("alice")
    n1 = notify(a, "one", email=False)[0]
    notify(a, "two", email=False)
    r = client_for(a).post(reverse("notification_read", args=[n1.pk]), HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    html = r.content.decode()
    assert f'id="notification-{n1.pk}"' in html and 'data-unread="0"' in html
    assert 'id="bell" hx-swap-oob="innerHTML"' in html and 'id="bell-count">1<' in html
    n1.refresh_from_db()
    assert n1.read_at is not None


def test_mark_read_without_htmx_redirects(make_user, client_for):
    a = make_user("alice")
    n = notify(a, "one", email=False)[0]
    r = client_for(a).post(reverse("notification_read", args=[n.pk]))
    assert r.status_code == 302 and r.url == reverse("notifications")
    n.refresh_from_db()
    assert n.read_at is not None


def test_another_users_notification_is_a_404(make_user, client_for):
    a = make_user("alice")
    n = notify(make_user("bob"), "bob's", url="/x/", email=False)[0]
    c = client_for(a)
    assert c.post(reverse("notification_read", args=[n.pk])).status_code == 404
    assert c.get(reverse("notification_open", args=[n.pk])).status_code == 404
    n.refresh_from_db()
    assert n.read_at is None


def test_open_marks_read_and_follows_only_local_links(make_user, client_for):
    a = make_user("alice")
    local = notify(a, "local", url="/trace/", email=False)[0]
    evil = notify(a, "evil", url="https://evil.example.com/", email=False)[0]
    c = client_for(a)
    r = c.get(reverse("notification_open", args=[local.pk]))
    assert r.status_code == 302 and r.url == "/trace/"
    r = c.get(reverse("notification_open", args=[evil.pk]))
    assert r.url == reverse("notifications")
    assert not Notification.objects.filter(user=a, read_at__isnull=True).exists()


def test_mark_all_read(make_user, client_for):
    a = make_user("alice")
    b = make_user("bob")
    for i in range(3):
        notify([a, b], f"n{i}", email=False)
    r = client_for(a).post(reverse("notifications_read_all"))
    assert r.status_code == 302
    assert not Notification.objects.filter(user=a, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=b, read_at__isnull=True).count() == 3
    assert client_for(a).get(reverse("notifications_read_all")).status_code == 405


def test_pages_need_login(client):
    r = client.get(reverse("notifications"))
    assert r.status_code == 302 and "/login/" in r.url
