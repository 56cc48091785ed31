"""Traceability records (TRC-1 … TRC-9): the product catalogue, customers and their licences,
production lots and units, sales (two levels of distribution), installations, returns and
traceability drills.

Every record is regulated (AuditedModel): created and changed through `trace.services`, audited
field by field, never hard-deleted. The indexes are chosen for the trace queries in
`trace.queries` (unit lookup by UDI or serial, forward trace of a lot over millions of units).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from medvigil.core.models import AuditedModel
from medvigil.core.records.contract import OwnedMixin, RegulatedRecord, VoidableMixin
from medvigil.core.records.render import pk_url

# --- GTIN ----------------------------------------------------------------------------------


def gtin_check_digit(payload: str) -> int:
    """GS1 mod-10 check digit of the digits before the check digit (any GTIN length)."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def normalize_gtin(value: str) -> str:
    """A GTIN-8/12/13/14 as the 14-digit form used in (01); raises ValidationError."""
    digits = (value or "").strip().replace(" ", "")
    if not digits.isdigit() or len(digits) not in (8, 12, 13, 14):
        raise ValidationError(
            _("A GTIN has 8, 12, 13 or 14 digits; got “%(value)s”."),
            code="gtin_format",
            params={"value": value},
        )
    digits = digits.zfill(14)
    expected = gtin_check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise ValidationError(
            _("GTIN %(value)s has a wrong check digit (expected %(expected)s)."),
            code="gtin_check_digit",
            params={"value": value, "expected": expected},
        )
    return digits


def validate_gtin(value: str) -> None:
    if value:
        normalize_gtin(value)


def located_share(part: int, whole: int) -> Decimal:
    """The share `part` of `whole` in per cent, two decimals, rounded half up (10 of 11 →
    90.91). A share short of the whole never shows as 100.00 (19,999 of 20,000 → 99.99): a
    drill must not read as complete while a unit is missing. The one place a located share
    is computed (drills, their pages and API)."""
    if whole <= 0:
        return Decimal("0.00")
    value = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    if part < whole and value >= 100:
        return Decimal("99.99")
    return value


def add_months(day: dt.date, months: int) -> dt.date:
    """day + months, clamped to the last day of the target month."""
    import calendar

    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


# --- catalogue (TRC-1) ---------------------------------------------------------------------


class RiskClass(models.TextChoices):
    I = "I", _("Class I")  # noqa: E741
    II = "II", _("Class II")
    III = "III", _("Class III")


class Tracking(models.TextChoices):
    SERIAL = "serial", _("by serial number (each unit)")
    LOT = "lot", _("by lot (quantity)")


class Product(AuditedModel):
    code = models.CharField(_("product code"), max_length=40, unique=True)
    name = models.CharField(_("product name"), max_length=200, db_index=True)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    model_spec = models.CharField(_("model / specification (规格型号)"), max_length=200)
    manufacturer = models.CharField(_("manufacturer"), max_length=200)
    registration_number = models.CharField(
        _("registration certificate number"), max_length=100, blank=True
    )
    registration_expiry = models.DateField(
        _("registration certificate expiry"), null=True, blank=True, db_index=True
    )
    risk_class = models.CharField(_("risk class"), max_length=3, choices=RiskClass.choices)
    gtin = models.CharField(
        _("UDI-DI (GTIN)"),
        max_length=14,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_gtin],
        help_text=_("GTIN-8/12/13/14; stored as 14 digits."),
    )
    tracking = models.CharField(
        _("traceability"), max_length=8, choices=Tracking.choices, default=Tracking.SERIAL
    )
    implantable = models.BooleanField(_("implantable"), default=False)
    shelf_life_months = models.PositiveIntegerField(
        _("shelf life (months)"), null=True, blank=True, help_text=_("有效期, for consumables.")
    )
    service_life_years = models.PositiveIntegerField(
        _("service life (years)"), null=True, blank=True, help_text=_("使用期限, for equipment.")
    )
    warranty_months = models.PositiveIntegerField(_("warranty (months)"), default=12)
    maintenance_interval_months = models.PositiveIntegerField(
        _("maintenance interval (months)"), null=True, blank=True
    )
    sale_to_individuals = models.BooleanField(
        _("may be sold to individuals"),
        default=False,
        help_text=_("Only products for home use may be sold to private persons."),
    )
    active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return f"{self.name} {self.model_spec}".strip()

    def get_absolute_url(self) -> str:
        return pk_url("trace:product_detail", self.pk)

    def clean(self) -> None:
        if self.gtin:
            self.gtin = normalize_gtin(self.gtin)
        else:
            self.gtin = None

    def expiry_for(self, production_date: dt.date | None) -> dt.date | None:
        """Expiry (有效期) or end of service life (使用期限) counted from production."""
        if production_date is None:
            return None
        if self.shelf_life_months:
            return add_months(production_date, self.shelf_life_months)
        if self.service_life_years:
            return add_months(production_date, 12 * self.service_life_years)
        return None


