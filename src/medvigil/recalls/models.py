"""Recalls and advisory notices (RCL-1 … RCL-6).

    Recall ──< RecallUnit        (RCL-2/4: every affected unit, its holder and outcome)
       │   ──< RecallConsignee   (RCL-2/4: every customer that received them, each sale level,
       │                          and every end user, with contacts; notice and acknowledgement)
       │   ──< RecallClock       (RCL-3: the deadlines of the registry, met or open)
       │   ──< RecallDocument    (RCL-5: plan, field safety notice, final evaluation report)

One model serves recalls and advisory notices (RCL-6, ``kind``): an advisory notice is scoped,
notified, acknowledged and followed up exactly like a recall, with its own number series (AN)
and its own signer (the management representative instead of the division head).

The source of a recall is generic (``source_kind`` plus an optional content type and id), so a
complaint, a CAPA (medvigil.capa), an adverse event or a regulator order can start one without
this app importing theirs.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from medvigil.core.calendar.clock import DeadlineFields
from medvigil.core.models import AuditedModel
from medvigil.core.records.contract import (
    CreatedByMixin,
    OwnedMixin,
    RegulatedRecord,
    VoidableMixin,
)
from medvigil.core.records.issued import IssuedDocumentMixin
from medvigil.trace.models import CustomerKind

USER = settings.AUTH_USER_MODEL
CONTACT_PERM = "recalls.view_contact_data"


class Kind(models.TextChoices):
    RECALL = "recall", _("recall")
    ADVISORY = "advisory", _("advisory notice")


class Level(models.IntegerChoices):
    """China's recall levels (《医疗器械召回管理办法》(2017), see rules.LEVELS)."""

    ONE = 1, _("level 1")
    TWO = 2, _("level 2")
    THREE = 3, _("level 3")


class SourceKind(models.TextChoices):
    """RCL-1: what started it."""

    COMPLAINT = "complaint", _("complaint")
    CAPA = "capa", _("CAPA")
    ADVERSE_EVENT = "adverse_event", _("adverse event")
    REGULATOR_ORDER = "regulator_order", _("regulator order")
    DIRECT = "direct", _("company decision")


class FdaClass(models.TextChoices):
    NONE = "", _("not affected")
    I = "I", _("class I")  # noqa: E741
    II = "II", _("class II")
    III = "III", _("class III")


class UsAction(models.TextChoices):
    """21 CFR 806: a correction (C) or a removal (R); the report number's last letter."""

    CORRECTION = "C", _("correction")
    REMOVAL = "R", _("removal")


