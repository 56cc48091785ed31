"""SVC-4: customer sign-off by a one-time code e-mailed to the customer contact — the
alternative to the drawn signature: stored only as a keyed hash, expires, a limited number of
wrong entries, one use, audited; from the phone page and the API."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from medvigil.core.audit.models import AuditEntry
from medvigil.service.models import ServiceRequest, WorkOrder
from medvigil.service.services import (
    confirm_signoff_code,
    dispatch,
    save_fields,
    send_signoff_code,
)
from medvigil.service.services.workorders import CODE_RESEND_SECONDS

from .conftest import new_request
from .test_workorders import DONE, on_site

pytestmark = pytest.mark.django_db


def _code() -> str:
    match = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert match
    return match.group(1)


def _ready(world: Any, cs_user: Any, manager: Any, engineer: Any) -> WorkOrder:
    wo = on_site(world, cs_user, manager, engineer)
    ServiceRequest.objects.filter(pk=wo.request_id).update(contact_email="li@hospital.example")
    wo = save_fields(wo, by=engineer, version=wo.version, values=DONE)
    return WorkOrder.objects.get(pk=wo.pk)


def _age(wo: WorkOrder, seconds: int) -> None:
    """Move the code's send time back (the resend pause) without touching anything else."""
    WorkOrder.objects.filter(pk=wo.pk).update(
        signoff_code_sent_at=wo.signoff_code_sent_at - dt.timedelta(seconds=seconds)
    )


@pytest.mark.req("SVC-4")
def test_sign_off_by_code_sent_to_the_customer(
    world: Any, cs_user: Any, manager: Any, engineer: Any, qualified: Any
) -> None:
    wo = _ready(world, cs_user, manager, engineer)
    wo = send_signoff_code(wo, by=engineer, version=wo.version)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["li@hospital.example"]
    assert wo.number in mail.outbox[0].subject and "更换压力传感器" in mail.outbox[0].body
    code = _code()
    # stored only as a keyed hash; the audit trail holds a digest of that, never the code
    assert wo.signoff_code_hash and code not in wo.signoff_code_hash
    assert len(wo.signoff_code_hash) == 64
    entries = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(WorkOrder), object_id=str(wo.pk)
    )
    assert not any(
        code in str(e.changes) or wo.signoff_code_hash in str(e.changes) for e in entries
    )
    assert any("signoff_code_sent_to" in e.changes for e in entries)
    # a wrong code: refused, counted and audited (the count is kept although refused)
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(ValidationError) as exc:
        confirm_signoff_code(wo, by=engineer, version=wo.version, signer_name="李", code=wrong)
    assert "4 tries left" in " ".join(exc.value.messages)
    wo.refresh_from_db()
    assert wo.signoff_code_attempts == 1 and wo.status == "on_site"
    with pytest.raises(ValidationError):  # not six digits: not counted
        confirm_signoff_code(wo, by=engineer, version=wo.version, signer_name="李", code="12a")
    with pytest.raises(ValidationError):  # the name is required
        confirm_signoff_code(wo, by=engineer, version=wo.version, signer_name=" ", code=code)
    wo.refresh_from_db()
    assert wo.signoff_code_attempts == 1
    wo = confirm_signoff_code(
        wo, by=engineer, version=wo.version, signer_name="李护士长", code=f" {code} "
    )
    assert wo.status == "signed" and wo.sign_method == "code" and wo.signer_name == "李护士长"
    assert wo.signoff_code_hash == ""  # used up
    sr = ServiceRequest.objects.get(pk=wo.request_id)
    assert sr.fixed_at == wo.signed_at and sr.status == "fixed"
    with pytest.raises(ValidationError):  # once only
        confirm_signoff_code(wo, by=engineer, version=wo.version, signer_name="李", code=code)


