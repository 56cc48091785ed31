"""`{% load imdrf %}{% imdrf_codes event.device_problem_codes %}`: codes stored as plain strings
shown with their terms (in the reader's language, the other one beside it; a retired code
with the release that retired it). One query per call (services.terms_for)."""

from __future__ import annotations

from typing import Any

from django import template

from .. import services

register = template.Library()


@register.inclusion_tag("imdrf/_codes.html")
def imdrf_codes(codes: Any) -> dict[str, Any]:
    if isinstance(codes, str):
        codes = [c for c in codes.replace(";", ",").split(",") if c.strip()]
    codes = [str(c).strip().upper() for c in (codes or [])][: services.MAX_CODES]
    found = services.terms_for(codes)
    return {"items": [(code, found.get(code)) for code in codes]}
