"""Spare parts (SVC-10): the parts catalogue, where parts are kept, how they move, and the
stock and reorder figures derived from the movements.

- ``Part`` and ``PartFit`` (which products a part fits), ``StockLocation`` (a warehouse, or an
  engineer's van): audited master data (AuditedModel), changed only through
  ``parts.services``.
- ``StockMovement``: the regulated, numbered and **immutable** ledger of every receipt,
  transfer, issue, return, adjustment, scrap and reversal. A wrong movement is corrected by
  its reversal (``services.reverse_movement``), never edited.
- ``StockLevel`` (quantity on hand per part and location) and ``ReorderLevel`` (the part's
  safety stock, reorder point and suggested order) are derived from the ledger, the installed
  base and the part's settings. Only ``services.move`` and ``services.recompute_part`` write
  them; ``services.verify_levels`` recomputes the levels from the ledger (docs/parts.md).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from medvigil.core.models import AuditedModel, AuditedQuerySet, ConflictError
from medvigil.core.records.contract import CreatedByMixin, RegulatedRecord

#: The most a single movement may carry, and the most a location may hold of one part.
MAX_QUANTITY = 1_000_000
MAX_ON_HAND = 2_000_000_000


def _can_see_every_location(user: Any) -> bool:
    return bool(user.is_authenticated and user.has_perm("parts.view_all_stock"))


# --- the catalogue ---------------------------------------------------------------------------


class RateSource(models.TextChoices):
    SETTING = "setting", _("the part's failure rate")
    HISTORY = "history", _("issues of the last 12 months")
    HIGHER = "higher", _("the higher of the two")


class SafetyMethod(models.TextChoices):
    SERVICE_LEVEL = "service_level", _("service level (z × σ × √lead time)")
    COVER_DAYS = "cover_days", _("days of demand (cover days)")


class Part(AuditedModel):
    """A spare part: what it is, which products it fits (``PartFit``), what it costs, how long
    it takes to get, and the settings of its safety stock (rules.reorder_figures)."""

    code = models.CharField(_("part code"), max_length=40, unique=True)
    name = models.CharField(_("part name"), max_length=200, db_index=True)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    unit_cost = models.DecimalField(
        _("unit cost"),
        max_digits=12,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(9_999_999_999)],
    )
    lead_time_days = models.PositiveIntegerField(
        _("lead time (days)"),
        default=30,
        validators=[MaxValueValidator(730)],
        help_text=_("Days from ordering the part to having it in the warehouse."),
    )
    failure_rate = models.DecimalField(
        _("annual failure rate"),
        max_digits=8,
        decimal_places=4,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_(
            "Parts needed per installed unit per year (0.05 = one part a year for every 20 "
            "installed units)."
        ),
    )
    rate_source = models.CharField(
        _("demand from"), max_length=10, choices=RateSource.choices, default=RateSource.SETTING
    )
    safety_method = models.CharField(
        _("safety stock method"),
        max_length=16,
        choices=SafetyMethod.choices,
        default=SafetyMethod.SERVICE_LEVEL,
    )
    service_level = models.DecimalField(
        _("service level (%)"),
        max_digits=5,
        decimal_places=2,
        default=95,
        validators=[MinValueValidator(50), MaxValueValidator(Decimal("99.99"))],
        help_text=_("Chance of not running out during a lead time (50–99.99 %)."),
    )
    cover_days = models.PositiveIntegerField(
        _("cover days"),
        default=14,
        validators=[MaxValueValidator(365)],
        help_text=_("Safety stock as days of demand (cover-days method)."),
    )
    min_stock = models.PositiveIntegerField(
        _("minimum safety stock"),
        default=0,
        validators=[MaxValueValidator(MAX_QUANTITY)],
        help_text=_("Safety stock never below this, whatever the demand (critical parts)."),
    )
    order_cycle_days = models.PositiveIntegerField(
        _("order cycle (days)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
        help_text=_("An order covers the demand of this many days beyond the reorder point."),
    )
    order_multiple = models.PositiveIntegerField(
        _("order multiple"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
        help_text=_("Orders are rounded up to a multiple of this (pack size)."),
    )
    active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("spare part")
        verbose_name_plural = _("spare parts")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("parts:part_detail", args=[self.pk])


class PartFit(AuditedModel):
    """One product a part fits. A fit that no longer applies is switched off (``active``), so
    the trail keeps when it was added and removed."""

    part = models.ForeignKey(
        Part, on_delete=models.PROTECT, related_name="fits", verbose_name=_("spare part")
    )
    product = models.ForeignKey(
        "trace.Product",
        on_delete=models.PROTECT,
        related_name="part_fits",
        verbose_name=_("product"),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["part_id", "product_id"]
        verbose_name = _("product the part fits")
        verbose_name_plural = _("products the part fits")
        constraints = [
            models.UniqueConstraint(fields=["part", "product"], name="parts_fit_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.part_id} → {self.product_id}"

    def get_absolute_url(self) -> str:
        return reverse("parts:part_detail", args=[self.part_id]) + "#fits"


# --- where parts are kept ----------------------------------------------------------------------


class LocationKind(models.TextChoices):
    WAREHOUSE = "warehouse", _("warehouse")
    VAN = "van", _("engineer's van")


class StockLocation(AuditedModel):
    """A warehouse, or an engineer's van (a van belongs to one engineer). Engineers see the
    warehouses and their own van; the stock keepers and readers with ``view_all_stock`` see
    every location (visible_to)."""

    code = models.CharField(_("location code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(
        _("type"), max_length=10, choices=LocationKind.choices, default=LocationKind.WAREHOUSE
    )
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock_locations",
        verbose_name=_("engineer"),
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("stock location")
        verbose_name_plural = _("stock locations")
        permissions = [("view_all_stock", _("Can view the stock of every location"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="van", engineer__isnull=False)
                | Q(kind="warehouse", engineer__isnull=True),
                name="parts_location_van_has_engineer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("parts:stocklocation_detail", args=[self.pk])

    def clean(self) -> None:
        if self.kind == LocationKind.VAN and self.engineer_id is None:
            raise ValidationError({"engineer": _("A van belongs to an engineer: choose one.")})
        if self.kind == LocationKind.WAREHOUSE and self.engineer_id is not None:
            raise ValidationError(
                {"engineer": _("A warehouse has no engineer; choose the type “engineer's van”.")}
            )

    @property
    def is_van(self) -> bool:
        return self.kind == LocationKind.VAN

    @classmethod
    def visible_to(cls, user: Any, qs: models.QuerySet) -> models.QuerySet:
        """Every location with view_all_stock; else the warehouses and one's own van."""
        if _can_see_every_location(user):
            return qs
        return qs.filter(Q(kind=LocationKind.WAREHOUSE) | Q(engineer=user))


