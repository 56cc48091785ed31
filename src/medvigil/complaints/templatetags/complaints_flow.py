"""`{% complaint_flow obj %}`: the evaluation, investigation and resolution panels of a
complaint's record page (FBK-5/6/7), with the next step for the reader's role."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("complaints/flow_panels.html", takes_context=True)
def complaint_flow(context: Any, obj: Any) -> dict[str, Any]:
    from ..views.flow import flow_context

    request = context["request"]
    ctx = flow_context(request, obj, context.get("flow_dialogs"))
    ctx["request"] = request
    ctx["csrf_token"] = context.get("csrf_token")
    ctx["perms"] = context.get("perms")  # the vigilance hand-off button asks them
    return ctx
