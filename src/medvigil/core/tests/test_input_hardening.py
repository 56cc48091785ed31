"""Input nobody types must get a clear 4xx, never a 500 (ARCHITECTURE rule 7), on SQLite and
PostgreSQL alike: a NUL character anywhere in a request (PostgreSQL cannot store or compare
it), integers beyond what the database holds, a body that is not JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import get_resolver

from medvigil.accounts.models import APIToken
from medvigil.core.tests.test_access_matrix import walk

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-6")]

NUL_MESSAGE = "NUL character"


def page_paths() -> list[str]:
    """Every page URL of the project without a parameter (lists, forms, the admin), read from
    the resolver, so a list added by any app is walked without editing this file."""
    paths = []
    for p in walk(get_resolver().url_patterns):
        if p.regex.startswith("api/") or any(c in p.regex for c in "()[]*+?\\|"):
            continue
        paths.append("/" + p.regex)
    return sorted(set(paths))


def openapi() -> dict[str, Any]:
    return Client().get("/api/v1/openapi.json").json()


def api_list_paths(with_param: str = "") -> list[str]:
    """Every GET operation of the API without a path parameter (and with that query
    parameter, if given)."""
    return sorted(
        path
        for path, ops in openapi()["paths"].items()
        if "get" in ops
        and "{" not in path
        and (not with_param or with_param in {p["name"] for p in ops["get"]["parameters"]})
    )


def bearer(user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {APIToken.issue(user, 'probe')[1]}"}


def test_every_page_refuses_a_nul_in_the_query_with_a_clear_400(admin_user):
    paths = page_paths()
    assert "/trace/products/" in paths and "/audit/" in paths and "/admin/accounts/user/" in paths
    client = Client()
    client.force_login(admin_user)
    for path in paths:
        for query in ("q=%00", "q=a%00b", "x%00=1", "page=1&q=%00"):
            r = client.get(f"{path}?{query}")
            assert r.status_code == 400, (path, query, r.status_code)
            assert NUL_MESSAGE in r.content.decode(), path


def test_every_api_list_refuses_a_nul_in_the_query_with_a_clear_400(quality_user, auditor):
    paths = api_list_paths()
    assert "/api/v1/trace/products" in paths and "/api/v1/audit/entries" in paths
    for user in (quality_user, auditor):
        headers = bearer(user)
        for path in paths:
            r = Client().get(f"{path}?q=%00", headers=headers)
            assert r.status_code == 400, (path, r.status_code, r.content)
            error = r.json()["error"]
            assert error["code"] == "bad_request" and NUL_MESSAGE in error["message"]


def test_a_nul_in_a_posted_form_field_is_refused_and_changes_nothing(quality_user):
    from medvigil.trace.models import Product

    client = Client()
    client.force_login(quality_user)
    form = {
        "code": "P-NUL",
        "name": "Pump\x00",
        "model_spec": "X",
        "manufacturer": "M",
        "risk_class": "II",
        "tracking": "serial",
        "warranty_months": "12",
    }
    r = client.post("/trace/products/new/", form)
    assert r.status_code == 400 and NUL_MESSAGE in r.content.decode()
    upload = SimpleUploadedFile("a.csv", b"code\n", content_type="text/csv")
    r = client.post("/imports/new/", {"kind": "products\x00", "file": upload})
    assert r.status_code == 400
    assert not Product.objects.filter(code="P-NUL").exists()


def test_a_nul_in_a_json_body_a_path_or_a_cookie_is_a_400_in_the_error_shape(quality_user):
    from medvigil.trace.models import Customer

    headers = bearer(quality_user)
    body = {"code": "C-NUL", "name": "Hospital\u0000", "kind": "hospital"}
    r = Client().post(
        "/api/v1/trace/customers",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=headers["Authorization"],
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"
    assert not Customer.objects.filter(code="C-NUL").exists()
    r = Client().get("/api/v1/audit/records/trace.product/1%00/history", headers=headers)
    assert r.status_code == 400
    client = Client()
    client.force_login(quality_user)
    client.cookies["sessionid"] = "abc\x00def"
    assert client.get("/trace/products/").status_code == 400
    r = Client().post(
        "/login/", {"username": "nobody", "password": "x"}, HTTP_USER_AGENT="Agent\x00"
    )
    assert r.status_code == 400
    # An escaped backslash followed by "u0000" is ordinary text, not a NUL.
    body = {"code": "C-BS", "name": "Back\\u0000slash", "kind": "hospital"}
    r = Client().post(
        "/api/v1/trace/customers",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=headers["Authorization"],
    )
    assert r.status_code == 201, r.content


def test_offsets_and_ids_beyond_the_database_range_are_422_not_500(quality_user):
    headers = bearer(quality_user)
    paginated = api_list_paths(with_param="offset")
    assert "/api/v1/trace/customers" in paginated and "/api/v1/audit/entries" in paginated
    for path in paginated:
        for offset in (2**63, 2**31, -1):
            r = Client().get(f"{path}?offset={offset}", headers=headers)
            assert r.status_code == 422, (path, r.status_code, r.content)
    for path in (
        f"/api/v1/trace/units/{2**63}",
        f"/api/v1/trace/lots/{2**64}/forward",
        f"/api/v1/audit/entries/{2**63}",
        f"/api/v1/audit/entries?actor_id={2**63}",
        f"/api/v1/trace/forward?lot_id={2**63}",
        f"/api/v1/trace/products?limit={2**63}",
    ):
        r = Client().get(path, headers=headers)
        assert r.status_code == 422, (path, r.status_code, r.content)


def test_every_integer_parameter_of_the_api_is_bounded():
    """A new endpoint with a bare `int` parameter would reach the database unbounded: use
    medvigil.core.api.Id / PageParams (or Field(le=...))."""
    schema = openapi()
    components = schema["components"]["schemas"]
    unbounded = []

    def check(where: str, node: dict[str, Any]) -> None:
        if "$ref" in node:
            node = components[node["$ref"].rsplit("/", 1)[1]]
        for sub in node.get("anyOf", []) + node.get("allOf", []):
            check(where, sub)
        if node.get("type") == "array":
            check(where, node.get("items", {}))
        if node.get("type") == "integer" and "maximum" not in node:
            unbounded.append(where)
        for name, prop in node.get("properties", {}).items():
            check(f"{where}.{name}", prop)

    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            for param in op.get("parameters", []):
                check(f"{method.upper()} {path} {param['name']}", param["schema"])
            for media in op.get("requestBody", {}).get("content", {}).values():
                check(f"{method.upper()} {path} body", media["schema"])
    assert not unbounded, unbounded


def test_a_body_that_is_not_json_is_a_documented_400(quality_user):
    headers = bearer(quality_user)
    r = Client().post(
        "/api/v1/trace/customers",
        "{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=headers["Authorization"],
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"
    schema = openapi()
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if "requestBody" in op:
                assert "400" in op["responses"], (method, path)


def test_audit_search_dates_out_of_range_are_field_errors_not_500(auditor):
    headers = bearer(auditor)
    for query, field in (
        ("since=0337-12-19T20:52:10%2B18:22", None),  # valid instant, offset PostgreSQL refuses
        ("since=0001-01-01T00:00:00%2B05:00", "since"),
        ("until=9999-12-31T23:00:00-05:00", "until"),
        ("date_to=9999-12-31", "date_to"),
    ):
        r = Client().get(f"/api/v1/audit/entries?{query}", headers=headers)
        if field is None:
            assert r.status_code == 200, r.content
        else:
            assert r.status_code == 422, (query, r.content)
            assert field in r.json()["error"]["fields"]


def test_the_nul_refusal_page_is_in_the_readers_language_with_the_navigation(quality_user):
    """A signed-in zh-Hans reader gets the refusal in Chinese, inside the usual page (the
    check runs once the user's language and account are known)."""
    quality_user.language = "zh-hans"
    quality_user.save()
    client = Client()
    client.force_login(quality_user)
    r = client.get("/trace/units/?q=%00", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 400
    page = r.content.decode()
    assert "请求中含有空字符" in page and NUL_MESSAGE not in page
    assert 'id="user-menu"' in page  # the signed-in navigation


def test_a_nul_in_the_session_cookie_is_refused_before_the_session_is_read():
    r = Client().get("/", HTTP_COOKIE="sessionid=ab\x00cd")
    assert r.status_code == 400
