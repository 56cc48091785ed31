"""The recalls API (RCL-1 … RCL-6), mounted at /api/v1/recalls. Every write goes through the
services (the same rules as the pages); contacts are masked without
recalls.view_contact_data (PLAT-11)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from medvigil.core.api import (
    Id,
    PageParams,
    Versioned,
    api_get_object,
    api_user,
    auth_with_perm,
    error_responses,
    paginate_queryset,
    require_perm,
)
from medvigil.core.permissions import scope_for_user
from medvigil.trace.models import Product

from . import services
from .models import (
    CONTACT_PERM,
    Kind,
    NoticeChannel,
    Recall,
    RecallClock,
    RecallConsignee,
    RecallUnit,
    UnitOutcome,
)
from .services.records import source_model

router = Router(tags=["recalls"])

VIEW = "recalls.view_recall"
ADD = "recalls.add_recall"
CHANGE = "recalls.change_recall"
TEXT = 20000


class RecallOut(Schema):
    id: int
    number: str
    kind: str
    title: str
    title_en: str
    reason: str
    reason_en: str
    action: str
    action_en: str
    level: int | None
    status: str
    source_kind: str
    source_reference: str
    source_type: str | None = None
    source_id: str
    fda_class: str
    us_action: str
    us_report_number: str
    eu_fsca: bool
    eu_fsca_urgent: bool
    eu_reported_at: dt.datetime | None
    product_id: int | None
    scope_lots: str
    scope_serials: str
    scope_gtin: str
    produced_from: dt.date | None
    produced_to: dt.date | None
    scope_resolved_at: dt.datetime | None
    unit_count: int
    consignee_count: int
    decided_at: dt.datetime | None
    completed_at: dt.datetime | None = None
    closed_at: dt.datetime | None
    version: int


class RecallIn(Schema):
    kind: str = Field(Kind.RECALL, max_length=10, description="recall or advisory (RCL-6).")
    title: str = Field(..., max_length=200)
    title_en: str = Field("", max_length=200)
    reason: str = Field(..., max_length=TEXT)
    reason_en: str = Field("", max_length=TEXT)
    action: str = Field("", max_length=TEXT)
    action_en: str = Field("", max_length=TEXT)
    level: int | None = Field(None, ge=1, le=3, description="China recall level 1, 2 or 3.")
    source_kind: str = Field(
        "",
        max_length=20,
        description="complaint, capa, adverse_event, regulator_order or direct (the default; "
        "from `source` when one is given).",
    )
    source_reference: str = Field("", max_length=100)
    fda_class: str = Field("", max_length=3, description="I, II or III when the US is affected.")
    us_action: str = Field("", max_length=1, description="C (correction) or R (removal).")
    fda_registration: str = Field("", max_length=10)
    eu_fsca: bool = False
    eu_fsca_urgent: bool = False
    product_id: Id | None = None
    scope_lots: str = Field("", max_length=TEXT, description="Lot numbers, one a line.")
    scope_serials: str = Field("", max_length=200_000, description="Serials or UDIs, one a line.")
    scope_gtin: str = Field("", max_length=80)
    produced_from: dt.date | None = None
    produced_to: dt.date | None = None
    source: str = Field(
        "",
        max_length=60,
        description="The record it starts from (RCL-1): capa.capa:<id>, complaints.feedback:<id> "
        "or vigilance.adverseevent:<id>; linked both ways.",
    )


class RecallPatch(Versioned):
    title: str | None = Field(None, max_length=200)
    title_en: str | None = Field(None, max_length=200)
    reason: str | None = Field(None, max_length=TEXT)
    reason_en: str | None = Field(None, max_length=TEXT)
    action: str | None = Field(None, max_length=TEXT)
    action_en: str | None = Field(None, max_length=TEXT)
    source_reference: str | None = Field(None, max_length=100)
    scope_lots: str | None = Field(None, max_length=TEXT)
    scope_serials: str | None = Field(None, max_length=200_000)


class ReasonIn(Versioned):
    reason: str = Field(..., max_length=2000)


class ConsigneeOut(Schema):
    id: int
    customer_id: int
    name: str
    customer_kind: str
    sale_level: int | None
    is_end_user: bool
    unit_count: int
    quantity: int
    contact_person: str | None
    phone: str | None
    email: str | None
    address: str | None
    notice_channel: str
    notice_sent_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    chase_count: int


class UnitOut(Schema):
    id: int
    unit_id: int
    serial: str
    lot_id: int | None
    consignee_id: int | None
    holder_id: int | None
    end_user_id: int | None
    location: str | None
    outcome: str
    outcome_at: dt.datetime | None
    evidence: str


class ClockOut(Schema):
    id: int
    rule: str
    citation: str
    calendar: str
    started_at: dt.datetime | None
    due_at: dt.datetime | None
    met_at: dt.datetime | None
    reference: str
    sequence: int = 1


class EffectivenessOut(Schema):
    units: int
    accounted: int
    located: int
    percent: str
    located_percent: str
    by_outcome: dict[str, int]
    consignees: int
    notified: int
    acknowledged: int


class RecallPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[RecallOut]


class ConsigneePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ConsigneeOut]


class UnitPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[UnitOut]


class ListQuery(Schema):
    kind: str = Field("", max_length=10)
    status: str = Field("", max_length=8)


class UnitQuery(Schema):
    outcome: str = Field("", max_length=10)


class NoticeIn(Schema):
    channel: str = Field(..., max_length=8, description="email, phone, fax, letter or visit.")
    note: str = Field("", max_length=300)


class AckIn(Schema):
    note: str = Field("", max_length=300)


class OutcomeIn(Schema):
    outcome: str = Field(..., max_length=10)
    serials: list[str] = Field(..., max_length=10_000)
    evidence: str = Field("", max_length=TEXT)


class MeetIn(Schema):
    reference: str = Field("", max_length=100)


def _recall_out(r: Recall) -> dict[str, Any]:
    data = {f: getattr(r, f) for f in RecallOut.model_fields if hasattr(r, f)}
    data["source_type"] = r.source_type.model if r.source_type_id and r.source_type else None
    return data


def _consignee_out(c: RecallConsignee, contacts: bool) -> dict[str, Any]:
    data = {f: getattr(c, f) for f in ConsigneeOut.model_fields}
    if not contacts:
        for name in ("contact_person", "phone", "email", "address"):
            data[name] = None
    return data


def _unit_out(u: RecallUnit, contacts: bool) -> dict[str, Any]:
    data = {f: getattr(u, f) for f in UnitOut.model_fields}
    if not contacts:
        data["location"] = None
    return data


def _recall_qs(user: Any) -> Any:
    return scope_for_user(user, Recall).select_related("source_type")


@router.get("/recalls", response={200: RecallPage, **error_responses(403)})
def list_recalls(request: HttpRequest, filters: Query[ListQuery], page: Query[PageParams]) -> Any:
    """Recalls and advisory notices, newest first; filters kind and status."""
    require_perm(request, VIEW)
    qs = _recall_qs(api_user(request))
    if filters.kind:
        if filters.kind not in Kind.values:
            raise ValidationError({"kind": [_("Choose from the list.")]})
        qs = qs.filter(kind=filters.kind)
    if filters.status:
        if filters.status not in Recall.Status.values:
            raise ValidationError({"status": [_("Choose from the list.")]})
        qs = qs.filter(status=filters.status)
    result = paginate_queryset(qs.order_by("-id"), page.limit, page.offset)
    result["items"] = [_recall_out(r) for r in result["items"]]
    return result


@router.post(
    "/recalls", response={201: RecallOut, **error_responses(403)}, auth=auth_with_perm(ADD)
)
def create_recall(request: HttpRequest, payload: RecallIn) -> Any:
    """A draft recall or advisory notice with its scope criteria (RCL-1, RCL-6)."""
    user = api_user(request)
    data = payload.dict()
    kind = data.pop("kind")
    product_id = data.pop("product_id")
    if product_id is not None:
        product = scope_for_user(user, Product).filter(pk=product_id).first()
        if product is None:
            raise ValidationError({"product_id": [_("Unknown product.")]})
        data["product"] = product
    if data["level"] is None:
        data.pop("level")
    if not data["source_kind"]:
        data.pop("source_kind")
    source = data.pop("source").strip()
    if source:
        label, _sep, pk = source.partition(":")
        model = source_model(label.strip().lower())
        record = (
            scope_for_user(user, model).filter(pk=int(pk)).first()
            if model is not None
            and pk.isdigit()
            and user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
            else None
        )
        if record is None:
            raise ValidationError({"source": [_("Unknown source record.")]})
        recall = services.create_recall_from(record, by=user, kind=kind, **data)
    else:
        recall = services.create_recall(by=user, kind=kind, **data)
    return Status(201, _recall_out(recall))


@router.get("/recalls/{pk}", response={200: RecallOut, **error_responses(403, 404)})
def get_recall(request: HttpRequest, pk: Id) -> Any:
    require_perm(request, VIEW)
    return _recall_out(api_get_object(request, _recall_qs(api_user(request)), pk=pk))


@router.patch(
    "/recalls/{pk}",
    response={200: RecallOut, **error_responses(403, 404, 409)},
    auth=auth_with_perm(CHANGE),
)
def update_recall(request: HttpRequest, pk: Id, payload: RecallPatch) -> Any:
    """Edit the record as read (`version`, else 409); the scope only while a draft."""
    recall = api_get_object(request, Recall, "change", pk=pk)
    data = {
        k: v
        for k, v in payload.dict(exclude_unset=True).items()
        if k != "version" and v is not None
    }
    recall = services.update_recall(recall, by=api_user(request), version=payload.version, **data)
    return _recall_out(recall)


@router.post(
    "/recalls/{pk}/resolve",
    response={200: RecallOut, **error_responses(403, 404)},
    auth=auth_with_perm(CHANGE),
)
def resolve_scope(request: HttpRequest, pk: Id) -> Any:
    """RCL-2: resolve the scope criteria through traceability into unit and consignee rows."""
    recall = api_get_object(request, Recall, "change", pk=pk)
    return _recall_out(services.resolve_scope(recall, by=api_user(request)))


@router.post(
    "/recalls/{pk}/void",
    response={200: RecallOut, **error_responses(403, 404, 409)},
    auth=auth_with_perm(CHANGE),
)
def void_recall(request: HttpRequest, pk: Id, payload: ReasonIn) -> Any:
    recall = api_get_object(request, Recall, "change", pk=pk)
    return _recall_out(
        services.void_recall(
            recall, by=api_user(request), version=payload.version, reason=payload.reason
        )
    )


@router.post(
    "/recalls/{pk}/complete",
    response={200: RecallOut, **error_responses(403, 404, 409)},
    auth=auth_with_perm(CHANGE),
)
def complete_execution(request: HttpRequest, pk: Id, payload: Versioned) -> Any:
    """RCL-3: the execution declared complete; the summary evaluation clock starts."""
    recall = api_get_object(request, Recall, "change", pk=pk)
    return _recall_out(
        services.complete_execution(recall, by=api_user(request), version=payload.version)
    )


class CloseIn(Versioned):
    conclusion: str = Field(..., max_length=TEXT)


class DocumentOut(Schema):
    id: int
    number: str
    kind: str
    status: str
    issued_at: dt.datetime | None
    issued_by_id: int | None
    has_pdf: bool


@router.post(
    "/recalls/{pk}/eu-report",
    response={200: RecallOut, **error_responses(403, 404, 409, 422)},
    auth=auth_with_perm(CHANGE),
)
def record_eu_report(request: HttpRequest, pk: Id, payload: Versioned) -> Any:
    """RCL-3: the EU FSCA reported to the competent authority (before any notice is recorded,
    unless urgent)."""
    recall = api_get_object(request, Recall, "change", pk=pk)
    return _recall_out(
        services.record_eu_report(recall, by=api_user(request), version=payload.version)
    )


@router.post(
    "/recalls/{pk}/close",
    response={200: RecallOut, **error_responses(403, 404, 409, 422)},
    auth=auth_with_perm(CHANGE),
)
def close_recall(request: HttpRequest, pk: Id, payload: CloseIn) -> Any:
    """RCL-5: closed with a conclusion once the final evaluation report is issued."""
    recall = api_get_object(request, Recall, "change", pk=pk)
    return _recall_out(
        services.close_recall(
            recall, by=api_user(request), version=payload.version, conclusion=payload.conclusion
        )
    )


@router.get(
    "/recalls/{pk}/documents", response={200: list[DocumentOut], **error_responses(403, 404)}
)
def list_documents(request: HttpRequest, pk: Id) -> Any:
    """RCL-5: the recall's plan, notice and final evaluation report (drafts and issued; the
    issued PDF is on the document's page)."""
    from .models import RecallDocument

    require_perm(request, VIEW)
    recall = api_get_object(request, Recall, pk=pk)
    docs = scope_for_user(api_user(request), RecallDocument).filter(recall=recall)
    return [
        {
            "id": d.pk,
            "number": d.number,
            "kind": d.kind,
            "status": d.status,
            "issued_at": d.issued_at,
            "issued_by_id": d.issued_by_id,
            "has_pdf": d.document_id is not None,
        }
        for d in docs.order_by("id")
    ]


