"""Place 5 of 5: the API router (mounted at /api/v1/exampleapp/ automatically)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from medvigil.core.api import (
    Id,
    Versioned,
    api_get_object,
    api_user,
    auth_with_perm,
    error_responses,
)
from medvigil.core.permissions import scope_for_user

from . import services
from .models import Inspection

router = Router(tags=["example"])


class InspectionOut(Schema):
    id: int
    number: str
    title: str
    status: str
    version: int


class InspectionPatch(Versioned):
    title: str


@router.get("/inspections", response=list[InspectionOut])
def list_inspections(request: HttpRequest) -> Any:
    return list(scope_for_user(api_user(request), Inspection))


@router.get("/inspections/{pk}", response={200: InspectionOut, **error_responses(403, 404)})
def get_inspection(request: HttpRequest, pk: Id) -> Any:
    return api_get_object(request, Inspection, pk=pk)


@router.patch(
    "/inspections/{pk}",
    response={200: InspectionOut, **error_responses(403, 404, 409)},
    auth=auth_with_perm("exampleapp.change_inspection"),
)
def update_inspection(request: HttpRequest, pk: Id, payload: InspectionPatch) -> Any:
    obj = api_get_object(request, Inspection, "change", pk=pk)
    return services.update_inspection(
        obj, by=api_user(request), version=payload.version, title=payload.title
    )
