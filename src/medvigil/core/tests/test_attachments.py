"""PLAT-9: attachments on any record, with size and type limits; PLAT-2: uploads and voids
are audited; ARCHITECTURE rule 6: files only reach users who may see the record."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from medvigil.accounts.models import Department
from medvigil.core.attachments.services import attach, void_attachment
from medvigil.core.audit import audit_context
from medvigil.core.models import Attachment, AuditEntry, DestructionRequest

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-9")]

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def record(quality_user):
    with audit_context(actor=quality_user):
        return DestructionRequest.objects.create(
            number="DR-2026-00001",
            content_type=ContentType.objects.get_for_model(Department),
            object_id="1",
            object_repr="Old department",
            reason="Retention expired",
            requested_by=quality_user,
        )


def upload_url(obj):
    ct = ContentType.objects.get_for_model(obj)
    return reverse("attachment_upload", args=[ct.app_label, ct.model, obj.pk])


def panel_url(obj):
    ct = ContentType.objects.get_for_model(obj)
    return reverse("attachment_panel", args=[ct.app_label, ct.model, obj.pk])


def pdf(name="report.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def stored_files(media):
    return [p for p in Path(media).rglob("*") if p.is_file()] if Path(media).exists() else []


@pytest.mark.req("PLAT-2")
def test_upload_stores_the_file_by_hash_and_audits_it(quality_user, client_for, record, media):
    r = client_for(quality_user).post(
        upload_url(record), {"file": pdf("检验报告.pdf"), "description": "Test report"}
    )
    assert r.status_code == 302
    att = Attachment.objects.get()
    sha = hashlib.sha256(PDF).hexdigest()
    assert att.sha256 == sha and att.size == len(PDF)
    assert att.record == record and att.uploaded_by == quality_user
    assert att.original_name == "检验报告.pdf" and att.description == "Test report"
    assert att.file.name == f"attachments/core/{sha[:2]}/{sha}"
    assert (Path(media) / att.file.name).read_bytes() == PDF
    assert att.content_type_header == "application/pdf"
    # PLAT-2: the upload is in the trail, with the user, on the attachment and on the record.
    entry = AuditEntry.objects.get(
        content_type=ContentType.objects.get_for_model(Attachment), object_id=str(att.pk)
    )
    assert entry.action == "create" and entry.actor == quality_user and entry.source == "ui"
    assert entry.changes["sha256"] == [None, sha]
    event = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(DestructionRequest),
        object_id=str(record.pk),
        action="event",
    ).get()
    assert event.changes["event"] == [None, "attachment added"]
    assert event.actor == quality_user


def test_htmx_upload_returns_the_refreshed_panel(quality_user, client_for, record):
    r = client_for(quality_user).post(upload_url(record), {"file": pdf()}, HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert r.status_code == 200
    assert "report.pdf" in html and "attached" in html
    assert f'id="attachments-core-destructionrequest-{record.pk}"' in html


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("huge.pdf", PDF + b"x" * 2048, "the largest allowed is 1 KB"),
        ("setup.exe", EXE, "Allowed types: pdf"),
        ("page.html", b"<html><script>alert(1)</script></html>", "Allowed types"),
        ("noextension", PDF, "Allowed types"),
        ("report.pdf", EXE, "is not a PDF file"),  # a renamed program
        ("notes.txt", EXE, "is not a TXT file"),
        ("photo.jpg", PNG, "is not a JPG file"),  # content does not match the name
        ("sheet.xlsx", PDF, "is not a XLSX file"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_bad_uploads_are_refused_with_a_clear_message_and_nothing_is_stored(
    quality_user, client_for, record, media, settings, name, content, expected
):
    settings.ATTACHMENT_MAX_BYTES = 1024
    r = client_for(quality_user).post(
        upload_url(record), {"file": SimpleUploadedFile(name, content)}, HTTP_HX_REQUEST="true"
    )
    assert r.status_code == 200
    assert expected in r.content.decode()
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_service_refuses_bad_files_with_field_errors(quality_user, record, settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ValidationError) as e:
        attach(record, uploaded_file=pdf(), by=quality_user)
    assert "file" in e.value.message_dict
    assert "10 B" in e.value.message_dict["file"][0]


def test_text_and_office_files_are_accepted(quality_user, record):
    csv = SimpleUploadedFile("投诉.csv", "编号,日期\nFB-1,2026-01-01\n".encode("gb18030"))
    xlsx = SimpleUploadedFile("data.xlsx", b"PK\x03\x04" + b"\x00" * 40)
    png = SimpleUploadedFile("photo.png", PNG)
    for f in (csv, xlsx, png):
        attach(record, uploaded_file=f, by=quality_user)
    assert Attachment.objects.count() == 3


def test_identical_content_is_stored_once(quality_user, record, media):
    a = attach(record, uploaded_file=pdf("a.pdf"), by=quality_user)
    b = attach(record, uploaded_file=pdf("b.pdf"), by=quality_user)
    assert a.file.name == b.file.name
    assert len(stored_files(media)) == 1


def test_download_streams_the_file_to_a_user_who_can_see_the_record(
    quality_user, auditor, client_for, record
):
    att = attach(record, uploaded_file=pdf("检验报告.pdf"), by=quality_user)
    for user in (quality_user, auditor):
        r = client_for(user).get(reverse("attachment_download", args=[att.pk]))
        assert r.status_code == 200
        assert b"".join(r.streaming_content) == PDF
        assert r["Content-Type"] == "application/pdf"
        assert r["Content-Disposition"].startswith("attachment;")
        assert "filename*=utf-8''" in r["Content-Disposition"]
        assert r["X-Content-Type-Options"] == "nosniff"
    r = client_for(quality_user).get(reverse("attachment_download", args=[att.pk]) + "?inline=1")
    assert r["Content-Disposition"].startswith("inline;")


def test_download_is_refused_to_an_outsider_and_to_a_user_who_cannot_see_the_record(
    quality_user, outsider, make_user, client_for, record, client
):
    att = attach(record, uploaded_file=pdf(), by=quality_user)
    # "technical" may view and add attachments, but not destruction requests.
    tech = make_user("tech", "technical", department="technical")
    assert tech.has_perm("core.view_attachment")
    url = reverse("attachment_download", args=[att.pk])
    assert client_for(outsider).get(url).status_code == 404
    assert client_for(tech).get(url).status_code == 404
    assert client.get(url).status_code == 302  # anonymous: to the login page
    assert (
        client_for(quality_user).get(reverse("attachment_download", args=[9999])).status_code == 404
    )


def test_media_files_are_not_served_directly(quality_user, client_for, record):
    att = attach(record, uploaded_file=pdf(), by=quality_user)
    assert client_for(quality_user).get(f"/media/{att.file.name}").status_code == 404


def test_auditor_cannot_upload(auditor, client_for, record, media):
    r = client_for(auditor).post(upload_url(record), {"file": pdf()})
    assert r.status_code == 403
    assert not Attachment.objects.exists() and stored_files(media) == []
    with pytest.raises(PermissionDenied):
        attach(record, uploaded_file=pdf(), by=auditor)


def test_upload_to_an_invisible_or_unknown_record_is_a_404(outsider, make_user, client_for, record):
    tech = make_user("tech", "technical", department="technical")
    assert client_for(tech).post(upload_url(record), {"file": pdf()}).status_code == 404
    assert client_for(outsider).post(upload_url(record), {"file": pdf()}).status_code == 404
    bad = reverse("attachment_upload", args=["core", "nosuchmodel", "1"])
    assert client_for(tech).post(bad, {"file": pdf()}).status_code == 404
    not_attachable = reverse("attachment_upload", args=["core", "auditentry", "1"])
    assert client_for(tech).post(not_attachable, {"file": pdf()}).status_code == 404
    assert not Attachment.objects.exists()


@pytest.mark.req("PLAT-2")
def test_void_needs_a_reason_keeps_the_file_and_is_audited(quality_user, client_for, record):
    att = attach(record, uploaded_file=pdf(), by=quality_user)
    c = client_for(quality_user)
    url = reverse("attachment_void", args=[att.pk])
    r = c.post(url, {"reason": "", "version": att.version}, HTTP_HX_REQUEST="true")
    assert "Give a reason" in r.content.decode()
    att.refresh_from_db()
    assert not att.voided
    r = c.post(url, {"reason": "Wrong record", "version": att.version}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "voided" in r.content.decode()
    att.refresh_from_db()
    assert att.voided and att.void_reason == "Wrong record"
    last = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Attachment), object_id=str(att.pk)
    ).order_by("-seq")[0]
    assert last.changes["voided"] == [False, True] and last.reason == "Wrong record"
    assert last.actor == quality_user
    # still downloadable as part of the record; never hard-deleted
    assert c.get(reverse("attachment_download", args=[att.pk])).status_code == 200
    with pytest.raises(PermissionDenied):
        att.delete()
    with pytest.raises(ValidationError):
        void_attachment(att, quality_user, "again", version=att.version)


def test_void_with_a_stale_version_is_a_conflict(quality_user, client_for, record):
    att = attach(record, uploaded_file=pdf(), by=quality_user)
    r = client_for(quality_user).post(
        reverse("attachment_void", args=[att.pk]),
        {"reason": "x", "version": att.version + 5},
        HTTP_HX_REQUEST="true",
    )
    assert "changed by someone else" in r.content.decode()
    att.refresh_from_db()
    assert not att.voided


def test_only_the_uploader_or_a_holder_of_change_permission_may_void(
    quality_user, auditor, make_user, client_for, record
):
    att = attach(record, uploaded_file=pdf(), by=quality_user)
    r = client_for(auditor).post(reverse("attachment_void", args=[att.pk]), {"reason": "x"})
    assert r.status_code == 403
    other = make_user("other", "customer_service")  # may add attachments, cannot see the record
    r = client_for(other).post(reverse("attachment_void", args=[att.pk]), {"reason": "x"})
    assert r.status_code == 404
    att.refresh_from_db()
    assert not att.voided


def test_panel_tag_lists_files_and_offers_upload_only_to_those_who_may(
    quality_user, auditor, record
):
    attach(record, uploaded_file=pdf("a.pdf"), by=quality_user)
    v = attach(record, uploaded_file=pdf("b.pdf", PDF + b" "), by=quality_user)
    void_attachment(v, quality_user, "duplicate", version=v.version)
    tpl = Template("{% load attachments %}{% attachments_panel obj %}")

    def render(user):
        request = RequestFactory().get("/x/")
        request.user = user
        return tpl.render(Context({"obj": record, "request": request}))

    html = render(quality_user)
    assert "a.pdf" in html and 'enctype="multipart/form-data"' in html
    assert "<del>" in html and "duplicate" in html  # voided ones stay visible, struck out
    assert "Void attachment" in html
    html = render(auditor)
    assert "a.pdf" in html and 'enctype="multipart/form-data"' not in html
    assert "Void attachment" not in html


def test_panel_view_and_empty_state(quality_user, outsider, client_for, record):
    r = client_for(quality_user).get(panel_url(record))
    assert r.status_code == 200 and "data-empty" in r.content.decode()
    assert client_for(outsider).get(panel_url(record)).status_code == 404


def test_without_htmx_errors_come_back_as_messages_and_nothing_changes(
    quality_user, client_for, record
):
    c = client_for(quality_user)
    r = c.post(upload_url(record), {"file": SimpleUploadedFile("x.exe", EXE)}, follow=False)
    assert r.status_code == 302
    r = c.post(upload_url(record), {"description": "no file"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "is-invalid" in r.content.decode()
    bad_id = reverse("attachment_upload", args=["core", "destructionrequest", "not-a-number"])
    assert c.post(bad_id, {"file": pdf()}).status_code == 404
    assert not Attachment.objects.exists()