@router.get(
    "/recalls/{pk}/effectiveness", response={200: EffectivenessOut, **error_responses(403, 404)}
)
def get_effectiveness(request: HttpRequest, pk: Id) -> Any:
    """RCL-4: units by outcome and the effectiveness percentage (SQL aggregates)."""
    require_perm(request, VIEW)
    recall = api_get_object(request, Recall, pk=pk)
    eff = services.effectiveness(recall)
    return {**eff, "percent": str(eff["percent"]), "located_percent": str(eff["located_percent"])}


@router.get("/recalls/{pk}/clocks", response={200: list[ClockOut], **error_responses(403, 404)})
def list_clocks(request: HttpRequest, pk: Id) -> Any:
    """RCL-3: the recall's deadlines with their rule and citation."""
    require_perm(request, VIEW)
    recall = api_get_object(request, Recall, pk=pk)
    out = []
    for c in RecallClock.objects.filter(recall=recall).order_by("due_at", "id"):
        rule = c.rule
        out.append(
            {
                "id": c.pk,
                "rule": c.deadline_rule,
                "citation": rule.citation if rule else "",
                "calendar": c.deadline_calendar,
                "started_at": c.clock_started_at,
                "due_at": c.due_at,
                "met_at": c.met_at,
                "reference": c.reference,
                "sequence": c.sequence,
            }
        )
    return out


