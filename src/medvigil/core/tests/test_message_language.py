"""Stored messages are shown in the reader's language, not the writer's (PLAT-6): import
errors and notes (page, CSV report, API) and notifications. Rows stored before keep their
text."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from medvigil.core.i18n import Msg, gettext_msg, render, to_data, validation_messages
from medvigil.core.models import ImportBatch, Notification
from medvigil.core.notifications.services import notify

from .test_imports import csv_bytes, upload

pytestmark = [pytest.mark.req("PLAT-6")]

BAD_ROWS = [
    ["Code", "Chinese name", "English name", "Active", "Extra"],
    ["d2", "二部", "Two", "maybe", "x"],  # row 2: bad bool
    ["d3", "三部", "T" * 101, "1", ""],  # row 3: too long
]
ZH_BOOL = "请输入“是”或“否”（yes/no）。"
EN_BOOL = "Enter yes or no (是/否)."


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def zh_uploader(make_user):
    return make_user("imp", "quality", "admin", department="quality", language="zh-hans")


@pytest.fixture
def en_reader(make_user):
    return make_user("reader", "quality", department="quality", language="en")


def test_a_message_keeps_its_id_and_parameters_and_renders_in_any_language():
    with translation.override("zh-hans"):
        m = gettext_msg("At most %(n)d characters (this has %(m)d).") % {"n": 3, "m": 5}
        assert m == "最多 3 个字符（当前 5 个）。"  # a str in the language of the moment
        lazy = format_lazy("{}: {}", gettext_lazy("Destruction approved"), "DR-1")
        alert = format_lazy(gettext_lazy("Overdue: {title}"), title=lazy)
        data = [to_data(m), to_data(lazy), to_data(gettext_lazy("row")), to_data("plain")]
        data.append(to_data(alert))
    with translation.override("en"):
        assert [render(d) for d in data] == [
            "At most 3 characters (this has 5).",
            "Destruction approved: DR-1",
            "row",
            "plain",
            "Overdue: Destruction approved: DR-1",
        ]
    with translation.override("zh-hans"):
        assert render(data[1]) == "销毁已批准: DR-1"
    assert isinstance(Msg("row"), str)


def test_django_validation_messages_stay_translatable():
    from django.core.validators import MaxLengthValidator

    with translation.override("zh-hans"):
        try:
            MaxLengthValidator(2)("abcd")
        except ValidationError as exc:
            [(_field, message)] = validation_messages(exc)
        data = to_data(message)
    with translation.override("en"):
        assert render(data) == "Ensure this value has at most 2 characters (it has 4)."


@pytest.mark.django_db
def test_import_errors_written_in_chinese_are_read_in_english(zh_uploader, en_reader, client_for):
    batch = upload(zh_uploader, csv_bytes(BAD_ROWS))
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.errors_preview[0]["msg"] == ZH_BOOL  # written in the uploader's language
    assert batch.message_data == {"id": "Columns not used: %(cols)s.", "p": {"cols": "Extra"}}

    en = client_for(en_reader)
    page = en.get(reverse("import_detail", args=[batch.pk])).content.decode()
    assert EN_BOOL in page and ZH_BOOL not in page
    assert "At most 100 characters (this has 101)." in page
    assert "Columns not used: Extra." in page

    report = b"".join(en.get(reverse("import_errors", args=[batch.pk])).streaming_content)
    lines = list(csv.reader(io.StringIO(report.decode("utf-8-sig"))))
    assert lines[0] == ["row", "column", "value", "message"]
    assert ["2", "Active", "maybe", EN_BOOL] in lines

    api = en.get(f"/api/v1/imports/{batch.number}").json()
    assert api["errors"][0]["message"] == EN_BOOL
    assert api["message"] == "Columns not used: Extra."

    zh = client_for(zh_uploader)
    report = b"".join(zh.get(reverse("import_errors", args=[batch.pk])).streaming_content)
    lines = list(csv.reader(io.StringIO(report.decode("utf-8-sig"))))
    assert lines[0][0] == "行" and ["2", "Active", "maybe", ZH_BOOL] in lines


@pytest.mark.django_db
def test_batches_stored_before_show_their_text_and_report_as_written(
    zh_uploader, en_reader, client_for
):
    batch = upload(zh_uploader, csv_bytes(BAD_ROWS))
    ImportBatch.objects.filter(pk=batch.pk).update(
        message="旧的消息",
        message_data=None,
        errors_preview=[{"row": 2, "column": "Active", "value": "x", "msg": "旧的错误"}],
    )
    batch.refresh_from_db()
    batch.error_report.save("old-errors.csv", ContentFile("行,列\n2,旧\n".encode()), save=True)
    c = client_for(en_reader)
    page = c.get(reverse("import_detail", args=[batch.pk])).content.decode()
    assert "旧的消息" in page and "旧的错误" in page
    r = c.get(reverse("import_errors", args=[batch.pk]))
    assert b"".join(r.streaming_content).decode() == "行,列\n2,旧\n"


@pytest.mark.django_db
def test_a_notification_is_read_in_the_language_of_the_reader(make_user, client_for):
    user = make_user("wang", "quality", department="quality", language="zh-hans")
    notify(
        [user],
        format_lazy("{}: {}", gettext_lazy("Destruction approved"), "DR-2026-00001"),
        body=gettext_lazy("row"),
        email=False,
    )
    n = Notification.objects.get(user=user)
    assert n.title == "销毁已批准: DR-2026-00001"  # as sent (the e-mail's language)
    user.language = "en"
    user.save()
    page = client_for(user).get(reverse("notifications") + "?show=all").content.decode()
    assert "Destruction approved: DR-2026-00001" in page
    assert "销毁已批准" not in page
    # a notification stored before (plain text only) is shown as written
    Notification.objects.create(user=user, title="旧的通知", body="")
    page = client_for(user).get(reverse("notifications") + "?show=all").content.decode()
    assert "旧的通知" in page
