"""The recall record (RCL-1), its signed decision that starts the clocks (RCL-3), the clocks
met, the EU FSCA report, closure and voiding."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.models import Signature
from medvigil.core.permissions import require

from .. import rules
from ..models import DocumentKind, Kind, Recall, RecallClock, RecallDocument, SourceKind

ADD_PERM = "recalls.add_recall"
CHANGE_PERM = "recalls.change_recall"

#: fields a user edits on the record (create and edit pages, API)
EDITABLE = (
    "title",
    "title_en",
    "reason",
    "reason_en",
    "action",
    "action_en",
    "level",
    "source_kind",
    "source_reference",
    "fda_class",
    "us_action",
    "fda_registration",
    "eu_fsca",
    "eu_fsca_urgent",
    "product",
    "scope_lots",
    "scope_serials",
    "scope_gtin",
    "produced_from",
    "produced_to",
    "owner",
)
#: what may still change once the recall is decided (the scope and the level are frozen)
EDITABLE_OPEN = ("title_en", "reason_en", "action", "action_en", "source_reference", "owner")


def lock(pk: int) -> Recall:
    return Recall.objects.select_for_update(of=("self",)).get(pk=pk)


def _check_fields(obj: Recall) -> None:
    errors: dict[str, list[str]] = {}
    if obj.kind == Kind.RECALL and obj.level is None:
        errors["level"] = [_("Choose the recall level.")]
    if obj.kind == Kind.ADVISORY:
        obj.level = None
    if obj.fda_class and not obj.us_action:
        errors["us_action"] = [_("Say whether the US action is a correction or a removal.")]
    if obj.fda_class and not obj.fda_registration.strip():
        errors["fda_registration"] = [_("Give the FDA registration number (21 CFR 806).")]
    if obj.fda_registration and not obj.fda_registration.strip().isdigit():
        errors["fda_registration"] = [_("The registration number has digits only.")]
    if not obj.eu_fsca:
        obj.eu_fsca_urgent = False
    if errors:
        raise ValidationError(errors)


def create_recall(*, by: Any, kind: str = Kind.RECALL, **fields: Any) -> Recall:
    """A draft recall or advisory notice (RCL-1, RCL-6), from a source or directly. The scope
    criteria are kept; resolve_scope turns them into units and consignees."""
    require(by, ADD_PERM)
    if kind not in Kind.values:
        raise ValidationError({"kind": _("Choose from the list.")})
    unknown = set(fields) - set(EDITABLE) - {"source_type", "source_id"}
    if unknown:
        raise ValidationError(_("Unknown field: %(f)s") % {"f": ", ".join(sorted(unknown))})
    with transaction.atomic(), audit_context(actor=by):
        obj = Recall(kind=kind, **fields)
        if obj.owner_id is None:
            obj.owner = by
        _check_fields(obj)
        obj.assign_number()
        obj.full_clean()
        obj.save()
    return obj


def update_recall(obj: Recall, *, by: Any, version: Any, **fields: Any) -> Recall:
    """Change the record as read (a stale version: ConflictError). While a draft everything
    the form offers; once decided only the texts, the reference and the owner."""
    require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by):
        obj = lock(obj.pk)
        obj.check_version(version)
        allowed = EDITABLE if obj.status == Recall.Status.DRAFT else EDITABLE_OPEN
        if obj.status not in (Recall.Status.DRAFT, Recall.Status.OPEN):
            raise ValidationError(_("A closed or voided recall cannot be changed."))
        changed = {k: v for k, v in fields.items() if getattr(obj, k, object()) != v}
        refused = sorted(set(changed) - set(allowed))
        if refused:
            raise ValidationError(
                _("Not editable once the recall is decided: %(f)s") % {"f": ", ".join(refused)}
            )
        for name, value in fields.items():
            if name in allowed:
                setattr(obj, name, value)
        _check_fields(obj)
        obj.full_clean()
        obj.save()
    return obj


def link_source(obj: Recall, *, by: Any, record: models.Model, kind: str = "") -> Recall:
    """RCL-1: the record that started the recall (a complaint, a CAPA, an adverse event),
    kept generically; the CAPA app calls this when it raises a recall."""
    require(by, CHANGE_PERM)
    if kind and kind not in SourceKind.values:
        raise ValidationError({"source_kind": _("Choose from the list.")})
    with transaction.atomic(), audit_context(actor=by):
        obj = lock(obj.pk)
        obj.source_type = ContentType.objects.get_for_model(record, for_concrete_model=True)
        obj.source_id = str(record.pk)
        if kind:
            obj.source_kind = kind
        if not obj.source_reference:
            obj.source_reference = str(getattr(record, "number", "") or record)[:100]
        obj.save()
    return obj


#: the records a recall may start from (RCL-1), by model label, with the source kind they
#: give; only these are accepted from a page's ``?source=`` (never an arbitrary model)
SOURCE_MODELS = {
    "capa.capa": SourceKind.CAPA,
    "complaints.feedback": SourceKind.COMPLAINT,
    "vigilance.adverseevent": SourceKind.ADVERSE_EVENT,
}


def source_model(label: str) -> type[models.Model] | None:
    """The model of a source label ("capa.capa"), when it is one a recall may start from and
    its app is installed."""
    from django.apps import apps

    if label not in SOURCE_MODELS:
        return None
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def source_prefill(record: models.Model) -> dict[str, Any]:
    """The new recall's fields taken from its source: the title, the problem as the reason,
    the product when the source names one, and the source kind and reference."""
    title = ""
    for name in ("title", "subject", "summary"):
        title = str(getattr(record, name, "") or "").strip()
        if title:
            break
    reason = ""
    for name in ("problem", "description", "narrative"):
        reason = str(getattr(record, name, "") or "").strip()
        if reason:
            break
    values: dict[str, Any] = {
        "title": title[:200],
        "reason": reason,
        "source_kind": SOURCE_MODELS.get(record._meta.label_lower, SourceKind.DIRECT),
        "source_reference": str(getattr(record, "number", "") or record)[:100],
    }
    product_id = getattr(record, "product_id", None)
    if product_id:
        values["product"] = record.product  # type: ignore[attr-defined]
    return values


def create_recall_from(
    record: models.Model, *, by: Any, kind: str = Kind.RECALL, **fields: Any
) -> Recall:
    """RCL-1: a recall or advisory notice started from a CAPA, a complaint or an adverse
    event: the draft created and its source linked (link_source) in one transaction, so the
    source's page lists it (recalls_from) and the recall's page links back. Perms:
    recalls.add_recall and recalls.change_recall; a voided source starts nothing."""
    require(by, ADD_PERM)
    require(by, CHANGE_PERM)
    if record._meta.label_lower not in SOURCE_MODELS:
        raise ValidationError(_("A recall cannot start from this record."))
    if getattr(record, "is_voided", False):
        raise ValidationError(_("The source record is voided."))
    fields.setdefault("source_kind", SOURCE_MODELS[record._meta.label_lower])
    with transaction.atomic():
        obj = create_recall(by=by, kind=kind, **fields)
        obj = link_source(obj, by=by, record=record)
    return obj


def recalls_from(record: models.Model, user: Any) -> Any:
    """The recalls and advisory notices started from `record` that `user` may see (the CAPA,
    complaint or adverse event page lists them)."""
    from medvigil.core.permissions import can, scope_for_user

    if not can(user, Recall, "view"):
        return Recall.objects.none()
    ct = ContentType.objects.get_for_model(record, for_concrete_model=True)
    return scope_for_user(user, Recall).filter(source_type=ct, source_id=str(record.pk))


def source_record(obj: Recall) -> Any:
    """The source record, when it is one of ours and still there (None otherwise)."""
    if obj.source_type_id is None or not obj.source_id:
        return None
    model = obj.source_type.model_class() if obj.source_type else None
    if model is None:
        return None
    return model._default_manager.filter(pk=obj.source_id).first()


def decide_recall(
    obj: Recall, *, by: Any, password: str, request: Any = None, comment: str = ""
) -> Recall:
    """The signed decision (RCL-1/5/6): a recall by the division head or general manager, an
    advisory notice by the management representative. The scope must be resolved. The
    decision time starts the clocks of rules.clock_rules (RCL-3)."""
    from medvigil.core.signatures.services import check_signer

    require(by, obj.approve_perm)
    if not obj.can_decide():
        raise ValidationError(_("Resolve the scope (and choose the level) before the decision."))
    check = check_signer(
        obj, user=by, password=password or "", request=request, meaning=Signature.Meaning.APPROVED
    )
    return apply_decision(obj, by=by, check=check, comment=comment)


def apply_decision(obj: Recall, *, by: Any, check: Any, comment: str = "") -> Recall:
    """decide_recall's second phase, after the password check (the demo passes its own)."""
    from medvigil.core.signatures.services import apply_signature

    with transaction.atomic(), audit_context(actor=by, reason=comment or _("Recall decided")):
        obj = lock(obj.pk)
        if not obj.can_decide():
            raise ValidationError(_("Resolve the scope before the decision."))
        now = timezone.now()
        obj.status = Recall.Status.OPEN
        obj.decided_at = now
        obj.decided_by = by
        obj.save()
        start_clocks(obj, now)
        apply_signature(obj, check, reason=comment)
    return obj


