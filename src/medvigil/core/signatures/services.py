"""Electronic signatures (PLAT-3).

A signature binds a person (printed name), a time, a meaning (authored, reviewed, approved,
verified, closed) and an optional comment to the *exact content* of a record: the content is
stored as JSON with its SHA-256 hash, and :func:`signature_matches` recomputes the hash from
the record as it is now, so any later change to the record visibly voids the signature.

The signer re-enters the password. It is checked through ``django.contrib.auth.authenticate``
with the request, so django-axes counts a wrong password toward the account lock-out exactly
like a failed login, and a locked-out user cannot sign.

Signing happens in two phases, because a refused attempt must stay in the audit trail even
though the business change it was meant to approve does not happen:

1. :func:`check_signer` verifies the password. It runs in its own *durable* transaction
   (``transaction.atomic(durable=True)``), so the record of a failed attempt is committed
   before :class:`SignatureError` propagates. Calling it inside a caller's ``atomic`` block is
   a programming error and raises ``RuntimeError`` at once (whatever the password), so the
   mistake shows in the first test rather than as a lost audit entry in production.
2. :func:`apply_signature` writes the signature inside the caller's transaction, after the
   caller has locked the record and made its change (sign the *resulting* content).

A service therefore looks like this::

    def close_complaint(c, *, by, password, request, reason):
        guard(c)                                   # cheap checks first
        check = check_signer(c, user=by, password=password, request=request,
                             meaning=Signature.Meaning.CLOSED)
        with transaction.atomic():
            c = Complaint.objects.select_for_update().get(pk=c.pk)
            guard(c)                               # again, under the lock
            c.status = "closed"; c.save()
            apply_signature(c, check, reason=reason)

:func:`sign` does both phases for the simple case (sign a record as it is).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from ..audit import audit_context
from ..audit.recorder import append, record_event
from ..audit.values import snapshot
from ..models import Signature
from ..records.hooks import hook
from ..types import UserLike

__all__ = [
    "SignatureError",
    "SignatureForm",
    "SignerCheck",
    "apply_signature",
    "check_signer",
    "content_hash",
    "sign",
    "signature_lines",
    "signature_matches",
    "signature_state",
    "signatures_for",
    "signed_content",
]

Meaning = Signature.Meaning

# A password check is good for one signature, written within this time.
CHECK_VALID_FOR = timedelta(minutes=5)


class SignatureError(ValidationError):
    """The signature was refused (wrong password, locked-out or inactive account, ...).

    ``code`` is one of: wrong_password, locked_out, not_allowed, invalid."""


# --- content and hash ---------------------------------------------------------------------


def signed_content(record: models.Model) -> dict[str, Any]:
    """What a signature on `record` binds to: the record's ``signature_content()`` hook, or
    by default every audited field value (as in the audit trail) except ``version`` and the
    names in the model's ``signature_exclude`` (core/records/hooks.py)."""
    custom = hook(record, "signature_content")()
    if custom is not None:
        return json.loads(_canonical(custom))
    exclude = {"version", *hook(record, "signature_exclude")}
    values = snapshot(record)
    out = {}
    for f in record._meta.concrete_fields:
        if f.attname in values and f.name not in exclude and f.attname not in exclude:
            out[f.attname] = values[f.attname]
    return out