@router.post(
    "/recalls/clocks/{pk}/meet",
    response={200: ClockOut, **error_responses(403, 404)},
    auth=auth_with_perm(CHANGE),
)
def meet_clock(request: HttpRequest, pk: Id, payload: MeetIn) -> Any:
    clock = api_get_object(request, RecallClock, "change", pk=pk)
    api_get_object(request, Recall, pk=clock.recall_id)
    c = services.meet_clock(clock, by=api_user(request), reference=payload.reference)
    rule = c.rule
    return {
        "id": c.pk,
        "rule": c.deadline_rule,
        "citation": rule.citation if rule else "",
        "calendar": c.deadline_calendar,
        "started_at": c.clock_started_at,
        "due_at": c.due_at,
        "met_at": c.met_at,
        "reference": c.reference,
        "sequence": c.sequence,
    }


@router.get("/recalls/{pk}/consignees", response={200: ConsigneePage, **error_responses(403, 404)})
def list_consignees(request: HttpRequest, pk: Id, page: Query[PageParams]) -> Any:
    """RCL-2/4: every customer reached, by sale level, with notice and acknowledgement."""
    require_perm(request, VIEW)
    user = api_user(request)
    recall = api_get_object(request, Recall, pk=pk)
    qs = RecallConsignee.objects.filter(recall=recall).order_by("sale_level", "name", "id")
    result = paginate_queryset(qs, page.limit, page.offset)
    contacts = user.has_perm(CONTACT_PERM)
    result["items"] = [_consignee_out(c, contacts) for c in result["items"]]
    return result


