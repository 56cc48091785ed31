"""VIG-2: reportability per market. The rules of vigilance.rules propose; a qualified person
(vigilance.decide_reportability) confirms the proposal, or decides "not reportable" with a
written basis — both signed (PLAT-3), kept in the event file (21 CFR 803.18, 803.20). New
information may revise a decision: the revision supersedes it, the earlier one stays."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.calendar.rules import compute
from medvigil.core.models import Signature
from medvigil.core.permissions import require

from ..models import AdverseEvent, Market, ReportabilityDecision
from ..rules import deadlines_of, propose

DECIDE_PERM = "vigilance.decide_reportability"
S = ReportabilityDecision.Status


def proposal_due(event: AdverseEvent, deadline_rules: list[str]) -> Any:
    """VIG-7: when a reportable proposal's clock runs out — its first deadline rule counted
    from the awareness (None without a rule, or for a year the calendar does not hold)."""
    if not deadline_rules or event.aware_at is None:
        return None
    try:
        return compute(deadline_rules[0], event.aware_at).due_at
    except LookupError:
        return None


def _proposal(event: AdverseEvent, market: str) -> dict[str, Any]:
    rule = propose(event, market)
    deadline_rules = list(deadlines_of(rule))
    return {
        "proposed_reportable": rule.reportable,
        "fired_rule": rule.code,
        "fired_citation": rule.citation[:400],
        "proposal_reason": str(rule.label)[:300],
        "deadline_rules": deadline_rules,
        "due_at": proposal_due(event, deadline_rules) if rule.reportable else None,
    }


def propose_decisions(event: AdverseEvent, *, by: Any) -> list[ReportabilityDecision]:
    """A proposal for every market of the event that has none; an undecided proposal follows
    the event's facts. Called by the event services (inside their transaction)."""
    out = []
    with audit_context(actor=by):
        current = {
            d.market: d
            for d in ReportabilityDecision.objects.select_for_update()
            .filter(event=event)
            .exclude(status=S.SUPERSEDED)
        }
        for market in event.markets:
            if market not in Market.values:
                continue
            values = _proposal(event, market)
            d = current.get(market)
            if d is None:
                d = ReportabilityDecision.objects.create(event=event, market=market, **values)
            elif d.status == S.PROPOSED and any(getattr(d, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(d, k, v)
                d.save()
            out.append(d)
    return out


def _lock(decision: ReportabilityDecision) -> ReportabilityDecision:
    return ReportabilityDecision.objects.select_for_update().get(pk=decision.pk)


def _check_open(d: ReportabilityDecision) -> None:
    if d.status != S.PROPOSED:
        raise ValidationError(_("This decision is already taken; revise it instead."))
    if d.event.status != AdverseEvent.Status.OPEN:
        raise ValidationError(_("The event is not open."))


def _sign(d: ReportabilityDecision, *, by: Any, password: str, request: Any) -> Any:
    from medvigil.core.signatures.services import check_signer

    return check_signer(
        d, user=by, password=password or "", request=request, meaning=Signature.Meaning.APPROVED
    )


def confirm_decision(
    decision: ReportabilityDecision,
    *,
    by: Any,
    password: str = "",
    comment: str = "",
    request: Any = None,
    check: Any = None,
) -> ReportabilityDecision:
    """The qualified person confirms "reportable" under the proposed deadline rules (signed).
    Opens the initial report(s), each with its deadline (services.reports). `check`: a signer
    check the caller made (signatures.loader_check: the demo); else the password is checked."""
    from medvigil.core.signatures.services import apply_signature

    from .reports import open_initial_reports

    require(by, DECIDE_PERM)
    _check_open(decision)
    if not decision.proposed_reportable:
        raise ValidationError(
            _("The rules propose not reportable: decide it with a basis, or revise.")
        )
    if check is None:
        check = _sign(decision, by=by, password=password, request=request)
    with transaction.atomic(), audit_context(actor=by, reason=comment or _("Reportable")):
        d = _lock(decision)
        _check_open(d)
        d.status = S.CONFIRMED
        d.decided_reportable = True
        d.basis = comment or d.basis
        d.decided_by = by
        d.decided_at = timezone.now()
        d.save()
        apply_signature(d, check, reason=comment)
        open_initial_reports(d, by=by)
    return d


def decide_not_reportable(
    decision: ReportabilityDecision,
    *,
    by: Any,
    password: str = "",
    basis: str,
    request: Any = None,
    check: Any = None,
) -> ReportabilityDecision:
    """The qualified person decides "not reportable" in this market, with the written basis
    (803.20(c)) kept in the event file, and signs it."""
    from medvigil.core.signatures.services import apply_signature

    require(by, DECIDE_PERM)
    basis = (basis or "").strip()
    if not basis:
        raise ValidationError({"basis": _("Write the basis for not reporting.")})
    _check_open(decision)
    if check is None:
        check = _sign(decision, by=by, password=password, request=request)
    with transaction.atomic(), audit_context(actor=by, reason=basis):
        d = _lock(decision)
        _check_open(d)
        d.status = S.NOT_REPORTABLE
        d.decided_reportable = False
        d.basis = basis
        d.decided_by = by
        d.decided_at = timezone.now()
        d.save()
        apply_signature(d, check, reason=basis)
    return d


def revise_decision(
    decision: ReportabilityDecision, *, by: Any, reason: str
) -> ReportabilityDecision:
    """New information: the decision is superseded (it stays visible) and a new proposal is
    made from the event's current facts, for the qualified person to decide again."""
    require(by, DECIDE_PERM)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say what new information leads to the revision.")})
    with transaction.atomic(), audit_context(actor=by, reason=reason):
        old = _lock(decision)
        if old.status == S.SUPERSEDED:
            raise ValidationError(_("This decision was already revised."))
        event = AdverseEvent.objects.select_for_update().get(pk=old.event_id)
        if event.status != AdverseEvent.Status.OPEN:
            raise ValidationError(_("The event is not open."))
        old.status = S.SUPERSEDED
        old.save()
        new = ReportabilityDecision.objects.create(
            event=event,
            market=old.market,
            supersedes=old,
            revision_reason=reason,
            **_proposal(event, old.market),
        )
    return new
