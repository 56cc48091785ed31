"""The CAPA REST API, mounted at /api/v1/capa/ (the domain-app contract). Every endpoint goes
through the access helper and the same services as the pages.

    GET   /capas                      CAPAs the user may see (paginated; status, source_kind)
    POST  /capas                      open a CAPA (directly, or from a complaint's evaluation)
    GET   /capas/{id}                 one CAPA with its actions
    PATCH /capas/{id}                 edit an open CAPA (versioned)
    POST  /capas/{id}/actions         add an action (owner, due date)
    POST  /actions/{id}/done          the owner records an action as done
    POST  /capas/{id}/verification    verification of effectiveness
    POST  /capas/{id}/close           close with the closer's e-signature (password)
    GET   /nonconformities, /nonconformities/{id}; POST /nonconformities
    POST  /nonconformities/{id}/segregation (where), /nonconformities/{id}/disposition,
          /nonconformities/{id}/approval (e-signature)
    GET   /suppliers, /suppliers/{id}; GET /scars, /scars/{id}
    POST  /scars                      request corrective action from a supplier (or from a
                                      nonconformity naming its supplier)
    POST  /scars/{id}/response        the supplier's response as received (versioned)
    POST  /scars/{id}/verification    our verification: effective closes it, not effective
                                      asks again with a new due date (versioned)
"""

import datetime as dt
from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from medvigil.core.api import (
    Id,
    Pagination,
    Versioned,
    api_get_object,
    api_user,
    auth_with_perm,
    error_responses,
    require_perm,
)
from medvigil.core.permissions import scope_for_user

from .models import Capa, CapaAction, Nonconformity, Risk, Scar, SourceKind, Supplier
from .services import capa as capa_svc
from .services import nonconformity as nc_svc
from .services import suppliers as supplier_svc

router = Router(tags=["CAPA"])


class ActionOut(Schema):
    id: int
    kind: str
    description: str
    owner_id: int
    due_date: dt.date
    status: str
    result: str
    version: int


class CapaOut(Schema):
    id: int
    number: str
    title: str
    kind: str
    status: str
    source_kind: str
    source_reference: str
    problem: str
    risk: str
    containment: str
    method: str
    factor: str
    whys: list[str]
    root_cause: str
    due_date: dt.date | None
    owner_id: int | None
    effective: bool | None
    effectiveness_verified_on: dt.date | None
    justification: str
    closed_at: dt.datetime | None
    version: int


class CapaDetailOut(CapaOut):
    actions: list[ActionOut]
    close_errors: list[str]

    @staticmethod
    def resolve_actions(obj: Capa) -> list[CapaAction]:
        return list(obj.actions.all())

    @staticmethod
    def resolve_close_errors(obj: Capa) -> list[str]:
        return obj.close_errors() if obj.is_open else []


class CapaQuery(Schema):
    status: Literal["open", "closed", "not_needed", "voided"] | None = None
    source_kind: str | None = Field(None, max_length=20)


class CapaIn(Schema):
    title: str = Field(..., min_length=1, max_length=200)
    problem: str = Field(..., min_length=1, max_length=10000)
    kind: Literal["corrective", "preventive"] = "corrective"
    source_kind: str = Field(SourceKind.DIRECT, max_length=20)
    evaluation_id: Id | None = Field(
        None, description="A complaint evaluation waiting for a CAPA: prefills and takes it."
    )
    risk: Literal["", "low", "medium", "high"] = ""
    containment: str = Field("", max_length=10000)
    due_date: dt.date | None = None


class CapaPatch(Versioned):
    title: str | None = Field(None, min_length=1, max_length=200)
    problem: str | None = Field(None, max_length=10000)
    risk: Literal["", "low", "medium", "high"] | None = None
    risk_assessment: str | None = Field(None, max_length=10000)
    containment: str | None = Field(None, max_length=10000)
    method: Literal["", "5m1e", "fishbone", "fault_tree", "other"] | None = None
    factor: (
        Literal["", "man", "machine", "material", "method", "environment", "measurement"] | None
    ) = None
    whys: list[str] | None = Field(None, max_length=5)
    analysis: str | None = Field(None, max_length=10000)
    root_cause: str | None = Field(None, max_length=10000)
    due_date: dt.date | None = None