@router.get("/recalls/{pk}/units", response={200: UnitPage, **error_responses(403, 404)})
def list_units(
    request: HttpRequest, pk: Id, filters: Query[UnitQuery], page: Query[PageParams]
) -> Any:
    """RCL-2/4: every affected unit with its consignee, end user and outcome."""
    require_perm(request, VIEW)
    user = api_user(request)
    recall = api_get_object(request, Recall, pk=pk)
    qs = RecallUnit.objects.filter(recall=recall)
    if filters.outcome:
        if filters.outcome not in UnitOutcome.values:
            raise ValidationError({"outcome": [_("Choose from the list.")]})
        qs = qs.filter(outcome=filters.outcome)
    result = paginate_queryset(qs.order_by("id"), page.limit, page.offset)
    contacts = user.has_perm(CONTACT_PERM)
    result["items"] = [_unit_out(u, contacts) for u in result["items"]]
    return result


@router.post(
    "/recalls/{pk}/outcomes",
    response={200: EffectivenessOut, **error_responses(403, 404)},
    auth=auth_with_perm("recalls.change_recallunit"),
)
def record_outcomes(request: HttpRequest, pk: Id, payload: OutcomeIn) -> Any:
    """RCL-4: units (by serial) located, corrected, returned or destroyed, with evidence."""
    recall = api_get_object(request, Recall, pk=pk)
    services.record_outcome(
        recall,
        by=api_user(request),
        outcome=payload.outcome,
        serials=payload.serials,
        evidence=payload.evidence,
    )
    eff = services.effectiveness(recall)
    return {**eff, "percent": str(eff["percent"]), "located_percent": str(eff["located_percent"])}


