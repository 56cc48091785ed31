"""FBK-1: the public feedback form (/public/feedback/) and its status page (PLAT-11).

Nobody signs in, so the form guards itself: a request limit per client address (the cache),
a honeypot field people never see, a minimum time between showing the form and sending it
(bots post at once), a refusal of the same text sent again, and the field limits of the form.
What passes is registered through intake.register_feedback (channel "web", audited as the
public form) with a fresh tracking code of 80 random bits: the code is the customer's only key
to the status page, which shows no contact or patient data and no internal notes."""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medvigil.core.attachments.services import attach
from medvigil.core.audit import audit_context

from ..models import Channel, Correspondence, Feedback
from .channel_accounts import channel_account

SOURCE = "public_form"
# Crockford's base 32 (no I, L, O, U): read out over the phone without mix-ups.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 16 × 5 bits = 80 random bits
_SIGNER_SALT = "medvigil.complaints.public-form"

# Fields of the form that go to intake as they are.
PUBLIC_FIELDS = (
    "kind",
    "title",
    "description",
    "complainant_name",
    "complainant_organisation",
    "complainant_phone",
    "complainant_email",
    "complainant_address",
    "device_text",
    "occurred_at",
    "occurred_where",
    "patient_involvement",
    "patient_details",
    "customer_wants",
    "customer_wants_detail",
    "quantity_affected",
    "language",
)


class PublicRefused(ValidationError):
    """The submission was refused by a guard; `code` is one of rate_limited, too_fast,
    expired, honeypot, duplicate."""


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def new_tracking_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """What the customer typed → the stored form (case, spaces and dashes forgiven)."""
    text = (code or "").upper().replace("-", "").replace(" ", "")
    return text.translate(str.maketrans("OIL", "011"))


def form_token() -> str:
    """The signed time the form was shown (the time check)."""
    return signing.TimestampSigner(salt=_SIGNER_SALT).sign(str(int(time.time())))


def _check_time(token: str) -> None:
    min_seconds = _setting("PUBLIC_FEEDBACK_MIN_SECONDS", 3)
    max_age = _setting("PUBLIC_FEEDBACK_FORM_MAX_AGE", 24 * 3600)
    try:
        shown = int(signing.TimestampSigner(salt=_SIGNER_SALT).unsign(token or "", max_age=max_age))
    except signing.SignatureExpired:
        raise PublicRefused(
            _("The form was open too long. Please send it again."), code="expired"
        ) from None
    except (signing.BadSignature, ValueError):
        raise PublicRefused(
            _("The form could not be checked. Please reload the page and send it again."),
            code="expired",
        ) from None
    if time.time() - shown < min_seconds:
        raise PublicRefused(
            _("The form was sent too quickly. Please check your entries and send it again."),
            code="too_fast",
        )


def _rate_key(kind: str, address: str) -> str:
    return f"cmp:public:{kind}:{hashlib.sha256(address.encode()).hexdigest()[:32]}"


def hit_limit(kind: str, address: str, *, limit: int, window: int) -> bool:
    """Count one request of `kind` from `address`; True when over `limit` within `window`
    seconds (a fixed window in the cache)."""
    key = _rate_key(kind, address or "unknown")
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count > limit


def check_rate(address: str) -> None:
    """At most PUBLIC_FEEDBACK_RATE_LIMIT submissions per PUBLIC_FEEDBACK_RATE_WINDOW seconds
    from one client address."""
    if hit_limit(
        "submit",
        address,
        limit=_setting("PUBLIC_FEEDBACK_RATE_LIMIT", 5),
        window=_setting("PUBLIC_FEEDBACK_RATE_WINDOW", 3600),
    ):
        raise PublicRefused(
            _("Too many messages from your address. Please try again later or call us."),
            code="rate_limited",
        )


def _fingerprint(data: dict[str, Any]) -> str:
    text = " ".join(str(data.get("description") or "").split()).casefold()
    who = str(data.get("complainant_email") or data.get("complainant_phone") or "").casefold()
    return "cmp:public:dup:" + hashlib.sha256(f"{who}\n{text}".encode()).hexdigest()


