"""PLAT-10 through the API: the upload service behind POST /api/v1/imports — a file lands
whole or not at all, its errors are listed by row and column, the batch is audited — with the
API's permission checks and one error shape."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from medvigil.accounts.models import APIToken, Department
from medvigil.core.models import AuditEntry, ImportBatch

from .test_imports import GOOD, csv_bytes  # also registers the "test-departments" importer

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-10")]

URL = "/api/v1/imports"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def importer(make_user):
    return make_user("apiimp", "quality", "admin", department="quality")


def bearer(user):
    _token, raw = APIToken.issue(user, "integration")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post(client, headers, data, name="deps.csv", kind="test-departments"):
    return client.post(URL, {"kind": kind, "file": SimpleUploadedFile(name, data)}, **headers)


def test_a_good_file_is_imported_and_audited_under_the_batch_number(client, importer):
    auth = bearer(importer)
    r = post(client, auth, csv_bytes(GOOD))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "imported" and body["final"] is True
    assert (body["total_rows"], body["created_rows"], body["error_count"]) == (3, 3, 0)
    assert body["uploaded_by"] == "apiimp" and body["errors_url"] is None
    d1 = Department.objects.get(code="d1")
    entry = AuditEntry.objects.get(
        object_id=str(d1.pk), action="create", object_repr__contains="一部"
    )
    assert entry.request_id == body["number"] and entry.source == "import"
    again = client.get(f"{URL}/{body['number']}", **auth)
    assert again.status_code == 200 and again.json()["created_rows"] == 3
    listed = client.get(URL, **auth).json()
    assert listed["count"] == 1 and listed["items"][0]["number"] == body["number"]


def test_a_file_with_a_bad_row_changes_nothing_and_reports_row_and_column(client, importer):
    auth = bearer(importer)
    rows = [*GOOD, ["d4", "", "Four", "yes"]]  # row 5: Chinese name missing
    before = Department.objects.count()
    r = post(client, auth, csv_bytes(rows))
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "failed" and body["created_rows"] == 0
    assert Department.objects.count() == before
    assert {"row": 5, "column": "Chinese name"}.items() <= body["errors"][0].items()
    report = client.get(body["errors_url"], **auth)
    assert report.status_code == 200
    assert "Chinese name" in b"".join(report.streaming_content).decode("utf-8-sig")


def test_request_errors_are_422_in_the_error_shape_and_create_no_batch(client, importer):
    auth = bearer(importer)
    r = post(client, auth, csv_bytes(GOOD), kind="no-such-kind")
    assert r.status_code == 422 and "kind" in r.json()["error"]["fields"]
    r = post(client, auth, b"%PDF-1.4", name="deps.pdf")
    assert r.status_code == 422 and "file" in r.json()["error"]["fields"]
    r = client.post(URL, {"kind": "test-departments"}, **auth)
    assert r.status_code == 422
    assert not ImportBatch.objects.exists()


def test_who_may_import_and_see_batches(client, importer, make_user):
    number = post(client, bearer(importer), csv_bytes(GOOD)).json()["number"]
    auditor = make_user("apiaud", "auditor")
    r = post(client, bearer(auditor), csv_bytes([GOOD[0], ["x1", "甲", "A", ""]]))
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    assert client.get(f"{URL}/{number}", **bearer(auditor)).status_code == 200  # reads all
    outsider = make_user("apiout", "sales")
    assert client.get(f"{URL}/{number}", **bearer(outsider)).status_code in (403, 404)
    assert client.post(URL, {}, HTTP_AUTHORIZATION="Bearer nope").status_code == 401


def test_kinds_lists_only_what_the_caller_may_import_with_both_headers(client, importer):
    kinds = client.get(f"{URL}/kinds", **bearer(importer)).json()
    dept = next(k for k in kinds if k["kind"] == "test-departments")
    assert {"name": "code", "header_en": "Code", "header_zh": "代码", "required": True}.items() <= (
        dept["columns"][0].items()
    )
