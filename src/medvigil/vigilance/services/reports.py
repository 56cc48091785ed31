"""VIG-4: regulator reports. A confirmed decision opens the initial report(s), each with its
deadline rule counted from awareness (DeadlineFields). Submitting freezes the content (a
snapshot of the event and the report), records the submission moment and the regulator's
reference, and signs it. New information opens a follow-up (in the US with the
`us.supplemental` 30-day clock from the day the information was received)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.models import Signature
from medvigil.core.permissions import require

from ..models import (
    AdverseEvent,
    Market,
    ReportabilityDecision,
    ReportKind,
    VigilanceReport,
    check_narrative,
)

CHANGE_PERM = "vigilance.change_vigilancereport"
ADD_PERM = "vigilance.add_vigilancereport"
SUBMIT_PERM = "vigilance.submit_vigilancereport"
# Follow-up clocks per market (VIG-4): the US supplemental report (21 CFR 803.56).
FOLLOW_UP_RULES: dict[str, str] = {"US": "us.supplemental"}


def _iso(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def snapshot(report: VigilanceReport) -> dict[str, Any]:
    """What the report says: the event, device, patient, decision and the report itself, as
    plain JSON (the frozen content on submission; the exports and forms read it)."""
    from .events import imdrf_terms

    e = report.event
    d = report.decision
    product = e.product
    return {
        "report": {
            "number": report.number,
            "market": report.market,
            "kind": report.kind,
            "deadline_rule": report.deadline_rule,
            "clock_started_at": _iso(report.clock_started_at),
            "due_at": _iso(report.due_at),
            "narrative": report.narrative or e.narrative,
            "new_information": report.new_information,
        },
        "event": {
            "number": e.number,
            "title": e.title,
            "source": e.source,
            "source_reference": e.source_reference,
            "complaint": e.feedback.number if e.feedback_id and e.feedback else "",
            "aware_at": _iso(e.aware_at),
            "eu_reportability_at": _iso(e.eu_reportability_at),
            "occurred_at": _iso(e.occurred_at),
            "occurred_where": e.occurred_where,
            "occurred_place": e.occurred_place,
            "outcome": e.outcome,
            "public_health_threat": e.public_health_threat,
            "unanticipated": e.unanticipated,
            "remedial_action": e.remedial_action,
            "cluster": e.cluster,
            "cluster_lead": e.cluster_lead.number if e.cluster_lead_id and e.cluster_lead else "",
            "markets": list(e.markets),
            "imdrf_codes": list(e.imdrf_codes),
            # VIG-5: each code with its term as it reads at submission (frozen with the rest)
            "imdrf_terms": imdrf_terms(e.imdrf_codes),
            "intended_use": e.intended_use,
            "used_at": _iso(e.used_at),
            "use_place": e.use_place,
            "use_process": e.use_process,
            "concomitant_products": e.concomitant_products,
            "initial_cause": e.initial_cause,
            "handling": e.handling,
            "investigation": e.investigation,
            "relatedness": e.relatedness,
            "risk_evaluation": e.risk_evaluation,
            "control_measures": e.control_measures,
        },
        "device": {
            "product_code": product.code if product else "",
            "name": product.name if product else e.device_text,
            "name_en": product.name_en if product else "",
            "model": product.model_spec if product else "",
            "manufacturer": product.manufacturer if product else "",
            "registration_number": product.registration_number if product else "",
            "risk_class": product.risk_class if product else "",
            "lot": e.lot.lot_number if e.lot_id and e.lot else "",
            "serial": e.unit.serial if e.unit_id and e.unit else "",
            "udi_di": e.udi_di,
            "udi_pi": e.udi_pi,
            "udi_text": e.udi_text,
            "production_date": _iso(
                (e.unit.production_date if e.unit_id and e.unit else None)
                or (e.lot.production_date if e.lot_id and e.lot else None)
            ),
            "expiry_date": _iso(
                (e.unit.effective_expiry if e.unit_id and e.unit else None)
                or (e.lot.expiry_date if e.lot_id and e.lot else None)
            ),
        },
        "patient": {
            "name": e.patient_name,
            "birth_date": _iso(e.patient_birth_date),
            "age": e.patient_age,
            "sex": e.patient_sex,
            "record_number": e.patient_record_number,
            "history": e.patient_history,
        },
        "decision": {
            "rule": d.fired_rule if d else "",
            "citation": d.fired_citation if d else "",
            "reason": d.proposal_reason if d else "",
            "basis": d.basis if d else "",
            "decided_by": d.decided_by.printed_name if d and d.decided_by else "",
            "decided_at": _iso(d.decided_at) if d else None,
        },
    }


def masked_snapshot(content: dict[str, Any], user: Any) -> dict[str, Any]:
    """The content as `user` may read it: the patient section masked without
    vigilance.view_patient_data (PLAT-11)."""
    if user is not None and user.has_perm("vigilance.view_patient_data"):
        return content
    out = dict(content)
    out["patient"] = {k: ("***" if v else v) for k, v in (content.get("patient") or {}).items()}
    return out


def _new_report(
    event: AdverseEvent,
    *,
    market: str,
    kind: str,
    rule: str | None,
    started_at: dt.datetime | None,
    decision: ReportabilityDecision | None,
    new_information: str = "",
) -> VigilanceReport:
    report = VigilanceReport(
        event=event,
        decision=decision,
        market=market,
        kind=kind,
        narrative=event.narrative,
        new_information=new_information,
    )
    if rule:
        report.apply_deadline_rule(rule, started_at=started_at)
    elif started_at is not None:
        report.clock_started_at = started_at
    report.assign_number()
    report.full_clean(exclude=["number"])
    report.save()
    return report


def open_initial_reports(decision: ReportabilityDecision, *, by: Any) -> list[VigilanceReport]:
    """The reports a confirmed decision needs, one per deadline rule (China's cluster: the
    phone report, the case reports, the self-inspection), from the awareness moment. Called
    inside confirm_decision's transaction."""
    event = decision.event
    made = []
    with audit_context(actor=by):
        existing = set(
            VigilanceReport.objects.filter(event=event, market=decision.market)
            .exclude(status=VigilanceReport.Status.VOIDED)
            .values_list("deadline_rule", flat=True)
        )
        for code in decision.deadline_rules:
            if code in existing:
                continue
            made.append(
                _new_report(
                    event,
                    market=decision.market,
                    kind=ReportKind.INITIAL,
                    rule=code,
                    started_at=event.aware_at,
                    decision=decision,
                )
            )
    return made


