"""VIG-1: the suspected adverse event — raised directly, from a service visit, or from a
complaint's evaluation (the hand-off of complaints.services.evaluation)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.permissions import require

from ..models import AdverseEvent, Market, Outcome, Place, Source
from ..rules import customer_market

ADD_PERM = "vigilance.add_adverseevent"
CHANGE_PERM = "vigilance.change_adverseevent"

# What the create and edit pages, the API and the demo may set.
EDITABLE = (
    "title",
    "source",
    "source_reference",
    "aware_at",
    "eu_reportability_at",
    "occurred_at",
    "occurred_where",
    "occurred_place",
    "outcome",
    "narrative",
    "public_health_threat",
    "unanticipated",
    "remedial_action",
    "fda_written_request",
    "cluster",
    "expected_side_effect",
    "product",
    "lot",
    "unit",
    "udi_text",
    "device_text",
    "markets",
    "patient_name",
    "patient_birth_date",
    "patient_age",
    "patient_sex",
    "patient_record_number",
    "patient_history",
    "intended_use",
    "used_at",
    "use_place",
    "use_process",
    "concomitant_products",
    "initial_cause",
    "handling",
    "investigation",
    "relatedness",
    "risk_evaluation",
    "control_measures",
    "imdrf_codes",
    "owner",
)
# Changing one of these re-proposes the undecided reportability decisions.
DECISION_FACTS = (
    "outcome",
    "occurred_place",
    "public_health_threat",
    "unanticipated",
    "remedial_action",
    "fda_written_request",
    "cluster",
)
DEVICE_FIELDS = ("product", "lot", "unit")


def _only(fields: dict[str, Any]) -> None:
    unknown = sorted(set(fields) - set(EDITABLE) - {"device"})
    if unknown:
        raise ValidationError(_("Unknown field: %(f)s") % {"f": ", ".join(unknown)})


def find_device(text: str, *, user: Any) -> dict[str, Any]:
    """A scanned UDI, a serial or a lot number → {"unit", "lot", "product", "udi_text"} through
    trace's look-up (the complaint intake's, among the units and lots the user may see), or
    {"error": reason}."""
    from medvigil.complaints.services.intake import find_device as trace_find

    return trace_find(text, user=user)


def _resolve_fk(data: dict[str, Any], name: str, model: type[models.Model]) -> None:
    value = data.get(name)
    if value in (None, ""):
        data[name] = None
    elif not isinstance(value, model):
        try:
            data[name] = model._default_manager.get(pk=int(value))
        except (model.DoesNotExist, TypeError, ValueError, OverflowError):  # type: ignore[attr-defined]
            raise ValidationError({name: _("Choose an existing record.")}) from None


def _clean(data: dict[str, Any], *, by: Any) -> dict[str, Any]:
    from medvigil.accounts.models import User
    from medvigil.trace.models import Lot, Product, Unit

    _only(data)
    device = data.pop("device", None)
    if isinstance(device, str) and device.strip():
        facts = find_device(device, user=by)
        if "error" in facts:
            raise ValidationError({"device": str(facts["error"])})
        for name in ("unit", "lot", "product"):
            if facts.get(name) is not None:
                data[name] = facts[name]
        if facts.get("udi_text"):
            data["udi_text"] = facts["udi_text"]
        if not data.get("device_text"):
            data["device_text"] = device.strip()[:200]
    for name, model in (("product", Product), ("lot", Lot), ("unit", Unit), ("owner", User)):
        if name in data:
            _resolve_fk(data, name, model)
    unit, lot = data.get("unit"), data.get("lot")
    if unit is not None:
        if not data.get("product"):
            data["product"] = unit.product
        if lot is None and unit.lot_id:
            data["lot"] = unit.lot
    if lot is not None and not data.get("product"):
        data["product"] = lot.product
    for name in ("markets", "imdrf_codes"):
        if name in data and data[name] is None:
            data[name] = []
    for name, value in list(data.items()):
        if isinstance(value, str):
            data[name] = value.strip() if name not in ("narrative",) else value
    return data


def check_imdrf_codes(codes: Any, *, existing: Any = ()) -> list[str]:
    """VIG-5: the event's IMDRF codes (any annex, A–G), normalised, or a ValidationError on
    `imdrf_codes` naming every bad one (not a code, unknown, retired, a grouping term). The one
    rule the form's picker, the API, the services and the demo go through
    (imdrf.services.validate_codes); the codes the event had already (`existing`) stay valid
    when IMDRF has retired them since."""
    from medvigil.imdrf.services import validate_codes

    try:
        return validate_codes(None, codes, existing=list(existing or ()))
    except ValidationError as exc:
        raise ValidationError({"imdrf_codes": exc.messages}) from None


def imdrf_terms(codes: Any) -> list[dict[str, Any]]:
    """The codes with their terms, for the pages, the API and the regulators' forms: [{"code",
    "annex", "term", "term_zh", "retired", "retired_in"}] in the event's order. A code unknown to
    the loaded terminology (typed before the picker) is kept, with an empty term."""
    from medvigil.imdrf.services import terms_for

    codes = [c for c in (codes or []) if isinstance(c, str)]
    found = terms_for(codes)
    out = []
    for code in codes:
        term = found.get(code.strip().upper())
        out.append(
            {
                "code": term.code if term else code,
                "annex": term.annex if term else "",
                "term": term.term_en if term else "",
                "term_zh": term.term_zh if term else "",
                "retired": bool(term and term.retired),
                "retired_in": term.retired_in.label if term and term.retired_in else "",
            }
        )
    return out


def _udi(event: AdverseEvent) -> None:
    """UDI-DI and UDI-PI of the device, from the unit (or the lot's product)."""
    if event.unit_id and event.unit:
        event.udi_di = event.unit.udi_di or (event.product.gtin if event.product else "") or ""
        event.udi_pi = event.unit.udi_pi
    elif event.product_id and event.product:
        event.udi_di = event.product.gtin or ""


def markets_from_trace(
    *, unit: Any = None, lot: Any = None, product: Any = None
) -> tuple[list[str], list[dict[str, Any]]]:
    """VIG-2: the markets where the unit (else the lot, else the product) was sold, from the
    sales records (trace): each buyer's market from its address (rules.customer_market).
    Returns (sorted markets, [{"market", "customer", "sale"}] — how each was found)."""
    from medvigil.trace.models import SaleLine, SaleStatus

    if unit is not None:
        lines = SaleLine.objects.filter(unit=unit)
    elif lot is not None:
        lines = SaleLine.objects.filter(models.Q(lot=lot) | models.Q(unit__lot=lot))
    elif product is not None:
        lines = SaleLine.objects.filter(product=product)
    else:
        return [], []
    rows = (
        lines.exclude(sale__status=SaleStatus.VOIDED)
        .values_list(
            "buyer__code", "buyer__province", "buyer__city", "buyer__address", "sale__number"
        )
        .distinct()
        .order_by("sale__number")[:2000]
    )
    found: dict[str, dict[str, Any]] = {}
    for code, province, city, address, sale in rows:
        market = customer_market(province or "", city or "", address or "")
        found.setdefault(market, {"market": market, "customer": code, "sale": sale})
    return sorted(found), [found[m] for m in sorted(found)]


def _apply_markets(event: AdverseEvent, given: list[str] | None) -> None:
    traced, sources = markets_from_trace(
        unit=event.unit if event.unit_id else None,
        lot=event.lot if event.lot_id else None,
        product=event.product if event.product_id else None,
    )
    manual = [m for m in (given if given is not None else event.markets) if m in Market.values]
    event.market_sources = sources + [
        {"market": m, "customer": "", "sale": "", "manual": True} for m in manual if m not in traced
    ]
    event.markets = sorted(set(traced) | set(manual))


def prefill_from_evaluation(evaluation: Any) -> dict[str, Any]:
    """The new event's values taken from the complaint (the hand-off of FBK-5 → VIG-1): the
    company knew when the complaint was received (21 CFR 803.3 "become aware")."""
    fb = evaluation.feedback
    outcome = {
        "death": Outcome.DEATH,
        "serious_injury": Outcome.SERIOUS_INJURY,
        "injury": Outcome.SERIOUS_INJURY,
        "risk": Outcome.MALFUNCTION,
    }.get(fb.patient_involvement, Outcome.MALFUNCTION)
    return {
        "title": fb.title[:200],
        "source": Source.COMPLAINT,
        "source_reference": fb.number,
        "aware_at": fb.received_at,
        "occurred_at": fb.occurred_at,
        "occurred_where": fb.occurred_where,
        "outcome": outcome,
        "narrative": (fb.description or "")[:4000],
        "product": fb.product,
        "lot": fb.lot,
        "unit": fb.unit,
        "udi_text": fb.udi_text,
        "device_text": fb.device_text,
        "patient_history": fb.patient_details,
    }


def create_event(*, by: Any, evaluation: Any = None, **fields: Any) -> AdverseEvent:
    """Raise a suspected adverse event (VIG-1). With `evaluation` (a complaint evaluation whose
    adverse-event hand-off is pending) the event is linked to the complaint and the hand-off is
    completed with the event's number, in the same transaction. The markets come from
    traceability (plus any given); the reportability decisions per market are proposed."""
    from medvigil.complaints.models import Evaluation, Handoff
    from medvigil.complaints.services.evaluation import complete_handoff

    from .decisions import propose_decisions

    require(by, ADD_PERM)
    given_markets = fields.pop("markets", None)
    data = _clean(dict(fields), by=by)
    if "imdrf_codes" in data:
        data["imdrf_codes"] = check_imdrf_codes(data["imdrf_codes"])
    with transaction.atomic(), audit_context(actor=by, reason=_("Adverse event raised")):
        ev = None
        if evaluation is not None:
            if not isinstance(evaluation, Evaluation):
                try:
                    evaluation = Evaluation.objects.get(pk=int(evaluation))
                except (Evaluation.DoesNotExist, TypeError, ValueError, OverflowError):
                    raise ValidationError(
                        {"evaluation": _("Choose an existing evaluation.")}
                    ) from None
            ev = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
            if ev.adverse_event_handoff != Handoff.PENDING:
                raise ValidationError(_("This complaint has no adverse event waiting."))
            data = {**prefill_from_evaluation(ev), **data}
            data["source"] = Source.COMPLAINT
        data.setdefault("source", Source.DIRECT)
        data.setdefault("owner", by)
        if data.get("aware_at") is None:
            raise ValidationError({"aware_at": _("Give when the company first knew.")})
        event = AdverseEvent(**data)
        if ev is not None:
            event.feedback_id = ev.feedback_id
            event.evaluation = ev
        _udi(event)
        _apply_markets(event, given_markets)
        event.assign_number()
        event.full_clean(exclude=["number"])
        event.save()
        if ev is not None:
            complete_handoff(ev, kind="adverse_event", reference=event.number, by=by)
        propose_decisions(event, by=by)
    return event


def update_event(event: AdverseEvent, *, by: Any, version: Any, **fields: Any) -> AdverseEvent:
    """Change the event the user read (a stale version: ConflictError). A change of the device
    recomputes the markets; a change of the facts re-proposes undecided decisions (decided ones
    stay until a qualified person revises them)."""
    from .decisions import propose_decisions

    require(by, CHANGE_PERM)
    given_markets = fields.pop("markets", None)
    data = _clean(dict(fields), by=by)
    with transaction.atomic(), audit_context(actor=by):
        obj = AdverseEvent.objects.select_for_update().get(pk=event.pk)
        obj.check_version(version)
        if obj.status != AdverseEvent.Status.OPEN:
            raise ValidationError(_("Only an open event can be changed."))
        if "imdrf_codes" in data:
            data["imdrf_codes"] = check_imdrf_codes(data["imdrf_codes"], existing=obj.imdrf_codes)
        for name, value in data.items():
            setattr(obj, name, value)
        _udi(obj)
        _apply_markets(obj, given_markets)
        obj.full_clean(exclude=["number"])
        obj.save()
        propose_decisions(obj, by=by)
    return obj


def link_cluster(event: AdverseEvent, *, by: Any, lead: AdverseEvent | None) -> AdverseEvent:
    """VIG-1: flag the event as part of a cluster (群体不良事件) led by `lead` (None: unlink).
    Both events become cluster events."""
    from .decisions import propose_decisions

    require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by, reason=_("Cluster link")):
        obj = AdverseEvent.objects.select_for_update().get(pk=event.pk)
        if lead is None:
            obj.cluster_lead = None
            obj.save()
            return obj
        lead_obj = AdverseEvent.objects.select_for_update().get(pk=lead.pk)
        if lead_obj.pk == obj.pk:
            raise ValidationError({"cluster_lead": _("Link another event, not this one.")})
        if lead_obj.cluster_lead_id:
            lead_obj = lead_obj.cluster_lead  # type: ignore[assignment]
        obj.cluster_lead = lead_obj
        obj.cluster = True
        obj.full_clean(exclude=["number"])
        obj.save()
        if not lead_obj.cluster:
            lead_obj.cluster = True
            lead_obj.save()
            propose_decisions(lead_obj, by=by)
        propose_decisions(obj, by=by)
    return obj


