"""FBK-1: the e-mail mailbox read over IMAP by a periodic job (complaints/tasks.py).

Each new message becomes a feedback record (channel "e-mail", audited as the mailbox) with its
attachments, or, when its subject names an existing record's number (or it answers one of our
messages), a Correspondence "in" on that record.

Never twice, even when the job dies half-way:
- a message is imported in one database transaction that also stores its Message-ID (or, for a
  message without one, a digest of its bytes) as Correspondence.message_id;
- before importing, that key is looked up: a message already imported is only marked;
- marking is an IMAP keyword (MAILBOX_IMAP_KEYWORD, "$MedVigilImported") set *after* the
  commit, on the message's UID; the job asks only for messages without it. A crash between the
  commit and the marking leaves the message unmarked, and the next run finds its key and marks
  it. Messages are fetched with BODY.PEEK, so \\Seen stays as people left it.
- a server that keeps no keywords of its own (PERMANENTFLAGS without \\* or the keyword) is
  marked with \\Seen instead, and only unseen messages are read: give the job a mailbox of
  its own then, as a person reading it would mark messages seen before the job took them.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import hashlib
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.html import strip_tags

from medvigil.core.attachments.services import attach
from medvigil.core.audit import audit_context

from ..models import Channel, Correspondence, Feedback
from .channel_accounts import channel_account

logger = logging.getLogger(__name__)

SOURCE = "mailbox"
# Record numbers as the numbering service makes them (FB-2026-00042, or a company scheme with
# another prefix): the subject's candidates are looked up, never guessed.
NUMBER_RE = re.compile(r"[A-Za-z][A-Za-z0-9]{0,9}-\d{2,4}-\d{1,9}")
CJK_RE = re.compile(r"[\u4e00-\u9fff]")
TITLE_MAX = 200


class MailboxError(Exception):
    """The mailbox could not be read (connection, login, folder)."""


@dataclass(frozen=True)
class MailboxConfig:
    host: str
    port: int
    user: str
    password: str
    folder: str
    tls: str  # "ssl" (implicit TLS), "starttls" or "none"
    keyword: str

    @classmethod
    def from_settings(cls) -> MailboxConfig:
        tls = str(getattr(settings, "MAILBOX_IMAP_TLS", "ssl")).lower()
        default_port = 993 if tls == "ssl" else 143
        return cls(
            host=str(getattr(settings, "MAILBOX_IMAP_HOST", "")),
            port=int(getattr(settings, "MAILBOX_IMAP_PORT", 0) or default_port),
            user=str(getattr(settings, "MAILBOX_IMAP_USER", "")),
            password=str(getattr(settings, "MAILBOX_IMAP_PASSWORD", "")),
            folder=str(getattr(settings, "MAILBOX_IMAP_FOLDER", "INBOX") or "INBOX"),
            tls=tls,
            keyword=str(getattr(settings, "MAILBOX_IMAP_KEYWORD", "$MedVigilImported")),
        )


# --- reading a message ---------------------------------------------------------------------


def _text(value: Any) -> str:
    return str(value or "").replace("\x00", "").strip()


def message_key(message: EmailMessage, raw: bytes) -> str:
    """The message's identity for "never twice": its Message-ID, else a digest of its bytes."""
    mid = _text(message.get("Message-ID"))
    return mid[:300] if mid else "sha256:" + hashlib.sha256(raw).hexdigest()


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if part.get_content_type() == "text/html":
        content = strip_tags(content)
    return _text(content)


def _attachments(message: EmailMessage) -> list[SimpleUploadedFile]:
    files = []
    for part in message.iter_attachments():
        name = part.get_filename()
        payload = part.get_payload(decode=True)
        if not name or not isinstance(payload, bytes):
            continue
        files.append(SimpleUploadedFile(name, payload, content_type=part.get_content_type()))
    return files


def _received_at(message: EmailMessage) -> Any:
    try:
        at = parsedate_to_datetime(str(message.get("Date")))
    except (TypeError, ValueError, IndexError):
        return timezone.now()
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    return min(at, timezone.now())  # a sender's clock in the future is not our receipt time


def find_thread(message: EmailMessage) -> Feedback | None:
    """The record this message answers: a record number in the subject, else one of our
    messages named in In-Reply-To / References."""
    subject = _text(message.get("Subject"))
    candidates = [m.upper() for m in NUMBER_RE.findall(subject)]
    if candidates:
        found = Feedback.objects.filter(number__in=candidates).order_by("-id").first()
        if found is not None:
            return found
    refs = " ".join(_text(message.get(h)) for h in ("In-Reply-To", "References"))
    ids = re.findall(r"<[^<>\s]+>", refs)
    if ids:
        msg = (
            Correspondence.objects.filter(message_id__in=ids)
            .select_related("feedback")
            .order_by("-id")
            .first()
        )
        if msg is not None:
            return msg.feedback
    return None