def submit_public_feedback(*, data: dict[str, Any], files: list[Any], address: str) -> Feedback:
    """Rate-limit per address, honeypot and time check, refuse the same text sent again, then
    intake.register_feedback with channel=web and a fresh `public_code` (the tracking code given
    to the customer). `data` is the form's cleaned data plus "website" (the honeypot) and
    "started" (the signed time the form was shown). Raises PublicRefused or ValidationError."""
    from .intake import register_feedback

    check_rate(address)
    if str(data.get("website") or "").strip():
        # A field hidden from people: only a robot fills it. Same answer as any refusal.
        raise PublicRefused(
            _("The form could not be checked. Please reload the page and send it again."),
            code="honeypot",
        )
    _check_time(str(data.get("started") or ""))
    fields = {k: data[k] for k in PUBLIC_FIELDS if k in data and data[k] not in (None, "")}
    if not str(fields.get("description", "")).strip():
        raise ValidationError({"description": _("Describe what happened.")})
    dup_key = _fingerprint(fields)
    if not cache.add(dup_key, 1, timeout=_setting("PUBLIC_FEEDBACK_DUPLICATE_WINDOW", 24 * 3600)):
        raise PublicRefused(
            _(
                "We have already received this message. Please use the tracking code you were "
                "given to follow it."
            ),
            code="duplicate",
        )
    try:
        with transaction.atomic(), audit_context(source=SOURCE):
            obj = register_feedback(
                by=None,
                source=SOURCE,
                channel=Channel.WEB,
                public_code=new_tracking_code(),
                **fields,
            )
            account = channel_account("public_form")
            for f in files:
                attach(obj, uploaded_file=f, by=account, check_access=False)
            if data.get("repair") and apps.is_installed("medvigil.service"):
                # SVC-1: the customer asks for a repair — the service app's one intake
                from medvigil.service.services.requests import request_from_feedback

                request_from_feedback(obj, fault_level=data.get("fault_level"))
    except Exception:
        cache.delete(dup_key)  # not received: the customer may send it again
        raise
    return obj


# What the customer sees of the record's state (no internal stages).
PUBLIC_STATES: dict[str, Any] = {
    Feedback.Status.RECEIVED: gettext_lazy("received"),
    Feedback.Status.ROUTED: gettext_lazy("being handled"),
    Feedback.Status.EVALUATION: gettext_lazy("being handled"),
    Feedback.Status.INVESTIGATION: gettext_lazy("being handled"),
    Feedback.Status.RESOLUTION: gettext_lazy("being handled"),
    Feedback.Status.REPLIED: gettext_lazy("answered"),
    Feedback.Status.CLOSED: gettext_lazy("closed"),
    Feedback.Status.VOIDED: gettext_lazy("closed"),
}


def find_by_code(code: str) -> Feedback | None:
    code = normalise_code(code)
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return Feedback.objects.filter(public_code=code).first()


def public_status(code: str) -> dict[str, Any]:
    """What the customer may see of the record with this tracking code (no contact or patient
    data, no internal notes): number, kind, subject, when received, a customer-facing state,
    and the answers and replies sent to the customer. Raises Feedback.DoesNotExist."""
    obj = find_by_code(code)
    if obj is None:
        raise Feedback.DoesNotExist
    replies = [
        {"at": m.at, "subject": m.subject, "body": m.body}
        for m in obj.messages.filter(direction=Correspondence.Direction.OUT).order_by("at", "id")
    ]
    if not replies:
        sent = [r for r in obj.resolutions.order_by("id") if r.reply_sent_at]
        replies = [{"at": r.reply_sent_at, "subject": "", "body": r.reply_text} for r in sent]
    if obj.answer and obj.status == Feedback.Status.CLOSED:
        replies.append({"at": obj.closed_at, "subject": "", "body": obj.answer})
    return {
        "code": obj.public_code,
        "number": obj.number,
        "kind": obj.get_kind_display(),
        "title": obj.title,
        "received_at": obj.received_at,
        "state": PUBLIC_STATES.get(obj.status, PUBLIC_STATES[Feedback.Status.RECEIVED]),
        "status": obj.status,
        "closed_at": obj.closed_at if obj.status == Feedback.Status.CLOSED else None,
        "replies": replies,
        "service": _service_status(obj),
    }


def _service_status(obj: Feedback) -> list[dict[str, Any]]:
    """The public state of the service requests opened from this feedback (SVC-1)."""
    if not apps.is_installed("medvigil.service"):
        return []
    from medvigil.service.services.requests import public_status as service_public_status

    return service_public_status(obj)
