"""The vigilance records (VIG-1 … VIG-4, PLAT-11).

    AdverseEvent ──< ReportabilityDecision   (VIG-2: per market, proposed by a rule, decided
         │                                    by a qualified person; revisions keep the old)
         └──────< VigilanceReport            (VIG-4: initial / follow-up / final per market,
                                              each with its deadline rule, frozen when
                                              submitted)

Patient data (PLAT-11) is masked in history, exports, the API and the pages for users
without ``vigilance.view_patient_data``. IMDRF codes (VIG-5, built in medvigil.imdrf) are kept
here as plain code strings, so the picker can be wired later without a migration.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from medvigil.core.audit.models import AuditedModel
from medvigil.core.calendar.clock import DeadlineFields
from medvigil.core.records.contract import (
    CreatedByMixin,
    OwnedMixin,
    RegulatedRecord,
    VoidableMixin,
)
from medvigil.core.records.render import pk_url

USER = settings.AUTH_USER_MODEL
PATIENT_PERM = "vigilance.view_patient_data"
# MIR 7.3.1 / MedWatch narrative limit (VIG-6): the narrative of an event and of a report.
NARRATIVE_MAX = 4000


class Market(models.TextChoices):
    """The regulators' markets (VIG-2)."""

    CN = "CN", _("China (NMPA)")
    US = "US", _("United States (FDA)")
    EU = "EU", _("European Union (MDR)")


class Place(models.TextChoices):
    """Where the event happened (China's 30-day rule is for events abroad)."""

    CN = "CN", _("China")
    US = "US", _("United States")
    EU = "EU", _("European Union")
    OTHER = "OTHER", _("elsewhere")


class Outcome(models.TextChoices):
    """VIG-1: what happened to the patient (21 CFR 803.3 reportable events; 2019 measures)."""

    DEATH = "death", _("death")
    SERIOUS_INJURY = "serious_injury", _("serious injury")
    MALFUNCTION = "malfunction", _("malfunction that could lead to death or serious injury")
    OTHER = "other", _("other")


class Source(models.TextChoices):
    COMPLAINT = "complaint", _("complaint evaluation")
    SERVICE = "service", _("service visit")
    DIRECT = "direct", _("raised directly")


class Sex(models.TextChoices):
    FEMALE = "F", _("female")
    MALE = "M", _("male")
    UNKNOWN = "U", _("unknown")


class InitialCause(models.TextChoices):
    """China form (VIG-6): 初步原因分析."""

    PRODUCT = "product", _("product")
    OPERATION = "operation", _("operation")
    PATIENT = "patient", _("patient")
    UNDETERMINED = "undetermined", _("undetermined")


def check_narrative(text: str, field: str = "narrative") -> None:
    """VIG-6 / MIR 7.3.1: a narrative has at most 4,000 characters (one rule: the form, the API
    and the services call it)."""
    if text and len(text) > NARRATIVE_MAX:
        raise ValidationError(
            {
                field: _(
                    "The narrative has %(n)d characters; regulators accept at most %(max)d "
                    "(MIR 7.3.1). Shorten it by %(over)d characters."
                )
                % {"n": len(text), "max": NARRATIVE_MAX, "over": len(text) - NARRATIVE_MAX}
            }
        )


def _codes(value: Any, field: str) -> None:
    if not isinstance(value, list) or any(
        not isinstance(v, str) or not v.strip() or len(v) > 40 for v in value
    ):
        raise ValidationError({field: _("Give a list of codes.")})


