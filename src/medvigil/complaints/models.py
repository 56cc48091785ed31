"""The complaint flow's records (FBK-1 … FBK-9, PLAT-11).

    Feedback ──< ClockPause          (FBK-4: waiting for the customer, with a reason)
        │    ──< ProblemNotice       (FBK-8: 顾客问题通知单, one per responsible department)
        │    ──< Evaluation          (FBK-5: quality's questions and the outcome)
        │    ──< Investigation       (FBK-6: root cause, responsibility, returned-product tests)
        │    ──< Resolution ──< ResolutionApproval   (FBK-7: remedy, internal agreement, reply)
        │    ──< EightDReport        (FBK-8: D1 … D8, issued and frozen)
        │    ──< Correspondence      (FBK-1/7: messages in and out, e-mail threading)
    CategoryRoute                    (FBK-2/3: complaint category → owning department, a setting)

`Feedback` is the one record of every channel and kind (inquiry, suggestion, praise,
complaint); the complaint file of FBK-9 is the feedback with everything hanging from it.
Contact and patient data (PLAT-11) are masked in history, exports and the API for users
without `complaints.view_contact_data` / `complaints.view_patient_data`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
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

CONTACT_PERM = "complaints.view_contact_data"
PATIENT_PERM = "complaints.view_patient_data"
USER = settings.AUTH_USER_MODEL


# --- choices -------------------------------------------------------------------------------


class Kind(models.TextChoices):
    """FBK-2: the four kinds of customer feedback."""

    INQUIRY = "inquiry", _("inquiry")
    SUGGESTION = "suggestion", _("suggestion")
    PRAISE = "praise", _("praise")
    COMPLAINT = "complaint", _("complaint")


class Channel(models.TextChoices):
    """FBK-1: every way feedback reaches the company."""

    PHONE = "phone", _("phone")
    FAX = "fax", _("fax")
    LETTER = "letter", _("letter")
    EMAIL = "email", _("e-mail")
    WEB = "web", _("web form")
    VISIT = "visit", _("visit")
    SALES = "sales", _("sales staff")
    SERVICE = "service", _("service staff")
    DEALER = "dealer", _("dealer")
    REGULATOR = "regulator", _("regulator notice")
    MEDIA = "media", _("media")
    INTERNAL = "internal", _("internal")
    API = "api", _("API / other system")


class Category(models.TextChoices):
    """FBK-2: complaint categories (seed 004: 产品质量类、服务态度类、安装调试类、合同履约类…)."""

    PRODUCT_QUALITY = "product_quality", _("product quality")
    SERVICE_ATTITUDE = "service_attitude", _("service attitude")
    INSTALLATION = "installation", _("installation / commissioning")
    DELIVERY = "delivery", _("delivery / contract / price")
    USAGE = "usage", _("usage")


class Severity(models.TextChoices):
    """FBK-3, in increasing order (SEVERITY_ORDER). Suspected bad faith is a separate flag."""

    GENERAL = "general", _("general")
    MINOR = "minor", _("minor")
    MAJOR = "major", _("major")
    SERIOUS = "serious", _("serious")


SEVERITY_ORDER: dict[str, int] = {s.value: i for i, s in enumerate(Severity)}


class PatientInvolvement(models.TextChoices):
    """What happened to a patient (FBK-3: injury, death or patient risk → serious)."""

    NONE = "none", _("no patient involved")
    UNKNOWN = "unknown", _("unknown")
    NO_HARM = "no_harm", _("patient involved, no harm")
    RISK = "risk", _("risk to patient safety")
    INJURY = "injury", _("injury")
    SERIOUS_INJURY = "serious_injury", _("serious injury")
    DEATH = "death", _("death")


class Want(models.TextChoices):
    """FBK-1: what the customer wants."""

    REPAIR = "repair", _("repair")
    EXCHANGE = "exchange", _("exchange")
    RETURN = "return", _("return")
    REFUND = "refund", _("refund")
    COMPENSATION = "compensation", _("compensation")
    VISIT = "visit", _("onsite visit")
    EXPLANATION = "explanation", _("explanation")


class Party(models.TextChoices):
    """FBK-3 / seed 003 1.1.3: outside parties that make a complaint at least major."""

    MEDIA = "media", _("media")
    LAWYER = "lawyer", _("lawyer")
    POLICE = "police", _("police")
    CONSUMER_BODY = "consumer_body", _("consumer association")
    REGULATOR = "regulator", _("regulator / government")


class Remedy(models.TextChoices):
    """FBK-7: remedies."""

    REPAIR = "repair", _("repair")
    REPLACE = "replace", _("replace")
    RETURN = "return", _("return")
    REFUND = "refund", _("refund")
    APOLOGY = "apology", _("apology")
    COMPENSATION = "compensation", _("compensation")
    SERVICE_IMPROVEMENT = "service_improvement", _("service improvement")


# Remedies that need the division head's approval before the reply (seed 003 3.4: 事业部部长
# 负责审核退换货的评审意见) — the approvals a resolution needs are computed in the services.
DIVISION_HEAD_REMEDIES = frozenset({Remedy.RETURN, Remedy.REPLACE, Remedy.REFUND})


class Answer(models.TextChoices):
    """An answer to one of quality's evaluation questions (FBK-5)."""

    YES = "yes", _("yes")
    NO = "no", _("no")
    UNKNOWN = "unknown", _("not yet known")