def _lock(report: VigilanceReport) -> VigilanceReport:
    return VigilanceReport.objects.select_for_update().get(pk=report.pk)


def update_report(
    report: VigilanceReport, *, by: Any, version: Any, **fields: Any
) -> VigilanceReport:
    """Edit a draft's narrative, new information or type."""
    require(by, CHANGE_PERM)
    unknown = set(fields) - {"narrative", "new_information", "kind", "regulator_reference"}
    if unknown:
        raise ValidationError(_("Unknown field: %(f)s") % {"f": ", ".join(sorted(unknown))})
    if "narrative" in fields:
        check_narrative(fields["narrative"] or "")
    with transaction.atomic(), audit_context(actor=by):
        obj = _lock(report)
        obj.check_version(version)
        if obj.status != VigilanceReport.Status.DRAFT:
            raise ValidationError(_("A submitted report is frozen; open a follow-up instead."))
        for k, v in fields.items():
            setattr(obj, k, v if v is not None else "")
        obj.full_clean(exclude=["number"])
        obj.save()
    return obj


def submit_report(
    report: VigilanceReport,
    *,
    by: Any,
    password: str = "",
    regulator_reference: str = "",
    submitted_at: dt.datetime | None = None,
    comment: str = "",
    request: Any = None,
    check: Any = None,
) -> VigilanceReport:
    """Mark a draft submitted: the content is frozen (snapshot), the submission moment and
    the regulator's reference recorded, and the report signed (PLAT-3). `check`: a signer
    check the caller made (signatures.loader_check: the demo); else the password is checked."""
    from medvigil.core.signatures.services import apply_signature, check_signer

    require(by, SUBMIT_PERM)
    reference = (regulator_reference or report.regulator_reference or "").strip()
    if not reference:
        raise ValidationError(
            {
                "regulator_reference": _(
                    "Give the regulator's reference number (on the report) before submitting."
                )
            }
        )
    if len(reference) > 100:
        raise ValidationError({"regulator_reference": _("At most 100 characters.")})
    now = timezone.now()
    when = submitted_at or now
    if when > now + dt.timedelta(minutes=5):
        raise ValidationError({"submitted_at": _("The submission cannot be in the future.")})
    _check_submittable(report)
    if check is None:
        check = check_signer(
            report,
            user=by,
            password=password or "",
            request=request,
            meaning=Signature.Meaning.APPROVED,
        )
    with transaction.atomic(), audit_context(actor=by, reason=comment or _("Report submitted")):
        obj = _lock(report)
        _check_submittable(obj)
        if obj.clock_started_at and when < obj.clock_started_at:
            raise ValidationError(
                {"submitted_at": _("The submission cannot be before the clock started.")}
            )
        obj.status = VigilanceReport.Status.SUBMITTED
        obj.submitted_at = when
        obj.submitted_by = by
        obj.regulator_reference = reference
        obj.content = snapshot(obj)
        obj.save()
        apply_signature(obj, check, reason=comment)
    return obj