class AdverseEvent(OwnedMixin, CreatedByMixin, VoidableMixin, RegulatedRecord):
    """A suspected adverse event (可疑医疗器械不良事件, VIG-1). The owner is the quality
    engineer handling it."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")
        VOIDED = "voided", _("voided")

    numbering_type = "vigilance_event"
    numbering_prefix = "AE"
    transitions: ClassVar[dict[str, set[str]]] = {
        Status.OPEN: {Status.CLOSED, Status.VOIDED},
        Status.CLOSED: {Status.OPEN},
    }
    PATIENT_FIELDS: ClassVar[tuple[str, ...]] = (
        "patient_name",
        "patient_birth_date",
        "patient_age",
        "patient_sex",
        "patient_record_number",
        "patient_history",
    )
    audit_view_perms: ClassVar[dict[str, str]] = dict.fromkeys(PATIENT_FIELDS, PATIENT_PERM)
    url_related = ()
    choice_lists: ClassVar[dict[str, Any]] = {"markets": Market}

    title = models.CharField(_("subject"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=Status, default=Status.OPEN, db_index=True
    )
    source = models.CharField(_("raised from"), max_length=10, choices=Source)
    feedback = models.ForeignKey(
        "complaints.Feedback",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adverse_events",
        verbose_name=_("complaint"),
    )
    evaluation = models.OneToOneField(
        "complaints.Evaluation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adverse_event_record",
        verbose_name=_("complaint evaluation"),
    )
    source_reference = models.CharField(
        _("source reference"),
        max_length=100,
        blank=True,
        help_text=_("Service work order or another reference."),
    )

    # the moments (VIG-1, VIG-3): awareness starts every clock; the EU moment is kept (MIR)
    aware_at = models.DateTimeField(
        _("aware at"),
        help_text=_("When any employee first knew of the event (21 CFR 803.3; 2019 measures)."),
    )
    eu_reportability_at = models.DateTimeField(
        _("EU reportability established at"), null=True, blank=True
    )
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    occurred_where = models.CharField(_("where"), max_length=200, blank=True)
    occurred_place = models.CharField(
        _("country / region of the event"), max_length=5, choices=Place, default=Place.CN
    )

    # what happened
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome)
    narrative = models.TextField(_("narrative"), blank=True)
    public_health_threat = models.BooleanField(_("serious public health threat"), default=False)
    unanticipated = models.BooleanField(
        _("unanticipated serious deterioration of health"), default=False
    )
    remedial_action = models.BooleanField(
        _("remedial action needed to prevent an unreasonable risk"), default=False
    )
    fda_written_request = models.BooleanField(_("FDA asked in writing"), default=False)
    cluster = models.BooleanField(_("cluster event (群体不良事件)"), default=False)
    # MDR Art. 88: trend reporting counts non-serious incidents and expected side effects
    expected_side_effect = models.BooleanField(
        _("expected undesirable side-effect"),
        default=False,
        help_text=_(
            "Documented in the product information and the technical documentation; counted "
            "in trend reporting (MDR Art. 88)."
        ),
    )
    cluster_lead = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cluster_members",
        verbose_name=_("cluster of"),
    )

    # the device (TRC-3): unit when known, else lot and product; the scanned text kept
    product = models.ForeignKey(
        "trace.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adverse_events",
        verbose_name=_("product"),
    )
    lot = models.ForeignKey(
        "trace.Lot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adverse_events",
        verbose_name=_("lot"),
    )
    unit = models.ForeignKey(
        "trace.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adverse_events",
        verbose_name=_("unit"),
    )
    udi_text = models.CharField(_("UDI as scanned"), max_length=200, blank=True)
    udi_di = models.CharField(_("UDI-DI (GTIN)"), max_length=14, blank=True)
    udi_pi = models.CharField(_("UDI-PI"), max_length=120, blank=True)
    device_text = models.CharField(_("device as described"), max_length=200, blank=True)
    # VIG-2: where the unit or lot was sold (trace), with how each market was found
    markets = models.JSONField(_("markets"), default=list, blank=True)
    market_sources = models.JSONField(_("markets found from"), default=list, blank=True)

    # the patient (PLAT-11: only with vigilance.view_patient_data)
    patient_name = models.CharField(_("patient name"), max_length=100, blank=True)
    patient_birth_date = models.DateField(_("patient birth date"), null=True, blank=True)
    patient_age = models.CharField(_("patient age"), max_length=20, blank=True)
    patient_sex = models.CharField(_("patient sex"), max_length=1, choices=Sex, blank=True)
    patient_record_number = models.CharField(_("medical record number"), max_length=60, blank=True)
    patient_history = models.TextField(_("patient history"), blank=True)

    # use and investigation (China form, FDA 3500A, MIR; VIG-6)
    intended_use = models.CharField(_("intended use"), max_length=300, blank=True)
    used_at = models.DateField(_("date of use"), null=True, blank=True)
    use_place = models.CharField(_("place of use"), max_length=200, blank=True)
    use_process = models.TextField(_("use process"), blank=True)
    concomitant_products = models.TextField(_("concomitant products"), blank=True)
    initial_cause = models.CharField(
        _("initial cause"), max_length=14, choices=InitialCause, blank=True
    )
    handling = models.TextField(_("handling"), blank=True)
    investigation = models.TextField(_("holder's investigation"), blank=True)
    relatedness = models.CharField(_("relatedness"), max_length=200, blank=True)
    risk_evaluation = models.TextField(_("risk evaluation"), blank=True)
    control_measures = models.TextField(_("control measures"), blank=True)
    imdrf_codes = models.JSONField(_("IMDRF codes"), default=list, blank=True)

    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-aware_at", "-id"]
        verbose_name = _("adverse event")
        verbose_name_plural = _("adverse events")
        permissions = [
            ("view_patient_data", _("Can view patient data of adverse events")),
            ("view_all_adverseevent", _("Can view every adverse event")),
            ("decide_reportability", _("Can decide reportability (qualified person)")),
            ("submit_vigilancereport", _("Can submit regulator reports")),
        ]
        indexes = [models.Index(fields=["status", "aware_at"], name="vig_ae_status_aware")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def audit_repr(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return pk_url("vigilance:event_detail", self.pk)

    def retention_dates(self) -> dict[str, Any]:
        """TRC-9: adverse-event records until product expiry + 2 years (the rule), permanent
        for implantables; 803.18: 2 years from the event or the device's expected life."""
        out: dict[str, Any] = {"created": self.aware_at.date() if self.aware_at else None}
        if self.unit_id and self.unit:
            out["expiry"] = self.unit.effective_expiry
        elif self.lot_id and self.lot:
            out["expiry"] = self.lot.expiry_date
        if self.product_id and self.product:
            out["implantable"] = self.product.implantable
        return out

    def clean(self) -> None:
        super().clean()
        check_narrative(self.narrative)
        _codes(self.imdrf_codes, "imdrf_codes")
        if not isinstance(self.markets, list) or any(m not in Market.values for m in self.markets):
            raise ValidationError({"markets": _("Choose from the list.")})
        if (
            self.unit_id
            and self.unit
            and self.product_id
            and self.unit.product_id != self.product_id
        ):
            raise ValidationError({"unit": _("The unit is not of this product.")})
        if self.lot_id and self.lot and self.product_id and self.lot.product_id != self.product_id:
            raise ValidationError({"lot": _("The lot is not of this product.")})
        if self.occurred_at and self.aware_at and self.occurred_at > self.aware_at:
            raise ValidationError(
                {"occurred_at": _("The event cannot have happened after the company knew.")}
            )
        if self.cluster_lead_id and self.cluster_lead_id == self.pk:
            raise ValidationError({"cluster_lead": _("Link another event, not this one.")})

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def serious(self) -> bool:
        return self.outcome in (Outcome.DEATH, Outcome.SERIOUS_INJURY, Outcome.MALFUNCTION)

    def can_close(self) -> bool:
        """Every market decided and every due report submitted (the service checks it)."""
        return self.can_transition(self.Status.CLOSED)

    @classmethod
    def visible_to(cls, user: Any, qs: models.QuerySet) -> models.QuerySet:
        """Quality and inspectors see every event; those who raise events (service engineers,
        customer service) see the ones they raised or own."""
        if user.has_perm("vigilance.view_all_adverseevent"):
            return qs
        return qs.filter(Q(owner=user) | Q(created_by=user))