def _valid_address(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return len(address) <= 254


def already_imported(key: str) -> bool:
    return (
        Correspondence.objects.filter(message_id=key).exists()
        or Feedback.objects.filter(source_reference=key, channel=Channel.EMAIL).exists()
    )


def _attach_all(obj: Feedback, files: list[Any], note: str) -> list[str]:
    """Store what the attachments platform accepts; name the refused files (and why)."""
    account = channel_account("mailbox")
    refused = []
    for f in files:
        try:
            with transaction.atomic():
                attach(obj, uploaded_file=f, by=account, description=note[:255], check_access=False)
        except ValidationError as e:
            refused.append(f"{f.name}: {' '.join(e.messages)}")
    return refused


def message_to_feedback(message: Any) -> Feedback:
    """One e-mail (bytes or an email.message.EmailMessage) → a Correspondence "in" on the
    record named by its number in the subject, else a new record through
    intake.register_feedback (channel=email, source_reference=Message-ID); attachments through
    core.attachments. Idempotent: a message already imported returns its record unchanged."""
    from .intake import register_feedback

    raw = message if isinstance(message, bytes) else bytes(message)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    key = message_key(msg, raw)
    subject = _text(msg.get("Subject"))
    body = _body(msg)
    (name, address), *_rest = getaddresses([_text(msg.get("From"))]) or [("", "")]
    address = address if _valid_address(address) else ""
    at = _received_at(msg)
    files = _attachments(msg)
    with transaction.atomic(), audit_context(source=SOURCE):
        done = Correspondence.objects.filter(message_id=key).select_related("feedback").first()
        if done is not None:
            return done.feedback
        thread = find_thread(msg)
        if thread is not None:
            obj = thread
        else:
            description = body or subject or "(no text)"
            obj = register_feedback(
                by=None,
                source=SOURCE,
                channel=Channel.EMAIL,
                received_at=at,
                title=(subject or description.splitlines()[0])[:TITLE_MAX],
                description=description,
                complainant_name=_text(name)[:100],
                complainant_email=address[:254],
                language="zh-hans" if CJK_RE.search(subject + body) else "en",
                source_reference=key,
            )
        refused = _attach_all(obj, files, subject)
        text = body
        if refused:
            text += "\n\n[" + "; ".join(refused) + "]"
        Correspondence.objects.create(
            feedback=obj,
            direction=Correspondence.Direction.IN,
            channel=Channel.EMAIL,
            at=at,
            address=address[:300],
            subject=subject[:300],
            body=text,
            message_id=key,
        )
    return obj


# --- the mailbox ---------------------------------------------------------------------------


def connect(config: MailboxConfig) -> imaplib.IMAP4:
    try:
        if config.tls == "ssl":
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                config.host, config.port, ssl_context=ssl.create_default_context(), timeout=60
            )
        else:
            conn = imaplib.IMAP4(config.host, config.port, timeout=60)
            if config.tls == "starttls":
                conn.starttls(ssl.create_default_context())
        conn.login(config.user, config.password)
        typ, _data = conn.select(_quote(config.folder))
    except (OSError, imaplib.IMAP4.error) as e:
        raise MailboxError(f"IMAP {config.host}:{config.port}: {e}") from e
    if typ != "OK":
        raise MailboxError(f"IMAP folder {config.folder!r} cannot be opened")
    return conn


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _mark(conn: imaplib.IMAP4, uid: bytes, keyword: str) -> None:
    typ, data = conn.uid("STORE", uid.decode(), "+FLAGS.SILENT", f"({keyword})")
    if typ != "OK":
        raise MailboxError(f"IMAP could not mark message uid {uid!r}: {data!r}")


def marking_flag(conn: imaplib.IMAP4, keyword: str) -> str:
    """The keyword when the selected folder keeps it (PERMANENTFLAGS), else \\Seen."""
    _typ, data = conn.response("PERMANENTFLAGS")
    flags = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace")
    if "\\*" in flags or keyword in flags.replace("(", " ").replace(")", " ").split():
        return keyword
    return "\\Seen"


def fetch_mailbox(config: MailboxConfig | None = None, *, limit: int = 200) -> int:
    """Read new messages over IMAP (settings), turn each into feedback or thread it; returns
    the number of messages handled. Does nothing when no host is configured."""
    config = config or MailboxConfig.from_settings()
    if not config.host:
        return 0
    conn = connect(config)
    handled = 0
    try:
        flag = marking_flag(conn, config.keyword)
        criteria = ("UNSEEN",) if flag == "\\Seen" else ("UNKEYWORD", flag)
        typ, data = conn.uid("SEARCH", *criteria)
        if typ != "OK":
            raise MailboxError(f"IMAP search failed: {data!r}")
        uids = (data[0] or b"").split()[:limit]
        for uid in uids:
            typ, parts = conn.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
            raw = next(
                (p[1] for p in parts if isinstance(p, tuple) and isinstance(p[1], bytes)), None
            )
            if typ != "OK" or raw is None:
                logger.warning("mailbox: message uid %s could not be fetched", uid)
                continue
            try:
                message_to_feedback(raw)
            except ValidationError as e:
                # Not importable as it is (e.g. an empty message): left unmarked for a person.
                logger.warning("mailbox: message uid %s refused: %s", uid, e.messages)
                continue
            _mark(conn, uid, flag)
            handled += 1
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            conn.logout()
    return handled