# --- customers and licences (TRC-2, PLAT-11) -----------------------------------------------


class CustomerKind(models.TextChoices):
    HOSPITAL = "hospital", _("hospital / medical institution")
    DEALER = "dealer", _("dealer / distributor")
    OTHER = "other", _("other organisation")
    INDIVIDUAL = "individual", _("individual")


class Customer(OwnedMixin, AuditedModel):
    # Fields shown only to holders of trace.view_contact_data (PLAT-11).
    CONTACT_FIELDS: ClassVar[tuple[str, ...]] = ("contact_person", "phone", "email", "address")
    # The history panel masks these values for users without the permission.
    audit_view_perms: ClassVar[dict[str, str]] = dict.fromkeys(
        CONTACT_FIELDS, "trace.view_contact_data"
    )

    code = models.CharField(_("customer code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200, db_index=True)
    kind = models.CharField(_("type"), max_length=12, choices=CustomerKind.choices)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=40, blank=True, db_index=True
    )
    province = models.CharField(_("province"), max_length=40, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    contact_person = models.CharField(_("contact person"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=60, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_customers",
        verbose_name=_("account owner"),
    )
    active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("view_contact_data", _("Can view customer contact data (addresses, phones)")),
        ]
        indexes = [models.Index(fields=["kind", "name"], name="trace_cust_kind_name")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return pk_url("trace:customer_detail", self.pk)

    @property
    def is_dealer(self) -> bool:
        return self.kind == CustomerKind.DEALER


class LicenceKind(models.TextChoices):
    BUSINESS = "business", _("business licence (营业执照)")
    OPERATING = "operating", _("medical device operating licence (医疗器械经营许可证)")
    FILING = "filing", _("medical device operation filing certificate (经营备案凭证)")
    PRACTICE = "practice", _("medical institution practice licence (医疗机构执业许可证)")


class Licence(AuditedModel):
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="licences", verbose_name=_("customer")
    )
    kind = models.CharField(_("licence type"), max_length=12, choices=LicenceKind.choices)
    number = models.CharField(_("licence number"), max_length=100)
    issuer = models.CharField(_("issued by"), max_length=200, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    expires_on = models.DateField(
        _("expires on"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("Leave empty for a licence without expiry (长期)."),
    )
    scope = models.TextField(_("scope of business"), blank=True)
    withdrawn = models.BooleanField(_("withdrawn"), default=False)
    withdrawn_reason = models.TextField(_("reason for withdrawal"), blank=True)

    class Meta:
        ordering = ["customer_id", "kind", "-expires_on"]
        verbose_name = _("licence")
        verbose_name_plural = _("licences")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind", "number"], name="trace_licence_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"

    def get_absolute_url(self) -> str:
        return pk_url("trace:customer_detail", self.customer_id) + f"#licence-{self.pk}"

    def valid_on(self, day: dt.date) -> bool:
        if self.withdrawn:
            return False
        if self.issued_on and self.issued_on > day:
            return False
        return self.expires_on is None or self.expires_on >= day


# --- lots and units (TRC-3, QMS-6) ---------------------------------------------------------


class Lot(AuditedModel):
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="lots", verbose_name=_("product")
    )
    lot_number = models.CharField(_("lot number (批号)"), max_length=40)
    production_date = models.DateField(_("production date"), db_index=True)
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)
    quantity = models.PositiveIntegerField(_("quantity produced"), default=0)
    production_record = models.CharField(
        _("production record reference"),
        max_length=200,
        blank=True,
        help_text=_("Batch record / device history record number."),
    )
    released_on = models.DateField(_("released on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["-production_date", "lot_number"]
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        constraints = [
            models.UniqueConstraint(fields=["product", "lot_number"], name="trace_lot_uniq")
        ]
        indexes = [models.Index(fields=["lot_number"], name="trace_lot_number")]

    def __str__(self) -> str:
        return f"{self.lot_number} ({self.product.code})"

    def get_absolute_url(self) -> str:
        return pk_url("trace:lot_detail", self.pk)

    def clean(self) -> None:
        if self.expiry_date and self.production_date and self.expiry_date < self.production_date:
            raise ValidationError(
                {"expiry_date": _("The expiry date is before the production date.")}
            )


class UnitStatus(models.TextChoices):
    IN_STOCK = "in_stock", _("in stock")
    SOLD = "sold", _("sold")
    SOLD_ON = "sold_on", _("sold on by dealer")
    INSTALLED = "installed", _("installed")
    RETURNED = "returned", _("returned")
    SCRAPPED = "scrapped", _("scrapped")


class Unit(AuditedModel):
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="units",
        verbose_name=_("product"),
        db_index=False,  # covered by the unique (product, serial) index
    )
    lot = models.ForeignKey(
        Lot,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="units",
        verbose_name=_("lot"),
        db_index=False,  # covered by the (lot, serial) index below
    )
    serial = models.CharField(_("serial number (出厂编号)"), max_length=40)
    # UDI-DI copied from the product when the unit is created (a later GTIN change of the
    # product must not change what is printed on units already made).
    udi_di = models.CharField(_("UDI-DI (GTIN)"), max_length=14, blank=True)
    udi_pi = models.CharField(
        _("UDI-PI"), max_length=120, blank=True, help_text=_("e.g. (17)270101(10)L001(21)SN1")
    )
    production_date = models.DateField(_("production date"), null=True, blank=True)
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)
    production_record = models.CharField(
        _("production record reference"), max_length=200, blank=True
    )
    status = models.CharField(
        _("status"), max_length=12, choices=UnitStatus.choices, default=UnitStatus.IN_STOCK
    )
    # Who holds the unit now (None: we do). Kept by the sale, return and void services.
    holder = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="held_units",
        verbose_name=_("current holder"),
    )

    record_timeline = True  # the life of the unit on its page (TRC-7)

    class Meta:
        ordering = ["product_id", "serial"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        permissions = [("export_trace", _("Can export trace results"))]
        constraints = [
            models.UniqueConstraint(fields=["product", "serial"], name="trace_unit_serial_uniq")
        ]
        indexes = [
            models.Index(fields=["serial"], name="trace_unit_serial"),
            models.Index(fields=["udi_di", "serial"], name="trace_unit_udi"),
            models.Index(fields=["lot", "serial"], name="trace_unit_lot_serial"),
            models.Index(fields=["production_date"], name="trace_unit_proddate"),
        ]

    def __str__(self) -> str:
        return f"{self.serial} ({self.product.code})" if self.product_id else self.serial

    def get_absolute_url(self) -> str:
        return pk_url("trace:unit_detail", self.pk)

    @property
    def udi_hri(self) -> str:
        """Human-readable UDI, e.g. (01)06901234567892(17)270101(10)L001(21)SN1."""
        if not self.udi_di:
            return ""
        parts = [f"(01){self.udi_di}"]
        if self.expiry_date:
            parts.append(f"(17){self.expiry_date:%y%m%d}")
        if self.lot_id and self.lot:
            parts.append(f"(10){self.lot.lot_number}")
        parts.append(f"(21){self.serial}")
        return "".join(parts)

    @property
    def effective_expiry(self) -> dt.date | None:
        """Expiry or end of service life, for retention and sale checks."""
        if self.expiry_date:
            return self.expiry_date
        if self.lot_id and self.lot and self.lot.expiry_date:
            return self.lot.expiry_date
        return self.product.expiry_for(self.production_date)


# --- sales (TRC-4) -------------------------------------------------------------------------


class SaleStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("confirmed")
    VOIDED = "voided", _("voided")


def _retention(created: dt.date, expiry: dt.date | None, implantable: bool) -> dict[str, Any]:
    return {"created": created, "expiry": expiry, "implantable": implantable}


class Sale(VoidableMixin, RegulatedRecord):
    """A sales record (销售记录). The seller is us (None) or a dealer customer; the buyer is a
    dealer, hospital or other customer. TRC-4 fields: product name, manufacturer, model,
    production date and serial/lot come from the lines; sale date, seller, buyer, quantity,
    handler from here. Number, created_at and void_reason come from the record contract."""

    numbering_type = "sale"
    numbering_prefix = "SO"
    transitions = {SaleStatus.CONFIRMED: {SaleStatus.VOIDED}}
    seller = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sales_made",
        verbose_name=_("seller"),
        help_text=_("Empty: sold by us (the manufacturer)."),
    )
    buyer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="purchases", verbose_name=_("buyer")
    )
    sale_date = models.DateField(_("sale date"), db_index=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handler (经办人)"),
    )
    handler_name = models.CharField(_("handler name"), max_length=100, blank=True)
    reference = models.CharField(
        _("reference (invoice, delivery note)"), max_length=100, blank=True
    )
    status = models.CharField(
        _("status"), max_length=12, choices=SaleStatus.choices, default=SaleStatus.CONFIRMED
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["-sale_date", "-id"]
        verbose_name = _("sale")
        verbose_name_plural = _("sales")

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return pk_url("trace:sale_detail", self.pk)

    @property
    def seller_name(self) -> str:
        return self.seller.name if self.seller_id and self.seller else str(_("us (manufacturer)"))

    @property
    def handler_display(self) -> str:
        return self.handler_name or (self.handler.printed_name if self.handler else "")

    def retention_dates(self) -> dict[str, Any]:
        """TRC-9: creation date, the latest product expiry among the lines, implantable."""
        expiry: dt.date | None = None
        implantable = False
        no_expiry = False
        for line in self.lines.select_related("product", "unit__lot", "lot"):
            implantable = implantable or line.product.implantable
            line_expiry = line.effective_expiry
            if line_expiry is None:
                no_expiry = True
            elif expiry is None or line_expiry > expiry:
                expiry = line_expiry
        created = self.created_at.date() if self.created_at else self.sale_date
        return _retention(created, None if no_expiry else expiry, implantable)


class SaleLine(AuditedModel):
    sale = models.ForeignKey(
        Sale, on_delete=models.PROTECT, related_name="lines", verbose_name=_("sale")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sale_lines",
        verbose_name=_("unit"),
    )
    lot = models.ForeignKey(
        Lot,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sale_lines",
        verbose_name=_("lot"),
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    # Copied from the sale so that the database can refuse a second open sale of one unit by
    # the same seller (the constraints below); cleared (open=False) by a return or a void.
    seller = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("seller"),
    )
    buyer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # indexed by (buyer, open) below
        verbose_name=_("buyer"),
    )
    open = models.BooleanField(_("open"), default=True)

    class Meta:
        ordering = ["sale_id", "id"]
        verbose_name = _("sale line")
        verbose_name_plural = _("sale lines")
        constraints = [
            models.CheckConstraint(
                condition=(Q(unit__isnull=False) & Q(quantity=1))
                | (Q(unit__isnull=True) & Q(lot__isnull=False) & Q(quantity__gte=1)),
                name="trace_saleline_unit_or_lot",
            ),
            models.UniqueConstraint(
                fields=["unit", "seller"],
                condition=Q(open=True, unit__isnull=False, seller__isnull=False),
                name="trace_saleline_unit_seller_open",
            ),
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(open=True, unit__isnull=False, seller__isnull=True),
                name="trace_saleline_unit_ours_open",
            ),
        ]
        indexes = [models.Index(fields=["buyer", "open"], name="trace_line_buyer")]

    def __str__(self) -> str:
        what = self.unit.serial if self.unit_id and self.unit else ""
        if not what and self.lot_id and self.lot:
            what = f"{self.lot.lot_number} × {self.quantity}"
        return f"{self.sale.number if self.sale_id else ''} {what}".strip()

    @property
    def production_date(self) -> dt.date | None:
        if self.unit_id and self.unit and self.unit.production_date:
            return self.unit.production_date
        lot = self.lot or (self.unit.lot if self.unit_id and self.unit else None)
        return lot.production_date if lot else None

    @property
    def effective_expiry(self) -> dt.date | None:
        if self.unit_id and self.unit:
            return self.unit.effective_expiry
        if self.lot_id and self.lot:
            return self.lot.expiry_date or self.product.expiry_for(self.lot.production_date)
        return None


