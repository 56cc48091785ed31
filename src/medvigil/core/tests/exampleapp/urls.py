"""Place 4 of 5: pages (included at /exampleapp/ automatically). The record page shows the
platform's panels: history, attachments, signatures, destruction."""

from __future__ import annotations

from typing import Any

from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from medvigil.core.permissions import get_object_for_user, permission_required, scope_for_user

from .models import Inspection

app_name = "exampleapp"


@require_GET
@permission_required("exampleapp.view_inspection")
def inspection_list(request: Any) -> Any:
    items = scope_for_user(request.user, Inspection)
    return render(request, "exampleapp/inspection.html", {"items": items})


@require_GET
def inspection_detail(request: Any, pk: int) -> Any:
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    obj = get_object_for_user(request.user, Inspection, pk=pk)
    return render(request, "exampleapp/inspection.html", {"obj": obj})


urlpatterns = [
    path("inspections/", inspection_list, name="inspection_list"),
    path("inspections/<int:pk>/", inspection_detail, name="inspection_detail"),
]