class ActionIn(Schema):
    description: str = Field(..., min_length=1, max_length=10000)
    owner_id: Id
    due_date: dt.date
    kind: Literal["correction", "corrective", "preventive"] = "corrective"


class ResultIn(Versioned):
    result: str = Field(..., min_length=1, max_length=10000)


class VerifyIn(Versioned):
    effective: bool
    evidence: str = Field(..., min_length=1, max_length=10000)
    verified_on: dt.date | None = None


class SignIn(Schema):
    password: str = Field(..., max_length=256)
    comment: str = Field("", max_length=2000)


def _choice(value: str | None, choices: Any, field: str) -> None:
    if value is not None and value not in choices.values:
        raise ValidationError({field: _("Choose from the list.")})


@router.get("/capas", response={200: list[CapaOut], **error_responses(403, 422)})
@paginate(Pagination)
def list_capas(request: HttpRequest, filters: Query[CapaQuery]) -> Any:
    require_perm(request, "capa.view_capa")
    _choice(filters.source_kind, SourceKind, "source_kind")
    qs = scope_for_user(api_user(request), Capa).order_by("-id")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.source_kind:
        qs = qs.filter(source_kind=filters.source_kind)
    return qs


def _capa(request: HttpRequest, pk: int, action: str = "view") -> Capa:
    return api_get_object(request, Capa.objects.prefetch_related("actions"), action, pk=pk)


@router.get("/capas/{pk}", response={200: CapaDetailOut, **error_responses(403, 404)})
def get_capa(request: HttpRequest, pk: Id) -> Any:
    return _capa(request, pk)


@router.post(
    "/capas",
    response={201: CapaDetailOut, **error_responses(403, 404, 422)},
    auth=auth_with_perm("capa.add_capa"),
)
def create_capa(request: HttpRequest, payload: CapaIn) -> Any:
    user = api_user(request)
    data = payload.dict()
    ev_id = data.pop("evaluation_id")
    _choice(data["source_kind"], SourceKind, "source_kind")
    if ev_id is not None:
        evaluation = capa_svc.pending_complaint_handoffs(user).filter(pk=ev_id).first()
        if evaluation is None:
            raise ValidationError({"evaluation_id": _("This complaint is not waiting for a CAPA.")})
        data.pop("source_kind")
        obj = capa_svc.open_capa_from_complaint(evaluation, by=user, **data)
    else:
        obj = capa_svc.create_capa(by=user, **data)
    return Status(201, _capa(request, obj.pk))


@router.patch(
    "/capas/{pk}",
    response={200: CapaDetailOut, **error_responses(403, 404, 409, 422)},
    auth=auth_with_perm("capa.change_capa"),
)
def update_capa(request: HttpRequest, pk: Id, payload: CapaPatch) -> Any:
    obj = _capa(request, pk, "change")
    fields = payload.dict(exclude_unset=True)
    version = fields.pop("version", None)
    obj = capa_svc.update_capa(obj, by=api_user(request), version=version, **fields)
    return _capa(request, obj.pk)


@router.post(
    "/capas/{pk}/actions",
    response={201: ActionOut, **error_responses(403, 404, 422)},
    auth=auth_with_perm("capa.change_capa"),
)
def add_action(request: HttpRequest, pk: Id, payload: ActionIn) -> Any:
    obj = _capa(request, pk, "change")
    owner = get_user_model().objects.filter(pk=payload.owner_id, is_active=True).first()
    if owner is None:
        raise ValidationError({"owner_id": _("No active user with this id.")})
    action = capa_svc.add_action(
        obj,
        by=api_user(request),
        description=payload.description,
        owner=owner,
        due_date=payload.due_date,
        kind=payload.kind,
    )
    return Status(201, action)