def start_clocks(obj: Recall, started_at: Any) -> list[RecallClock]:
    clocks = []
    for rule in rules.clock_rules(obj):
        clock = RecallClock(recall=obj)
        clock.apply_deadline_rule(rule.code, started_at=started_at)
        clock.save()
        clocks.append(clock)
    return clocks


def meet_clock(clock: RecallClock, *, by: Any, reference: str = "", at: Any = None) -> RecallClock:
    """A deadline met: the report made or the step done, with its reference. The US 806
    report gets its number (registration-date-sequence-C|R) when none is given."""
    require(by, CHANGE_PERM)
    reference = (reference or "").strip()[:100]
    with transaction.atomic(), audit_context(actor=by, reason=_("Deadline met")):
        clock = RecallClock.objects.select_for_update().get(pk=clock.pk)
        recall = lock(clock.recall_id)
        if clock.met_at is not None:
            raise ValidationError(_("This deadline is already met."))
        if recall.status != Recall.Status.OPEN:
            raise ValidationError(_("The recall is not in progress."))
        when = at or timezone.now()
        if clock.deadline_rule == rules.US_806.code and not reference:
            reference = assign_us_report_number(recall, when)
        clock.met_at = when
        clock.reference = reference
        clock.save()
        if clock.deadline_rule == rules.PROGRESS.code and recall.completed_at is None:
            next_progress_report(clock)
    return clock


