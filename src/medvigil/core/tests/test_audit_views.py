"""Audit-trail pages for auditors and quality: search, history, CSV export, verify (PLAT-2)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from medvigil.accounts.models import Department
from medvigil.core.audit import audit_context
from medvigil.core.models import AuditEntry

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-2")]

URL = "/audit/"
EXPORT = "/audit/export.csv"


@pytest.fixture
def records(make_user):
    wang = make_user("wang", "quality", first_name="Wang", last_name="Fang")
    with audit_context(actor=wang, source="ui", reason="reorganisation"):
        qa = Department.objects.create(code="qa-2", name_zh="质量二部", name_en="QA two")
        qa.name_zh = "质量管理二部"
        qa.save()
    with audit_context(source="test"):
        other = Department.objects.create(code="ops", name_zh="运营部", name_en="Operations")
    return {"qa": qa, "other": other, "wang": wang}


def entry_ids(response) -> list[int]:
    return [row.entry.id for row in response.context["rows"]]


def entries_of(obj) -> list[AuditEntry]:
    ct = ContentType.objects.get_for_model(obj)
    return list(AuditEntry.objects.filter(content_type=ct, object_id=str(obj.pk)).order_by("-id"))


def test_auditor_searches_by_record_type_and_name_newest_first(client_for, auditor, records):
    c = client_for(auditor)
    r = c.get(URL, {"record_type": "accounts.department", "record": "二部"})
    assert r.status_code == 200
    assert entry_ids(r) == [e.id for e in entries_of(records["qa"])]
    assert entry_ids(r)[0] > entry_ids(r)[1]
    html = r.content.decode()
    assert "质量管理二部" in html and "运营部" not in html
    # by record id, by user, by action
    r = c.get(URL, {"record_type": "accounts.department", "record": str(records["other"].pk)})
    assert entry_ids(r) == [e.id for e in entries_of(records["other"])]
    r = c.get(URL, {"user": "wang"})
    assert set(entry_ids(r)) == {e.id for e in entries_of(records["qa"])}
    r = c.get(URL, {"record_type": "accounts.department", "user": "wang", "action": "update"})
    assert entry_ids(r) == [entries_of(records["qa"])[0].id]


def test_date_range_is_in_the_company_time_zone(client_for, auditor, records):
    c = client_for(auditor)
    today = timezone.localdate()
    r = c.get(URL, {"record": "二部", "date_from": today, "date_to": today})
    assert len(entry_ids(r)) == 2
    r = c.get(URL, {"date_from": today + dt.timedelta(days=1)})
    assert entry_ids(r) == []
    assert "audit-empty" in r.content.decode()
    # 23:30 UTC on the day before is already today in Asia/Shanghai (UTC+8)
    import time_machine

    shanghai_morning = dt.datetime.combine(today, dt.time(7, 30), tzinfo=dt.UTC) - dt.timedelta(
        hours=8
    )
    with time_machine.travel(shanghai_morning, tick=False), audit_context(source="test"):
        early = Department.objects.create(code="early", name_zh="早", name_en="Early")
    r = c.get(URL, {"record": "早", "date_from": today, "date_to": today})
    assert entries_of(early)[0].id in entry_ids(r)
    yesterday = today - dt.timedelta(days=1)
    r = c.get(URL, {"record_type": "accounts.department", "date_to": yesterday})
    assert entries_of(early)[0].id not in entry_ids(r)


def test_each_row_expands_to_show_field_changes_and_reason(client_for, auditor, records):
    r = client_for(auditor).get(URL, {"record_type": "accounts.department", "record": "二部"})
    html = r.content.decode()
    update = entries_of(records["qa"])[0]
    assert f'id="entry-{update.id}"' in html
    assert "<details>" in html and "audit-changes" in html
    assert "质量二部" in html and "质量管理二部" in html  # old and new value
    assert "reorganisation" in html
    row = r.context["rows"][0]
    assert [(c["old_text"], c["new_text"]) for c in row.changes] == [("质量二部", "质量管理二部")]
    assert row.changes[0]["label"] != "name_zh"  # the field's verbose name


@pytest.mark.req("PLAT-2", "PLAT-6")
def test_trail_values_read_as_on_the_record_page(client_for, auditor, quality_user):
    """The trail shows values as the history panel does (one renderer): times in the company
    zone, related records by name, choices by label; never a UTC timestamp or a raw id."""
    from medvigil.core.calendar.models import CalendarYear

    year = CalendarYear.objects.select_related("calendar").first()
    assert year is not None
    r = client_for(auditor).get(URL, {"record_type": "core.calendaryear"})
    assert r.status_code == 200
    texts = [c["new_text"] for row in r.context["rows"] for c in row.changes]
    assert texts
    assert not any("+00:00" in str(t) for t in texts), texts
    assert str(year.calendar) in texts or year.calendar.code in " ".join(map(str, texts))
    assert f"/calendars/{year.calendar.code}/{year.year}/" in r.content.decode()  # record link


def test_history_link_filters_one_record(client_for, auditor, records):
    qa = records["qa"]
    r = client_for(auditor).get(
        URL, {"record_type": "accounts.department", "object_id": str(qa.pk)}
    )
    assert entry_ids(r) == [e.id for e in entries_of(qa)]
    assert 'id="history-of"' in r.content.decode()


def test_bad_filter_values_give_field_errors_not_500(client_for, auditor, records):
    c = client_for(auditor)
    r = c.get(URL, {"date_from": "2026-02-30"})
    assert r.status_code == 400
    assert "date_from" in r.context["form"].errors
    assert r.context["rows"] == []
    r = c.get(URL, {"date_from": "2026-02-02", "date_to": "2026-02-01"})
    assert r.status_code == 400 and "date_to" in r.context["form"].errors
    r = c.get(URL, {"record_type": "no.such", "action": "explode"})
    assert r.status_code == 400
    assert {"record_type", "action"} <= set(r.context["form"].errors)
    assert c.get(URL, {"page": "zzz"}).status_code == 200
    assert c.get(EXPORT, {"date_from": "nope"}).status_code == 400


def test_pagination_50_per_page(client_for, auditor):
    with audit_context(source="test"):
        Department.objects.bulk_create(
            [Department(code=f"p{i}", name_zh=f"批量{i}", name_en=f"P{i}") for i in range(60)]
        )
    c = client_for(auditor)
    first = c.get(URL, {"record_type": "accounts.department", "record": "批量"})
    assert len(entry_ids(first)) == 50
    assert "page=2" in first.content.decode()
    second = c.get(URL, {"record_type": "accounts.department", "record": "批量", "page": 2})
    assert len(entry_ids(second)) == first.context["page"].paginator.count - 50
    assert not set(entry_ids(first)) & set(entry_ids(second))


def test_list_query_count_does_not_grow_with_rows(client_for, auditor):
    c = client_for(auditor)
    with audit_context(source="test"):
        Department.objects.create(code="one", name_zh="一", name_en="One")
    c.get(URL)  # warm caches (content types, session)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(URL, {"record_type": "accounts.department"}).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    with audit_context(source="test"):
        for i in range(20):
            Department.objects.create(code=f"n{i}", name_zh=f"{i}", name_en=f"N{i}")
    assert count() == few


@pytest.mark.parametrize("role", [None, "sales", "service_engineer"])
def test_users_without_audit_permission_are_refused(client_for, make_user, role, records):
    user = make_user("someone", *([role] if role else []))
    c = client_for(user)
    assert c.get(URL).status_code == 403
    assert c.get(EXPORT).status_code == 403
    assert c.post("/audit/verify/").status_code == 403
    assert 'href="/audit/"' not in c.get("/").content.decode()


def test_anonymous_is_sent_to_login(client, records):
    r = client.get(URL)
    assert r.status_code == 302 and "/login/" in r["Location"]
    assert client.get(EXPORT).status_code == 302


def test_nav_entry_for_auditor_and_quality(client_for, auditor, quality_user):
    for user in (auditor, quality_user):
        assert 'href="/audit/"' in client_for(user).get("/").content.decode()


def test_csv_export_of_the_current_filter_with_bom(client_for, auditor, records):
    r = client_for(auditor).get(EXPORT, {"record_type": "accounts.department", "record": "二部"})
    assert r.status_code == 200
    assert r.streaming
    assert r["Content-Type"].startswith("text/csv")
    assert "attachment" in r["Content-Disposition"] and ".csv" in r["Content-Disposition"]
    raw = b"".join(r.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Chinese text
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert len(header) == 16
    update = entries_of(records["qa"])[0]
    # one row per changed field; the update changed one field
    upd_rows = [row for row in body if row[0] == str(update.id)]
    assert len(upd_rows) == 1
    row = upd_rows[0]
    assert row[2] == "wang" and row[4] == "ui" and row[6] == "accounts.department"
    assert row[7] == str(records["qa"].pk) and row[9] == "update" and row[11] == "reorganisation"
    assert row[12:] == ["name_zh", row[13], "质量二部", "质量管理二部"]
    local = timezone.localtime(update.timestamp).strftime("%Y-%m-%d %H:%M:%S")
    assert row[1] == local
    assert {r[0] for r in body} == {str(e.id) for e in entries_of(records["qa"])}
    assert not any(r[7] == str(records["other"].pk) for r in body)


def test_csv_cells_cannot_run_as_formulas(client_for, auditor):
    with audit_context(source="test"):
        d = Department.objects.create(code="f", name_zh="=HYPERLINK(1)", name_en="-5")
    r = client_for(auditor).get(
        EXPORT, {"record_type": "accounts.department", "object_id": str(d.pk)}
    )
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text
    assert ",-5," in text or ",-5\r\n" in text


def test_verify_now_shows_intact_then_the_first_bad_entry(client_for, quality_user, records):
    c = client_for(quality_user)
    page = c.get(URL).content.decode()
    assert 'id="audit-verify"' in page
    r = c.post("/audit/verify/", headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert 'id="verify-ok"' in r.content.decode()
    # an entry inserted outside the recorder (no valid hash, chain head not moved)
    last = entries_of(records["other"])[0]
    forged = AuditEntry(
        timestamp=timezone.now(),
        actor_name="intruder",
        source="sql",
        content_type=last.content_type,
        object_id=last.object_id,
        object_repr=last.object_repr,
        action="update",
        changes={"name_en": ["Operations", "Forged"]},
        seq=last.seq + 1,
        prev_hash=last.hash,
        hash="0" * 64,
    )
    forged.save()
    r = c.post("/audit/verify/", headers={"HX-Request": "true"})
    html = r.content.decode()
    assert 'id="verify-failed"' in html
    assert f"#{forged.id}" in html
    # without htmx the whole page is shown with the result
    r = c.post("/audit/verify/")
    assert r.status_code == 200 and 'id="verify-failed"' in r.content.decode()
    assert "audit-search" in r.content.decode()


def test_verify_needs_the_chain_permission(client_for, make_user, auditor, records):
    cs = make_user("cs", "customer_service")  # may read the trail, not run the full check
    c = client_for(cs)
    page = c.get(URL)
    assert page.status_code == 200 and 'id="audit-verify"' not in page.content.decode()
    assert c.post("/audit/verify/").status_code == 403
    r = client_for(auditor).post("/audit/verify/", headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'id="verify-ok"' in r.content.decode()


def test_changes_are_shown_in_the_models_field_order_whatever_the_storage_order():
    from medvigil.core.audit.search import change_rows, ordered_changes

    d = Department.objects.create(code="ord", name_zh="序", name_en="Order")
    entry = AuditEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Department),
        object_id=str(d.pk),
        action="create",
    )
    expected = [f.attname for f in Department._meta.concrete_fields if f.attname in entry.changes]
    assert [name for name, _pair in ordered_changes(entry.changes, Department)] == expected
    assert [row["field"] for row in change_rows(entry, None)] == expected


def test_search_by_request_id_and_by_display_name(client_for, auditor, make_user, records):
    li = make_user("lina", "quality", display_name="李娜 Li Na")
    with audit_context(actor=li, source="import", request_id="IMP-2026-00042"):
        imported = Department.objects.create(code="imp", name_zh="导入部", name_en="Imported")
    c = client_for(auditor)
    r = c.get(URL, {"request_id": "IMP-2026-00042"})
    assert r.status_code == 200
    assert entry_ids(r) == [e.id for e in entries_of(imported)]
    assert 'name="request_id"' in r.content.decode()
    r = c.get(URL, {"user": "李娜"})
    assert entry_ids(r) == [e.id for e in entries_of(imported)]


def test_record_link_opens_the_record_or_else_its_history(
    client_for, auditor, records, settings, tmp_path
):
    from django.core.files.base import ContentFile

    from medvigil.core.audit.views import record_urls
    from medvigil.core.models import ImportBatch

    settings.MEDIA_ROOT = tmp_path
    c = client_for(auditor)
    r = c.get(URL, {"record_type": "accounts.department"})
    # a department has no page of its own: the link is the record's history in the trail
    row = r.context["rows"][0]
    assert row.record_url == ""
    assert f'href="{row.history_url}"'.replace("&", "&amp;") in r.content.decode()
    assert f"object_id={row.entry.object_id}" in row.history_url
    # an import batch has a page: the link goes there
    with audit_context(actor=records["wang"], source="ui"):
        batch = ImportBatch(
            kind="x", number="IMP-T-1", original_name="a.csv", uploaded_by=records["wang"]
        )
        batch.file.save("a.csv", ContentFile(b"x"), save=False)
        batch.save()
    r = c.get(URL, {"record_type": "core.importbatch"})
    row = r.context["rows"][0]
    assert row.record_url == f"/imports/{batch.pk}/"
    assert f'href="/imports/{batch.pk}/"' in r.content.decode()
    # one query per record type on the page, not one per row (a page's worth of the newest
    # entries: the trail also holds the reference data loaded on migrate, e.g. 1,756 IMDRF
    # terms, and SQLite splits an IN of more than 999 keys into several queries)
    entries = list(AuditEntry.objects.select_related("content_type")[:500])
    assert len(entries) > 3
    linked_types = {
        e.content_type_id
        for e in entries
        if hasattr(e.content_type.model_class(), "get_absolute_url")
    }
    assert len(entries) > 2 * len(linked_types)
    ContentType.objects.clear_cache()  # as in a fresh process: no content-type lookups either
    with CaptureQueriesContext(connection) as ctx:
        record_urls(entries)
    # at most one per record type with a page (batches, users, calendars, calendar years …)
    assert len(ctx.captured_queries) <= len(linked_types)