@pytest.mark.req("SVC-4")
def test_code_expires_and_attempts_are_limited(
    world: Any, cs_user: Any, manager: Any, engineer: Any, qualified: Any, settings: Any
) -> None:
    settings.SERVICE_SIGNOFF_CODE_ATTEMPTS = 2
    wo = _ready(world, cs_user, manager, engineer)
    wo = send_signoff_code(wo, by=engineer, version=wo.version)
    code = _code()
    wrong = "000000" if code != "000000" else "111111"
    for _i in range(2):
        with pytest.raises(ValidationError):
            confirm_signoff_code(wo, by=engineer, version=wo.version, signer_name="李", code=wrong)
        wo.refresh_from_db()
    with pytest.raises(ValidationError) as exc:  # even the right code: too many wrong ones
        confirm_signoff_code(wo, by=engineer, version=wo.version, signer_name="李", code=code)
    assert "Too many wrong codes" in " ".join(exc.value.messages)
    # a resend only after a pause; then a fresh code with a fresh count
    with pytest.raises(ValidationError):
        send_signoff_code(wo, by=engineer, version=wo.version)
    _age(wo, CODE_RESEND_SECONDS + 1)
    wo.refresh_from_db()
    wo = send_signoff_code(wo, by=engineer, version=wo.version)
    assert wo.signoff_code_attempts == 0 and len(mail.outbox) == 2
    code = _code()
    # expired: refused, whatever the code
    WorkOrder.objects.filter(pk=wo.pk).update(
        signoff_code_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    wo.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        confirm_signoff_code(wo, by=engineer, version=wo.version, signer_name="李", code=code)
    assert "expired" in " ".join(exc.value.messages)
    wo.refresh_from_db()
    assert wo.status == "on_site"


@pytest.mark.req("SVC-4")
def test_no_address_no_code_and_not_before_the_work_is_recorded(
    world: Any, cs_user: Any, manager: Any, engineer: Any, qualified: Any
) -> None:
    sr = new_request(cs_user, world)
    wo = dispatch(sr, by=manager, version=sr.version, engineer=engineer)
    with pytest.raises(ValidationError):  # not on site yet
        send_signoff_code(wo, by=engineer, version=wo.version)
    wo = on_site(world, cs_user, manager, engineer)
    wo = save_fields(wo, by=engineer, version=wo.version, values=DONE)
    world.hospital.__class__.objects.filter(pk=world.hospital.pk).update(email="")
    with pytest.raises(ValidationError) as exc:
        send_signoff_code(wo, by=engineer, version=wo.version)
    assert "No e-mail address" in " ".join(exc.value.messages)
    assert mail.outbox == []
    # the customer's e-mail in trace is used when the request has none
    world.hospital.__class__.objects.filter(pk=world.hospital.pk).update(email="it@h.example")
    wo = send_signoff_code(WorkOrder.objects.get(pk=wo.pk), by=engineer, version=wo.version)
    assert mail.outbox[0].to == ["it@h.example"]


@pytest.mark.req("SVC-4")
def test_code_sign_off_on_the_phone_page_and_the_api(
    world: Any, cs_user: Any, manager: Any, engineer: Any, qualified: Any, client_for: Any
) -> None:
    wo = _ready(world, cs_user, manager, engineer)
    c = client_for(engineer)
    html = c.get(wo.get_absolute_url()).content.decode()
    assert 'id="code-send"' in html and "li@hospital.example" in html
    r = c.post(reverse("service:workorder_code_send", args=[wo.pk]), {"version": wo.version})
    assert r.status_code == 302 and len(mail.outbox) == 1
    wo.refresh_from_db()
    html = c.get(wo.get_absolute_url()).content.decode()
    assert 'id="code-form"' in html
    r = c.post(
        reverse("service:workorder_code_confirm", args=[wo.pk]),
        {"version": wo.version, "signer_name": "李", "code": "12"},
        follow=True,
    )
    assert "six digits" in r.content.decode()
    r = c.post(
        reverse("service:workorder_code_confirm", args=[wo.pk]),
        {"version": wo.version, "signer_name": "李护士长", "code": _code()},
    )
    wo.refresh_from_db()
    assert r.status_code == 302 and wo.status == "signed" and wo.sign_method == "code"
    html = c.get(wo.get_absolute_url()).content.decode()
    assert "li@hospital.example" in html and 'id="signed-by"' in html
    # the API: send_code and confirm_code (a bad code is a 422 with the message)
    wo2 = _ready(world, cs_user, manager, engineer)
    url = f"/api/v1/service-work-orders/{wo2.pk}/transitions"
    r = c.post(
        url, {"version": wo2.version, "action": "send_code"}, content_type="application/json"
    )
    assert r.status_code == 200, r.content
    version = r.json()["version"]
    r = c.post(
        url,
        {"version": version, "action": "confirm_code", "signer_name": "李", "code": "abc"},
        content_type="application/json",
    )
    assert r.status_code == 422 and "six digits" in r.content.decode()
    r = c.post(
        url,
        {"version": version, "action": "confirm_code", "signer_name": "李", "code": _code()},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["sign_method"] == "code", r.content
