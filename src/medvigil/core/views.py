from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from .registry import work_for


@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """My work: what is assigned to me, soonest due first (domain apps add their items)."""
    items = work_for(request.user)
    return render(request, "core/home.html", {"items": items})
