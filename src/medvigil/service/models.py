"""After-sales service records (SVC-1 … SVC-5, SVC-9, SVC-11).

    ServiceRequest ──< WorkOrder          (SVC-4/9: one per dispatch; the finished one is the
         │                                  unit's service-archive entry, seed 001 + 820.35(b))
         └── SLA clocks stored on the request (SVC-2: response, arrival, fix, loaner)
    EngineerQualification                  (SVC-3: engineer × product: trained, passed, expiry)

Contact data of the customer (PLAT-11) is masked in history, exports and the API for users
without `service.view_contact_data`. Dealers (role "sales") see only the requests of the
customers they own (ServiceRequest.visible_to).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medvigil.core.models import AuditedModel, BatchAuditedMixin
from medvigil.core.records.contract import (
    CreatedByMixin,
    OwnedMixin,
    RegulatedRecord,
    StatusMixin,
    VoidableMixin,
)

USER = settings.AUTH_USER_MODEL
CONTACT_PERM = "service.view_contact_data"
VIEW_ALL_PERM = "service.view_all_servicerequest"


class Zone(models.TextChoices):
    """SVC-2: where the customer is (seed 003 四 4: 市区 / 郊区; remote: the 8-hour cap)."""

    CITY = "city", _("city")
    SUBURB = "suburb", _("suburb")
    REMOTE = "remote", _("remote")


class FaultLevel(models.TextChoices):
    """SVC-1: how badly the device is affected."""

    DOWN = "down", _("down (not usable)")
    DEGRADED = "degraded", _("degraded")
    MINOR = "minor", _("minor")
    QUESTION = "question", _("question")


class Channel(models.TextChoices):
    PHONE = "phone", _("phone")
    EMAIL = "email", _("e-mail")
    WEB = "web", _("web form")
    API = "api", _("API")
    VISIT = "visit", _("visit")
    DEALER = "dealer", _("dealer")
    ENGINEER = "engineer", _("service engineer")


class WarrantyExclusion(models.TextChoices):
    """SVC-5 / seed 003 四 1: hardware warranty excludes human causes and force majeure."""

    NONE = "", _("none")
    MISUSE = "misuse", _("misuse or human cause")
    FORCE_MAJEURE = "force_majeure", _("force majeure (natural disaster, lightning, pests)")
    OTHER = "other", _("other exclusion")


def sla_clock_text(value: Any) -> str:
    """The service-level clock as the history shows it (SVC-2)."""
    return str({"business": _("business hours"), "calendar": _("calendar time")}[value])


def sla_rules_text(value: Any) -> str:
    """The service-level rules of a request ({target: rule code}) as the history shows them:
    each rule by its title, with its code."""
    from medvigil.core.calendar.rules import get_rule

    return "; ".join(f"{get_rule(code).title} ({code})" for code in value.values())


class ServiceRequest(OwnedMixin, CreatedByMixin, VoidableMixin, RegulatedRecord):
    """SVC-1: a request for service from any channel, its unit and warranty (SVC-5) and its
    service-level clocks (SVC-2)."""

    class Status(models.TextChoices):
        NEW = "new", _("new")
        DISPATCHED = "dispatched", _("dispatched")
        ON_SITE = "on_site", _("engineer on site")
        FIXED = "fixed", _("fixed")
        CLOSED = "closed", _("closed")
        VOIDED = "voided", _("voided")

    OPEN_STATUSES: ClassVar[tuple[str, ...]] = ("new", "dispatched", "on_site", "fixed")
    CONTACT_FIELDS: ClassVar[tuple[str, ...]] = (
        "contact_name",
        "contact_phone",
        "contact_email",
        "site_address",
    )
    audit_view_perms: ClassVar[dict[str, str]] = dict.fromkeys(CONTACT_FIELDS, CONTACT_PERM)
    history_values: ClassVar[dict[str, Any]] = {
        "sla_clock": sla_clock_text,
        "sla_rules": sla_rules_text,
    }

    numbering_type = "service_request"
    numbering_prefix = "SR"
    transitions: ClassVar[dict[str, set[str]]] = {
        Status.NEW: {Status.DISPATCHED, Status.CLOSED, Status.VOIDED},
        Status.DISPATCHED: {Status.DISPATCHED, Status.ON_SITE, Status.NEW, Status.VOIDED},
        Status.ON_SITE: {Status.FIXED, Status.NEW, Status.DISPATCHED},
        Status.FIXED: {Status.CLOSED},
    }

    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.NEW)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel, default=Channel.PHONE)
    received_at = models.DateTimeField(_("received at"), db_index=True)
    title = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    fault_level = models.CharField(_("fault level"), max_length=10, choices=FaultLevel)
    zone = models.CharField(_("customer zone"), max_length=8, choices=Zone, default=Zone.CITY)
    # the device (TRC-3): scanned UDI or typed serial, resolved through trace
    unit = models.ForeignKey(
        "trace.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_requests",
        verbose_name=_("unit"),
    )
    product = models.ForeignKey(
        "trace.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product"),
    )
    udi_text = models.CharField(_("scanned UDI"), max_length=200, blank=True)
    device_text = models.CharField(_("device as described"), max_length=200, blank=True)
    customer = models.ForeignKey(
        "trace.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_requests",
        verbose_name=_("customer (user)"),
    )
    dealer = models.ForeignKey(
        "trace.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dealer_service_requests",
        verbose_name=_("dealer"),
    )
    # SVC-1: the public feedback (complaints app) the customer asked for a repair in
    feedback = models.ForeignKey(
        "complaints.Feedback",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_requests",
        verbose_name=_("from feedback"),
    )
    contact_name = models.CharField(_("contact person"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=60, blank=True)
    # SVC-4: where a sign-off code is sent (default: the customer's e-mail in trace)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    site_address = models.CharField(_("site address"), max_length=300, blank=True)
    # warranty (SVC-5), as found at intake; an exclusion needs a reason
    warranty_end = models.DateField(_("warranty ends"), null=True, blank=True)
    under_warranty = models.BooleanField(_("under warranty"), null=True, blank=True)
    warranty_exclusion = models.CharField(
        _("warranty exclusion"), max_length=16, choices=WarrantyExclusion, blank=True
    )
    exclusion_reason = models.TextField(_("reason for the exclusion"), blank=True)
    # who serves it
    engineer = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_requests",
        verbose_name=_("engineer"),
    )
    # milestones
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    fixed_at = models.DateTimeField(_("fixed at"), null=True, blank=True)
    loaner_provided_at = models.DateTimeField(_("loaner provided at"), null=True, blank=True)
    loaner_note = models.CharField(_("loaner"), max_length=200, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    # SVC-2: the service-level clocks, computed from the policy's rules at intake
    sla_clock = models.CharField(_("clock"), max_length=16, blank=True)
    sla_rules = models.JSONField(_("service-level rules"), default=dict, blank=True)
    response_due_at = models.DateTimeField(_("response due"), null=True, blank=True)
    arrival_due_at = models.DateTimeField(_("arrival due"), null=True, blank=True, db_index=True)
    fix_due_at = models.DateTimeField(_("fix due"), null=True, blank=True)
    loaner_due_at = models.DateTimeField(_("loaner due"), null=True, blank=True)
    sla_year_missing = models.PositiveSmallIntegerField(
        _("calendar year missing"), null=True, blank=True
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        permissions = [
            ("view_contact_data", _("Can view service customers' contact data")),
            ("view_all_servicerequest", _("Can view every service request")),
            ("dispatch_servicerequest", _("Can dispatch service requests to engineers")),
            ("read_service_ledger", _("Can read the service ledger and its cost figures")),
        ]
        indexes = [models.Index(fields=["status", "received_at"], name="svc_req_status")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def audit_repr(self) -> str:
        return str(self.number or "")

    def get_absolute_url(self) -> str:
        return reverse("service:request_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def needs_visit(self) -> bool:
        return self.fault_level != FaultLevel.QUESTION

    def loaner_needed(self, now: dt.datetime | None = None) -> bool:
        """SVC-2: not fixed by the fix target → a loaner is owed (free) by the loaner target."""
        now = now or timezone.now()
        if self.fix_due_at is None or self.loaner_provided_at is not None:
            return False
        if self.fixed_at is not None or not self.is_open:
            return False
        return now > self.fix_due_at

    @property
    def sla_problem(self) -> str:
        if self.sla_year_missing is None:
            return ""
        from django.utils.translation import gettext

        return gettext(
            "Deadlines not computed: the company calendar has no data for %(year)s yet. "
            "An administrator enters that year on the calendars page."
        ) % {"year": self.sla_year_missing}

    @property
    def arrival_met(self) -> bool | None:
        """SVC-2 arrival compliance: None while not arrived or without a target."""
        if self.arrived_at is None or self.arrival_due_at is None:
            return None
        return self.arrived_at <= self.arrival_due_at

    @classmethod
    def visible_to(cls, user: Any, qs: models.QuerySet) -> models.QuerySet:
        """Service staff with view_all see every request; others (dealers, sales staff) see
        those they took or serve and those of the customers they own (trace Customer.owner)."""
        if user.has_perm(VIEW_ALL_PERM):
            return qs
        return qs.filter(
            Q(owner=user)
            | Q(created_by=user)
            | Q(engineer=user)
            | Q(customer__owner=user)
            | Q(dealer__owner=user)
        )


def _archive_text(value: Any) -> str:
    from .services.workorders import archive_text

    return archive_text(value)


class WorkOrder(VoidableMixin, RegulatedRecord):
    """SVC-4/SVC-9: what the engineer did on one visit, filled in on a phone as it happens.
    Closed, it is the unit's service-archive entry (seed 001 五 1 售后服务档案; 21 CFR
    820.35(b)); `archive` freezes the entry's fields at closing."""

    class Status(models.TextChoices):
        ASSIGNED = "assigned", _("assigned")
        ACCEPTED = "accepted", _("accepted")
        TRAVELLING = "travelling", _("travelling")
        ON_SITE = "on_site", _("on site")
        SIGNED = "signed", _("signed off by the customer")
        CLOSED = "closed", _("closed")
        VOIDED = "voided", _("voided")

    class Result(models.TextChoices):
        FIXED = "fixed", _("fixed")
        NOT_FIXED = "not_fixed", _("not fixed")
        ADVICE = "advice", _("advice or training only")

    OPEN_STATUSES: ClassVar[tuple[str, ...]] = ("assigned", "accepted", "travelling", "on_site")
    # SVC-4 sign-off by code: the trail keeps only a digest of the (already keyed) hash
    audit_masked: ClassVar[tuple[str, ...]] = ("signoff_code_hash",)
    # PLAT-11: the frozen archive holds the customer's contact, and the code went to the
    # customer's address: both contact data in the history too
    audit_view_perms: ClassVar[dict[str, str]] = {
        "archive": CONTACT_PERM,
        "signoff_code_sent_to": CONTACT_PERM,
    }
    history_values: ClassVar[dict[str, Any]] = {"archive": lambda v: _archive_text(v)}
    # the fields an engineer fills in on site, saved one by one as typed (autosave)
    FIELD_WORK: ClassVar[tuple[str, ...]] = (
        "diagnosis",
        "actions",
        "verification",
        "test_data",
        "verification_passed",
        "training_given",
        "training_notes",
        "result",
        "customer_feedback",
    )

    numbering_type = "service_workorder"
    numbering_prefix = "WO"
    transitions: ClassVar[dict[str, set[str]]] = {
        Status.ASSIGNED: {Status.ACCEPTED, Status.VOIDED},
        Status.ACCEPTED: {Status.TRAVELLING, Status.ON_SITE, Status.VOIDED},
        Status.TRAVELLING: {Status.ON_SITE, Status.VOIDED},
        Status.ON_SITE: {Status.SIGNED},
        Status.SIGNED: {Status.CLOSED},
    }

    request = models.ForeignKey(
        ServiceRequest,
        on_delete=models.PROTECT,
        related_name="work_orders",
        verbose_name=_("service request"),
    )
    engineer = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="work_orders", verbose_name=_("engineer")
    )
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.ASSIGNED)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    travel_started_at = models.DateTimeField(_("travel started at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    diagnosis = models.TextField(_("diagnosis"), blank=True)
    actions = models.TextField(_("actions taken"), blank=True)
    parts_used = models.JSONField(_("parts used"), default=list, blank=True)
    verification = models.TextField(_("performance verification"), blank=True)
    test_data = models.TextField(_("test and inspection data"), blank=True)
    verification_passed = models.BooleanField(_("verification passed"), null=True, blank=True)
    training_given = models.BooleanField(_("operator training given"), default=False)
    training_notes = models.TextField(_("training: who and what"), blank=True)
    result = models.CharField(_("result"), max_length=12, choices=Result, blank=True)
    customer_feedback = models.TextField(_("user feedback"), blank=True)
    signer_name = models.CharField(_("signed by (customer)"), max_length=100, blank=True)
    sign_method = models.CharField(_("sign-off method"), max_length=8, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    signature_attachment_id = models.PositiveBigIntegerField(
        _("signature image"), null=True, blank=True
    )
    # SVC-4: sign-off by a one-time code e-mailed to the customer (the alternative to drawing)
    signoff_code_hash = models.CharField(
        _("sign-off code (keyed hash)"), max_length=128, blank=True
    )
    signoff_code_sent_to = models.EmailField(_("sign-off code sent to"), blank=True)
    signoff_code_sent_at = models.DateTimeField(_("sign-off code sent at"), null=True, blank=True)
    signoff_code_expires_at = models.DateTimeField(
        _("sign-off code expires at"), null=True, blank=True
    )
    signoff_code_attempts = models.PositiveSmallIntegerField(
        _("wrong sign-off code entries"), default=0
    )
    # ISO 13485 7.5.4 / 8.2.2: every service record reviewed for being a complaint (SVC-11)
    is_complaint = models.BooleanField(_("is this a complaint?"), null=True, blank=True)
    complaint_review_note = models.TextField(_("complaint review note"), blank=True)
    complaint = models.ForeignKey(
        "complaints.Feedback",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_work_orders",
        verbose_name=_("complaint"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    archive = models.JSONField(_("service archive entry"), default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        indexes = [
            models.Index(fields=["engineer", "status"], name="svc_wo_engineer"),
            # the service ledger and the KPI-2 costs take the work orders of a period
            models.Index(fields=["created_at"], name="svc_wo_created"),
        ]

    def __str__(self) -> str:
        return f"{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("service:workorder_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def can_sign_off(self) -> bool:
        return (
            self.status == self.Status.ON_SITE
            and bool(self.result)
            and bool(self.actions.strip() or self.diagnosis.strip())
        )

    def can_close(self) -> bool:
        return self.status == self.Status.SIGNED and self.is_complaint is not None

    @classmethod
    def visible_to(cls, user: Any, qs: models.QuerySet) -> models.QuerySet:
        if user.has_perm(VIEW_ALL_PERM):
            return qs
        return qs.filter(
            Q(engineer=user)
            | Q(request__in=ServiceRequest.visible_to(user, ServiceRequest.objects.all()))
        )


class EngineerQualification(AuditedModel):
    """SVC-3 / QMS-3: an engineer (ours or a dealer's) trained and passed for a product, until
    an expiry. Only a valid one allows dispatch (seed 003 三 3:
    经销商维修人员必须经培训合格后方可上岗)."""

    engineer = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        related_name="service_qualifications",
        verbose_name=_("engineer"),
    )
    product = models.ForeignKey(
        "trace.Product",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("product"),
    )
    dealer = models.ForeignKey(
        "trace.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dealer (for a dealer's engineer)"),
    )
    trained_on = models.DateField(_("trained on"))
    passed_on = models.DateField(_("exam passed on"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("exam score"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True, db_index=True)
    certificate = models.CharField(_("certificate number"), max_length=100, blank=True)
    withdrawn = models.BooleanField(_("withdrawn"), default=False)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["engineer_id", "product_id", "-trained_on"]
        verbose_name = _("engineer qualification")
        verbose_name_plural = _("engineer qualifications")

    def __str__(self) -> str:
        return f"{self.engineer_id}/{self.product_id}"

    def audit_repr(self) -> str:
        return f"qualification {self.engineer_id}/{self.product_id}"

    def get_absolute_url(self) -> str:
        return reverse("service:qualification_list") + f"#qualification-{self.pk}"

    def valid_on(self, day: dt.date) -> bool:
        """Trained and passed by `day`, not expired and not withdrawn."""
        if self.withdrawn or self.passed_on is None or self.passed_on > day:
            return False
        return self.expires_on is None or self.expires_on >= day


# --- SVC-5/SVC-6: price list and quotes ------------------------------------------------------


class PriceKind(models.TextChoices):
    PART = "part", _("part")
    LABOUR = "labour", _("labour")
    TRAVEL = "travel", _("travel")


class PriceListItem(AuditedModel):
    """SVC-5: the service price list (seed 003 售后服务(保期外)管理流程:
    客服部制定…售后服务价格)."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("type"), max_length=8, choices=PriceKind)
    unit = models.CharField(_("unit"), max_length=20, default="pcs")
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("price list item")
        verbose_name_plural = _("price list items")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("service:price_list") + f"#price-{self.pk}"


class Quote(VoidableMixin, RegulatedRecord):
    """SVC-5/6: a quote for paid service (out of warranty, or an exclusion) from the price list;
    a discount above SERVICE_DISCOUNT_APPROVAL_PERCENT (default 10 %, seed 003) needs the general
    manager's e-signed approval before it goes to the customer; the customer's answer is kept."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        AWAITING_APPROVAL = "awaiting_approval", _("awaiting discount approval")
        APPROVED = "approved", _("ready for the customer")
        ACCEPTED = "accepted", _("accepted by the customer")
        DECLINED = "declined", _("declined by the customer")
        VOIDED = "voided", _("voided")

    numbering_type = "service_quote"
    numbering_prefix = "QT"
    transitions: ClassVar[dict[str, set[str]]] = {
        Status.DRAFT: {Status.AWAITING_APPROVAL, Status.APPROVED, Status.VOIDED},
        Status.AWAITING_APPROVAL: {Status.APPROVED, Status.DRAFT, Status.VOIDED},
        Status.APPROVED: {Status.ACCEPTED, Status.DECLINED, Status.VOIDED},
    }

    request = models.ForeignKey(
        ServiceRequest,
        on_delete=models.PROTECT,
        related_name="quotes",
        verbose_name=_("service request"),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.DRAFT)
    lines = models.JSONField(_("lines"), default=list, blank=True)
    list_total = models.DecimalField(
        _("list price total"), max_digits=14, decimal_places=2, default=0
    )
    discount_percent = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, default=0
    )
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=0)
    discount_reason = models.TextField(_("reason for the discount"), blank=True)
    approved_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("discount approved by"),
    )
    approved_at = models.DateTimeField(_("discount approved at"), null=True, blank=True)
    customer_name = models.CharField(_("customer's answer given by"), max_length=100, blank=True)
    answered_at = models.DateTimeField(_("customer answered at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("service quote")
        verbose_name_plural = _("service quotes")
        permissions = [("approve_quote", _("Can approve service quote discounts"))]
        # the ledger and the KPI-2 costs take the quotes accepted in a period
        indexes = [models.Index(fields=["status", "answered_at"], name="svc_quote_answered")]

    def __str__(self) -> str:
        return f"{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("service:quote_detail", args=[self.pk])

    @classmethod
    def visible_to(cls, user: Any, qs: models.QuerySet) -> models.QuerySet:
        return qs.filter(request__in=ServiceRequest.visible_to(user, ServiceRequest.objects.all()))


# --- SVC-7 loaners ------------------------------------------------------------------------


class Loan(StatusMixin, RegulatedRecord):
    """SVC-7: a loaner device (a real unit of the catalogue, from our stock) issued to a
    customer — free when a repair overruns (seed 003 四 4) — tracked at the customer and
    returned."""

    class Status(models.TextChoices):
        OUT = "out", _("at the customer")
        RETURNED = "returned", _("returned")

    numbering_type = "service_loan"
    numbering_prefix = "LN"
    transitions: ClassVar[dict[str, set[str]]] = {Status.OUT: {Status.RETURNED}}

    unit = models.ForeignKey(
        "trace.Unit", on_delete=models.PROTECT, related_name="loans", verbose_name=_("loaner unit")
    )
    request = models.ForeignKey(
        ServiceRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="loans",
        verbose_name=_("service request"),
    )
    customer = models.ForeignKey(
        "trace.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.OUT)
    issued_at = models.DateTimeField(_("issued at"))
    due_back_on = models.DateField(_("due back on"), db_index=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    free = models.BooleanField(_("free of charge"), default=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("loaner")
        verbose_name_plural = _("loaners")
        # the loaner list's order, the ledger's period
        indexes = [models.Index(fields=["issued_at"], name="svc_loan_issued")]
        constraints = [
            models.UniqueConstraint(
                fields=["unit"], condition=Q(status="out"), name="svc_loan_one_out_per_unit"
            )
        ]

    def __str__(self) -> str:
        return f"{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("service:loan_list") + f"#loan-{self.pk}"

    @property
    def overdue(self) -> bool:
        return self.status == self.Status.OUT and self.due_back_on < timezone.localdate()


# --- SVC-8 maintenance plans and call-backs ----------------------------------------------------


class MaintenanceVisit(BatchAuditedMixin, AuditedModel):
    """SVC-8: one planned preventive-maintenance visit (onsite) or phone call-back of an
    installed unit, generated ahead by the periodic job (services.maintenance) and tracked to
    completion (seed 003 四 6: 保修期内每3个月上门回访, 保修期满后每6个月, 每月电话回访)."""

    class Kind(models.TextChoices):
        VISIT = "visit", _("onsite maintenance visit")
        CALL = "call", _("phone call-back")

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        DONE = "done", _("done")
        MISSED = "missed", _("missed")

    unit = models.ForeignKey(
        "trace.Unit",
        on_delete=models.PROTECT,
        related_name="maintenance_visits",
        db_index=False,  # svc_visit_uniq leads with it: one index less per generated row
        # no database constraint: its check was a deferred trigger per generated row (a year
        # of plans: ~3 M, 50 s at commit); the plan job's batch checks the references
        # set-wise (core.audit.batch), units are never deleted under their visits (PROTECT)
        db_constraint=False,
        verbose_name=_("unit"),
    )
    kind = models.CharField(_("type"), max_length=6, choices=Kind)
    due_on = models.DateField(_("due on"), db_index=True)
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.PLANNED)
    in_warranty = models.BooleanField(_("inside the warranty"), default=True)
    assigned_to = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # svc_visit_assigned: only assigned visits are indexed
        # no database constraint (as AuditEntry.actor): its deferred check was queued for
        # every generated (unassigned) visit; users are deactivated, never deleted (PROTECT)
        db_constraint=False,
        verbose_name=_("assigned to"),
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("maintenance visit")
        verbose_name_plural = _("maintenance visits")
        constraints = [
            models.UniqueConstraint(fields=["unit", "kind", "due_on"], name="svc_visit_uniq")
        ]
        # generated visits are unassigned: a partial index costs them nothing (a year of
        # plans is ~3 M rows)
        indexes = [
            models.Index(
                fields=["assigned_to"],
                condition=Q(assigned_to__isnull=False),
                name="svc_visit_assigned",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due_on}"

    def audit_repr(self) -> str:
        # untranslated and cheap: written with every audited change of a visit
        return f"{self.kind} {self.due_on} unit {self.unit_id}"

    def get_absolute_url(self) -> str:
        return reverse("service:maintenance_list") + f"#visit-{self.pk}"