def _canonical(content: Any) -> str:
    from ..audit.values import jsonable

    return json.dumps(jsonable(content), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_hash(content: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of `content` (sorted keys, UTF-8, no spaces)."""
    return hashlib.sha256(_canonical(content).encode("utf-8")).hexdigest()


# --- reading signatures -------------------------------------------------------------------


def signatures_for(record: models.Model) -> models.QuerySet[Signature]:
    ct = ContentType.objects.get_for_model(record, for_concrete_model=True)
    return (
        Signature.objects.filter(content_type=ct, object_id=str(record.pk))
        .select_related("signer")
        .order_by("signed_at", "pk")
    )


def _current_record(sig: Signature) -> models.Model | None:
    model = sig.content_type.model_class()
    if model is None:
        return None
    return model._base_manager.filter(pk=sig.object_id).first()


def signature_state(sig: Signature, record: models.Model | None = None) -> str:
    """ "matches", "changed" (the record changed after signing) or "missing" (destroyed)."""
    if record is None:
        record = _current_record(sig)
    if record is None:
        return "missing"
    return "matches" if content_hash(signed_content(record)) == sig.content_hash else "changed"


def signature_matches(sig: Signature, record: models.Model | None = None) -> bool:
    """True while the record's current content is exactly what was signed."""
    return signature_state(sig, record) == "matches"


STATE_LABELS = {
    "matches": gettext_lazy("matches record"),
    "changed": gettext_lazy("NO LONGER MATCHES — record changed after signing"),
    "missing": gettext_lazy("record no longer exists"),
}


def signature_lines(record: models.Model) -> list[str]:
    """One printable line per signature, for CSV/PDF exports, e.g.
    ``Li Wei · approved · 2026-03-02 10:15 (Asia/Shanghai) · SHA-256 3fa2b1c4d5e6 · matches
    record``."""
    current = content_hash(signed_content(record))
    zone = timezone.get_current_timezone()
    lines = []
    for sig in signatures_for(record):
        state = "matches" if sig.content_hash == current else "changed"
        when = timezone.localtime(sig.signed_at, zone)
        parts = [
            sig.printed_name,
            str(sig.get_meaning_display()),
            f"{when:%Y-%m-%d %H:%M} ({zone})",
            f"SHA-256 {sig.content_hash[:12]}",
            str(STATE_LABELS[state]),
        ]
        if sig.reason:
            parts.insert(3, sig.reason)
        lines.append(" · ".join(parts))
    return lines


# --- signing ------------------------------------------------------------------------------


@dataclass
class SignerCheck:
    """Proof that `user` re-entered the password to sign `record key` with `meaning`.
    Good for one :func:`apply_signature` within CHECK_VALID_FOR."""

    user: UserLike
    meaning: str
    record_key: tuple[int, str]
    checked_at: datetime
    nonce: str = field(default_factory=lambda: secrets.token_hex(8))
    used: bool = False


def _record_key(record: models.Model) -> tuple[int, str]:
    if record.pk is None:
        raise ValueError("Only a saved record can be signed.")
    ct = ContentType.objects.get_for_model(record, for_concrete_model=True)
    return ct.pk, str(record.pk)


def loader_check(record: models.Model, *, user: UserLike, meaning: Any) -> SignerCheck:
    """A signer check without a password entry, for a data loader that runs inside a caller's
    transaction (``medvigil demo`` loads every app in one), where :func:`check_signer` cannot
    run. The services that sign take it as ``check=`` so the loader's records are signed by
    the same code as a person's. Never for a request: a page or endpoint calls check_signer."""
    return SignerCheck(
        user=user,
        meaning=_validate_meaning(meaning),
        record_key=_record_key(record),
        checked_at=timezone.now(),
    )


def _request_for(request: HttpRequest | None) -> HttpRequest:
    """authenticate() (and axes) need a request; a shell or task signature gets a stand-in."""
    if request is not None:
        return request
    stand_in = HttpRequest()
    stand_in.method = "POST"
    stand_in.path = stand_in.path_info = "/signature/"
    stand_in.META = {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": "medvigil-signature"}
    return stand_in


def _is_locked_out(request: HttpRequest, username: str) -> bool:
    from axes.handlers.proxy import AxesProxyHandler

    return bool(AxesProxyHandler.is_locked(request, {"username": username}))


def _validate_meaning(meaning: Any) -> str:
    value = str(meaning.value if isinstance(meaning, Meaning) else meaning)
    if value not in Meaning.values:
        raise SignatureError(_("Unknown signature meaning: %(m)s") % {"m": value}, code="invalid")
    return value


def check_signer(
    record: models.Model,
    *,
    user: UserLike,
    password: str,
    request: HttpRequest | None,
    meaning: Any,
) -> SignerCheck:
    """Phase 1: verify the re-entered password of `user` (see the module docstring).

    Raises SignatureError (and records the refused attempt in the record's audit trail,
    committed) for a wrong password, a locked-out, inactive or read-only account. Must not be
    called inside a transaction.atomic block of the caller (RuntimeError)."""
    meaning_value = _validate_meaning(meaning)
    key = _record_key(record)
    req = _request_for(request)
    username = user.get_username()
    error: SignatureError | None = None
    # durable=True: refuses to nest in the caller's transaction, and commits on exit, so the
    # refused attempt (and axes' failure count) survive whatever the caller does next.
    with transaction.atomic(durable=True), audit_context(actor=user):
        if not user.is_active or getattr(user, "is_read_only", False):
            error = SignatureError(
                _("Your account is not allowed to sign records."), code="not_allowed"
            )
            outcome = "not allowed"
        elif _is_locked_out(req, username):
            error = SignatureError(
                _(
                    "Your account is locked after too many failed password entries. "
                    "Ask an administrator, or wait until the lock expires."
                ),
                code="locked_out",
            )
            outcome = "locked out"
        else:
            authed = authenticate(request=req, username=username, password=password or "")
            if authed is None or authed.pk != user.pk:
                locked = _is_locked_out(req, username)
                error = SignatureError(
                    _(
                        "The password is not correct; the record was not signed. "
                        "Repeated failures lock your account."
                    )
                    if not locked
                    else _(
                        "The password is not correct. Your account is now locked after too "
                        "many failed password entries."
                    ),
                    code="locked_out" if locked else "wrong_password",
                )
                outcome = "wrong password"
        if error is not None:
            record_event(
                record,
                gettext_noop("signature refused"),
                {"meaning": meaning_value, "signer": username, "outcome": outcome},
            )
    if error is not None:
        raise error
    return SignerCheck(user=user, meaning=meaning_value, record_key=key, checked_at=timezone.now())


def apply_signature(record: models.Model, check: SignerCheck, *, reason: str = "") -> Signature:
    """Phase 2: store the signature of `record`'s current content and its audit entry
    (action "sign"), in the caller's transaction (or its own, if there is none)."""
    if check.used:
        raise SignatureError(_("This password check was already used."), code="invalid")
    if _record_key(record) != check.record_key:
        raise SignatureError(_("The password was entered for another record."), code="invalid")
    now = timezone.now()
    if now - check.checked_at > CHECK_VALID_FOR:
        raise SignatureError(_("The password check has expired; sign again."), code="invalid")
    user = check.user
    content = signed_content(record)
    digest = content_hash(content)
    ct_id, oid = check.record_key
    with transaction.atomic(), audit_context(actor=user):
        sig = Signature.objects.create(
            content_type_id=ct_id,
            object_id=oid,
            signer=user,
            printed_name=user.printed_name[:200]
            if hasattr(user, "printed_name")
            else user.get_username(),
            signed_at=now,
            meaning=check.meaning,
            reason=reason or "",
            content_hash=digest,
            content=json.loads(_canonical(content)),
        )
        append(
            record,
            record.pk,
            "sign",
            {
                "meaning": [None, check.meaning],
                "printed_name": [None, sig.printed_name],
                "content_hash": [None, digest],
                "signature": [None, sig.pk],
            },
            object_repr=str(record)[:200],
            reason=reason or "",
        )
    check.used = True
    return sig


def sign(
    record: models.Model,
    *,
    user: UserLike,
    password: str,
    meaning: Any,
    request: HttpRequest | None,
    reason: str = "",
) -> Signature:
    """Sign `record` as it is now. Call outside transaction.atomic (see check_signer);
    services that change the record and sign it use check_signer + apply_signature."""
    check = check_signer(record, user=user, password=password, request=request, meaning=meaning)
    return apply_signature(record, check, reason=reason)


# --- the dialog's form --------------------------------------------------------------------


class SignatureForm(forms.Form):
    """Password + optional comment, as posted by {% signature_dialog %}."""

    password = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"), required=False, max_length=2000, widget=forms.Textarea
    )

    def __init__(self, *args: Any, comment_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["comment"].required = comment_required

    def add_signature_error(self, exc: ValidationError) -> None:
        """Show a SignatureError (or a service's ValidationError) in the dialog."""
        if hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                name = "comment" if name in {"note", "reason"} else name
                self.add_error(name if name in self.fields else None, errors)
            return
        target = "password" if getattr(exc, "code", "") == "wrong_password" else None
        self.add_error(target, exc.messages)