def next_progress_report(clock: RecallClock) -> RecallClock:
    """RCL-3: a progress report made starts the next one, a period after this one was due
    (or after it was made, when late), while the recall runs (inside the caller's
    transaction)."""
    assert clock.met_at is not None
    start = clock.met_at if clock.due_at is None else max(clock.due_at, clock.met_at)
    follow = RecallClock(recall_id=clock.recall_id, sequence=clock.sequence + 1)
    follow.apply_deadline_rule(rules.PROGRESS.code, started_at=start)
    follow.save()
    return follow


def complete_execution(obj: Recall, *, by: Any, version: Any = None, at: Any = None) -> Recall:
    """RCL-3: quality declares the recall's execution complete (the units that can be found
    are dealt with): progress reports stop and the summary evaluation clock starts. Also
    reached by itself when the last unit is accounted for (execution.record_outcome)."""
    require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by, reason=_("Recall execution completed")):
        obj = lock(obj.pk)
        if version is not None:
            obj.check_version(version)
        if obj.status != Recall.Status.OPEN:
            raise ValidationError(_("The recall is not in progress."))
        if obj.completed_at is not None:
            raise ValidationError(_("The recall's execution is already complete."))
        mark_complete(obj, at or timezone.now())
    return obj


def mark_complete(obj: Recall, when: Any) -> None:
    """complete_execution's work, inside the caller's transaction on the locked recall: the
    completion time and, for a recall (not an advisory notice), the summary clock."""
    obj.completed_at = when
    obj.save()
    if not obj.is_advisory:
        last = (
            RecallClock.objects.filter(recall=obj, deadline_rule=rules.SUMMARY.code)
            .order_by("-sequence")
            .first()
        )
        clock = RecallClock(recall=obj, sequence=(last.sequence + 1) if last else 1)
        clock.apply_deadline_rule(rules.SUMMARY.code, started_at=when)
        clock.save()