def _check_submittable(report: VigilanceReport) -> None:
    if report.status != VigilanceReport.Status.DRAFT:
        raise ValidationError(_("Only a draft report can be submitted."))
    check_narrative(report.narrative or report.event.narrative)
    if not (report.narrative or report.event.narrative).strip():
        raise ValidationError({"narrative": _("Write the narrative before submitting.")})


def open_follow_up(
    event: AdverseEvent,
    *,
    by: Any,
    market: str,
    new_information: str,
    received_at: dt.datetime | None = None,
    kind: str = ReportKind.FOLLOW_UP,
) -> VigilanceReport:
    """New information on a reported event opens a follow-up (or the final) report in that
    market, with its own deadline: in the US, 30 days from receipt (us.supplemental)."""
    require(by, ADD_PERM)
    info = (new_information or "").strip()
    if not info:
        raise ValidationError({"new_information": _("Describe the new information.")})
    if kind not in (ReportKind.FOLLOW_UP, ReportKind.FINAL):
        raise ValidationError({"kind": _("Choose from the list.")})
    if market not in Market.values:
        raise ValidationError({"market": _("Choose from the list.")})
    received = received_at or timezone.now()
    if received > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"received_at": _("The time cannot be in the future.")})
    with transaction.atomic(), audit_context(actor=by, reason=_("New information")):
        ev = AdverseEvent.objects.select_for_update().get(pk=event.pk)
        if ev.status != AdverseEvent.Status.OPEN:
            raise ValidationError(_("The event is not open."))
        submitted = VigilanceReport.objects.filter(
            event=ev, market=market, status=VigilanceReport.Status.SUBMITTED
        )
        if not submitted.exists():
            raise ValidationError(
                {"market": _("Nothing was submitted in this market yet: edit the initial report.")}
            )
        decision = (
            ReportabilityDecision.objects.filter(event=ev, market=market)
            .exclude(status=ReportabilityDecision.Status.SUPERSEDED)
            .first()
        )
        return _new_report(
            ev,
            market=market,
            kind=kind,
            rule=FOLLOW_UP_RULES.get(market),
            started_at=received,
            decision=decision,
            new_information=info,
        )


def void_report(report: VigilanceReport, *, by: Any, reason: str) -> VigilanceReport:
    require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by, reason=reason):
        obj = _lock(report)
        obj.mark_voided(reason)
        obj.save()
    return obj