def close_event(event: AdverseEvent, *, by: Any, version: Any) -> AdverseEvent:
    """Close an event once every market is decided and no report is still a draft."""
    require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by, reason=_("Adverse event closed")):
        obj = AdverseEvent.objects.select_for_update().get(pk=event.pk)
        obj.check_version(version)
        obj.check_transition(AdverseEvent.Status.CLOSED)
        problems = close_problems(obj)
        if problems:
            raise ValidationError(problems)
        obj.status = AdverseEvent.Status.CLOSED
        obj.closed_at = timezone.now()
        obj.save()
        _copy_open(obj)
    return obj


def _copy_open(event: AdverseEvent) -> None:
    """Copy "the event is open" onto its decisions and reports (their ``event_open``: the
    board's partial indexes hold the running clocks of open events only). A derived value, not
    audited (the event's status change is); called wherever the event's status changes."""
    is_open = event.is_open
    for related in (event.decisions, event.reports):
        related.exclude(event_open=is_open).update(event_open=is_open)


def close_problems(event: AdverseEvent) -> list[str]:
    problems = []
    current = [d for d in event.decisions.all() if d.is_current]
    if any(not d.is_decided for d in current):
        problems.append(_("Decide reportability in every market first."))
    if any(r.status == r.Status.DRAFT for r in event.reports.all()):
        problems.append(_("Submit or void every draft report first."))
    return problems


