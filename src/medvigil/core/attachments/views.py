"""Upload, download and void attachments (PLAT-9). Every view resolves the parent record
through `get_object_for_user`, so a user who cannot see the record gets a 404 and never the
file; files are streamed from storage, MEDIA_ROOT is never served."""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from ..models import Attachment, ConflictError
from ..permissions import get_object_for_user, require
from ..templatetags.attachments import panel_context
from .services import (
    INLINE_TYPES,
    attach,
    can_void,
    extension_of,
    is_attachable,
    void_attachment,
)

logger = logging.getLogger(__name__)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"))
    description = forms.CharField(label=gettext_lazy("Description"), max_length=255, required=False)


class VoidForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=1000)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


def _record_for(request: HttpRequest, app_label: str, model: str, object_id: str) -> Any:
    try:
        ct = ContentType.objects.get_by_natural_key(app_label, model)
    except ContentType.DoesNotExist:
        raise Http404
    model_class = ct.model_class()
    if model_class is None or not is_attachable(model_class):
        raise Http404
    return get_object_for_user(request.user, model_class, "view", pk=object_id)


def _parent_of(request: HttpRequest, att: Attachment) -> Any:
    model_class = att.content_type.model_class()
    if model_class is None:
        raise Http404
    return get_object_for_user(request.user, model_class, "view", pk=att.object_id)


def _back(request: HttpRequest, record: Any) -> HttpResponse:
    for url in (request.POST.get("next", ""), request.headers.get("referer", "")):
        if url and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(url)
    if hasattr(record, "get_absolute_url"):
        return redirect(record.get_absolute_url())
    return redirect("home")


def _panel(request: HttpRequest, record: Any, **extra: Any) -> HttpResponse:
    ctx = panel_context(request, record, **extra)
    return HttpResponse(render_to_string("core/_attachments.html", ctx, request=request))


def _errors_text(e: ValidationError) -> str:
    return " ".join(str(m) for m in e.messages)


@login_required
@require_GET
def attachment_panel(request: HttpRequest, app_label: str, model: str, object_id: str) -> Any:
    record = _record_for(request, app_label, model, object_id)
    return _panel(request, record)


@login_required
@require_POST
def attachment_upload(request: HttpRequest, app_label: str, model: str, object_id: str) -> Any:
    record = _record_for(request, app_label, model, object_id)
    require(request.user, "core.add_attachment")
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            att = attach(
                record,
                uploaded_file=form.cleaned_data["file"],
                by=request.user,
                description=form.cleaned_data["description"],
            )
        except ValidationError as e:
            if hasattr(e, "error_dict"):
                for field, errors in e.error_dict.items():
                    for err in errors:
                        form.add_error(field if field in form.fields else None, err)
            else:
                form.add_error(None, e)
        else:
            message = _("“%(name)s” attached.") % {"name": att.original_name}
            if request.htmx:  # type: ignore[attr-defined]
                return _panel(request, record, message=message)
            messages.success(request, message)
            return _back(request, record)
    if request.htmx:  # type: ignore[attr-defined]
        return _panel(request, record, form=form)
    for field_errors in form.errors.values():
        for text in field_errors:
            messages.error(request, str(text))
    return _back(request, record)


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> Any:
    att = Attachment.objects.select_related("content_type").filter(pk=pk).first()
    if att is None:
        raise Http404
    _parent_of(request, att)  # 404 unless the user can see the record
    require(request.user, "core.view_attachment")
    try:
        fh = default_storage.open(att.file.name, "rb")
    except (FileNotFoundError, OSError):
        logger.error("Attachment %s: file %s is missing from storage", att.pk, att.file.name)
        raise Http404
    ext = extension_of(att.original_name)
    inline = request.GET.get("inline") == "1" and ext in INLINE_TYPES
    response = FileResponse(
        fh,
        as_attachment=not inline,
        filename=att.original_name,
        content_type=att.content_type_header or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def attachment_void(request: HttpRequest, pk: int) -> Any:
    att = Attachment.objects.select_related("content_type").filter(pk=pk).first()
    if att is None:
        raise Http404
    record = _parent_of(request, att)
    if not att.voided and not can_void(request.user, att):
        raise PermissionDenied  # before the form: a refused user learns nothing else
    form = VoidForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            void_attachment(
                att, request.user, form.cleaned_data["reason"], version=form.cleaned_data["version"]
            )
        except ValidationError as e:
            error = _errors_text(e)
        except ConflictError as e:
            error = str(e)
    else:
        error = _("Give a reason for voiding the attachment.")
    if request.htmx:  # type: ignore[attr-defined]
        if error:
            return _panel(request, record, error=error)
        return _panel(request, record, message=_("Attachment voided."))
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Attachment voided."))
    return _back(request, record)
