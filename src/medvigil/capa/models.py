"""CAPA, nonconforming product and supplier corrective actions (CAPA-1 … CAPA-3).

    Capa ──< CapaAction          (CAPA-1: problem, risk, containment, root cause, actions with
     │                            owner and due date, verification of effectiveness, signed
     │                            closure; or a "no CAPA needed" decision with its justification)
    Nonconformity                (CAPA-2: incoming / in process / after delivery; lots, units,
     │                            segregation, disposition; a concession is approved with an
     │                            e-signature)
    Supplier ──< Scar            (CAPA-3: master data with an approved status; the supplier
                                  corrective-action request, its response and verification)

A record's source (a complaint, an adverse event, an audit finding, …) is a kind plus an
optional generic link (content type + id), so apps that come later (vigilance, recalls, QMS)
link without a schema change here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from medvigil.core.models import AuditedModel
from medvigil.core.records.contract import (
    CreatedByMixin,
    OwnedMixin,
    RegulatedRecord,
    VoidableMixin,
)
from medvigil.core.records.issued import IssuedDocumentMixin, language_field
from medvigil.core.records.rootcause import CauseFactor, RootCauseMethod

USER = settings.AUTH_USER_MODEL


class SourceKind(models.TextChoices):
    """CAPA-1: where a problem comes from (ISO 13485 8.5.2; seed 003: complaints, service
    trends, audits, management review)."""

    COMPLAINT = "complaint", _("complaint")
    ADVERSE_EVENT = "adverse_event", _("adverse event")
    SERVICE_TREND = "service_trend", _("service trend")
    AUDIT = "audit", _("audit finding")
    NONCONFORMITY = "nonconformity", _("nonconforming product")
    SUPPLIER = "supplier", _("supplier")
    MANAGEMENT_REVIEW = "management_review", _("management review")
    DIRECT = "direct", _("raised directly")


class Risk(models.TextChoices):
    LOW = "low", _("low")
    MEDIUM = "medium", _("medium")
    HIGH = "high", _("high")


class SourceLinkMixin(models.Model):
    """An optional generic link to the record a problem came from (any app's record)."""

    # the copied number names the source: shown in the history only to who may view it
    record_references = {"source_reference": ("source_type", "source_id")}

    source_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("source record type"),
    )
    source_id = models.CharField(_("source record id"), max_length=64, blank=True)
    source_reference = models.CharField(_("source reference"), max_length=100, blank=True)

    class Meta:
        abstract = True

    def source_record(self) -> Any:
        """The linked source record, or None (a removed app or a stale id)."""
        if not self.source_type_id or not self.source_id:
            return None
        model = self.source_type.model_class() if self.source_type else None
        if model is None:
            return None
        return model._default_manager.filter(pk=self.source_id).first()

    def link_source(self, record: Any) -> None:
        self.source_type = ContentType.objects.get_for_model(type(record))
        self.source_id = str(record.pk)
        self.source_reference = str(getattr(record, "number", "") or record)[:100]


# --- CAPA-1 --------------------------------------------------------------------------------


