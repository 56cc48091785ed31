"""FBK-1: the feedback mailbox, read over IMAP from a real IMAP server (pymap, started here on
a free loopback port with its in-memory backend)."""

from __future__ import annotations

import imaplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from medvigil.complaints.models import Channel, Correspondence, Feedback
from medvigil.complaints.services import mailbox
from medvigil.complaints.tasks import read_feedback_mailbox
from medvigil.core.attachments.services import attachments_for
from medvigil.core.models import AuditEntry

pytestmark = pytest.mark.django_db

USER, PASSWORD = "feedback", "imap-test-pw"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def imap_server() -> Iterator[tuple[str, int]]:
    port = _free_port()
    proc = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [
            sys.executable,
            "-c",
            "import sys; from pymap.main import main; sys.exit(main())",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-tls",
            "--no-service",
            "admin",
            "dict",
            "--demo-user",
            USER,
            "--demo-password",
            PASSWORD,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"the IMAP test server did not start: {err}")
            time.sleep(0.2)
    yield ("127.0.0.1", port)
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def imap(imap_server: tuple[str, int], settings: Any) -> Iterator[imaplib.IMAP4]:
    host, port = imap_server
    settings.MAILBOX_IMAP_HOST = host
    settings.MAILBOX_IMAP_PORT = port
    settings.MAILBOX_IMAP_USER = USER
    settings.MAILBOX_IMAP_PASSWORD = PASSWORD
    settings.MAILBOX_IMAP_FOLDER = "INBOX"
    settings.MAILBOX_IMAP_TLS = "none"
    conn = imaplib.IMAP4(host, port)
    conn.login(USER, PASSWORD)
    conn.select("INBOX")
    # each test starts with an empty mailbox (the server lives for the module)
    typ, data = conn.uid("SEARCH", None, "ALL")
    if data[0]:
        conn.uid("STORE", b",".join(data[0].split()).decode(), "+FLAGS", "(\\Deleted)")
        conn.expunge()
    yield conn
    conn.logout()


def deliver(conn: imaplib.IMAP4, msg: EmailMessage) -> None:
    typ, _data = conn.append("INBOX", None, None, msg.as_bytes())
    assert typ == "OK"


def mail(subject: str, body: str, *, msgid: str, sender: str = "李工 <li@hospital.example>") -> Any:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "feedback@company.example"
    msg["Subject"] = subject
    msg["Message-ID"] = msgid
    msg["Date"] = "Tue, 01 Dec 2026 09:30:00 +0800"
    msg.set_content(body)
    return msg


def keywords(conn: imaplib.IMAP4) -> list[bytes]:
    """The messages the job marked as imported. pymap keeps no keywords of its own
    (PERMANENTFLAGS without \\*), so the job falls back to \\Seen there."""
    conn.noop()
    typ, data = conn.uid("SEARCH", None, "SEEN")
    return (data[0] or b"").split()


@pytest.mark.req("FBK-1")
def test_an_email_with_an_attachment_becomes_a_record_with_the_attachment(
    imap: imaplib.IMAP4,
) -> None:
    msg = mail(
        "呼吸机报警异常", "呼吸机在夜间频繁误报警，请尽快处理。", msgid="<a1@hospital.example>"
    )
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="报警记录.pdf")
    deliver(imap, msg)
    assert read_feedback_mailbox.call_local() == 1
    fb = Feedback.objects.get()
    assert fb.channel == Channel.EMAIL
    assert fb.title == "呼吸机报警异常"
    assert "频繁误报警" in fb.description
    assert fb.complainant_email == "li@hospital.example" and fb.complainant_name == "李工"
    assert fb.source_reference == "<a1@hospital.example>"
    assert fb.language == "zh-hans"
    files = list(attachments_for(fb))
    assert [a.original_name for a in files] == ["报警记录.pdf"]
    assert files[0].uploaded_by.username == "system-mailbox"
    assert not files[0].uploaded_by.is_active
    # marked on the server
    assert len(keywords(imap)) == 1
    # audited as the mailbox, not as a person
    entry = AuditEntry.objects.filter(object_id=str(fb.pk), action="create").first()
    assert entry is not None and "mailbox" in (entry.actor_name or "")


