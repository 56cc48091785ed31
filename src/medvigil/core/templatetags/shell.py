"""Tags of the page shell (core.shell): parts of every page built once per process."""

from __future__ import annotations

from typing import Any

from django import template

from medvigil.core import shell

register = template.Library()


@register.simple_tag(takes_context=True)
def subnav(context: Any, template_name: str, section: Any = "") -> Any:
    """``{% subnav "app/_subnav_links.html" section %}``: the section's sub-navigation for the
    request's user (core.shell.subnav: rendered once per permissions, section and language)."""
    user = context.get("user")
    if user is None:
        request = context.get("request")
        user = getattr(request, "user", None)
    if user is None:
        from django.contrib.auth.models import AnonymousUser

        user = AnonymousUser()
    return shell.subnav(template_name, section, user)