# --- installed base (TRC-5) ----------------------------------------------------------------


class Installation(AuditedModel):
    CONTACT_FIELDS: ClassVar[tuple[str, ...]] = ("address", "contact_person", "contact_phone")
    audit_view_perms: ClassVar[dict[str, str]] = dict.fromkeys(
        CONTACT_FIELDS, "trace.view_contact_data"
    )

    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="installations", verbose_name=_("unit")
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="installations",
        verbose_name=_("end-user hospital"),
    )
    department = models.CharField(_("department (科室)"), max_length=100, blank=True)
    address = models.CharField(_("installation address"), max_length=300, blank=True)
    contact_person = models.CharField(_("contact person"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=60, blank=True)
    installed_on = models.DateField(_("installed on"))
    installed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("installed by"),
    )
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)
    warranty_end = models.DateField(_("warranty ends"), null=True, blank=True, db_index=True)
    current = models.BooleanField(_("current location"), default=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["-installed_on", "-id"]
        verbose_name = _("installation")
        verbose_name_plural = _("installations")
        constraints = [
            models.UniqueConstraint(
                fields=["unit"], condition=Q(current=True), name="trace_install_one_current"
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit} @ {self.customer}" if self.unit_id and self.customer_id else "—"

    def get_absolute_url(self) -> str:
        return pk_url("trace:unit_detail", self.unit_id) + f"#installation-{self.pk}"


# --- returns (TRC-6) -----------------------------------------------------------------------


class Disposition(models.TextChoices):
    PENDING = "pending", _("pending evaluation")
    RESTOCK = "restock", _("back to stock")
    REPAIR = "repair", _("repair")
    SCRAP = "scrap", _("scrap")
    TO_SUPPLIER = "to_supplier", _("return to supplier")


class ReturnRecord(RegulatedRecord):
    """A return (退货记录) with the fields of seed 001 §4: product, manufacturer/supplier,
    model, serial, production date, returning party, date, quantity, reason, disposition."""

    numbering_type = "trace_return"
    numbering_prefix = "RT"
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="returns", verbose_name=_("product")
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="returns",
        verbose_name=_("unit"),
    )
    lot = models.ForeignKey(
        Lot,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="returns",
        verbose_name=_("lot"),
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    returned_by = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="returns_made",
        verbose_name=_("returning party"),
    )
    returned_to = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="returns_received",
        verbose_name=_("returned to"),
        help_text=_("Empty: returned to us."),
    )
    supplier = models.CharField(_("manufacturer / supplier"), max_length=200, blank=True)
    return_date = models.DateField(_("return date"), db_index=True)
    reason = models.TextField(_("reason"))
    disposition = models.CharField(
        _("disposition"), max_length=12, choices=Disposition.choices, default=Disposition.PENDING
    )
    disposition_note = models.TextField(_("disposition details"), blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handler"),
    )

    class Meta:
        ordering = ["-return_date", "-id"]
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        constraints = [
            models.CheckConstraint(
                condition=(Q(unit__isnull=False) & Q(quantity=1))
                | (Q(unit__isnull=True) & Q(lot__isnull=False) & Q(quantity__gte=1)),
                name="trace_return_unit_or_lot",
            )
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return pk_url("trace:return_detail", self.pk)

    @property
    def production_date(self) -> dt.date | None:
        if self.unit_id and self.unit and self.unit.production_date:
            return self.unit.production_date
        lot = self.lot or (self.unit.lot if self.unit_id and self.unit else None)
        return lot.production_date if lot else None

    def retention_dates(self) -> dict[str, Any]:
        if self.unit_id:
            expiry = self.unit.effective_expiry
        elif self.lot_id:
            expiry = self.lot.expiry_date or self.product.expiry_for(self.lot.production_date)
        else:
            expiry = None
        created = self.created_at.date() if self.created_at else self.return_date
        return _retention(created, expiry, self.product.implantable)


# --- traceability drill (TRC-8) ------------------------------------------------------------


class DrillStatus(models.TextChoices):
    OPEN = "open", _("open")
    COMPLETED = "completed", _("completed")


class TraceDrill(RegulatedRecord):
    """A recorded traceability exercise: a forward trace of one lot, the share of its units
    whose location is known, and the frozen result (seed 002 target: 100 %)."""

    numbering_type = "trace_drill"
    numbering_prefix = "TD"
    lot = models.ForeignKey(
        Lot, on_delete=models.PROTECT, related_name="drills", verbose_name=_("lot")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=DrillStatus.choices, default=DrillStatus.OPEN
    )
    target_percent = models.DecimalField(
        _("target (%)"), max_digits=5, decimal_places=2, default=100
    )
    run_at = models.DateTimeField(_("traced at"), null=True, blank=True)
    total_units = models.PositiveIntegerField(_("units in lot"), default=0)
    located_units = models.PositiveIntegerField(_("units located"), default=0)
    percent_located = models.DecimalField(
        _("located (%)"), max_digits=5, decimal_places=2, default=0
    )
    duration_ms = models.PositiveIntegerField(_("trace duration (ms)"), default=0)
    result = models.JSONField(_("result"), default=dict, blank=True)
    conclusion = models.TextField(_("conclusion"), blank=True)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("performed by"),
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("traceability drill")
        verbose_name_plural = _("traceability drills")

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return pk_url("trace:drill_detail", self.pk)

    @property
    def located_percent(self) -> Decimal:
        """The located share as shown (from the counts, so drills recorded before the
        rounding was corrected show it right too)."""
        return located_share(self.located_units, self.total_units)

    @property
    def target_met(self) -> bool:
        # From the counts, not the rounded share: 99.995 % does not meet a 100 % target.
        return self.total_units > 0 and self.located_units * 100 >= (
            self.target_percent * self.total_units
        )