@router.post(
    "/recalls/consignees/{pk}/notice",
    response={200: ConsigneeOut, **error_responses(403, 404)},
    auth=auth_with_perm("recalls.change_recallconsignee"),
)
def record_notice(request: HttpRequest, pk: Id, payload: NoticeIn) -> Any:
    """RCL-4: the notice sent to one consignee (channel email sends it from the system)."""
    user = api_user(request)
    row = api_get_object(request, RecallConsignee, "change", pk=pk)
    api_get_object(request, Recall, pk=row.recall_id)
    if payload.channel not in NoticeChannel.values:
        raise ValidationError({"channel": [_("Choose from the list.")]})
    row = services.record_notice(row, by=user, channel=payload.channel, note=payload.note)
    return _consignee_out(row, user.has_perm(CONTACT_PERM))


@router.post(
    "/recalls/consignees/{pk}/ack",
    response={200: ConsigneeOut, **error_responses(403, 404)},
    auth=auth_with_perm("recalls.change_recallconsignee"),
)
def record_ack(request: HttpRequest, pk: Id, payload: AckIn) -> Any:
    user = api_user(request)
    row = api_get_object(request, RecallConsignee, "change", pk=pk)
    api_get_object(request, Recall, pk=row.recall_id)
    row = services.record_acknowledgement(row, by=user, note=payload.note)
    return _consignee_out(row, user.has_perm(CONTACT_PERM))