# --- the ledger ------------------------------------------------------------------------------


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("receipt")
    TRANSFER = "transfer", _("transfer")
    ISSUE = "issue", _("issue")
    RETURN = "return", _("return")
    ADJUSTMENT = "adjustment", _("adjustment")
    SCRAP = "scrap", _("scrap")
    REVERSAL = "reversal", _("reversal")


class ImmutableQuerySet(AuditedQuerySet):
    """Movements are written once: bulk updates are refused like single ones."""

    def update(self, **kwargs: Any) -> int:
        raise ConflictError(str(_("A stock movement cannot be changed; reverse it instead.")))

    def bulk_update(self, objs: Any, fields: Any, *args: Any, **kwargs: Any) -> int:
        raise ConflictError(str(_("A stock movement cannot be changed; reverse it instead.")))


class StockMovement(CreatedByMixin, RegulatedRecord):
    """One movement of a quantity of a part: from ``from_location`` (empty: from outside —
    a supplier, a work order) to ``to_location`` (empty: out of stock — used, scrapped).
    Written once by ``services.move`` (numbered, audited); never changed, never deleted."""

    numbering_type = "stock_movement"
    numbering_prefix = "SM"
    url_related = ("part",)

    kind = models.CharField(_("movement type"), max_length=12, choices=MovementKind.choices)
    part = models.ForeignKey(
        Part, on_delete=models.PROTECT, related_name="movements", verbose_name=_("spare part")
    )
    quantity = models.PositiveIntegerField(
        _("quantity"), validators=[MinValueValidator(1), MaxValueValidator(MAX_QUANTITY)]
    )
    from_location = models.ForeignKey(
        StockLocation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="movements_out",
        verbose_name=_("from location"),
    )
    to_location = models.ForeignKey(
        StockLocation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="movements_in",
        verbose_name=_("to location"),
    )
    reason = models.TextField(_("reason"), blank=True)
    # What the parts were issued to or returned from: a record of any app (the service app's
    # work order) by content type and id, and its number as text (kept if the record is
    # renamed); or a free reference (reference_type empty).
    reference_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reference type"),
    )
    reference_id = models.CharField(_("reference id"), max_length=64, blank=True)
    reference_label = models.CharField(_("reference"), max_length=200, blank=True)
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversal",
        verbose_name=_("reverses"),
    )
    # A caller's key for an at-most-once movement (a phone that resends after a lost
    # connection): the same key twice gives the first movement back.
    request_key = models.CharField(
        _("request key"), max_length=64, null=True, blank=True, unique=True
    )

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        permissions = [
            (
                "use_van_stock",
                _("Can issue parts from and return parts to one's own van"),
            )
        ]
        indexes = [
            models.Index(fields=["part", "kind", "created_at"], name="parts_move_part_kind"),
            models.Index(fields=["reference_type", "reference_id"], name="parts_move_ref"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(from_location__isnull=False) | Q(to_location__isnull=False),
                name="parts_move_has_a_location",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()}"

    def audit_repr(self) -> str:
        return f"{self.number} {self.kind} {self.quantity}"

    def get_absolute_url(self) -> str:
        return reverse("parts:stockmovement_detail", args=[self.pk])

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ConflictError(str(_("A stock movement cannot be changed; reverse it instead.")))
        super().save(*args, **kwargs)

    @property
    def reference_url(self) -> str:
        """The page of the referenced record, when it has one."""
        if self.reference_type_id is None or not self.reference_id:
            return ""
        model = self.reference_type.model_class() if self.reference_type else None
        if model is None:
            return ""
        obj = model._default_manager.filter(pk=self.reference_id).first()
        return obj.get_absolute_url() if obj and hasattr(obj, "get_absolute_url") else ""

    @classmethod
    def visible_to(cls, user: Any, qs: models.QuerySet) -> models.QuerySet:
        """Every movement with view_all_stock; else the movements of one's own van and those
        one made."""
        if _can_see_every_location(user):
            return qs
        return qs.filter(
            Q(from_location__engineer=user) | Q(to_location__engineer=user) | Q(created_by=user)
        )


# --- derived: stock on hand and reorder figures --------------------------------------------


class StockLevel(models.Model):
    """Quantity on hand of one part at one location: the sum of the ledger, kept by
    ``services.move`` under a row lock. Never negative (checked by the service, and by the
    database's check on a positive integer column)."""

    part = models.ForeignKey(
        Part, on_delete=models.PROTECT, related_name="levels", verbose_name=_("spare part")
    )
    location = models.ForeignKey(
        StockLocation,
        on_delete=models.PROTECT,
        related_name="levels",
        verbose_name=_("location"),
    )
    quantity = models.PositiveIntegerField(_("on hand"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["part__code", "location__code"]
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["part", "location"], name="parts_level_uniq"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="parts_level_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.part_id}@{self.location_id}: {self.quantity}"

    @classmethod
    def visible_to(cls, user: Any, qs: models.QuerySet) -> models.QuerySet:
        if _can_see_every_location(user):
            return qs
        return qs.filter(Q(location__kind=LocationKind.WAREHOUSE) | Q(location__engineer=user))


class ReorderLevel(models.Model):
    """The part's reorder figures as last computed (rules.reorder_figures): from the
    installed base, the failure rate, the lead time and the stock on hand. Recomputed after
    every movement of the part, every change of the part, and nightly (the installed base
    grows). ``below`` marks a part at or below its reorder point with something to order."""

    part = models.OneToOneField(
        Part, on_delete=models.PROTECT, related_name="reorder", verbose_name=_("spare part")
    )
    installed_units = models.PositiveIntegerField(_("installed units"), default=0)
    used_12_months = models.PositiveIntegerField(_("used in 12 months"), default=0)
    rate_used = models.DecimalField(
        _("failure rate used"), max_digits=12, decimal_places=4, default=0
    )
    demand_per_day = models.DecimalField(
        _("demand per day"), max_digits=14, decimal_places=4, default=0
    )
    lead_time_demand = models.DecimalField(
        _("lead-time demand"), max_digits=16, decimal_places=2, default=0
    )
    safety_stock = models.PositiveIntegerField(_("safety stock"), default=0)
    reorder_point = models.PositiveIntegerField(_("reorder point"), default=0)
    order_up_to = models.PositiveIntegerField(_("order-up-to level"), default=0)
    on_hand = models.PositiveIntegerField(_("on hand"), default=0)
    suggested_quantity = models.PositiveIntegerField(_("suggested order"), default=0)
    below = models.BooleanField(_("at or below reorder point"), default=False, db_index=True)
    below_since = models.DateTimeField(_("below since"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed"), null=True, blank=True)

    class Meta:
        ordering = ["part__code"]
        verbose_name = _("reorder level")
        verbose_name_plural = _("reorder levels")

    def __str__(self) -> str:
        return f"{self.part_id}: {self.on_hand}/{self.reorder_point}"

    def get_absolute_url(self) -> str:
        return reverse("parts:part_detail", args=[self.part_id]) + "#reorder"
