"""The REST API platform: authentication, the one error shape, /me, tokens, the audit-trail
endpoints (PLAT-1, PLAT-2)."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client, RequestFactory
from django.utils import timezone

from medvigil.accounts.models import APIToken, Department
from medvigil.api import api
from medvigil.core.audit import audit_context
from medvigil.core.models import AuditEntry, ConflictError

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-1", "PLAT-2")]

ENTRIES = "/api/v1/audit/entries"


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


@pytest.fixture
def department():
    with audit_context(source="test", reason="set-up"):
        d = Department.objects.create(code="qa-2", name_zh="质量二部", name_en="QA two")
        d.name_en = "Quality two"
        d.save()
    return d


# --- authentication -------------------------------------------------------------------------
def test_token_authenticates_and_me_describes_the_user(make_user):
    user = make_user("li", "quality", department="quality", first_name="伟", last_name="李")
    _tok, raw = APIToken.issue(user, "ERP sync")
    r = Client().get("/api/v1/me", headers=bearer(raw))
    assert r.status_code == 200, r.content
    me = r.json()
    assert me["username"] == "li"
    assert me["printed_name"] == "李伟"
    assert me["department"]["code"] == "quality"
    assert [role["code"] for role in me["roles"]] == ["quality"]
    assert me["read_only"] is False
    assert "core.view_auditentry" in me["permissions"]
    assert me["auth"] == "token"
    assert me["language"] in {"zh-hans", "en"}


def test_auditor_me_is_read_only_with_only_view_and_export_permissions(auditor):
    _tok, raw = APIToken.issue(auditor, "inspection")
    me = Client().get("/api/v1/me", headers=bearer(raw)).json()
    assert me["read_only"] is True
    assert me["permissions"]
    assert all(p.split(".", 1)[1].startswith(("view_", "export_")) for p in me["permissions"])


def test_revoked_unknown_and_missing_tokens_get_401_in_the_error_shape(quality_user):
    token, raw = APIToken.issue(quality_user, "old")
    token.revoke()
    for headers in (bearer(raw), bearer("mv_not-a-real-token"), {}, {"Authorization": "Bearer"}):
        r = Client().get("/api/v1/me", headers=headers)
        err = assert_error(r, 401, "not_authenticated")
        assert err["fields"] == {}
        assert r["WWW-Authenticate"].startswith("Bearer")


def test_token_of_a_deactivated_user_is_refused(quality_user):
    _tok, raw = APIToken.issue(quality_user, "t")
    quality_user.is_active = False
    quality_user.save()
    assert_error(Client().get("/api/v1/me", headers=bearer(raw)), 401, "not_authenticated")


def test_browser_session_authenticates(client_for, quality_user):
    r = client_for(quality_user).get("/api/v1/me")
    assert r.status_code == 200
    assert r.json()["username"] == "qe" and r.json()["auth"] == "session"


def test_session_writes_need_the_csrf_token(quality_user):
    c = Client(enforce_csrf_checks=True)
    c.force_login(quality_user)
    err = assert_error(
        c.post("/api/v1/me/tokens", {"name": "x"}, content_type="application/json"),
        403,
        "permission_denied",
    )
    assert "CSRF" in err["message"]
    assert not APIToken.objects.filter(user=quality_user).exists()
    secret = _get_new_csrf_string()
    c.cookies["csrftoken"] = secret
    r = c.post(
        "/api/v1/me/tokens",
        {"name": "x"},
        content_type="application/json",
        headers={"X-CSRFToken": secret},
    )
    assert r.status_code == 201, r.content


def test_a_bad_token_with_a_post_is_401_not_a_csrf_error(quality_user):
    r = Client(enforce_csrf_checks=True).post(
        "/api/v1/me/tokens/1/revoke", headers=bearer("mv_wrong")
    )
    assert_error(r, 401, "not_authenticated")


# --- tokens ---------------------------------------------------------------------------------
def test_create_list_and_revoke_tokens_and_raw_token_shown_once(client_for, quality_user):
    c = client_for(quality_user)
    r = c.post("/api/v1/me/tokens", {"name": "  ERP sync  "}, content_type="application/json")
    assert r.status_code == 201, r.content
    created = r.json()
    raw = created["token"]
    assert raw.startswith("mv_") and created["name"] == "ERP sync" and created["active"]
    assert created["prefix"] == raw[:10]
    # the raw token works, and is never listed again
    assert Client().get("/api/v1/me", headers=bearer(raw)).status_code == 200
    listed = c.get("/api/v1/me/tokens").json()
    assert [t["id"] for t in listed] == [created["id"]]
    assert "token" not in listed[0] and raw not in json.dumps(listed)
    r = c.post(f"/api/v1/me/tokens/{created['id']}/revoke")
    assert r.status_code == 200 and r.json()["active"] is False
    assert_error(Client().get("/api/v1/me", headers=bearer(raw)), 401, "not_authenticated")


def test_blank_token_name_is_a_field_error_and_creates_nothing(client_for, quality_user):
    c = client_for(quality_user)
    for body in ({"name": "   "}, {}, {"name": "x" * 101}):
        err = assert_error(
            c.post("/api/v1/me/tokens", body, content_type="application/json"),
            422,
            "validation_error",
        )
        assert list(err["fields"]) == ["name"], err
    assert not APIToken.objects.exists()


def test_a_token_cannot_mint_more_tokens(quality_user):
    _tok, raw = APIToken.issue(quality_user, "script")
    r = Client().post(
        "/api/v1/me/tokens", {"name": "child"}, content_type="application/json", headers=bearer(raw)
    )
    assert_error(r, 403, "permission_denied")
    assert APIToken.objects.filter(user=quality_user).count() == 1


def test_another_users_token_cannot_be_seen_or_revoked(make_user, quality_user):
    other = make_user("other", "quality")
    theirs, their_raw = APIToken.issue(other, "theirs")
    _mine, raw = APIToken.issue(quality_user, "mine")
    listed = Client().get("/api/v1/me/tokens", headers=bearer(raw)).json()
    assert theirs.pk not in [t["id"] for t in listed]
    r = Client().post(f"/api/v1/me/tokens/{theirs.pk}/revoke", headers=bearer(raw))
    assert_error(r, 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert Client().get("/api/v1/me", headers=bearer(their_raw)).status_code == 200


def test_an_api_write_is_audited_with_source_api_and_the_token_user(quality_user):
    token, raw = APIToken.issue(quality_user, "script")
    spare, _spare_raw = APIToken.issue(quality_user, "spare")
    r = Client().post(f"/api/v1/me/tokens/{spare.pk}/revoke", headers=bearer(raw))
    assert r.status_code == 200, r.content
    ct = ContentType.objects.get_for_model(APIToken)
    entry = AuditEntry.objects.filter(content_type=ct, object_id=str(spare.pk)).latest("seq")
    assert entry.action == "update"
    assert entry.source == "api"
    assert entry.actor == quality_user
    assert entry.actor_name.startswith("qe")
    assert entry.request_id == r["X-Request-ID"]
    assert entry.changes["revoked_at"][0] is None and entry.changes["revoked_at"][1]
    # revoking again changes nothing and writes nothing
    before = AuditEntry.objects.count()
    Client().post(f"/api/v1/me/tokens/{spare.pk}/revoke", headers=bearer(raw))
    assert AuditEntry.objects.count() == before


# --- the audit trail ------------------------------------------------------------------------
def test_auditor_queries_the_trail_of_a_record_with_field_changes(auditor, department):
    _tok, raw = APIToken.issue(auditor, "inspection")
    r = Client().get(
        ENTRIES,
        {"record_type": "accounts.department", "object_id": str(department.pk)},
        headers=bearer(raw),
    )
    assert r.status_code == 200, r.content
    page = r.json()
    assert page["count"] == 2 and page["offset"] == 0 and page["limit"] == 50
    newest, first = page["items"]
    assert newest["action"] == "update" and first["action"] == "create"
    assert newest["record_type"] == "accounts.department"
    assert newest["object_id"] == str(department.pk)
    assert newest["reason"] == "set-up" and newest["source"] == "test"
    assert [(c["field"], c["old"], c["new"]) for c in newest["changes"]] == [
        ("name_en", "QA two", "Quality two")
    ]
    assert newest["changes"][0]["label"]  # the field's verbose name, in the user's language
    created = {c["field"]: c["new"] for c in first["changes"]}
    assert created["code"] == "qa-2" and created["name_zh"] == "质量二部"


def test_record_history_is_in_chain_order_and_paginated(auditor, department):
    c = Client()
    _tok, raw = APIToken.issue(auditor, "t")
    url = f"/api/v1/audit/records/accounts.department/{department.pk}/history"
    page = c.get(url, headers=bearer(raw)).json()
    assert [e["seq"] for e in page["items"]] == [1, 2]
    page = c.get(url, {"limit": 1, "offset": 1}, headers=bearer(raw)).json()
    assert page["count"] == 2 and [e["seq"] for e in page["items"]] == [2]
    assert page["limit"] == 1 and page["offset"] == 1
    err = assert_error(
        c.get("/api/v1/audit/records/nope.nothing/1/history", headers=bearer(raw)),
        422,
        "validation_error",
    )
    assert "record_type" in err["fields"]


def test_trail_filters_by_user_action_and_date_range(make_user, auditor, department):
    actor = make_user("wang", "quality")
    with audit_context(actor=actor, source="ui"):
        department.active = False
        department.save()
    _tok, raw = APIToken.issue(auditor, "t")
    c = Client()

    def ids(**params):
        base = {"record_type": "accounts.department", "object_id": str(department.pk)}
        r = c.get(ENTRIES, {**base, **params}, headers=bearer(raw))
        assert r.status_code == 200, r.content
        return [e["id"] for e in r.json()["items"]]

    by_wang = ids(user="wang")
    assert len(by_wang) == 1
    assert ids(actor_id=actor.pk) == by_wang
    assert len(ids(action="create")) == 1
    assert ids(source="ui") == by_wang
    today = timezone.localdate()
    assert len(ids(date_from=today.isoformat(), date_to=today.isoformat())) == 3
    assert ids(date_from=(today + dt.timedelta(days=1)).isoformat()) == []
    assert ids(until=(timezone.now() - dt.timedelta(hours=1)).isoformat()) == []
    name = AuditEntry.objects.filter(object_id=str(department.pk)).latest("id").object_repr
    assert len(ids(q=name[1:4])) == 3
    assert ids(q="no such name") == []


def test_trail_pagination_reports_the_total(auditor):
    with audit_context(source="test"):
        for i in range(7):
            Department.objects.create(code=f"d{i}", name_zh=f"部{i}", name_en=f"D{i}")
    _tok, raw = APIToken.issue(auditor, "t")
    r = Client().get(
        ENTRIES,
        {"record_type": "accounts.department", "limit": 3, "offset": 3},
        headers=bearer(raw),
    )
    page = r.json()
    all_depts = AuditEntry.objects.filter(content_type__model="department").count()
    assert page["count"] == all_depts and len(page["items"]) == 3
    assert page["items"][0]["id"] > page["items"][1]["id"]  # newest first


@pytest.mark.parametrize("role", [None, "sales", "service_engineer"])
def test_roles_without_audit_permission_get_403(make_user, role, department):
    user = make_user("u", *([role] if role else []))
    _tok, raw = APIToken.issue(user, "t")
    for url in (
        ENTRIES,
        f"/api/v1/audit/records/accounts.department/{department.pk}/history",
        "/api/v1/audit/record-types",
        "/api/v1/audit/verify",
    ):
        assert_error(Client().get(url, headers=bearer(raw)), 403, "permission_denied")


def test_quality_and_session_users_can_query_the_trail(client_for, quality_user, department):
    r = client_for(quality_user).get(ENTRIES, {"record_type": "accounts.department"})
    assert r.status_code == 200 and r.json()["count"] >= 2


def test_one_entry_and_record_types(auditor, department):
    _tok, raw = APIToken.issue(auditor, "t")
    entry = AuditEntry.objects.filter(object_id=str(department.pk)).latest("id")
    r = Client().get(f"{ENTRIES}/{entry.pk}", headers=bearer(raw))
    assert r.status_code == 200 and r.json()["id"] == entry.pk
    types = Client().get("/api/v1/audit/record-types", headers=bearer(raw)).json()
    assert {"accounts.department", "accounts.user", "accounts.apitoken"} <= {
        t["record_type"] for t in types
    }


def test_verify_endpoint_reports_intact_trail_and_needs_chain_permission(make_user, auditor):
    Department.objects.create(code="v", name_zh="v", name_en="v")
    _tok, raw = APIToken.issue(auditor, "t")
    r = Client().get("/api/v1/audit/verify", headers=bearer(raw))
    assert r.status_code == 200 and r.json()["ok"] is True and r.json()["entries"] > 0
    cs = make_user("cs", "customer_service")  # may read the trail, not run the full check
    _tok, cs_raw = APIToken.issue(cs, "t")
    assert Client().get(ENTRIES, headers=bearer(cs_raw)).status_code == 200
    assert_error(
        Client().get("/api/v1/audit/verify", headers=bearer(cs_raw)), 403, "permission_denied"
    )


# --- one error shape ------------------------------------------------------------------------
def test_404_for_a_missing_entry_and_an_unknown_path(auditor):
    _tok, raw = APIToken.issue(auditor, "t")
    assert_error(Client().get(f"{ENTRIES}/999999", headers=bearer(raw)), 404, "not_found")
    assert_error(Client().get("/api/v1/no/such/thing", headers=bearer(raw)), 404, "not_found")
    assert_error(Client().post("/api/nothing-here"), 404, "not_found")
    assert_error(Client().get("/api/"), 404, "not_found")
    assert_error(Client().get("/api/v1/"), 404, "not_found")


def test_422_field_errors_for_bad_query_values(auditor):
    _tok, raw = APIToken.issue(auditor, "t")
    c = Client()
    cases = {
        "limit": {"limit": 0},
        "offset": {"offset": -1},
        "action": {"action": "destroy"},
        "date_from": {"date_from": "2026-13-45"},
        "record_type": {"record_type": "nothing"},
        "date_to": {"date_from": "2026-02-02", "date_to": "2026-02-01"},
    }
    for field, params in cases.items():
        err = assert_error(c.get(ENTRIES, params, headers=bearer(raw)), 422, "validation_error")
        assert field in err["fields"], (field, err)
        assert all(isinstance(m, str) and m for m in err["fields"][field])
    err = assert_error(c.get(f"{ENTRIES}/abc", headers=bearer(raw)), 422, "validation_error")
    assert "entry_id" in err["fields"]


def test_400_for_a_body_that_is_not_json_and_405_for_a_wrong_method(client_for, quality_user):
    c = client_for(quality_user)
    assert_error(
        c.post("/api/v1/me/tokens", "{not json", content_type="application/json"),
        400,
        "bad_request",
    )
    r = c.delete("/api/v1/me")
    assert_error(r, 405, "method_not_allowed")
    assert "GET" in r["Allow"]


def _api_request():
    return RequestFactory().get("/api/v1/x")


def test_conflict_permission_and_django_validation_errors_use_the_shape():
    r = api.on_exception(_api_request(), ConflictError())
    err = assert_error(r, 409, "conflict")
    assert err["message"] == str(ConflictError())
    r = api.on_exception(
        _api_request(), ValidationError({"quantity": ["Must be positive."], "__all__": ["No."]})
    )
    err = assert_error(r, 422, "validation_error")
    assert err["fields"] == {"quantity": ["Must be positive."], "__all__": ["No."]}
    r = api.on_exception(_api_request(), ValidationError("The licence has expired."))
    err = assert_error(r, 422, "validation_error")
    assert err["message"] == "The licence has expired."
    assert err["fields"] == {"__all__": ["The licence has expired."]}
    from medvigil.core.audit.models import RegulatedDeleteError

    assert_error(api.on_exception(_api_request(), RegulatedDeleteError()), 403, "permission_denied")


def test_an_unexpected_error_is_logged_and_answered_in_the_shape(caplog):
    with caplog.at_level(logging.ERROR, logger="medvigil.api"):
        r = api.on_exception(_api_request(), RuntimeError("boom"))
    assert_error(r, 500, "server_error")
    assert b"boom" not in r.content
    assert any("Unhandled API error" in rec.message for rec in caplog.records)


# --- schema and docs ------------------------------------------------------------------------
def test_openapi_schema_lists_the_endpoints_and_docs_are_served_offline():
    r = Client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    schema = r.json()
    paths = schema["paths"]
    for p in (
        "/api/v1/me",
        "/api/v1/me/tokens",
        "/api/v1/me/tokens/{token_id}/revoke",
        "/api/v1/audit/entries",
        "/api/v1/audit/entries/{entry_id}",
        "/api/v1/audit/records/{record_type}/{object_id}/history",
    ):
        assert p in paths, p
    assert all(p.startswith("/api/v1/") for p in paths)
    assert {"ApiTokenAuth", "SessionCsrfAuth"} <= set(schema["components"]["securitySchemes"])
    assert "ErrorOut" in schema["components"]["schemas"]
    params = {p["name"] for p in paths["/api/v1/audit/entries"]["get"]["parameters"]}
    assert {"record_type", "object_id", "user", "action", "date_from", "date_to"} <= params
    assert {"limit", "offset"} <= params
    docs = Client().get("/api/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/api/v1/openapi.json" in html
    assert "swagger-ui-bundle.js" in html and "cdn" not in html.lower()