class ReportabilityDecision(CreatedByMixin, AuditedModel):
    """VIG-2: is the event reportable in one market, and under which deadline rule. Proposed by
    the rules of vigilance.rules (the rule and its citation kept); a qualified person confirms
    it or decides otherwise ("not reportable" needs a written basis), both with an
    e-signature. A revision supersedes the decision; the earlier one stays (803.18/803.20)."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("proposed")
        CONFIRMED = "confirmed", _("reportable (confirmed)")
        NOT_REPORTABLE = "not_reportable", _("not reportable")
        SUPERSEDED = "superseded", _("superseded")

    event = models.ForeignKey(
        AdverseEvent, on_delete=models.PROTECT, related_name="decisions", verbose_name=_("event")
    )
    market = models.CharField(_("market"), max_length=2, choices=Market)
    status = models.CharField(
        _("status"), max_length=16, choices=Status, default=Status.PROPOSED, db_index=True
    )
    proposed_reportable = models.BooleanField(_("reportable as proposed"), default=False)
    fired_rule = models.CharField(_("rule that fired"), max_length=40, blank=True)
    fired_citation = models.CharField(_("citation"), max_length=400, blank=True)
    proposal_reason = models.CharField(_("why"), max_length=300, blank=True)
    deadline_rules = models.JSONField(_("deadline rules"), default=list, blank=True)
    # VIG-7: the running clock of a reportable proposal (its first deadline rule counted from
    # the awareness), stored so the board and the deadline check sort and filter in SQL;
    # set with the proposal (services.decisions), like a complaint's next_due_at.
    due_at = models.DateTimeField(_("due if reportable"), null=True, blank=True)
    # VIG-7: a copy of "the event is open" (kept by services.events: close, reopen, void), so
    # the board's partial index holds exactly the running clocks and is read in order.
    event_open = models.BooleanField(_("event open"), default=True, editable=False)
    decided_reportable = models.BooleanField(_("reportable (decided)"), null=True, blank=True)
    basis = models.TextField(_("basis of the decision"), blank=True)
    decided_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        verbose_name=_("revises"),
    )
    revision_reason = models.TextField(_("reason for revising"), blank=True)

    url_related = ("event",)
    # The signature binds to the decision (decided_reportable, basis, rule, who, when); the
    # lifecycle status may later become "superseded" without voiding the signature.
    signature_exclude = ("status",)
    audit_exclude = ("event_open",)  # derived from the event's (audited) status

    class Meta:
        ordering = ["event", "market", "id"]
        verbose_name = _("reportability decision")
        verbose_name_plural = _("reportability decisions")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "market"],
                condition=~Q(status="superseded"),
                name="vig_one_current_decision",
            )
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="vig_decision_status_due"),
            # the board's running proposals, most urgent first (services.board._clocks)
            models.Index(
                fields=["due_at", "event_id", "id"],
                condition=Q(status="proposed", proposed_reportable=True, event_open=True)
                & ~Q(deadline_rules=[]),
                name="vig_decision_running",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {self.market}: {self.get_status_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding:
            self.event_open = self.event.is_open
        super().save(*args, **kwargs)

    def audit_repr(self) -> str:
        return f"{self.market} {self.status}"

    def get_absolute_url(self) -> str:
        return pk_url("vigilance:event_detail", self.event_id) + f"#decision-{self.pk}"

    @property
    def is_current(self) -> bool:
        return self.status != self.Status.SUPERSEDED

    @property
    def is_decided(self) -> bool:
        return self.status in (self.Status.CONFIRMED, self.Status.NOT_REPORTABLE)


class ReportKind(models.TextChoices):
    INITIAL = "initial", _("initial")
    FOLLOW_UP = "follow_up", _("follow-up (supplemental)")
    COMBINED = "combined", _("combined initial and final")
    FINAL = "final", _("final")


# The frozen content of a report, read in the history: each section's keys are the fields of
# these models (under the name given here, else their own), the rest named below.
_PATIENT_KEYS = ("name", "birth_date", "age", "sex", "record_number", "history")
_CONTENT_FIELDS: dict[str, tuple[tuple[str, dict[str, str]], ...]] = {
    "report": (("vigilance.VigilanceReport", {}), ("vigilance.TrendReport", {})),
    "event": (("vigilance.AdverseEvent", {"complaint": "feedback"}),),
    "events": (("vigilance.AdverseEvent", {}),),
    "device": (
        ("trace.Product", {"product_code": "code", "model": "model_spec"}),
        ("vigilance.AdverseEvent", {"lot": "lot", "serial": "unit"}),
        ("trace.Lot", {}),
    ),
    "patient": (("vigilance.AdverseEvent", {k: f"patient_{k}" for k in _PATIENT_KEYS}),),
    "decision": (
        (
            "vigilance.ReportabilityDecision",
            {"rule": "fired_rule", "citation": "fired_citation", "reason": "proposal_reason"},
        ),
    ),
    "trend": (("vigilance.TrendSignal", {}),),
}
_CONTENT_SECTIONS = {
    "report": _("report"),
    "event": _("event"),
    "events": _("events counted"),
    "device": _("device"),
    "patient": _("patient"),
    "decision": _("decision"),
    "trend": _("trend"),
}
_CONTENT_KEYS = {
    "imdrf_terms": _("IMDRF terms"),
    "method": _("method"),
}


def _content_field(section: str, key: str) -> Any:
    from django.apps import apps
    from django.core.exceptions import FieldDoesNotExist

    for label, names in _CONTENT_FIELDS.get(section, ()):
        try:
            return apps.get_model(label)._meta.get_field(names.get(key, key))
        except FieldDoesNotExist:
            continue
    return None


def _content_value(value: Any, field: Any, key: str = "", section: str = "") -> str:
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime
    from django.utils.translation import gettext

    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if key == "deadline_rule":  # rules by their names
        from .rules import rule_title

        return str(rule_title(str(value)))
    if section == "decision" and key == "rule":
        from .rules import reportability_rule

        fired = reportability_rule(str(value))
        return str(fired.label) if fired else str(value)
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"
    choices = dict(getattr(field, "flatchoices", None) or ())
    return str(choices.get(value, value))


def content_sections(value: Any) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """A report's frozen content (reports.snapshot, trends.trend_snapshot) for reading: each
    section (each item of a list section) under its name in the reader's language, with its
    (key, name, value) rows: names of the fields, codes by their labels, moments in local time."""
    out = []
    order = list(_CONTENT_SECTIONS)
    sections = sorted(
        (value or {}).items(),
        key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order),
    )
    for section, values in sections:
        items = values if isinstance(values, list) else [values]
        for item in items:
            rows = []
            for key, v in item.items():
                field = _content_field(section, key)
                name = _CONTENT_KEYS.get(key) or (field.verbose_name if field else key)
                rank = field.creation_counter if field else 1 << 30
                rows.append((rank, key, str(name), _content_value(v, field, key, section)))
            rows.sort(key=lambda row: row[0])  # the models' order (the stored one is jsonb's)
            out.append((str(_CONTENT_SECTIONS.get(section, section)), [row[1:] for row in rows]))
    return out


def content_text(value: Any) -> str:
    """A report's frozen content as the history shows it (content_sections on one line)."""
    return " · ".join(
        f"{label} — {'; '.join(f'{name}: {text}' for _key, name, text in rows)}"
        for label, rows in content_sections(value)
    )


