"""FBK-1, PLAT-11: the public feedback form (/public/feedback/) and its status page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from medvigil.complaints.models import Channel, Correspondence, Feedback
from medvigil.complaints.services import public
from medvigil.core.attachments.services import attachments_for

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
URL = "/public/feedback/"


@pytest.fixture(autouse=True)
def _fresh_limits(settings: Any) -> Any:
    cache.clear()
    settings.PUBLIC_FEEDBACK_MIN_SECONDS = 0
    yield
    cache.clear()


def form_data(client: Any, **extra: Any) -> dict[str, Any]:
    page = client.get(URL)
    started = re.search(r'name="started" value="([^"]+)"', page.content.decode())
    assert started, "the form carries its signed start time"
    data = {
        "kind": "complaint",
        "complainant_name": "王护士长",
        "complainant_organisation": "杭州市第二医院",
        "complainant_phone": "13900000001",
        "complainant_email": "wang@example.com",
        "title": "监护仪屏幕闪烁",
        "description": "监护仪开机后屏幕持续闪烁，无法读数。",
        "patient_involvement": "none",
        "customer_wants": ["repair"],
        "website": "",
        "started": started.group(1),
    }
    data.update(extra)
    return data


def post(client: Any, data: dict[str, Any], **kw: Any) -> Any:
    return client.post(URL, data, **kw)


@pytest.mark.req("FBK-1")
def test_public_form_registers_feedback_and_gives_a_tracking_code() -> None:
    c = Client()
    page = c.get(URL)
    assert page.status_code == 200
    photo = SimpleUploadedFile("screen.png", PNG, content_type="image/png")
    r = post(c, {**form_data(c), "photos": [photo]})
    assert r.status_code == 302
    fb = Feedback.objects.get()
    assert fb.channel == Channel.WEB and fb.kind == "complaint"
    assert fb.complainant_name == "王护士长" and fb.title == "监护仪屏幕闪烁"
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{16}", fb.public_code)
    assert r["Location"] == f"/public/feedback/{fb.public_code}/?new=1"
    assert [a.original_name for a in attachments_for(fb)] == ["screen.png"]
    status = c.get(r["Location"])
    assert status.status_code == 200
    body = status.content.decode()
    assert fb.public_code in body and fb.number in body and "监护仪屏幕闪烁" in body


@pytest.mark.req("FBK-1", "PLAT-11")
def test_status_page_shows_only_what_the_customer_may_see(cs_user: Any) -> None:
    c = Client()
    post(
        c,
        form_data(
            c,
            patient_involvement="injury",
            patient_details="患者李某手臂擦伤",
            complainant_address="杭州市解放路1号",
        ),
    )
    fb = Feedback.objects.get()
    # an internal note and a reply sent to the customer
    Correspondence.objects.create(
        feedback=fb,
        direction="in",
        channel="phone",
        at=fb.received_at,
        body="内部记录：经销商态度差",
    )
    Correspondence.objects.create(
        feedback=fb,
        direction="out",
        channel="email",
        at=fb.received_at,
        subject="回复",
        body="我们将于两日内上门维修。",
    )
    body = Client().get(f"/public/feedback/{fb.public_code}/").content.decode()
    assert "我们将于两日内上门维修。" in body
    for secret in (
        "王护士长",
        "13900000001",
        "wang@example.com",
        "杭州市解放路1号",
        "患者李某手臂擦伤",
        "内部记录",
        "杭州市第二医院",
    ):
        assert secret not in body, secret


@pytest.mark.req("FBK-1")
def test_tracking_code_is_unguessable_and_unknown_codes_give_404() -> None:
    codes = {public.new_tracking_code() for _i in range(500)}
    assert len(codes) == 500  # 80 random bits: no repeats
    assert all(len(c) == public.CODE_LENGTH for c in codes)
    assert len(public.CODE_ALPHABET) ** public.CODE_LENGTH >= 2**80
    c = Client()
    post(c, form_data(c))
    fb = Feedback.objects.get()
    # the record's number or id is not a key to the page
    for guess in (fb.number, str(fb.pk), fb.public_code[:-1], "0" * 16):
        r = Client().get(f"/public/feedback/{guess}/")
        assert r.status_code == 404
        assert "监护仪" not in r.content.decode()
    # typed in lower case with dashes still found
    typed = "-".join([fb.public_code[:8].lower(), fb.public_code[8:]])
    assert Client().get(f"/public/feedback/{typed}/").status_code == 200
    follow = Client().get("/public/feedback/follow/", {"code": f" {typed} "})
    assert follow.status_code == 302


@pytest.mark.req("FBK-1")
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"description": ""}, "This field is required."),
        ({"complainant_email": "not-an-address", "complainant_phone": ""}, "valid email"),
        ({"complainant_email": "", "complainant_phone": ""}, "Give an e-mail address or a phone"),
        ({"description": "长" * 5001}, "at most 5000 characters"),
        ({"title": "x" * 201}, "at most 200 characters"),
        ({"kind": "spam"}, "Select a valid choice"),
        ({"customer_wants": ["free money"]}, "Select a valid choice"),
        ({"occurred_at": "yesterday-ish"}, "Enter a valid date/time"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(change: dict[str, Any], message: str) -> None:
    c = Client()
    r = post(c, form_data(c, **change))
    assert r.status_code == 400
    assert message in r.content.decode()
    assert not Feedback.objects.exists()


@pytest.mark.req("FBK-1")
def test_oversized_and_disguised_files_are_refused(settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1024
    c = Client()
    big = SimpleUploadedFile("big.png", PNG + b"\x00" * 2048, content_type="image/png")
    r = post(c, {**form_data(c), "photos": [big]})
    assert r.status_code == 400 and "the largest allowed is 1 KB" in r.content.decode()
    fake = SimpleUploadedFile("virus.png", b"MZ\x90\x00" + b"\x00" * 60, content_type="image/png")
    r = post(c, {**form_data(c), "photos": [fake]})
    assert r.status_code == 400 and "is not a PNG file" in r.content.decode()
    many = [SimpleUploadedFile(f"p{i}.png", PNG, content_type="image/png") for i in range(6)]
    r = post(c, {**form_data(c), "photos": many})
    assert r.status_code == 400 and "Send at most 5 files." in r.content.decode()
    assert not Feedback.objects.exists()


@pytest.mark.req("FBK-1")
def test_nul_bytes_are_refused_not_a_500() -> None:
    c = Client()
    r = post(c, form_data(c, description="坏\x00数据"))
    assert r.status_code == 400
    assert "NUL" in r.content.decode()
    assert Client().get("/public/feedback/AB%00CD/").status_code in (400, 404)
    assert not Feedback.objects.exists()


@pytest.mark.req("FBK-1")
def test_repeated_submission_is_refused() -> None:
    c = Client()
    data = form_data(c)
    assert post(c, data).status_code == 302
    again = post(c, form_data(c))
    assert again.status_code == 400
    assert "already received this message" in again.content.decode()
    assert Feedback.objects.count() == 1


@pytest.mark.req("FBK-1")
def test_honeypot_and_too_fast_and_forged_time_are_refused(settings: Any) -> None:
    c = Client()
    r = post(c, form_data(c, website="http://spam.example"))
    assert r.status_code == 400 and "could not be checked" in r.content.decode()
    r = post(c, form_data(c, started="1700000000:forged"))
    assert r.status_code == 400 and "could not be checked" in r.content.decode()
    settings.PUBLIC_FEEDBACK_MIN_SECONDS = 30
    r = post(c, form_data(c))
    assert r.status_code == 400 and "sent too quickly" in r.content.decode()
    assert not Feedback.objects.exists()


@pytest.mark.req("FBK-1")
def test_rate_limited_per_client_address(settings: Any) -> None:
    settings.PUBLIC_FEEDBACK_RATE_LIMIT = 2
    c = Client()
    for i in range(2):
        r = post(c, form_data(c, description=f"第{i}次：设备报警"), REMOTE_ADDR="203.0.113.7")
        assert r.status_code == 302
    r = post(c, form_data(c, description="第三次"), REMOTE_ADDR="203.0.113.7")
    assert r.status_code == 429 and "Too many messages" in r.content.decode()
    # another address is not affected
    r = post(c, form_data(c, description="另一家医院"), REMOTE_ADDR="203.0.113.8")
    assert r.status_code == 302
    assert Feedback.objects.count() == 3


@pytest.mark.req("FBK-1")
def test_status_lookups_are_rate_limited(settings: Any) -> None:
    settings.PUBLIC_FEEDBACK_STATUS_LIMIT = 3
    c = Client()
    codes = [c.get(f"/public/feedback/{'A' * 16}/").status_code for _i in range(4)]
    assert codes == [404, 404, 404, 429]


@pytest.mark.req("FBK-1")
def test_public_pages_in_both_languages_without_inline_script() -> None:
    c = Client()
    zh = c.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "客户反馈" in zh.content.decode()
    c.post("/language/", {"language": "en", "next": URL})
    en = c.get(URL)
    body = en.content.decode()
    assert "Customer feedback" in body
    assert 'name="language" value="zh-hans"' in body  # the switch back
    policy = en["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    for match in re.finditer(r"<script\b([^>]*)>", body):
        assert "src=" in match.group(1)
    assert not re.search(r"\son[a-z]+\s*=", body)
    assert 'name="viewport" content="width=device-width' in body