@router.post(
    "/actions/{pk}/done",
    response={200: ActionOut, **error_responses(403, 404, 409, 422)},
    auth=auth_with_perm("capa.view_capaaction"),
)
def complete_action(request: HttpRequest, pk: Id, payload: ResultIn) -> Any:
    action = api_get_object(request, CapaAction, pk=pk)
    return capa_svc.complete_action(
        action, by=api_user(request), version=payload.version, result=payload.result
    )


@router.post(
    "/capas/{pk}/verification",
    response={200: CapaDetailOut, **error_responses(403, 404, 409, 422)},
    auth=auth_with_perm("capa.change_capa"),
)
def verify(request: HttpRequest, pk: Id, payload: VerifyIn) -> Any:
    obj = _capa(request, pk, "change")
    capa_svc.verify_effectiveness(
        obj,
        by=api_user(request),
        version=payload.version,
        effective=payload.effective,
        evidence=payload.evidence,
        verified_on=payload.verified_on,
    )
    return _capa(request, pk)


@router.post(
    "/capas/{pk}/close",
    response={200: CapaDetailOut, **error_responses(403, 404, 422)},
    auth=auth_with_perm("capa.close_capa"),
)
def close(request: HttpRequest, pk: Id, payload: SignIn) -> Any:
    """Close with the caller's e-signature (the password re-entered); 422 with the reasons
    while an action is open or the effectiveness is unverified."""
    obj = _capa(request, pk)
    capa_svc.close_capa(
        obj,
        by=api_user(request),
        password=payload.password,
        comment=payload.comment,
        request=request,
    )
    return _capa(request, pk)


# --- CAPA-2 ----------------------------------------------------------------------------------


class NonconformityOut(Schema):
    id: int
    number: str
    title: str
    stage: str
    status: str
    description: str
    product_id: int | None
    quantity: int
    lot_ids: list[int]
    unit_ids: list[int]
    supplier_id: int | None
    segregated: bool
    segregation_location: str
    disposition: str
    disposition_reason: str
    concession_approved_at: dt.datetime | None
    complaint_id: int | None
    related_reference: str
    capa_id: int | None
    version: int

    @staticmethod
    def resolve_lot_ids(obj: Nonconformity) -> list[int]:
        return [lot.pk for lot in obj.lots.all()]

    @staticmethod
    def resolve_unit_ids(obj: Nonconformity) -> list[int]:
        return [u.pk for u in obj.units.all()]


class NonconformityIn(Schema):
    title: str = Field(..., min_length=1, max_length=200)
    stage: Literal["incoming", "in_process", "after_delivery"]
    description: str = Field(..., min_length=1, max_length=10000)
    quantity: int = Field(1, ge=1, le=10_000_000)
    product_id: Id | None = None
    lot_ids: list[Id] = Field(default_factory=list, max_length=1000)
    unit_ids: list[Id] = Field(default_factory=list, max_length=1000)
    supplier_id: Id | None = None
    complaint_id: Id | None = None


class SegregationIn(Versioned):
    location: str = Field(..., min_length=1, max_length=200)


class DispositionIn(Versioned):
    disposition: Literal["return_to_supplier", "rework", "concession", "scrap"]
    reason: str = Field(..., min_length=1, max_length=10000)


def _nc_qs() -> Any:
    return Nonconformity.objects.prefetch_related("lots", "units")


@router.get("/nonconformities", response={200: list[NonconformityOut], **error_responses(403)})
@paginate(Pagination)
def list_nonconformities(request: HttpRequest) -> Any:
    require_perm(request, "capa.view_nonconformity")
    return scope_for_user(api_user(request), _nc_qs()).order_by("-id")


@router.get("/nonconformities/{pk}", response={200: NonconformityOut, **error_responses(403, 404)})
def get_nc(request: HttpRequest, pk: Id) -> Any:
    return api_get_object(request, _nc_qs(), pk=pk)


