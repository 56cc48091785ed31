"""Attachments on any regulated record (PLAT-9): photos, reports, signed forms.

`attach()` checks size and type (the extension must be allowed AND the first bytes must
match it, so a renamed program is refused), stores the file under its SHA-256 (identical
content is stored once) and creates the audited Attachment. `void_attachment()` withdraws
one with a reason; nothing is ever hard-deleted. Files are served only by
`views_attachments.download`, after a permission check on the parent record.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils.translation import gettext as _

from ..audit import audit_context
from ..audit.recorder import record_event
from ..models import Attachment, AuditedModel
from ..permissions import require, scope_for_user
from ..types import UserLike
from .models import attachment_path

logger = logging.getLogger(__name__)

SNIFF_BYTES = 8192

# Signatures of the common types: an upload with one of these extensions must start so.
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office (doc, xls, ppt, msg)
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # zip, and Office Open XML (docx, xlsx, pptx)
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "bmp": (b"BM",),
    "tif": (b"II*\x00", b"MM\x00*"),
    "tiff": (b"II*\x00", b"MM\x00*"),
    "zip": _ZIP,
    "docx": _ZIP,
    "xlsx": _ZIP,
    "pptx": _ZIP,
    "doc": (_OLE,),
    "xls": (_OLE,),
    "ppt": (_OLE,),
    "msg": (_OLE,),
}
TEXT_TYPES = {"txt", "csv", "log", "xml", "json", "md"}
# Programs and scripts, refused whatever their name says.
EXECUTABLE_SIGNATURES = (
    b"MZ",  # Windows PE (.exe, .dll)
    b"\x7fELF",  # Linux
    b"\xfe\xed\xfa\xce",  # Mach-O
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal / Java class
    b"#!",  # scripts
)
MIME_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "txt": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "zip": "application/zip",
}
# Types a browser may show inline (never HTML or SVG: those could run script).
INLINE_TYPES = {"pdf", "jpg", "jpeg", "png", "gif", "webp"}


def allowed_extensions() -> list[str]:
    return [
        e.strip().lower().lstrip(".")
        for e in settings.ATTACHMENT_ALLOWED_EXTENSIONS
        if e and e.strip()
    ]


def max_bytes() -> int:
    return int(settings.ATTACHMENT_MAX_BYTES)


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} B"


def extension_of(name: str) -> str:
    suffix = PurePath(name or "").suffix
    return suffix[1:].lower() if suffix else ""


def mime_type_for(ext: str) -> str:
    return MIME_TYPES.get(ext) or mimetypes.guess_type(f"x.{ext}")[0] or "application/octet-stream"


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):  # Chinese CSV exports are often GBK
        try:
            # The sample may end in the middle of a multi-byte character.
            head.decode(encoding)
            return True
        except UnicodeDecodeError as e:
            if e.start >= len(head) - 4:
                return True
    return False


def _content_matches(ext: str, head: bytes) -> bool:
    if ext in SIGNATURES:
        return head.startswith(SIGNATURES[ext])
    if ext == "webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if ext in TEXT_TYPES:
        return _looks_like_text(head)
    return True  # an allowed type we have no signature for: only the executable check applies


def _read_head(uploaded_file: Any) -> bytes:
    uploaded_file.seek(0)
    head = uploaded_file.read(SNIFF_BYTES)
    uploaded_file.seek(0)
    return bytes(head)


def validate_upload(uploaded_file: Any) -> str:
    """Raise ValidationError({"file": ...}) unless the upload may be stored; return its
    extension."""
    if uploaded_file is None:
        raise ValidationError({"file": _("Choose a file to upload.")})
    size = uploaded_file.size or 0
    limit = max_bytes()
    if size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    if size > limit:
        raise ValidationError(
            {
                "file": _("The file is %(size)s; the largest allowed is %(limit)s.")
                % {"size": human_size(size), "limit": human_size(limit)}
            }
        )
    ext = extension_of(uploaded_file.name)
    allowed = allowed_extensions()
    if ext not in allowed:
        raise ValidationError(
            {
                "file": _("Files of type “%(ext)s” are not accepted. Allowed types: %(allowed)s.")
                % {"ext": ext or _("no extension"), "allowed": ", ".join(allowed)}
            }
        )
    head = _read_head(uploaded_file)
    if head.startswith(EXECUTABLE_SIGNATURES) or not _content_matches(ext, head):
        raise ValidationError(
            {
                "file": _(
                    "The content of “%(name)s” is not a %(ext)s file (it may be renamed). "
                    "Allowed types: %(allowed)s."
                )
                % {"name": uploaded_file.name, "ext": ext.upper(), "allowed": ", ".join(allowed)}
            }
        )
    return ext


def _sha256(uploaded_file: Any) -> str:
    h = hashlib.sha256()
    uploaded_file.seek(0)
    for chunk in uploaded_file.chunks():
        h.update(chunk)
    uploaded_file.seek(0)
    return h.hexdigest()


def is_attachable(model: type[models.Model]) -> bool:
    """Attachments go on regulated records (not on attachments or audit entries)."""
    return issubclass(model, AuditedModel) and not issubclass(model, Attachment)


def user_can_view(user: UserLike, record: models.Model) -> bool:
    return scope_for_user(user, type(record)).filter(pk=record.pk).exists()


def can_upload(user: UserLike, record: models.Model) -> bool:
    """Whether to offer `user` the upload form on `record` (the upload itself checks again).
    A record the request read with get_object_for_user for this user is in the user's
    scope without another query (#13)."""
    from ..permissions import FETCHED_FOR_ATTR

    if not (user.is_authenticated and user.has_perm("core.add_attachment")):
        return False
    if user.pk is not None and getattr(record, FETCHED_FOR_ATTR, None) == user.pk:
        return True
    return user_can_view(user, record)


def may_void(user: UserLike, att: Attachment) -> bool:
    """Whether `user` holds the right to void `att` at all (voided or not): holders of
    core.change_attachment, and the uploader (who may still upload)."""
    if not user.is_authenticated:
        return False
    if user.has_perm("core.change_attachment"):
        return True
    return att.uploaded_by_id == user.pk and user.has_perm("core.add_attachment")


def can_void(user: UserLike, att: Attachment) -> bool:
    """may_void, and the attachment is not voided yet."""
    return not att.voided and may_void(user, att)


def attachments_for(record: models.Model) -> models.QuerySet:
    ct = ContentType.objects.get_for_model(record, for_concrete_model=True)
    return Attachment.objects.filter(content_type=ct, object_id=str(record.pk)).select_related(
        "uploaded_by"
    )


def parent_record(att: Attachment) -> Any:
    model = att.content_type.model_class()
    if model is None:
        return None
    return model._default_manager.filter(pk=att.object_id).first()


def attach(
    record: models.Model,
    *,
    uploaded_file: Any,
    by: UserLike,
    description: str = "",
    check_access: bool = True,
) -> Attachment:
    """Validate, store and register a file on `record`. Raises ValidationError (field
    "file" or "description") or PermissionDenied; nothing is stored then."""
    if record is None or record.pk is None or not is_attachable(type(record)):
        raise ValidationError(_("Files can only be attached to a saved record."))
    if check_access:
        require(by, "core.add_attachment")
        if not user_can_view(by, record):
            raise PermissionDenied
    description = (description or "").strip()
    if len(description) > 255:
        raise ValidationError({"description": _("Keep the description to 255 characters.")})
    ext = validate_upload(uploaded_file)
    sha = _sha256(uploaded_file)
    ct = ContentType.objects.get_for_model(record, for_concrete_model=True)
    att = Attachment(
        content_type=ct,
        object_id=str(record.pk),
        original_name=PurePath(uploaded_file.name).name[:255],
        content_type_header=mime_type_for(ext)[:120],
        size=uploaded_file.size,
        sha256=sha,
        description=description,
        uploaded_by=by,
    )
    name = attachment_path(att, uploaded_file.name)
    stored_here = False
    if not default_storage.exists(name):  # content-addressed: the same bytes are kept once
        name = default_storage.save(name, uploaded_file)
        stored_here = True
    att.file.name = name
    try:
        with transaction.atomic(), audit_context(actor=by):
            att.save()
            if isinstance(record, AuditedModel):
                record_event(
                    record,
                    "attachment added",
                    {"attachment": att.pk, "file": att.original_name, "sha256": sha},
                )
    except Exception:
        if stored_here and not Attachment.objects.filter(file=name).exists():
            default_storage.delete(name)
        raise
    return att


def void_attachment(
    att: Attachment, by: UserLike, reason: str, *, version: Any = None
) -> Attachment:
    """Withdraw an attachment with a reason. It stays listed (struck through) and in the
    audit trail; the file is kept for the record's retention period."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give a reason for voiding the attachment.")})
    with transaction.atomic(), audit_context(actor=by, reason=reason):
        locked = Attachment.objects.select_for_update().get(pk=att.pk)
        if locked.voided:
            raise ValidationError(_("This attachment is already voided."))
        if not can_void(by, locked):
            raise PermissionDenied
        parent = parent_record(locked)
        if parent is None or not user_can_view(by, parent):
            raise PermissionDenied
        locked.check_version(version)
        locked.voided = True
        locked.void_reason = reason
        locked.save(update_fields=["voided", "void_reason"])
        if isinstance(parent, AuditedModel):
            record_event(
                parent,
                "attachment voided",
                {"attachment": locked.pk, "file": locked.original_name},
            )
    return locked
