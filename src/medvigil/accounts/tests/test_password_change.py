"""PLAT-1: a user changes their own password; weak ones are refused; the change is audited."""

import pytest
from django.contrib.contenttypes.models import ContentType

from medvigil.conftest import PASSWORD
from medvigil.core.models import AuditEntry

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-1", "PLAT-2")]


def test_password_change_validates_and_is_audited(make_user, client_for):
    user = make_user("nurse")
    c = client_for(user)
    r = c.post(
        "/profile/password/",
        {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"},
    )
    assert r.status_code == 200 and "too short" in r.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    r = c.post(
        "/profile/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "Quite-L0ng-Passphrase",
            "new_password2": "Quite-L0ng-Passphrase",
        },
    )
    assert r.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Quite-L0ng-Passphrase")
    entry = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(user),
        object_id=str(user.pk),
        action="update",
    ).latest("id")
    assert entry.changes["password"][1].startswith("********#") and entry.actor_id == user.pk