class SubmittedReportMixin(models.Model):
    """A report to a regulator (an incident report, a trend report): a draft, then submitted:
    its content frozen (`content`) and signed, with the submission moment and the regulator's
    reference; or voided. Put it before ``VoidableMixin``."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted")
        VOIDED = "voided", _("voided")

    transitions: ClassVar[dict[str, set[str]]] = {
        Status.DRAFT: {Status.SUBMITTED, Status.VOIDED},
    }

    status = models.CharField(
        _("status"), max_length=10, choices=Status, default=Status.DRAFT, db_index=True
    )
    narrative = models.TextField(_("narrative"), blank=True)
    content = models.JSONField(_("frozen content"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    regulator_reference = models.CharField(_("regulator's reference"), max_length=100, blank=True)

    url_related = ()
    history_values: ClassVar[dict[str, Any]] = {"content": content_text}

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        check_narrative(self.narrative)

    @property
    def is_submitted(self) -> bool:
        return self.status == self.Status.SUBMITTED

    def can_submit(self) -> bool:
        return self.can_transition(self.Status.SUBMITTED)


class VigilanceReport(
    SubmittedReportMixin, CreatedByMixin, VoidableMixin, DeadlineFields, RegulatedRecord
):
    """VIG-4: one report to one regulator, with its deadline from the rule (DeadlineFields:
    rule, clock start, due). Submitted = content frozen (`content`, a snapshot of the event and
    the report), signed, with the submission moment and the regulator's reference."""

    numbering_type = "vigilance_report"
    numbering_prefix = "VR"
    # The frozen content holds the patient data: masked in history like the event's fields.
    audit_view_perms: ClassVar[dict[str, str]] = {"content": PATIENT_PERM}

    event = models.ForeignKey(
        AdverseEvent, on_delete=models.PROTECT, related_name="reports", verbose_name=_("event")
    )
    decision = models.ForeignKey(
        ReportabilityDecision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("decision"),
    )
    market = models.CharField(_("market"), max_length=2, choices=Market)
    kind = models.CharField(_("report type"), max_length=10, choices=ReportKind)
    new_information = models.TextField(_("new information"), blank=True)
    # VIG-7: a copy of "the event is open" (kept by services.events: close, reopen, void), so
    # the board's partial index holds exactly the running clocks and is read in order.
    event_open = models.BooleanField(_("event open"), default=True, editable=False)

    audit_exclude = ("event_open",)  # derived from the event's (audited) status

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("regulator report")
        verbose_name_plural = _("regulator reports")
        indexes = [
            models.Index(fields=["status", "due_at"], name="vig_report_status_due"),
            # the on-time rate per market and period (VIG-7) reads only this index
            models.Index(
                fields=["due_at", "market", "status", "submitted_at"], name="vig_report_rate"
            ),
            # the board's running reports, most urgent first (services.board._clocks)
            models.Index(
                fields=["due_at", "event_id", "id"],
                condition=Q(status="draft", event_open=True),
                name="vig_report_running",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.market} {self.get_kind_display()}"

    def audit_repr(self) -> str:
        return f"{self.number} {self.market} {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding:
            self.event_open = self.event.is_open
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return pk_url("vigilance:report_detail", self.pk)

    @property
    def on_time(self) -> bool | None:
        if self.submitted_at is None or self.due_at is None:
            return None
        return self.submitted_at <= self.due_at


class EuClass(models.TextChoices):
    """EU MDR risk class (Annex VIII): the PSUR interval depends on it (Art. 86)."""

    IIA = "IIa", "IIa"
    IIB = "IIb", "IIb"
    III = "III", "III"


class PeriodicObligation(CreatedByMixin, AuditedModel):
    """VIG-7: a product's periodic report in one market — China's periodic risk evaluation
    (60 days after each full year from first registration, the first 5 years; cn.periodic_risk)
    or the EU PSUR (yearly for class IIb/III, every 2 years for IIa; eu.psur), counted from the
    registration (certificate) date. `last_period_end` is the end of the last period reported."""

    product = models.ForeignKey(
        "trace.Product",
        on_delete=models.PROTECT,
        related_name="periodic_obligations",
        verbose_name=_("product"),
    )
    market = models.CharField(
        _("market"),
        max_length=2,
        choices=[(Market.CN, Market.CN.label), (Market.EU, Market.EU.label)],
    )
    registered_on = models.DateField(_("first registered on"))
    eu_class = models.CharField(_("EU class"), max_length=3, choices=EuClass, blank=True)
    last_period_end = models.DateField(_("last period reported"), null=True, blank=True)

    class Meta:
        ordering = ["product", "market"]
        verbose_name = _("periodic report obligation")
        verbose_name_plural = _("periodic report obligations")
        constraints = [
            models.UniqueConstraint(fields=["product", "market"], name="vig_periodic_once")
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.market}"

    def audit_repr(self) -> str:
        return f"{self.market} {self.registered_on}"

    def get_absolute_url(self) -> str:
        return reverse("vigilance:board") + f"#periodic-{self.pk}"

    def clean(self) -> None:
        super().clean()
        if self.market == Market.EU and not self.eu_class:
            raise ValidationError({"eu_class": _("Give the EU class: it sets the PSUR interval.")})
        if self.market == Market.CN and self.eu_class:
            raise ValidationError({"eu_class": _("Only an EU obligation has an EU class.")})


# --- trend reporting (EU MDR Art. 88; VIG-7) --------------------------------------------------


class TrendPeriod(models.TextChoices):
    MONTH = "month", _("month")
    QUARTER = "quarter", _("quarter")


class TrendBaseline(CreatedByMixin, AuditedModel):
    """MDR Art. 88: the company's expected number of non-serious incidents and expected
    undesirable side-effects of one product per period (from its technical documentation and
    PMS plan), and the significance level at which a rise is a signal."""

    product = models.OneToOneField(
        "trace.Product",
        on_delete=models.PROTECT,
        related_name="trend_baseline",
        verbose_name=_("product"),
    )
    period = models.CharField(
        _("period"), max_length=8, choices=TrendPeriod, default=TrendPeriod.MONTH
    )
    expected_count = models.DecimalField(
        _("expected per period"),
        max_digits=9,
        decimal_places=3,
        help_text=_("Non-serious incidents and expected side-effects expected in one period."),
    )
    alpha = models.DecimalField(
        _("significance level"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.050"),
        help_text=_("A rise with a p-value below this is a signal (e.g. 0.05)."),
    )
    basis = models.TextField(_("basis of the baseline"), blank=True)

    class Meta:
        ordering = ["product"]
        verbose_name = _("trend baseline")
        verbose_name_plural = _("trend baselines")

    def __str__(self) -> str:
        return f"{self.product_id} {self.expected_count}/{self.period}"

    def audit_repr(self) -> str:
        return f"{self.expected_count}/{self.period} α={self.alpha}"

    def get_absolute_url(self) -> str:
        return reverse("vigilance:trends") + f"#baseline-{self.pk}"

    def clean(self) -> None:
        super().clean()
        if self.expected_count is not None and self.expected_count <= 0:
            raise ValidationError({"expected_count": _("Give an expected number above zero.")})
        if self.alpha is not None and not (Decimal("0") < self.alpha <= Decimal("0.2")):
            raise ValidationError(
                {"alpha": _("Give a significance level above 0 and at most 0.2.")}
            )


class TrendSignal(AuditedModel):
    """A statistically significant rise for one product and period, kept once (the periodic
    check is idempotent): the figures as they were found, and when quality was told."""

    product = models.ForeignKey(
        "trace.Product",
        on_delete=models.PROTECT,
        related_name="trend_signals",
        verbose_name=_("product"),
    )
    period = models.CharField(_("period"), max_length=8, choices=TrendPeriod)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    observed = models.PositiveIntegerField(_("observed"))
    expected = models.DecimalField(_("expected"), max_digits=9, decimal_places=3)
    p_value = models.FloatField(_("p-value"))
    alpha = models.DecimalField(_("significance level"), max_digits=4, decimal_places=3)
    found_at = models.DateTimeField(_("found at"))

    class Meta:
        ordering = ["-period_start", "product"]
        verbose_name = _("trend signal")
        verbose_name_plural = _("trend signals")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "period", "period_start"], name="vig_trend_signal_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.period_start}: {self.observed}/{self.expected}"

    def audit_repr(self) -> str:
        return f"{self.period_start} {self.observed} vs {self.expected} p={self.p_value:.4g}"

    def get_absolute_url(self) -> str:
        return reverse("vigilance:trends") + f"#signal-{self.pk}"


class TrendReport(SubmittedReportMixin, CreatedByMixin, VoidableMixin, RegulatedRecord):
    """MDR Art. 88: the trend report a signal becomes. Draft, then submitted: the content
    frozen (the figures, the events counted, the narrative) and signed, with the submission
    moment and the regulator's reference — like the incident reports."""

    numbering_type = "vigilance_trend_report"
    numbering_prefix = "TR"

    signal = models.OneToOneField(
        TrendSignal,
        on_delete=models.PROTECT,
        related_name="report",
        verbose_name=_("signal"),
    )
    product = models.ForeignKey(
        "trace.Product",
        on_delete=models.PROTECT,
        related_name="trend_reports",
        verbose_name=_("product"),
    )
    measures = models.TextField(_("actions taken or planned"), blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("trend report")
        verbose_name_plural = _("trend reports")

    def __str__(self) -> str:
        return f"{self.number} {self.product_id}"

    def audit_repr(self) -> str:
        return f"{self.number} {self.status}"

    def get_absolute_url(self) -> str:
        return reverse("vigilance:trend_report_detail", args=[self.pk])

    def clean(self) -> None:
        super().clean()  # the narrative
        check_narrative(self.measures, "measures")
