"""`{% attachments_panel record %}`: the list of a record's attachments with an upload form
(htmx-friendly: uploads and voids replace the panel in place; works without JavaScript)."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

register = template.Library()


def panel_context(
    request: Any,
    record: Any,
    *,
    form: Any = None,
    message: str = "",
    error: str = "",
) -> dict[str, Any]:
    from ..attachments.services import (
        allowed_extensions,
        attachments_for,
        can_upload,
        can_void,
        human_size,
        max_bytes,
    )

    user = request.user
    ct = ContentType.objects.get_for_model(record, for_concrete_model=True)
    args = [ct.app_label, ct.model, str(record.pk)]
    # a record read with core.records.probes.with_panel_probes says whether it has any (#13)
    items = list(attachments_for(record)) if getattr(record, "probe_attachments", True) else []
    for att in items:
        att.user_can_void = can_void(user, att)  # type: ignore[attr-defined]
    if form is None:
        from ..attachments.views import AttachmentForm

        form = AttachmentForm()
    return {
        "request": request,
        "record": record,
        "panel_id": f"attachments-{ct.app_label}-{ct.model}-{record.pk}",
        "active": [a for a in items if not a.voided],
        "voided": [a for a in items if a.voided],
        "can_view_files": user.has_perm("core.view_attachment"),
        "can_upload": can_upload(user, record),
        "upload_url": reverse("attachment_upload", args=args),
        "panel_url": reverse("attachment_panel", args=args),
        "form": form,
        "message": message,
        "error": error,
        "max_size": human_size(max_bytes()),
        "allowed": ", ".join(allowed_extensions()),
        "accept": ",".join(f".{e}" for e in allowed_extensions()),
    }


@register.inclusion_tag("core/_attachments.html", takes_context=True)
def attachments_panel(context: Any, record: Any) -> dict[str, Any]:
    return panel_context(context["request"], record)