class Handoff(models.TextChoices):
    """State of a hand-off to another app (vigilance, CAPA) that may not be installed yet."""

    NOT_NEEDED = "", _("not needed")
    PENDING = "pending", _("pending hand-off")
    DONE = "done", _("handed off")


def _severity_rules() -> Any:
    from .rules import SEVERITY_RULES  # the rules import the models

    return SEVERITY_RULES


def _choice_list(value: Any, choices: type[models.TextChoices], field: str) -> None:
    if not isinstance(value, list) or any(v not in choices.values for v in value):
        raise ValidationError({field: _("Choose from the list.")})


# --- master data -----------------------------------------------------------------------------


class CategoryRoute(AuditedModel):
    """FBK-2/FBK-3: a complaint category decides the owning department (a company setting; the
    defaults in rules.DEFAULT_ROUTES are created when missing, an administrator's edits kept).
    `notify` lists further departments that get a customer problem notice (FBK-8)."""

    category = models.CharField(_("category"), max_length=20, choices=Category, unique=True)
    department = models.ForeignKey(
        "accounts.Department",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("owning department"),
    )
    notify = models.ManyToManyField(
        "accounts.Department",
        blank=True,
        related_name="+",
        verbose_name=_("departments notified"),
    )
    citation = models.CharField(_("source"), max_length=300, blank=True)

    class Meta:
        ordering = ["category"]
        verbose_name = _("complaint routing rule")
        verbose_name_plural = _("complaint routing rules")

    def __str__(self) -> str:
        return f"{self.get_category_display()} → {self.department}"


# --- the feedback record ---------------------------------------------------------------------

# The states in which a record's clocks run (Feedback.OPEN_STATUSES).
OPEN_STATUSES: tuple[str, ...] = (
    "received",
    "routed",
    "evaluation",
    "investigation",
    "resolution",
    "replied",
)