def _visible(user: Any, model: Any, pk: int | None, field: str) -> Any:
    if pk is None:
        return None
    obj = scope_for_user(user, model).filter(pk=pk).first()
    if obj is None:
        raise ValidationError({field: _("Not found.")})
    return obj


def _visible_many(user: Any, model: Any, pks: list[int], field: str) -> list[Any]:
    found = list(scope_for_user(user, model).filter(pk__in=set(pks)))
    if len(found) != len(set(pks)):
        raise ValidationError({field: _("Not found.")})
    return found


@router.post(
    "/nonconformities",
    response={201: NonconformityOut, **error_responses(403, 422)},
    auth=auth_with_perm("capa.add_nonconformity"),
)
def create_nc(request: HttpRequest, payload: NonconformityIn) -> Any:
    from medvigil.complaints.models import Feedback
    from medvigil.trace.models import Lot, Product, Unit

    user = api_user(request)
    nc = nc_svc.create_nonconformity(
        by=user,
        title=payload.title,
        stage=payload.stage,
        description=payload.description,
        quantity=payload.quantity,
        product=_visible(user, Product, payload.product_id, "product_id"),
        lots=_visible_many(user, Lot, payload.lot_ids, "lot_ids"),
        units=_visible_many(user, Unit, payload.unit_ids, "unit_ids"),
        supplier=_visible(user, Supplier, payload.supplier_id, "supplier_id"),
        complaint=_visible(user, Feedback, payload.complaint_id, "complaint_id"),
    )
    return Status(201, api_get_object(request, _nc_qs(), pk=nc.pk))


@router.post(
    "/nonconformities/{pk}/segregation",
    response={200: NonconformityOut, **error_responses(403, 404, 409, 422)},
    auth=auth_with_perm("capa.change_nonconformity"),
)
def segregation(request: HttpRequest, pk: Id, payload: SegregationIn) -> Any:
    """The product still in the company's hands is segregated, and where (before its
    disposition)."""
    nc = api_get_object(request, Nonconformity, "change", pk=pk)
    nc_svc.record_segregation(
        nc, by=api_user(request), version=payload.version, location=payload.location
    )
    return api_get_object(request, _nc_qs(), pk=pk)


@router.post(
    "/nonconformities/{pk}/disposition",
    response={200: NonconformityOut, **error_responses(403, 404, 409, 422)},
    auth=auth_with_perm("capa.change_nonconformity"),
)
def disposition(request: HttpRequest, pk: Id, payload: DispositionIn) -> Any:
    nc = api_get_object(request, Nonconformity, "change", pk=pk)
    nc_svc.decide_disposition(
        nc,
        by=api_user(request),
        version=payload.version,
        disposition=payload.disposition,
        reason=payload.reason,
    )
    return api_get_object(request, _nc_qs(), pk=pk)


@router.post(
    "/nonconformities/{pk}/approval",
    response={200: NonconformityOut, **error_responses(403, 404, 422)},
    auth=auth_with_perm("capa.approve_concession"),
)
def approve(request: HttpRequest, pk: Id, payload: SignIn) -> Any:
    """Approve a concession with the caller's e-signature (the comment gives its conditions)."""
    nc = api_get_object(request, Nonconformity, pk=pk)
    nc_svc.approve_concession(
        nc,
        by=api_user(request),
        password=payload.password,
        comment=payload.comment,
        request=request,
    )
    return api_get_object(request, _nc_qs(), pk=pk)


# --- CAPA-3 ----------------------------------------------------------------------------------


class SupplierOut(Schema):
    id: int
    code: str
    name: str
    supplies: str
    status: str
    approved_on: dt.date | None
    version: int


class ScarOut(Schema):
    id: int
    number: str
    supplier_id: int
    title: str
    status: str
    problem: str
    due_date: dt.date
    nonconformity_id: int | None
    capa_id: int | None
    response: str
    verification: str
    verified_on: dt.date | None
    version: int


@router.get("/suppliers", response={200: list[SupplierOut], **error_responses(403)})
@paginate(Pagination)
def list_suppliers(request: HttpRequest) -> Any:
    require_perm(request, "capa.view_supplier")
    return scope_for_user(api_user(request), Supplier).order_by("code")