class Capa(SourceLinkMixin, OwnedMixin, CreatedByMixin, VoidableMixin, RegulatedRecord):
    """CAPA-1: a corrective or preventive action from any source, or the record of a "no CAPA
    needed" decision (status NOT_NEEDED, with its justification and approval), which arrives
    from a complaint's evaluation (FBK-5)."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")
        NOT_NEEDED = "not_needed", _("no CAPA needed")
        VOIDED = "voided", _("voided")

    class Kind(models.TextChoices):
        CORRECTIVE = "corrective", _("corrective")
        PREVENTIVE = "preventive", _("preventive")

    numbering_type = "capa"
    numbering_prefix = "CAPA"
    transitions = {
        Status.OPEN: {Status.CLOSED, Status.VOIDED},
        Status.NOT_NEEDED: {Status.VOIDED},
    }

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind, default=Kind.CORRECTIVE)
    source_kind = models.CharField(
        _("source"), max_length=20, choices=SourceKind, default=SourceKind.DIRECT
    )
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.OPEN)
    problem = models.TextField(_("problem statement"))
    risk = models.CharField(_("risk"), max_length=8, choices=Risk, blank=True)
    risk_assessment = models.TextField(_("risk assessment"), blank=True)
    containment = models.TextField(_("containment"), blank=True)
    # root cause (seed 000 8.2.2; the same vocabulary as the complaint investigation)
    method = models.CharField(
        _("root-cause method"), max_length=12, choices=RootCauseMethod, blank=True
    )
    factor = models.CharField(_("cause factor"), max_length=12, choices=CauseFactor, blank=True)
    whys = models.JSONField(_("5 whys"), default=list, blank=True)
    analysis = models.TextField(_("analysis"), blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    due_date = models.DateField(_("target date"), null=True, blank=True)
    # verification of effectiveness (seed 000 8.2.3 (5) 跟踪验证)
    effectiveness_evidence = models.TextField(_("effectiveness evidence"), blank=True)
    effectiveness_verified_on = models.DateField(
        _("effectiveness verified on"), null=True, blank=True
    )
    effectiveness_verified_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("effectiveness verified by"),
    )
    effective = models.BooleanField(_("effective"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    # "no CAPA needed" (FBK-5): the complaint evaluation's decision, justification, approval
    evaluation = models.OneToOneField(
        "complaints.Evaluation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("complaint evaluation"),
    )
    justification = models.TextField(_("justification for no CAPA"), blank=True)
    decision_approved_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    decision_approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("CAPA")
        verbose_name_plural = _("CAPAs")
        permissions = [("close_capa", "Can close a CAPA with an e-signature")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def audit_repr(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("capa:capa_detail", args=[self.pk])

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from medvigil.core.records.rootcause import clean_whys

        super().clean()
        try:
            self.whys = clean_whys(self.whys)
        except ValidationError as exc:
            raise ValidationError({"whys": exc.messages}) from exc

    # guards ------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def effectiveness_verified(self) -> bool:
        return self.effective is True and self.effectiveness_verified_on is not None

    def open_actions(self) -> list[CapaAction]:
        return [a for a in self.actions.all() if a.is_open]

    def close_errors(self) -> list[str]:
        """Why the CAPA cannot close now (empty: it can). CAPA-1: not while an action is open
        or the effectiveness is unverified."""
        errors: list[str] = []
        if not self.can_transition(self.Status.CLOSED):
            errors.append(
                gettext("A CAPA in status “%(s)s” cannot be closed.")
                % {"s": self.get_status_display()}
            )
            return errors
        if not self.root_cause.strip():
            errors.append(gettext("Record the root cause before closing."))
        actions = list(self.actions.all())
        if not [a for a in actions if a.status != CapaAction.Status.CANCELLED]:
            errors.append(gettext("Plan at least one action before closing."))
        still_open = [a for a in actions if a.is_open]
        if still_open:
            errors.append(
                gettext("%(n)d action(s) still open: %(list)s.")
                % {"n": len(still_open), "list": ", ".join(a.label for a in still_open)}
            )
        if not self.effectiveness_verified:
            errors.append(gettext("The effectiveness is not verified as effective."))
        return errors

    def can_close(self) -> bool:
        return not self.close_errors()


class CapaAction(AuditedModel):
    """CAPA-1: one action of a CAPA with its owner and due date; tracked on "My work" and by
    the deadline alerts (due soon, overdue, escalated)."""

    class Kind(models.TextChoices):
        CORRECTION = "correction", _("correction")
        CORRECTIVE = "corrective", _("corrective action")
        PREVENTIVE = "preventive", _("preventive action")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        DONE = "done", _("done")
        CANCELLED = "cancelled", _("cancelled")

    capa = models.ForeignKey(
        Capa, on_delete=models.PROTECT, related_name="actions", verbose_name=_("CAPA")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind, default=Kind.CORRECTIVE)
    description = models.TextField(_("description"))
    owner = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.OPEN)
    result = models.TextField(_("result"), blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    url_related = ("capa",)

    class Meta:
        ordering = ["capa", "due_date", "id"]
        verbose_name = _("CAPA action")
        verbose_name_plural = _("CAPA actions")

    def __str__(self) -> str:
        return f"{self.capa.number}/{self.label}: {self.description[:60]}"

    def audit_repr(self) -> str:
        return f"CAPA action {self.pk}: {self.description[:60]}"

    @property
    def label(self) -> str:
        return f"#{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def overdue(self) -> bool:
        return self.is_open and self.due_date < timezone.localdate()

    def due_at(self) -> dt.datetime:
        """The end of the due day in the company's zone (day-counted rules end at the end of
        the last day, ARCHITECTURE rule 4)."""
        end = dt.datetime.combine(self.due_date, dt.time(23, 59, 59))
        return timezone.make_aware(end, timezone.get_default_timezone())

    def get_absolute_url(self) -> str:
        return reverse("capa:capa_detail", args=[self.capa_id]) + f"#action-{self.pk}"


class CapaReport(IssuedDocumentMixin, CreatedByMixin, VoidableMixin, RegulatedRecord):
    """CAPA-1: the CAPA report — problem, risk, containment, root cause, the actions with
    owners, due dates and status, the verification of effectiveness and the closure with its
    signature — in Chinese or English, issued as a signed PDF (core.records.issued). A draft
    shows the CAPA as it is now; issuing freezes a snapshot of it (`content`) that the
    signature and the PDF bind to, so later changes to the CAPA never alter an issued
    report."""

    numbering_type = "capa_report"
    numbering_prefix = "CAPAR"
    document_parent = "capa"

    capa = models.ForeignKey(
        Capa, on_delete=models.PROTECT, related_name="reports", verbose_name=_("CAPA")
    )
    language = language_field()
    content = models.JSONField(_("frozen content"), default=dict, blank=True, editable=False)

    url_related = ("capa",)

    class Meta:
        ordering = ["capa", "id"]
        verbose_name = _("CAPA report")
        verbose_name_plural = _("CAPA reports")

    def __str__(self) -> str:
        return f"{self.number} ({self.capa_id})"

    def audit_repr(self) -> str:
        return f"{self.number} CAPA report"

    def get_absolute_url(self) -> str:
        return reverse("capa:capareport_detail", args=[self.pk])

    def issue_error(self) -> str:
        error = super().issue_error()
        if not error and self.capa.status not in (Capa.Status.OPEN, Capa.Status.CLOSED):
            error = gettext("A CAPA report is issued for an open or closed CAPA only.")
        return error

    def freeze_content(self) -> None:
        from .services.reports import report_content

        self.content = report_content(self.capa, self.language)


# --- CAPA-2 --------------------------------------------------------------------------------


def affected_text(value: Any) -> str:
    """The lots and units a nonconformity affects ({"lots": [...], "units": [...]}) as the
    history shows them."""
    parts = [
        f"{label}: {', '.join(value[key])}"
        for key, label in (("lots", gettext("Lots")), ("units", gettext("Units")))
        if value.get(key)
    ]
    return "; ".join(parts)


class Nonconformity(OwnedMixin, CreatedByMixin, VoidableMixin, RegulatedRecord):
    """CAPA-2: nonconforming product (不合格品) found at incoming inspection, in process or after
    delivery; what is affected, its segregation and its disposition (seed 000 6.3.3: return,
    rework, concession, scrap). A concession (让步接收) needs an approver's e-signature."""

    class Stage(models.TextChoices):
        INCOMING = "incoming", _("incoming")
        IN_PROCESS = "in_process", _("in process")
        AFTER_DELIVERY = "after_delivery", _("after delivery")

    class Disposition(models.TextChoices):
        RETURN_TO_SUPPLIER = "return_to_supplier", _("return to supplier")
        REWORK = "rework", _("rework")
        CONCESSION = "concession", _("concession")
        SCRAP = "scrap", _("scrap")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        AWAITING_APPROVAL = "awaiting_approval", _("concession awaiting approval")
        DISPOSITIONED = "dispositioned", _("disposition decided")
        CLOSED = "closed", _("closed")
        VOIDED = "voided", _("voided")

    numbering_type = "capa_nonconformity"
    numbering_prefix = "NC"
    history_values: ClassVar[dict[str, Any]] = {"affected": affected_text}
    transitions = {
        Status.OPEN: {Status.AWAITING_APPROVAL, Status.DISPOSITIONED, Status.VOIDED},
        Status.AWAITING_APPROVAL: {Status.DISPOSITIONED, Status.OPEN, Status.VOIDED},
        Status.DISPOSITIONED: {Status.CLOSED, Status.VOIDED},
    }

    title = models.CharField(_("title"), max_length=200)
    stage = models.CharField(_("found"), max_length=16, choices=Stage)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.OPEN)
    description = models.TextField(_("description"))
    product = models.ForeignKey(
        "trace.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product"),
    )
    lots = models.ManyToManyField("trace.Lot", blank=True, related_name="+", verbose_name=_("lots"))
    units = models.ManyToManyField(
        "trace.Unit", blank=True, related_name="+", verbose_name=_("units")
    )
    # The lots and units as recorded (lot numbers, serials): the audit trail keeps their
    # changes, which the many-to-many links above do not write.
    affected = models.JSONField(_("lots and units affected"), default=dict, blank=True)
    quantity = models.PositiveIntegerField(_("quantity affected"), default=1)
    supplier = models.ForeignKey(
        "capa.Supplier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="nonconformities",
        verbose_name=_("supplier"),
    )
    segregated = models.BooleanField(_("segregated"), default=False)
    segregation_location = models.CharField(_("segregation location"), max_length=200, blank=True)
    disposition = models.CharField(_("disposition"), max_length=20, choices=Disposition, blank=True)
    disposition_reason = models.TextField(_("reason for the disposition"), blank=True)
    disposition_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("disposition decided by"),
    )
    disposition_at = models.DateTimeField(_("disposition decided at"), null=True, blank=True)
    concession_approved_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("concession approved by"),
    )
    concession_approved_at = models.DateTimeField(
        _("concession approved at"), null=True, blank=True
    )
    # after delivery (CAPA-2): the complaint it caused; later a recall or advisory notice
    complaint = models.ForeignKey(
        "complaints.Feedback",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("complaint"),
    )
    related_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("related record type"),
    )
    related_id = models.CharField(_("related record id"), max_length=64, blank=True)
    # the copied number names the linked record: shown in the history only to who may view it
    record_references = {"related_reference": ("related_type", "related_id")}
    related_reference = models.CharField(_("related reference"), max_length=100, blank=True)
    capa = models.ForeignKey(
        Capa,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="nonconformities",
        verbose_name=_("CAPA"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("nonconformity")
        verbose_name_plural = _("nonconformities")
        permissions = [("approve_concession", "Can approve a concession with an e-signature")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def audit_repr(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("capa:nc_detail", args=[self.pk])

    def link_related(self, record: Any) -> None:
        """Link the recall or advisory notice (or any record) this nonconformity caused."""
        self.related_type = ContentType.objects.get_for_model(type(record))
        self.related_id = str(record.pk)
        self.related_reference = str(getattr(record, "number", "") or record)[:100]

    @property
    def needs_concession_approval(self) -> bool:
        return (
            self.disposition == self.Disposition.CONCESSION and self.concession_approved_at is None
        )

    def close_errors(self) -> list[str]:
        errors: list[str] = []
        if not self.can_transition(self.Status.CLOSED):
            if self.status == self.Status.AWAITING_APPROVAL:
                errors.append(gettext("The concession is not approved yet."))
            elif self.status == self.Status.OPEN:
                errors.append(gettext("Decide the disposition before closing."))
            else:
                errors.append(
                    gettext("A nonconformity in status “%(s)s” cannot be closed.")
                    % {"s": self.get_status_display()}
                )
        return errors

    def can_close(self) -> bool:
        return not self.close_errors()


# --- CAPA-3 --------------------------------------------------------------------------------


class Supplier(AuditedModel):
    """Supplier master data with its approval status (QMS-4 extends the evaluation)."""

    class Status(models.TextChoices):
        APPROVED = "approved", _("approved")
        CONDITIONAL = "conditional", _("conditionally approved")
        PENDING = "pending", _("under evaluation")
        DISQUALIFIED = "disqualified", _("disqualified")

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    supplies = models.CharField(_("what it supplies"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=100, blank=True)
    contact_email = models.EmailField(_("e-mail"), blank=True)
    contact_phone = models.CharField(_("phone"), max_length=40, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.PENDING)
    approved_on = models.DateField(_("approved on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def audit_repr(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("capa:supplier_detail", args=[self.pk])

    @property
    def is_approved(self) -> bool:
        return self.status in (self.Status.APPROVED, self.Status.CONDITIONAL)


class Scar(OwnedMixin, CreatedByMixin, VoidableMixin, RegulatedRecord):
    """CAPA-3: a supplier corrective-action request (seed 003: 属供方责任的 … 按协作配套质保协议
    执行): the request, the supplier's response by the due date, our verification."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested")
        RESPONDED = "responded", _("response received")
        CLOSED = "closed", _("verified and closed")
        VOIDED = "voided", _("voided")

    numbering_type = "capa_scar"
    numbering_prefix = "SCAR"
    transitions = {
        Status.REQUESTED: {Status.RESPONDED, Status.VOIDED},
        Status.RESPONDED: {Status.CLOSED, Status.REQUESTED, Status.VOIDED},
    }

    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="scars", verbose_name=_("supplier")
    )
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.REQUESTED)
    problem = models.TextField(_("problem statement"))
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    due_date = models.DateField(_("response due"))
    nonconformity = models.ForeignKey(
        Nonconformity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="scars",
        verbose_name=_("nonconformity"),
    )
    capa = models.ForeignKey(
        Capa,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="scars",
        verbose_name=_("CAPA"),
    )
    response = models.TextField(_("supplier's response"), blank=True)
    supplier_root_cause = models.TextField(_("supplier's root cause"), blank=True)
    responded_on = models.DateField(_("response received on"), null=True, blank=True)
    verification = models.TextField(_("verification"), blank=True)
    verified_on = models.DateField(_("verified on"), null=True, blank=True)
    verified_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("supplier corrective-action request")
        verbose_name_plural = _("supplier corrective-action requests")

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def audit_repr(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("capa:scar_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.REQUESTED, self.Status.RESPONDED)

    def due_at(self) -> dt.datetime:
        end = dt.datetime.combine(self.due_date, dt.time(23, 59, 59))
        return timezone.make_aware(end, timezone.get_default_timezone())