class Recall(OwnedMixin, CreatedByMixin, VoidableMixin, RegulatedRecord):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        OPEN = "open", _("in progress")
        CLOSED = "closed", _("closed")
        VOIDED = "voided", _("voided")

    numbering_type = "rcl_recall"
    numbering_prefix = "RC"
    transitions: ClassVar[dict[str, set[str]]] = {
        Status.DRAFT: {Status.OPEN, Status.VOIDED},
        Status.OPEN: {Status.CLOSED, Status.VOIDED},
    }
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.RECALL)
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    reason = models.TextField(_("defect and reason"))
    reason_en = models.TextField(_("defect and reason (English)"), blank=True)
    action = models.TextField(_("action asked of customers"), blank=True)
    action_en = models.TextField(_("action asked of customers (English)"), blank=True)
    level = models.PositiveSmallIntegerField(
        _("recall level"), choices=Level, null=True, blank=True
    )
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.DRAFT)
    # RCL-1: the source, generically (a complaint, a CAPA of medvigil.capa, an adverse event,
    # a regulator order): its kind, a free reference, and optionally the record itself.
    source_kind = models.CharField(
        _("started from"), max_length=20, choices=SourceKind, default=SourceKind.DIRECT
    )
    source_reference = models.CharField(_("source reference"), max_length=100, blank=True)
    # the reference names the linked source: shown in the history only to who may view it
    record_references = {"source_reference": ("source_type", "source_id")}
    source_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("source record type"),
    )
    source_id = models.CharField(_("source record id"), max_length=40, blank=True)
    # Markets (RCL-1): China always (the company's home market); the US and the EU when units
    # were sold there.
    fda_class = models.CharField(
        _("FDA recall class"), max_length=3, choices=FdaClass, blank=True, default=""
    )
    us_action = models.CharField(
        _("US correction or removal"), max_length=1, choices=UsAction, blank=True, default=""
    )
    fda_registration = models.CharField(_("FDA registration number"), max_length=10, blank=True)
    us_report_number = models.CharField(
        _("correction or removal report number"), max_length=40, blank=True
    )
    eu_fsca = models.BooleanField(_("EU field safety corrective action"), default=False)
    eu_fsca_urgent = models.BooleanField(_("EU FSCA urgent"), default=False)
    eu_reported_at = models.DateTimeField(_("EU FSCA reported"), null=True, blank=True)
    # Scope (RCL-2): the trace criteria, resolved into RecallUnit and RecallConsignee rows.
    product = models.ForeignKey(
        "trace.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product"),
    )
    scope_lots = models.TextField(_("lots"), blank=True, help_text=_("One lot number a line."))
    scope_serials = models.TextField(
        _("serial numbers or UDIs"), blank=True, help_text=_("One serial number or UDI a line.")
    )
    scope_gtin = models.CharField(_("UDI-DI (GTIN)"), max_length=80, blank=True)
    produced_from = models.DateField(_("produced from"), null=True, blank=True)
    produced_to = models.DateField(_("produced to"), null=True, blank=True)
    scope_resolved_at = models.DateTimeField(_("scope resolved"), null=True, blank=True)
    unit_count = models.PositiveIntegerField(_("affected units"), default=0)
    consignee_count = models.PositiveIntegerField(_("consignees"), default=0)
    # Decision (signed) and end
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    # RCL-3: the recall's execution complete (every unit accounted for, or declared by
    # quality): progress reports stop, the summary evaluation clock starts
    completed_at = models.DateTimeField(_("execution completed"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    conclusion = models.TextField(_("conclusion"), blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("recall")
        verbose_name_plural = _("recalls")
        permissions = [
            ("approve_recall", _("Can decide recalls and approve their documents")),
            ("issue_advisory", _("Can issue advisory notices and approve their documents")),
            ("view_contact_data", _("Can view recall consignees' contact data")),
        ]
        indexes = [models.Index(fields=["status", "kind"], name="rcl_status_kind")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def audit_repr(self) -> str:
        return f"{self.number} {self.title}"[:200]

    def get_absolute_url(self) -> str:
        return reverse("recalls:recall_detail", args=[self.pk])

    def assign_number(self) -> str:
        """Recalls RC-…, advisory notices AN-…: two gapless series."""
        if not self.number:
            from medvigil.core.numbering.services import next_number

            if self.kind == Kind.ADVISORY:
                self.number = next_number("rcl_advisory", prefix="AN")
            else:
                self.number = next_number(self.numbering_type, prefix=self.numbering_prefix)
        return self.number

    #: what the decision signature binds to (RCL-5): the decision, not the later progress
    DECISION_FIELDS: ClassVar[tuple[str, ...]] = (
        "number",
        "kind",
        "title",
        "reason",
        "level",
        "source_kind",
        "fda_class",
        "us_action",
        "eu_fsca",
        "product_id",
        "scope_lots",
        "scope_serials",
        "scope_gtin",
        "produced_from",
        "produced_to",
        "unit_count",
        "consignee_count",
        "decided_at",
        "decided_by_id",
    )

    def signature_content(self) -> dict[str, Any] | None:
        return {name: getattr(self, name) for name in self.DECISION_FIELDS}

    @property
    def is_advisory(self) -> bool:
        return self.kind == Kind.ADVISORY

    @property
    def approve_perm(self) -> str:
        """Who signs the decision and the documents: the division head / general manager for
        a recall (RCL-5), the management representative for an advisory notice (RCL-6)."""
        return "recalls.issue_advisory" if self.is_advisory else "recalls.approve_recall"

    @property
    def us_affected(self) -> bool:
        return bool(self.fda_class)

    def can_edit_scope(self) -> bool:
        return self.status == self.Status.DRAFT

    def can_decide(self) -> bool:
        return (
            self.can_transition(self.Status.OPEN)
            and self.scope_resolved_at is not None
            and (self.unit_count > 0 or self.consignee_count > 0)
            and (self.is_advisory or self.level is not None)
        )


class UnitOutcome(models.TextChoices):
    """RCL-4: what became of each affected unit."""

    OPEN = "open", _("not yet found")
    LOCATED = "located", _("located")
    CORRECTED = "corrected", _("corrected")
    RETURNED = "returned", _("returned")
    DESTROYED = "destroyed", _("destroyed")


#: outcomes that account for a unit (the effectiveness numerator, RCL-4)
ACCOUNTED = (UnitOutcome.CORRECTED, UnitOutcome.RETURNED, UnitOutcome.DESTROYED)


class RecallUnit(AuditedModel):
    """One affected unit, frozen at scoping time with its consignee, holder and end user."""

    recall = models.ForeignKey(
        Recall, on_delete=models.PROTECT, related_name="units", verbose_name=_("recall")
    )
    unit = models.ForeignKey(
        "trace.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    lot = models.ForeignKey(
        "trace.Lot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lot"),
    )
    serial = models.CharField(_("serial number"), max_length=40)
    consignee = models.ForeignKey(
        "trace.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("consignee"),
    )
    holder = models.ForeignKey(
        "trace.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("holder"),
    )
    end_user = models.ForeignKey(
        "trace.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("end user"),
    )
    location = models.CharField(_("location"), max_length=300, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=UnitOutcome, default=UnitOutcome.OPEN
    )
    outcome_at = models.DateTimeField(_("outcome recorded"), null=True, blank=True)
    evidence = models.TextField(_("evidence"), blank=True)

    audit_view_perms: ClassVar[dict[str, str]] = {"location": CONTACT_PERM}

    class Meta:
        ordering = ["recall", "id"]
        verbose_name = _("recall unit")
        verbose_name_plural = _("recall units")
        constraints = [
            models.UniqueConstraint(fields=["recall", "unit"], name="rcl_unit_once"),
        ]
        indexes = [models.Index(fields=["recall", "outcome"], name="rcl_unit_outcome")]

    def __str__(self) -> str:
        return self.serial

    def audit_repr(self) -> str:
        return f"{self.recall_id}/{self.serial}"

    def get_absolute_url(self) -> str:
        return reverse("recalls:recall_detail", args=[self.recall_id]) + "#units"

    @property
    def location_display(self) -> str:
        """Where the unit was at scoping time, in the reader's language: `location` is stored
        language-neutral ("kind: name", trace's UnitTrace.location_parts), as the API gives
        it; the page shows it through trace's one wording (location_text)."""
        from medvigil.trace.queries import location_text

        kind, _sep, name = self.location.partition(": ")
        if kind in ("installed", "holder", "dealer", "stock", "scrapped"):
            return location_text(kind, name)
        return self.location


class NoticeChannel(models.TextChoices):
    EMAIL = "email", _("e-mail from the system")
    PHONE = "phone", _("phone")
    FAX = "fax", _("fax")
    LETTER = "letter", _("letter")
    VISIT = "visit", _("visit")


class RecallConsignee(AuditedModel):
    """One customer reached by the recall: a consignee at some sale level (dealer or
    hospital), an end user, or both; contacts copied at scoping time (PLAT-11: masked without
    recalls.view_contact_data). Notice and acknowledgement per consignee (RCL-4)."""

    recall = models.ForeignKey(
        Recall, on_delete=models.PROTECT, related_name="consignees", verbose_name=_("recall")
    )
    customer = models.ForeignKey(
        "trace.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    name = models.CharField(_("name"), max_length=200)
    customer_kind = models.CharField(
        _("type"), max_length=12, choices=CustomerKind.choices, blank=True
    )
    sale_level = models.PositiveSmallIntegerField(
        _("sale level"), null=True, blank=True, help_text=_("1: bought from us; 2: from a dealer…")
    )
    is_end_user = models.BooleanField(_("end user"), default=False)
    unit_count = models.PositiveIntegerField(_("units"), default=0)
    quantity = models.PositiveIntegerField(_("quantity"), default=0)
    contact_person = models.CharField(_("contact person"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=60, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    notice_channel = models.CharField(
        _("notice sent by"), max_length=8, choices=NoticeChannel, blank=True
    )
    notice_sent_at = models.DateTimeField(_("notice sent"), null=True, blank=True)
    notice_note = models.CharField(_("notice note"), max_length=300, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledgement = models.CharField(_("acknowledgement"), max_length=300, blank=True)
    chase_count = models.PositiveSmallIntegerField(_("reminders"), default=0)
    last_chased_at = models.DateTimeField(_("last reminder"), null=True, blank=True)

    audit_view_perms: ClassVar[dict[str, str]] = {
        "contact_person": CONTACT_PERM,
        "phone": CONTACT_PERM,
        "email": CONTACT_PERM,
        "address": CONTACT_PERM,
    }

    class Meta:
        ordering = ["recall", "sale_level", "name", "id"]
        verbose_name = _("recall consignee")
        verbose_name_plural = _("recall consignees")
        constraints = [
            models.UniqueConstraint(fields=["recall", "customer"], name="rcl_consignee_once"),
        ]
        indexes = [
            models.Index(fields=["notice_sent_at", "acknowledged_at"], name="rcl_cons_chase"),
        ]

    def __str__(self) -> str:
        return self.name

    def audit_repr(self) -> str:
        return f"{self.recall_id}/{self.name}"[:200]

    def get_absolute_url(self) -> str:
        return reverse("recalls:recall_detail", args=[self.recall_id]) + "#consignees"


class RecallClock(DeadlineFields, AuditedModel):
    """One deadline of a recall (RCL-3), computed by a rule of the registry; met when the
    report is made or the step done (with its reference, e.g. the US report number)."""

    recall = models.ForeignKey(
        Recall, on_delete=models.PROTECT, related_name="clocks", verbose_name=_("recall")
    )
    met_at = models.DateTimeField(_("done"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    # a periodic deadline (the progress reports) repeats: 1, 2, 3 … per recall and rule
    sequence = models.PositiveSmallIntegerField(_("number"), default=1)

    class Meta:
        ordering = ["recall", "due_at", "id"]
        verbose_name = _("recall deadline")
        verbose_name_plural = _("recall deadlines")
        constraints = [
            models.UniqueConstraint(
                fields=["recall", "deadline_rule", "sequence"], name="rcl_clock_once_seq"
            ),
        ]

    def __str__(self) -> str:
        return self.deadline_rule

    def audit_repr(self) -> str:
        suffix = f"#{self.sequence}" if self.sequence > 1 else ""
        return f"{self.recall_id}/{self.deadline_rule}{suffix}"

    def get_absolute_url(self) -> str:
        return reverse("recalls:recall_detail", args=[self.recall_id]) + "#clocks"

    @classmethod
    def open_deadlines_q(cls) -> Q:
        return Q(met_at__isnull=True)

    @property
    def rule(self) -> Any:
        from medvigil.core.calendar.rules import get_rule

        try:
            return get_rule(self.deadline_rule)
        except LookupError:
            return None


class DocumentKind(models.TextChoices):
    PLAN = "plan", _("recall plan")
    NOTICE = "notice", _("field safety notice")
    FINAL = "final", _("final evaluation report")


class RecallDocument(IssuedDocumentMixin, CreatedByMixin, VoidableMixin, RegulatedRecord):
    """RCL-5: a bilingual document of the recall, drafted from the record, editable until
    issued, then signed (approved) and frozen; `document` is the issued PDF. Status, issue
    fields and the issue itself: core.records.issued."""

    numbering_type = "rcl_document"
    numbering_prefix = "RD"
    document_parent = "recall"
    recall = models.ForeignKey(
        Recall, on_delete=models.PROTECT, related_name="documents", verbose_name=_("recall")
    )
    kind = models.CharField(_("document"), max_length=8, choices=DocumentKind)
    body_zh = models.TextField(_("text (Chinese)"), blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)

    class Meta:
        ordering = ["recall", "id"]
        verbose_name = _("recall document")
        verbose_name_plural = _("recall documents")

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()}"

    def audit_repr(self) -> str:
        return f"{self.number} {self.kind}"

    def get_absolute_url(self) -> str:
        return reverse("recalls:recalldocument_detail", args=[self.pk])

    def issue_error(self) -> str:
        error = super().issue_error()
        if not error and not (self.body_zh.strip() and self.body_en.strip()):
            error = gettext("Write both texts (Chinese and English) before issuing.")
        if not error and self.recall.status in (Recall.Status.CLOSED, Recall.Status.VOIDED):
            error = gettext("The recall is closed.")
        return error