class Feedback(OwnedMixin, CreatedByMixin, VoidableMixin, RegulatedRecord):
    """One piece of customer feedback from any channel (FBK-1); a complaint when `kind` says so.
    The owner is the person handling it; `department` the owning department (FBK-3)."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("received")
        ROUTED = "routed", _("routed")
        EVALUATION = "evaluation", _("in evaluation")
        INVESTIGATION = "investigation", _("in investigation")
        RESOLUTION = "resolution", _("resolution")
        REPLIED = "replied", _("replied")
        CLOSED = "closed", _("closed")
        VOIDED = "voided", _("voided")

    OPEN_STATUSES: ClassVar[tuple[str, ...]] = OPEN_STATUSES
    numbering_type = "complaint_feedback"
    numbering_prefix = "FB"
    # received → closed: inquiries, suggestions and praise answered in one step (FBK-2);
    # evaluation → resolution: "not investigated" with a justification (FBK-5/9);
    # replied → resolution: the customer did not accept; closed → routed/received: reopened.
    transitions: ClassVar[dict[str, set[str]]] = {
        Status.RECEIVED: {Status.ROUTED, Status.CLOSED, Status.VOIDED},
        Status.ROUTED: {Status.EVALUATION, Status.RESOLUTION, Status.VOIDED},
        Status.EVALUATION: {Status.INVESTIGATION, Status.RESOLUTION, Status.VOIDED},
        Status.INVESTIGATION: {Status.RESOLUTION, Status.VOIDED},
        Status.RESOLUTION: {Status.REPLIED, Status.VOIDED},
        Status.REPLIED: {Status.CLOSED, Status.RESOLUTION, Status.VOIDED},
        Status.CLOSED: {Status.ROUTED, Status.RECEIVED},
    }

    CONTACT_FIELDS: ClassVar[tuple[str, ...]] = (
        "complainant_name",
        "complainant_phone",
        "complainant_email",
        "complainant_address",
    )
    PATIENT_FIELDS: ClassVar[tuple[str, ...]] = ("patient_details",)
    audit_view_perms: ClassVar[dict[str, str]] = {
        **dict.fromkeys(CONTACT_FIELDS, CONTACT_PERM),
        **dict.fromkeys(PATIENT_FIELDS, PATIENT_PERM),
    }
    DUE_FIELDS: ClassVar[tuple[str, ...]] = ("next_due_at", "clock_dues", "clocks_flagged")
    audit_exclude: ClassVar[tuple[str, ...]] = DUE_FIELDS
    choice_lists: ClassVar[dict[str, Any]] = {
        "customer_wants": Want,
        "outside_parties": Party,
        "severity_reasons": lambda: [(r.code, r.label) for r in _severity_rules()],
    }

    # what and how
    kind = models.CharField(_("kind"), max_length=12, choices=Kind, default=Kind.COMPLAINT)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel)
    # indexed by cmp_fb_analysis (received_at first), which also serves ranges and sorting
    received_at = models.DateTimeField(_("received at"))
    received_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
    )
    language = models.CharField(
        _("customer's language"),
        max_length=10,
        choices=[("zh-hans", "简体中文"), ("en", "English")],
        default="zh-hans",
    )
    title = models.CharField(_("subject"), max_length=200)

    # who (PLAT-11: name and contact masked without complaints.view_contact_data)
    complainant_name = models.CharField(_("complainant"), max_length=100, blank=True)
    complainant_organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    complainant_phone = models.CharField(_("complainant phone"), max_length=60, blank=True)
    complainant_email = models.EmailField(_("complainant e-mail"), blank=True)
    complainant_address = models.CharField(_("complainant address"), max_length=300, blank=True)
    customer = models.ForeignKey(
        "trace.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback",
        verbose_name=_("customer"),
    )
    end_user = models.ForeignKey(
        "trace.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback_as_end_user",
        verbose_name=_("end user"),
    )
    dealer = models.ForeignKey(
        "trace.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback_as_dealer",
        verbose_name=_("dealer"),
    )

    # which device (FBK-1): the unit when known, else lot and/or product; the scanned text kept
    product = models.ForeignKey(
        "trace.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback",
        verbose_name=_("product"),
        db_index=False,  # cmp_fb_product_status_recv leads with it
    )
    lot = models.ForeignKey(
        "trace.Lot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback",
        verbose_name=_("lot"),
    )
    unit = models.ForeignKey(
        "trace.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback",
        verbose_name=_("unit"),
    )
    udi_text = models.CharField(_("UDI as scanned"), max_length=200, blank=True)
    device_text = models.CharField(
        _("device as described"),
        max_length=200,
        blank=True,
        help_text=_("Model, serial or lot as the customer gave them, when not found."),
    )
    under_warranty = models.BooleanField(_("under warranty"), null=True, blank=True)
    warranty_end = models.DateField(_("warranty ends"), null=True, blank=True)

    # what happened (FBK-1)
    description = models.TextField(_("description"))
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    occurred_where = models.CharField(_("where"), max_length=200, blank=True)
    impact = models.TextField(_("impact"), blank=True)
    quantity_affected = models.PositiveIntegerField(_("quantity affected"), default=1)
    patient_involvement = models.CharField(
        _("patient involvement"),
        max_length=16,
        choices=PatientInvolvement,
        default=PatientInvolvement.NONE,
    )
    patient_details = models.TextField(_("patient details"), blank=True)

    # what the customer wants (FBK-1)
    customer_wants = models.JSONField(_("customer wants"), default=list, blank=True)
    customer_wants_detail = models.TextField(_("customer's request in detail"), blank=True)

    # classification and severity (FBK-2, FBK-3)
    category = models.CharField(_("category"), max_length=20, choices=Category, blank=True)
    compensation_claimed = models.BooleanField(_("compensation claimed"), default=False)
    safety_issue = models.BooleanField(_("safety issue"), default=False)
    repeated_repairs = models.BooleanField(_("repeated repairs"), default=False)
    outside_parties = models.JSONField(_("outside parties involved"), default=list, blank=True)
    bad_faith_suspected = models.BooleanField(_("suspected bad faith"), default=False)
    bad_faith_reason = models.TextField(_("reason for suspecting bad faith"), blank=True)
    severity_proposed = models.CharField(
        _("severity proposed"), max_length=10, choices=Severity, blank=True
    )
    severity_reasons = models.JSONField(_("severity rules applied"), default=list, blank=True)
    # not indexed alone: the list filtered by severity reads cmp_fb_analysis (severity included)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity, blank=True)
    severity_override_reason = models.TextField(_("reason for overriding severity"), blank=True)

    # routing (FBK-3)
    department = models.ForeignKey(
        "accounts.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owning department"),
        db_index=False,  # cmp_fb_dept_status leads with it
    )
    # indexed by cmp_fb_status_recv (status first) and the composites that end in it
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.RECEIVED)

    # the clock (FBK-4): each milestone's time; the targets are deadline rules
    routed_at = models.DateTimeField(_("routed at"), null=True, blank=True)
    quality_received_at = models.DateTimeField(_("reached quality at"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    visit_needed = models.BooleanField(_("visit needed"), default=False)
    visit_done_at = models.DateTimeField(_("visit done at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    on_call_alerted_at = models.DateTimeField(
        _("managers on call alerted at"), null=True, blank=True
    )

    # FBK-4, derived: the due times of the running clocks, stored so that "My work", the
    # list and the deadline alerts read them instead of counting business time per record.
    # Set by services.clocks.store_due_times on every save of the record, on pausing and
    # resuming, and when a market calendar changes (core.calendar.services); left out of the
    # audit trail and of signatures (a function of audited fields and pauses).
    next_due_at = models.DateTimeField(
        _("next due"), null=True, blank=True, editable=False, db_index=True
    )
    # (nullable, with a database default: rows written outside the ORM need not name them)
    clock_dues = models.JSONField(
        _("clock due times"), default=dict, null=True, blank=True, editable=False
    )
    clocks_flagged = models.BooleanField(
        _("clock not computed"), default=False, db_default=False, editable=False
    )

    # one-step answer (inquiry, suggestion, praise) and reopening
    answer = models.TextField(_("answer"), blank=True)
    reopen_reason = models.TextField(_("reason for reopening"), blank=True)
    reopened_at = models.DateTimeField(_("reopened at"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)

    # other ways in: the public form's tracking code, the e-mail that opened it
    public_code = models.CharField(
        _("tracking code"), max_length=16, null=True, blank=True, unique=True
    )
    source_reference = models.CharField(
        _("source reference"),
        max_length=300,
        blank=True,
        db_index=True,
        help_text=_("E-mail Message-ID, regulator's notice number or another system's id."),
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("customer feedback")
        verbose_name_plural = _("customer feedback")
        permissions = [
            ("view_contact_data", _("Can view complainants' contact data")),
            ("view_patient_data", _("Can view patient data in complaints")),
            ("view_all_feedback", _("Can view feedback of every customer")),
            ("evaluate_feedback", _("Can evaluate complaints (quality)")),
            ("approve_feedback", _("Can approve complaint decisions")),
            ("export_feedback", _("Can export customer feedback")),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="cmp_fb_status_recv"),
            # the list filtered by product and state, newest first: the page read in index
            # order (no sort of every matching row)
            models.Index(
                fields=["product", "status", "received_at", "id"], name="cmp_fb_product_status_recv"
            ),
            models.Index(fields=["kind", "category"], name="cmp_fb_kind_cat"),
            models.Index(fields=["department", "status"], name="cmp_fb_dept_status"),
            # FBK-10: the analysis reads a period's rows from the index alone (PostgreSQL
            # index-only scan; other databases get the plain index on received_at)
            models.Index(
                fields=["received_at"],
                include=["id", "kind", "status", "department", "product", "category", "severity"],
                name="cmp_fb_analysis",
            ),
            # "My work": the owner's open records, next due first (services.clocks.my_work reads
            # its 50 rows in this order: no sort of all of them)
            models.Index(
                fields=["owner", "next_due_at", "received_at", "id"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="cmp_fb_owner_open_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def audit_repr(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("complaints:feedback_detail", args=[self.pk])

    @classmethod
    def recompute_calendar_deadlines(cls, code: str, now: Any) -> int:
        """core.calendar.services.recompute_open_deadlines: a market calendar changed."""
        from .services.clocks import recompute_calendar_deadlines

        return recompute_calendar_deadlines(code, now=now)

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Every save recomputes the stored due times (FBK-4) in the same statement."""
        from .services.clocks import store_due_times

        # register_feedback computes them before it takes the number (the numbering lock)
        if not self.__dict__.pop("_due_times_current", False):
            store_due_times(self, save=False)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = list({*kwargs["update_fields"], *self.DUE_FIELDS})
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        _choice_list(self.customer_wants, Want, "customer_wants")
        _choice_list(self.outside_parties, Party, "outside_parties")
        if (
            self.kind == Kind.COMPLAINT
            and self.status != self.Status.RECEIVED
            and not self.category
        ):
            raise ValidationError({"category": _("Give the complaint's category.")})
        if self.kind != Kind.COMPLAINT and self.category:
            raise ValidationError({"category": _("Only complaints have a category.")})
        if self.bad_faith_suspected and not self.bad_faith_reason.strip():
            raise ValidationError({"bad_faith_reason": _("Say why bad faith is suspected.")})
        if (
            self.severity
            and self.severity_proposed
            and self.severity != self.severity_proposed
            and not self.severity_override_reason.strip()
        ):
            raise ValidationError(
                {"severity_override_reason": _("Give a reason for changing the proposed severity.")}
            )
        if (
            self.unit_id
            and self.unit
            and self.product_id
            and self.unit.product_id != self.product_id
        ):
            raise ValidationError({"unit": _("The unit is not of this product.")})
        if self.lot_id and self.lot and self.product_id and self.lot.product_id != self.product_id:
            raise ValidationError({"lot": _("The lot is not of this product.")})

    # --- what it is ---

    @property
    def is_complaint(self) -> bool:
        return self.kind == Kind.COMPLAINT

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_serious(self) -> bool:
        return self.severity == Severity.SERIOUS

    @property
    def is_quality_complaint(self) -> bool:
        """FBK-4: quality complaints must reach the quality department within 2 hours."""
        return self.is_complaint and self.category == Category.PRODUCT_QUALITY

    @property
    def is_paused(self) -> bool:
        """Waiting for the customer (an open pause). Reads the prefetched pauses when given."""
        return any(p.ended_at is None for p in self.pauses.all())

    # --- guards: the page asks them, the services enforce them ---

    def can_answer_and_close(self) -> bool:
        """FBK-2: inquiries, suggestions and praise are answered and closed in one step."""
        return (
            not self.is_complaint
            and self.can_transition(self.Status.CLOSED)
            and bool(self.answer.strip())
        )

    def can_route(self) -> bool:
        return (
            self.is_complaint
            and self.can_transition(self.Status.ROUTED)
            and bool(self.category)
            and self.department_id is not None
            and bool(self.severity)
        )

    def can_start_evaluation(self) -> bool:
        return self.is_complaint and self.can_transition(self.Status.EVALUATION)

    def can_start_investigation(self) -> bool:
        """After quality's evaluation decided that the complaint is investigated."""
        ev = self.current_evaluation
        return (
            self.can_transition(self.Status.INVESTIGATION)
            and ev is not None
            and ev.is_complete
            and ev.investigate
            and ev.is_approved
        )

    def can_start_resolution(self) -> bool:
        """From evaluation only when "not investigated" is justified and approved (FBK-5/9);
        from investigation once it is complete; from replied when the customer did not accept."""
        if not self.can_transition(self.Status.RESOLUTION):
            return False
        if self.status == self.Status.ROUTED:
            return not self.is_quality_relevant
        if self.status == self.Status.EVALUATION:
            ev = self.current_evaluation
            return ev is not None and ev.is_complete and not ev.investigate and ev.is_approved
        if self.status == self.Status.INVESTIGATION:
            inv = self.current_investigation
            return inv is not None and inv.is_complete
        return True

    def can_reply(self) -> bool:
        res = self.current_resolution
        return (
            self.can_transition(self.Status.REPLIED)
            and res is not None
            and res.is_agreed
            and bool(res.reply_text.strip())
        )

    def can_close(self) -> bool:
        """A complaint closes after the reply (closure carries quality's e-signature)."""
        if not self.is_complaint:
            return self.can_answer_and_close()
        res = self.current_resolution
        return (
            self.can_transition(self.Status.CLOSED)
            and res is not None
            and res.is_replied
            and res.confirmation in Resolution.CLOSING_CONFIRMATIONS
            and (res.callback_due is None or res.callback_done_at is not None)
        )

    def can_reopen(self) -> bool:
        return self.status == self.Status.CLOSED

    @property
    def is_quality_relevant(self) -> bool:
        """Complaints about the device (ISO 13485 definition, FBK-2) need quality's evaluation;
        a pure service-attitude or delivery/price complaint may go straight to resolution."""
        return self.category in (
            Category.PRODUCT_QUALITY,
            Category.INSTALLATION,
            Category.USAGE,
        ) or self.severity in (Severity.MAJOR, Severity.SERIOUS)

    # --- the current record of each stage (the newest; prefetch `evaluations` etc.) ---

    @property
    def current_evaluation(self) -> Evaluation | None:
        return max(self.evaluations.all(), key=lambda e: e.pk, default=None)

    @property
    def current_investigation(self) -> Investigation | None:
        return max(self.investigations.all(), key=lambda e: e.pk, default=None)

    @property
    def current_resolution(self) -> Resolution | None:
        return max(self.resolutions.all(), key=lambda e: e.pk, default=None)

    # --- object rule (sales staff and dealers: their own customers only) ---

    @classmethod
    def visible_to(cls, user: Any, qs: models.QuerySet) -> models.QuerySet:
        """Everyone with view_all_feedback sees all; others (sales staff, dealers) see the
        feedback they recorded or own and that of the customers they own (trace's
        Customer.owner), as customer, end user or dealer."""
        if user.has_perm("complaints.view_all_feedback"):
            return qs
        return qs.filter(
            Q(owner=user)
            | Q(created_by=user)
            | Q(customer__owner=user)
            | Q(end_user__owner=user)
            | Q(dealer__owner=user)
        )