@router.get("/suppliers/{pk}", response={200: SupplierOut, **error_responses(403, 404)})
def get_supplier(request: HttpRequest, pk: Id) -> Any:
    return api_get_object(request, Supplier, pk=pk)


@router.get("/scars", response={200: list[ScarOut], **error_responses(403)})
@paginate(Pagination)
def list_scars(request: HttpRequest) -> Any:
    require_perm(request, "capa.view_scar")
    return scope_for_user(api_user(request), Scar).order_by("-id")


@router.get("/scars/{pk}", response={200: ScarOut, **error_responses(403, 404)})
def get_scar(request: HttpRequest, pk: Id) -> Any:
    return api_get_object(request, Scar, pk=pk)


class ScarIn(Schema):
    supplier_id: Id | None = Field(
        None, description="The supplier; taken from the nonconformity when one is named."
    )
    nonconformity_id: Id | None = None
    capa_id: Id | None = None
    title: str = Field("", max_length=200)
    problem: str = Field("", max_length=10000)
    due_date: dt.date


class ResponseIn(Versioned):
    response: str = Field(..., min_length=1, max_length=10000)
    supplier_root_cause: str = Field("", max_length=10000)
    responded_on: dt.date | None = None


class ScarVerifyIn(Versioned):
    effective: bool
    verification: str = Field(..., min_length=1, max_length=10000)
    new_due_date: dt.date | None = None


@router.post(
    "/scars",
    response={201: ScarOut, **error_responses(403, 422)},
    auth=auth_with_perm("capa.add_scar"),
)
def create_scar(request: HttpRequest, payload: ScarIn) -> Any:
    """CAPA-3: a request to the supplier — from a nonconformity naming its supplier
    (prefilled from it, as on its page) or directly."""
    user = api_user(request)
    nc = _visible(user, Nonconformity, payload.nonconformity_id, "nonconformity_id")
    if nc is not None and payload.supplier_id is None and not payload.title:
        scar = supplier_svc.scar_from_nonconformity(nc, by=user, due_date=payload.due_date)
    else:
        supplier = _visible(user, Supplier, payload.supplier_id, "supplier_id")
        if supplier is None and nc is not None:
            supplier = nc.supplier
        scar = supplier_svc.request_scar(
            by=user,
            supplier=supplier,  # type: ignore[arg-type]
            title=payload.title,
            problem=payload.problem,
            due_date=payload.due_date,
            nonconformity=nc,
            capa=_visible(user, Capa, payload.capa_id, "capa_id") or (nc.capa if nc else None),
        )
    return Status(201, api_get_object(request, Scar, pk=scar.pk))


@router.post(
    "/scars/{pk}/response",
    response={200: ScarOut, **error_responses(403, 404, 409, 422)},
    auth=auth_with_perm("capa.change_scar"),
)
def scar_response(request: HttpRequest, pk: Id, payload: ResponseIn) -> Any:
    scar = api_get_object(request, Scar, "change", pk=pk)
    supplier_svc.record_response(
        scar,
        by=api_user(request),
        version=payload.version,
        response=payload.response,
        supplier_root_cause=payload.supplier_root_cause,
        responded_on=payload.responded_on,
    )
    return api_get_object(request, Scar, pk=pk)


@router.post(
    "/scars/{pk}/verification",
    response={200: ScarOut, **error_responses(403, 404, 409, 422)},
    auth=auth_with_perm("capa.change_scar"),
)
def scar_verification(request: HttpRequest, pk: Id, payload: ScarVerifyIn) -> Any:
    scar = api_get_object(request, Scar, "change", pk=pk)
    supplier_svc.verify_scar(
        scar,
        by=api_user(request),
        version=payload.version,
        effective=payload.effective,
        verification=payload.verification,
        new_due_date=payload.new_due_date,
    )
    return api_get_object(request, Scar, pk=pk)


__all__ = ["Risk", "router"]