def assign_us_report_number(recall: Recall, when: Any) -> str:
    """The recall's 21 CFR 806 report number: the year's next sequence for the firm."""
    if recall.us_report_number:
        return recall.us_report_number
    day = timezone.localdate(when)
    year_numbers = Recall.objects.filter(
        us_report_number__startswith=f"{recall.fda_registration}-",
        us_report_number__contains=f"/{day:%Y}-",
    ).count()
    recall.us_report_number = rules.us_report_number(
        recall.fda_registration, day, year_numbers + 1, recall.us_action or "C"
    )
    recall.save()
    return recall.us_report_number


def meet_rule(recall: Recall, code: str, *, reference: str = "", at: Any = None) -> None:
    """Mark the recall's clock of rule `code` met (inside the caller's transaction)."""
    for clock in RecallClock.objects.select_for_update().filter(
        recall=recall, deadline_rule=code, met_at__isnull=True
    ):
        clock.met_at = at or timezone.now()
        clock.reference = reference[:100]
        clock.save()


def record_eu_report(obj: Recall, *, by: Any, version: Any, at: Any = None) -> Recall:
    """RCL-3: the FSCA reported to the EU competent authority (before it is carried out)."""
    require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by, reason=_("EU FSCA reported")):
        obj = lock(obj.pk)
        obj.check_version(version)
        if not obj.eu_fsca:
            raise ValidationError(_("The EU is not affected by this recall."))
        if obj.eu_reported_at is not None:
            raise ValidationError(_("The FSCA is already reported."))
        obj.eu_reported_at = at or timezone.now()
        obj.save()
    return obj


def close_recall(obj: Recall, *, by: Any, version: Any, conclusion: str) -> Recall:
    """Closed after the final evaluation report is issued (RCL-5), with a conclusion."""
    require(by, CHANGE_PERM)
    conclusion = (conclusion or "").strip()
    with transaction.atomic(), audit_context(actor=by, reason=conclusion or None):
        obj = lock(obj.pk)
        obj.check_version(version)
        obj.check_transition(Recall.Status.CLOSED)
        if not conclusion:
            raise ValidationError({"conclusion": _("Write the conclusion.")})
        if not RecallDocument.objects.filter(
            recall=obj, kind=DocumentKind.FINAL, status=RecallDocument.Status.ISSUED
        ).exists():
            raise ValidationError(_("Issue the final evaluation report before closing."))
        obj.status = Recall.Status.CLOSED
        obj.closed_at = timezone.now()
        obj.conclusion = conclusion
        obj.save()
    return obj


def void_recall(obj: Recall, *, by: Any, version: Any, reason: str) -> Recall:
    require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by, reason=reason):
        obj = lock(obj.pk)
        obj.check_version(version)
        obj.mark_voided(reason)
        obj.save()
    return obj