class ClockPause(AuditedModel):
    """FBK-4: the clock stops while waiting for the customer; a reason is required."""

    feedback = models.ForeignKey(
        Feedback, on_delete=models.PROTECT, related_name="pauses", verbose_name=_("feedback")
    )
    started_at = models.DateTimeField(_("paused at"))
    ended_at = models.DateTimeField(_("resumed at"), null=True, blank=True)
    reason = models.TextField(_("reason for pausing"))
    started_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("paused by")
    )
    ended_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resumed by"),
    )

    class Meta:
        ordering = ["feedback", "started_at"]
        verbose_name = _("clock pause")
        verbose_name_plural = _("clock pauses")
        constraints = [
            models.UniqueConstraint(
                fields=["feedback"],
                condition=Q(ended_at__isnull=True),
                name="cmp_one_open_pause",
            )
        ]

    def __str__(self) -> str:
        return f"{self.feedback_id}: {self.started_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        super().clean()
        if not self.reason.strip():
            raise ValidationError({"reason": _("Say why the clock is paused.")})
        if self.ended_at and self.ended_at < self.started_at:
            raise ValidationError({"ended_at": _("The pause cannot end before it starts.")})


class ProblemNotice(CreatedByMixin, VoidableMixin, RegulatedRecord):
    """FBK-8: the customer problem notice (顾客问题通知单) sent to each responsible department,
    which acknowledges it and answers with what it will do (seed 003 4.2.2/4.2.3)."""

    class Status(models.TextChoices):
        SENT = "sent", _("sent")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        ANSWERED = "answered", _("answered")
        VOIDED = "voided", _("voided")

    numbering_type = "problem_notice"
    numbering_prefix = "PN"
    transitions: ClassVar[dict[str, set[str]]] = {
        Status.SENT: {Status.ACKNOWLEDGED, Status.VOIDED},
        Status.ACKNOWLEDGED: {Status.ANSWERED, Status.VOIDED},
    }

    feedback = models.ForeignKey(
        Feedback, on_delete=models.PROTECT, related_name="notices", verbose_name=_("feedback")
    )
    department = models.ForeignKey(
        "accounts.Department",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("department"),
    )
    request = models.TextField(_("what is asked"), blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=14, choices=Status, default=Status.SENT)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    response = models.TextField(_("department's response"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["feedback", "id"]
        verbose_name = _("customer problem notice")
        verbose_name_plural = _("customer problem notices")
        constraints = [
            models.UniqueConstraint(
                fields=["feedback", "department"],
                condition=~Q(status="voided"),
                name="cmp_one_notice_per_dept",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} → {self.department}"

    def get_absolute_url(self) -> str:
        return reverse("complaints:feedback_detail", args=[self.feedback_id]) + "#notices"

    url_related = ("feedback",)

    def can_acknowledge(self, user: Any) -> bool:
        return self.can_transition(self.Status.ACKNOWLEDGED) and (
            getattr(user, "department_id", None) == self.department_id
        )

    def can_answer(self) -> bool:
        return self.can_transition(self.Status.ANSWERED) and bool(self.response.strip())

    @classmethod
    def visible_to(cls, user: Any, qs: models.QuerySet) -> models.QuerySet:
        """The notices of the feedback the user may see, and those sent to their department."""
        return qs.filter(
            Q(feedback__in=Feedback.visible_to(user, Feedback.objects.all()))
            | Q(department_id=getattr(user, "department_id", None))
        )


class Evaluation(AuditedModel):
    """FBK-5: quality's evaluation of a complaint, question by question, and its outcome:
    a suspected adverse event (→ vigilance), a CAPA request (→ CAPA), or neither; and whether
    the complaint is investigated. "No CAPA" and "not investigated" need a written
    justification and the management representative's e-signature (`approved_by/at`; the
    signature itself is a core.Signature on this evaluation). Hand-offs stay "pending" until the
    vigilance and CAPA apps take them."""

    QUESTIONS: ClassVar[tuple[str, ...]] = (
        "nonconforming",
        "misused",
        "ifu_inadequate",
        "failed_specification",
        "death_or_serious_injury",
        "device_related",
    )

    feedback = models.ForeignKey(
        Feedback,
        on_delete=models.PROTECT,
        related_name="evaluations",
        verbose_name=_("feedback"),
    )
    nonconforming = models.CharField(
        _("is the device nonconforming?"), max_length=8, choices=Answer, blank=True
    )
    misused = models.CharField(
        _("conforming but misused?"), max_length=8, choices=Answer, blank=True
    )
    ifu_inadequate = models.CharField(
        _("are the instructions for use inadequate?"), max_length=8, choices=Answer, blank=True
    )
    failed_specification = models.CharField(
        _("did it fail to meet its specification?"), max_length=8, choices=Answer, blank=True
    )
    death_or_serious_injury = models.CharField(
        _("did or could it cause death or serious injury?"),
        max_length=8,
        choices=Answer,
        blank=True,
    )
    device_related = models.CharField(
        _("is it related to the device?"), max_length=8, choices=Answer, blank=True
    )
    question_notes = models.JSONField(_("notes per question"), default=dict, blank=True)
    summary = models.TextField(_("evaluation summary"), blank=True)

    # outcome
    adverse_event = models.BooleanField(_("suspected adverse event"), default=False)
    adverse_event_handoff = models.CharField(
        _("adverse event hand-off"), max_length=8, choices=Handoff, blank=True, default=""
    )
    adverse_event_reference = models.CharField(
        _("adverse event reference"), max_length=60, blank=True
    )
    capa_needed = models.BooleanField(_("CAPA needed"), default=False)
    capa_handoff = models.CharField(
        _("CAPA hand-off"), max_length=8, choices=Handoff, blank=True, default=""
    )
    capa_reference = models.CharField(_("CAPA reference"), max_length=60, blank=True)
    # the numbers of the records that took the hand-offs: shown in the history only to who
    # may view those records
    record_references = {
        "capa_reference": ("capa.Capa", "number"),
        "adverse_event_reference": ("vigilance.AdverseEvent", "number"),
    }
    no_capa_justification = models.TextField(_("justification for no CAPA"), blank=True)
    investigate = models.BooleanField(_("to be investigated"), default=True)
    not_investigated_justification = models.TextField(
        _("justification for not investigating"), blank=True
    )
    same_as = models.ForeignKey(
        Feedback,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("same problem already investigated in"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    evaluated_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("evaluated by"),
    )
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        ordering = ["feedback", "id"]
        verbose_name = _("complaint evaluation")
        verbose_name_plural = _("complaint evaluations")

    def __str__(self) -> str:
        # read with its complaint (url_related) wherever many are named, as in the history
        return gettext("Evaluation of %(n)s") % {"n": self.feedback.number}

    def audit_repr(self) -> str:
        return f"{self.feedback_id}: {self.evaluated_at or '-'}"

    url_related = ("feedback",)

    def get_absolute_url(self) -> str:
        return reverse("complaints:feedback_detail", args=[self.feedback_id]) + "#evaluation"

    def clean(self) -> None:
        super().clean()
        if not isinstance(self.question_notes, dict):
            raise ValidationError({"question_notes": _("Invalid notes.")})
        if self.same_as_id and self.same_as_id == self.feedback_id:
            raise ValidationError({"same_as": _("Link another complaint, not this one.")})

    @property
    def is_complete(self) -> bool:
        """Every question answered and the evaluation signed off by quality."""
        return self.evaluated_at is not None and all(getattr(self, q) for q in self.QUESTIONS)

    @property
    def needs_approval(self) -> bool:
        """FBK-5/FBK-9: "no CAPA" and "not investigated" need the management
        representative's approval (and a written justification)."""
        return not self.capa_needed or not self.investigate

    @property
    def is_approved(self) -> bool:
        return not self.needs_approval or self.approved_at is not None

    def missing_justifications(self) -> list[str]:
        missing = []
        if not self.capa_needed and not self.no_capa_justification.strip():
            missing.append("no_capa_justification")
        if not self.investigate and not self.not_investigated_justification.strip():
            missing.append("not_investigated_justification")
        return missing


class Investigation(AuditedModel):
    """FBK-6: root cause with its method, responsibility, returned-product testing. The unit's
    and lot's production, sales, installation and service records are linked through the
    feedback's unit/lot (trace); `return_record` names the logistics return when one exists."""

    # The shared root-cause vocabulary (core.records.rootcause, also the CAPA's).
    Method = RootCauseMethod
    Factor = CauseFactor

    class Responsibility(models.TextChoices):
        CUSTOMER = "customer", _("customer")
        COMPANY = "company", _("company")
        SUPPLIER = "supplier", _("supplier")
        CARRIER = "carrier", _("carrier")
        UNDETERMINED = "undetermined", _("undetermined")

    feedback = models.ForeignKey(
        Feedback,
        on_delete=models.PROTECT,
        related_name="investigations",
        verbose_name=_("feedback"),
    )
    method = models.CharField(_("root-cause method"), max_length=12, choices=Method, blank=True)
    factor = models.CharField(_("cause factor"), max_length=12, choices=Factor, blank=True)
    analysis = models.TextField(_("analysis"), blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    responsibility = models.CharField(
        _("responsibility"), max_length=12, choices=Responsibility, blank=True
    )
    correction = models.TextField(_("correction / corrective action"), blank=True)
    return_record = models.ForeignKey(
        "trace.ReturnRecord",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product return"),
    )
    returned_received_at = models.DateField(
        _("returned product received on"), null=True, blank=True
    )
    test_results = models.TextField(_("returned-product test results"), blank=True)
    test_conclusion = models.TextField(_("test conclusion"), blank=True)
    investigator = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("investigator"),
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["feedback", "id"]
        verbose_name = _("complaint investigation")
        verbose_name_plural = _("complaint investigations")

    def __str__(self) -> str:
        return f"{self.feedback_id}: {self.get_method_display() or '-'}"

    url_related = ("feedback",)

    def get_absolute_url(self) -> str:
        return reverse("complaints:feedback_detail", args=[self.feedback_id]) + "#investigation"

    @property
    def is_complete(self) -> bool:
        return (
            self.completed_at is not None
            and bool(self.method)
            and bool(self.root_cause.strip())
            and bool(self.responsibility)
        )


class Resolution(AuditedModel):
    """FBK-7: the remedy, agreed internally (with the approvals the seeds require) before the
    reply; the reply kept and sent; the customer's confirmation; the follow-up call-back."""

    class Confirmation(models.TextChoices):
        PENDING = "", _("not yet confirmed")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("not accepted")
        NO_ANSWER = "no_answer", _("no answer")

    feedback = models.ForeignKey(
        Feedback,
        on_delete=models.PROTECT,
        related_name="resolutions",
        verbose_name=_("feedback"),
    )
    remedies = models.JSONField(_("remedies"), default=list, blank=True)
    remedy_detail = models.TextField(_("remedy in detail"), blank=True)
    compensation_amount = models.DecimalField(
        _("compensation amount"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    corrective_action = models.TextField(_("correction / corrective action"), blank=True)
    agreed_at = models.DateTimeField(_("agreed internally at"), null=True, blank=True)
    agreed_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agreed by"),
    )
    reply_text = models.TextField(_("reply to the customer"), blank=True)
    reply_channel = models.CharField(_("reply channel"), max_length=12, choices=Channel, blank=True)
    reply_sent_at = models.DateTimeField(_("reply sent at"), null=True, blank=True)
    reply_sent_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reply sent by"),
    )
    confirmation = models.CharField(
        _("customer's confirmation"), max_length=10, choices=Confirmation, blank=True, default=""
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmation_note = models.TextField(_("confirmation note"), blank=True)
    callback_due = models.DateField(_("call-back due"), null=True, blank=True)
    callback_done_at = models.DateTimeField(_("call-back done at"), null=True, blank=True)
    callback_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("call-back by"),
    )
    callback_note = models.TextField(_("call-back note"), blank=True)

    class Meta:
        ordering = ["feedback", "id"]
        verbose_name = _("complaint resolution")
        verbose_name_plural = _("complaint resolutions")

    def __str__(self) -> str:
        return f"{self.feedback_id}: {', '.join(self.remedies) or '-'}"

    url_related = ("feedback",)
    choice_lists: ClassVar[dict[str, Any]] = {"remedies": Remedy}

    def get_absolute_url(self) -> str:
        return reverse("complaints:feedback_detail", args=[self.feedback_id]) + "#resolution"

    def clean(self) -> None:
        super().clean()
        _choice_list(self.remedies, Remedy, "remedies")
        if self.compensation_amount is not None and self.compensation_amount < 0:
            raise ValidationError({"compensation_amount": _("Enter a positive amount.")})

    @property
    def needs_division_head(self) -> bool:
        """Seed 003 3.4: returns and exchanges (and refunds) are approved by the division head."""
        return bool(DIVISION_HEAD_REMEDIES.intersection(self.remedies))

    # The customer's answers after which the complaint may close ("not accepted" sends it back
    # to resolution).
    CLOSING_CONFIRMATIONS: ClassVar[tuple[str, ...]] = ("accepted", "no_answer")

    def required_roles(self) -> list[str]:
        """The roles whose approval the internal agreement needs (FBK-7): the division head
        for returns, exchanges and refunds (seed 003 3.4), the management representative for
        serious complaints (seed 003 顾客反馈控制程序 4.3.1)."""
        roles = []
        if self.needs_division_head:
            roles.append("general_manager")
        if self.feedback.is_serious:
            roles.append("management_rep")
        return roles

    @property
    def approvals_complete(self) -> bool:
        """Every approval the remedies need is given (approvals no longer needed after the
        remedies changed do not count)."""
        decided = {a.role: a.decision for a in self.approvals.all()}
        return all(
            decided.get(role) == ResolutionApproval.Decision.APPROVED
            for role in self.required_roles()
        )

    @property
    def is_agreed(self) -> bool:
        return self.agreed_at is not None and bool(self.remedies) and self.approvals_complete

    @property
    def is_replied(self) -> bool:
        return self.reply_sent_at is not None


class ResolutionApproval(AuditedModel):
    """One approval the internal agreement needs (FBK-7): the role asked (the division head for
    returns and exchanges, seed 003 3.4; the management representative for quality accidents,
    seed 003 顾客反馈控制程序 4.3.1), who decided, when, and the comment. The e-signature is a
    core.Signature on this approval."""

    class Decision(models.TextChoices):
        PENDING = "", _("pending")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    resolution = models.ForeignKey(
        Resolution,
        on_delete=models.PROTECT,
        related_name="approvals",
        verbose_name=_("resolution"),
    )
    role = models.CharField(_("role asked"), max_length=40)
    decision = models.CharField(
        _("decision"), max_length=10, choices=Decision, blank=True, default=""
    )
    decided_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["resolution", "id"]
        verbose_name = _("resolution approval")
        verbose_name_plural = _("resolution approvals")
        constraints = [
            models.UniqueConstraint(fields=["resolution", "role"], name="cmp_one_approval_per_role")
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.get_decision_display()}"

    url_related = ("resolution",)


class EightDReport(IssuedDocumentMixin, CreatedByMixin, VoidableMixin, RegulatedRecord):
    """FBK-8: the 8D report drafted from the record, editable until issued, then frozen and
    signed (a core.Signature); `document` is the issued PDF (an attachment on this report).
    Status, issue fields and the issue itself: core.records.issued."""

    numbering_type = "eight_d"
    numbering_prefix = "8D"
    document_parent = "feedback"
    TEXT_FIELDS: ClassVar[tuple[str, ...]] = (
        "d1_team",
        "d2_problem",
        "d3_containment",
        "d4_root_cause",
        "d5_corrective_actions",
        "d6_implementation",
        "d7_prevention",
        "d8_closure",
    )

    feedback = models.ForeignKey(
        Feedback,
        on_delete=models.PROTECT,
        related_name="eight_d_reports",
        verbose_name=_("feedback"),
    )
    language = language_field()
    d1_team = models.TextField(_("D1 team"), blank=True)
    d2_problem = models.TextField(_("D2 problem description"), blank=True)
    d3_containment = models.TextField(_("D3 containment actions"), blank=True)
    d4_root_cause = models.TextField(_("D4 root cause"), blank=True)
    d5_corrective_actions = models.TextField(_("D5 corrective actions chosen"), blank=True)
    d6_implementation = models.TextField(_("D6 implementation and verification"), blank=True)
    d7_prevention = models.TextField(_("D7 prevention of recurrence"), blank=True)
    d8_closure = models.TextField(_("D8 closure and recognition"), blank=True)

    class Meta:
        ordering = ["feedback", "id"]
        verbose_name = _("8D report")
        verbose_name_plural = _("8D reports")

    def __str__(self) -> str:
        return f"{self.number} ({self.feedback_id})"

    url_related = ("feedback",)

    def get_absolute_url(self) -> str:
        return reverse("complaints:feedback_detail", args=[self.feedback_id]) + "#eight-d"

    def issue_error(self) -> str:
        error = super().issue_error()
        if not error and not all(getattr(self, f).strip() for f in self.TEXT_FIELDS):
            error = gettext("Fill in D1 to D8 before issuing the report.")
        return error


class Correspondence(AuditedModel):
    """Messages exchanged with the complainant (FBK-1 e-mail intake and threading, FBK-7 reply):
    what was received or sent, when, by which channel. The address is contact data (PLAT-11)."""

    class Direction(models.TextChoices):
        IN = "in", _("received")
        OUT = "out", _("sent")

    audit_view_perms: ClassVar[dict[str, str]] = {"address": CONTACT_PERM}

    feedback = models.ForeignKey(
        Feedback,
        on_delete=models.PROTECT,
        related_name="messages",
        verbose_name=_("feedback"),
    )
    direction = models.CharField(_("direction"), max_length=4, choices=Direction)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel)
    at = models.DateTimeField(_("at"))
    address = models.CharField(_("address"), max_length=300, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text"), blank=True)
    message_id = models.CharField(_("message id"), max_length=300, blank=True, db_index=True)

    class Meta:
        ordering = ["feedback", "at", "id"]
        verbose_name = _("correspondence")
        verbose_name_plural = _("correspondence")

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.at:%Y-%m-%d %H:%M} {self.subject}"

    url_related = ("feedback",)

    def get_absolute_url(self) -> str:
        return reverse("complaints:feedback_detail", args=[self.feedback_id]) + "#messages"


class EarlyWarning(AuditedModel):
    """FBK-10: the same problem (product + category, or root cause) reached the configured
    count within the rolling period. One row per cluster per period (the unique key makes
    the periodic job idempotent); quality is notified when the row is made."""

    class Basis(models.TextChoices):
        PRODUCT_CATEGORY = "product_category", _("product and category")
        ROOT_CAUSE = "root_cause", _("root cause")

    basis = models.CharField(_("basis"), max_length=20, choices=Basis)
    cluster = models.CharField(_("cluster"), max_length=120)
    product = models.ForeignKey(
        "trace.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product"),
    )
    category = models.CharField(_("category"), max_length=20, choices=Category, blank=True)
    factor = models.CharField(
        _("cause factor"), max_length=12, choices=Investigation.Factor, blank=True
    )
    period = models.PositiveIntegerField(_("period number"))
    window_start = models.DateTimeField(_("counted from"))
    window_end = models.DateTimeField(_("counted until"))
    count = models.PositiveIntegerField(_("count"))
    threshold = models.PositiveIntegerField(_("threshold"))

    class Meta:
        ordering = ["-window_end", "-id"]
        verbose_name = _("early warning")
        verbose_name_plural = _("early warnings")
        constraints = [
            models.UniqueConstraint(fields=["cluster", "period"], name="cmp_warning_once")
        ]

    def __str__(self) -> str:
        return f"{self.cluster} ({self.count})"