@pytest.mark.req("FBK-1")
def test_a_reply_threads_onto_the_record_by_its_number(imap: imaplib.IMAP4) -> None:
    deliver(imap, mail("Infusion pump alarm", "The occlusion alarm did not sound.", msgid="<b1@x>"))
    assert mailbox.fetch_mailbox() == 1
    fb = Feedback.objects.get()
    reply = mail(f"Re: [{fb.number}] Infusion pump alarm", "Photos attached.", msgid="<b2@x>")
    reply.add_attachment(
        b"\x89PNG\r\n\x1a\n" + b"\0" * 40, maintype="image", subtype="png", filename="pump.png"
    )
    deliver(imap, reply)
    assert mailbox.fetch_mailbox() == 1
    assert Feedback.objects.count() == 1
    msgs = list(Correspondence.objects.filter(feedback=fb).order_by("id"))
    assert [m.message_id for m in msgs] == ["<b1@x>", "<b2@x>"]
    assert msgs[1].body == "Photos attached." and msgs[1].direction == "in"
    assert "pump.png" in [a.original_name for a in attachments_for(fb)]
    # a reply naming no number but answering our message also threads
    third = mail("Re: your answer", "Thanks.", msgid="<b3@x>")
    third["In-Reply-To"] = "<b2@x>"
    deliver(imap, third)
    assert mailbox.fetch_mailbox() == 1
    assert Feedback.objects.count() == 1 and fb.messages.count() == 3


@pytest.mark.req("FBK-1")
def test_never_imported_twice_even_when_the_job_died_before_marking(
    imap: imaplib.IMAP4, monkeypatch: Any
) -> None:
    deliver(imap, mail("Monitor screen", "Screen flickers.", msgid="<c1@x>"))
    deliver(imap, mail("Monitor cable", "Cable loose.", msgid="<c2@x>"))

    # the job dies after the first message was committed, before it was marked on the server
    def die(*args: Any) -> None:
        raise ConnectionResetError("worker killed")

    monkeypatch.setattr(mailbox, "_mark", die)
    with pytest.raises(ConnectionResetError):
        mailbox.fetch_mailbox()
    assert Feedback.objects.count() == 1 and keywords(imap) == []
    monkeypatch.undo()
    # the next run finds the first one already imported, marks it, imports the second
    assert mailbox.fetch_mailbox() == 2
    assert Feedback.objects.count() == 2
    assert sorted(Feedback.objects.values_list("source_reference", flat=True)) == [
        "<c1@x>",
        "<c2@x>",
    ]
    assert len(keywords(imap)) == 2
    # and a run with nothing new does nothing
    assert mailbox.fetch_mailbox() == 0
    assert Feedback.objects.count() == 2


@pytest.mark.req("FBK-1")
def test_a_message_without_message_id_is_keyed_by_its_bytes(imap: imaplib.IMAP4) -> None:
    msg = mail("No id", "Body text.", msgid="<tmp@x>")
    del msg["Message-ID"]
    raw = msg.as_bytes()
    first = mailbox.message_to_feedback(raw)
    again = mailbox.message_to_feedback(raw)
    assert first.pk == again.pk and Feedback.objects.count() == 1
    assert first.source_reference.startswith("sha256:")


@pytest.mark.req("FBK-1")
def test_refused_attachment_is_named_on_the_message_not_lost(imap: imaplib.IMAP4) -> None:
    msg = mail("Setup.exe attached", "See the program.", msgid="<d1@x>")
    msg.add_attachment(
        b"MZ\x90\x00" * 10, maintype="application", subtype="octet-stream", filename="setup.exe"
    )
    deliver(imap, msg)
    assert mailbox.fetch_mailbox() == 1
    fb = Feedback.objects.get()
    assert list(attachments_for(fb)) == []
    assert "setup.exe" in fb.messages.get().body


@pytest.mark.req("FBK-1")
def test_wrong_password_is_a_mailbox_error_and_the_job_survives(
    imap: imaplib.IMAP4, settings: Any
) -> None:
    settings.MAILBOX_IMAP_PASSWORD = "wrong"
    with pytest.raises(mailbox.MailboxError):
        mailbox.fetch_mailbox()
    assert read_feedback_mailbox.call_local() == 0
    settings.MAILBOX_IMAP_HOST = ""
    assert mailbox.fetch_mailbox() == 0


class _Selected:
    def __init__(self, permanent: bytes) -> None:
        self.permanent = permanent

    def response(self, code: str) -> tuple[str, list[bytes]]:
        return code, [self.permanent]


@pytest.mark.req("FBK-1")
def test_the_keyword_is_used_where_the_server_keeps_keywords() -> None:
    kw = "$MedVigilImported"
    assert mailbox.marking_flag(_Selected(b"(\\Seen \\Deleted \\*)"), kw) == kw
    assert mailbox.marking_flag(_Selected(b"(\\Seen $MedVigilImported)"), kw) == kw
    assert mailbox.marking_flag(_Selected(b"(\\Answered \\Seen)"), kw) == "\\Seen"


@pytest.mark.req("FBK-1")
def test_a_bad_sender_address_does_not_block_the_message() -> None:
    msg = mail("Broken sender", "Text.", msgid="<e1@x>", sender="Someone <not an address@>")
    fb = mailbox.message_to_feedback(msg.as_bytes())
    assert fb.complainant_email == "" and fb.description == "Text."