def reopen_event(event: AdverseEvent, *, by: Any, reason: str) -> AdverseEvent:
    require(by, CHANGE_PERM)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give a reason.")})
    with transaction.atomic(), audit_context(actor=by, reason=reason):
        obj = AdverseEvent.objects.select_for_update().get(pk=event.pk)
        obj.check_transition(AdverseEvent.Status.OPEN)
        obj.status = AdverseEvent.Status.OPEN
        obj.closed_at = None
        obj.save()
        _copy_open(obj)
    return obj


def void_event(event: AdverseEvent, *, by: Any, reason: str) -> AdverseEvent:
    require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by, reason=reason):
        obj = AdverseEvent.objects.select_for_update().get(pk=event.pk)
        if obj.reports.filter(status="submitted").exists():
            raise ValidationError(_("An event with a submitted report cannot be voided."))
        obj.mark_voided(reason)
        obj.save()
        _copy_open(obj)
    return obj


def check_may_see_patient(user: Any) -> bool:
    return bool(user is not None and user.has_perm("vigilance.view_patient_data"))


def aware_default() -> dt.datetime:
    return timezone.now()


__all__ = [
    "ADD_PERM",
    "CHANGE_PERM",
    "EDITABLE",
    "PermissionDenied",
    "Place",
    "check_imdrf_codes",
    "close_event",
    "create_event",
    "find_device",
    "imdrf_terms",
    "link_cluster",
    "markets_from_trace",
    "prefill_from_evaluation",
    "reopen_event",
    "update_event",
    "void_event",
]
