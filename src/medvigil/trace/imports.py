"""Importers of traceability data (PLAT-10 × TRC-1 … TRC-5): products, customers, licences,
lots, units, sales (one row per line, grouped into sales) and installations.

Every rule is trace.services' — the same public functions the forms and the API call:
master data through the ``build_*`` functions (GTIN check digit, licence dates, lot expiry
from shelf life), units through ``UnitBuilder`` and ``recorded_serials``, units and lots named
by serial, UDI or lot number through ``resolve_units``/``resolve_lots``, sales through
``check_sale`` with one ``SaleLedger`` for the file (so an imported sale is refused exactly
when the sale form would refuse it) and ``record_sales``, installations through
``build_installation`` and ``save_installations``, contact data through
``check_contact_write`` (PLAT-11). The importers only read the file's shape (natural keys,
grouping rows into sales), load what the checks need set-based — lookups loaded once per
file, never one query per row, only records the importing user may see — and save nothing
themselves.

Natural keys: a product by UDI-DI (GTIN), product code or model; a customer by code, unified
social credit code or name; a lot by product + lot number; a unit by serial number, or by a
scanned/pasted GS1 UDI (TRC-3).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects
from django.utils.translation import gettext_lazy

from medvigil.core.i18n import gettext_msg as _
from medvigil.core.i18n import validation_messages
from medvigil.core.imports import (
    Column,
    Importer,
    Lookup,
    Row,
    RowError,
    chunked,
    flatten,
    register,
)
from medvigil.core.permissions import scope_for_user

from . import services
from .models import (
    Customer,
    CustomerKind,
    Installation,
    Licence,
    LicenceKind,
    Lot,
    Product,
    RiskClass,
    Sale,
    Tracking,
    Unit,
    normalize_gtin,
)
from .udi import UdiError, label_problems, parse_udi

CHUNK = 2000

# --- natural keys --------------------------------------------------------------------------


def _gtin_key(value: str) -> str:
    return normalize_gtin(value)  # ValidationError: not a GTIN, try the next key


PRODUCT_LOOKUP = Lookup(
    Product,
    keys=(("gtin", _gtin_key), "code", "model_spec"),
    what=gettext_lazy("product"),
)
CUSTOMER_LOOKUP = Lookup(
    Customer, keys=("code", "credit_code", "name"), what=gettext_lazy("customer")
)
USER_LOOKUP = Lookup(
    get_user_model(),
    keys=("username", "email"),
    queryset=lambda: get_user_model()._default_manager.filter(is_active=True),
    what=gettext_lazy("user"),
    scoped=False,  # a person named in the file (installer), not a record read
)


def product_column(required: bool = True, **extra: Any) -> Column:
    return Column(
        "product",
        "Product",
        "产品",
        type="lookup",
        required=required,
        lookup=PRODUCT_LOOKUP,
        max_length=200,
        aliases=("UDI-DI", "GTIN", "产品标识", "器械标识", "产品编码", "product code", "规格型号"),
        help=gettext_lazy("UDI-DI (GTIN), product code or model of a catalogue product"),
        **extra,
    )


def customer_column(name: str, en: str, zh: str, *, required: bool, aliases=(), help="") -> Column:
    return Column(
        name,
        en,
        zh,
        type="lookup",
        required=required,
        lookup=CUSTOMER_LOOKUP,
        max_length=200,
        aliases=tuple(aliases),
        help=help or gettext_lazy("customer code, credit code or exact name"),
    )


def _field_errors(row: Row, exc: ValidationError, columns: dict[str, str]) -> None:
    """Put a model ValidationError on the row: field errors on their column (each message
    kept translatable, see core.i18n)."""
    found = validation_messages(exc)
    on_fields = {str(m) for f, m in found if f is not None}
    for fname, m in found:
        if fname is None and str(m) in on_fields:
            continue  # the model's clean() repeating a field validator
        col = columns.get(fname, fname if fname in row.values else None) if fname else None
        row.error(col, m)


def _present(row: Row, names: Iterable[str]) -> dict[str, Any]:
    """Values of the named columns that are filled in (empty cells keep the model default)."""
    return {n: row.values[n] for n in names if row.values.get(n) is not None}


def _contacts_allowed(row: Row, user: Any, model: Any, values: dict[str, Any]) -> bool:
    """services.check_contact_write on the row: a refusal is an error on each contact column
    given (PLAT-11)."""
    try:
        services.check_contact_write(user, model, values)
    except services.ContactDataRefused as exc:
        for name in exc.fields:
            row.error(name, exc.message)
        return False
    return True


class _Duplicates:
    """Flags a natural key that appears twice in one file."""

    def __init__(self) -> None:
        self.first: dict[Any, int] = {}

    def check(self, row: Row, key: Any, column: str) -> None:
        if key in self.first:
            row.error(
                column,
                _("Also on row %(row)s of this file.") % {"row": self.first[key]},
            )
        else:
            self.first[key] = row.number


# --- products (TRC-1) ----------------------------------------------------------------------

RISK_ALIASES = {
    "1": RiskClass.I,
    "2": RiskClass.II,
    "3": RiskClass.III,
    "一类": RiskClass.I,
    "二类": RiskClass.II,
    "三类": RiskClass.III,
    "第一类": RiskClass.I,
    "第二类": RiskClass.II,
    "第三类": RiskClass.III,
    "ⅰ": RiskClass.I,
    "ⅱ": RiskClass.II,
    "ⅲ": RiskClass.III,
    "class i": RiskClass.I,
    "class ii": RiskClass.II,
    "class iii": RiskClass.III,
}
TRACKING_ALIASES = {
    "序列号": Tracking.SERIAL,
    "按序列号": Tracking.SERIAL,
    "按台": Tracking.SERIAL,
    "出厂编号": Tracking.SERIAL,
    "批号": Tracking.LOT,
    "按批号": Tracking.LOT,
    "按批": Tracking.LOT,
}


@register
class ProductImporter(Importer):
    kind = "products"
    label = gettext_lazy("Products")
    description = gettext_lazy(
        "Catalogue entries (TRC-1). The UDI-DI (GTIN) check digit is verified; a product "
        "code or GTIN that exists already is refused."
    )
    permission = "trace.add_product"
    model = Product
    order = 10
    columns = [
        Column("code", "Product code", "产品编码", required=True, max_length=40),
        Column("name", "Product name", "产品名称", required=True, max_length=200),
        Column("name_en", "English name", "英文名称", max_length=200),
        Column(
            "model_spec",
            "Model",
            "规格型号",
            required=True,
            max_length=200,
            aliases=("model/specification", "型号规格", "型号"),
        ),
        Column(
            "manufacturer",
            "Manufacturer",
            "生产企业",
            required=True,
            max_length=200,
            aliases=("注册人", "注册人/备案人", "生产厂家"),
        ),
        Column(
            "registration_number",
            "Registration number",
            "注册证号",
            max_length=100,
            aliases=("注册证编号", "备案凭证编号", "注册证/备案凭证编号"),
        ),
        Column(
            "registration_expiry",
            "Registration expiry",
            "注册证有效期至",
            type="date",
            aliases=("注册证有效期",),
        ),
        Column(
            "risk_class",
            "Risk class",
            "管理类别",
            type="choice",
            required=True,
            choices=RiskClass.choices,
            choice_aliases=RISK_ALIASES,
            aliases=("类别", "分类"),
            help=gettext_lazy("I, II or III (第一类/第二类/第三类)"),
        ),
        Column(
            "gtin",
            "UDI-DI (GTIN)",
            "产品标识(UDI-DI)",
            max_length=14,
            aliases=("UDI-DI", "GTIN", "产品标识", "器械标识", "DI"),
            help=gettext_lazy("GTIN-8/12/13/14 with a valid check digit"),
        ),
        Column(
            "tracking",
            "Traceability",
            "追溯方式",
            type="choice",
            choices=Tracking.choices,
            choice_aliases=TRACKING_ALIASES,
            help=gettext_lazy("serial (by unit) or lot"),
        ),
        Column("implantable", "Implantable", "植入器械", type="bool", aliases=("植入",)),
        Column("shelf_life_months", "Shelf life (months)", "有效期(月)", type="int", min_value=0),
        Column(
            "service_life_years",
            "Service life (years)",
            "使用期限(年)",
            type="int",
            min_value=0,
        ),
        Column("warranty_months", "Warranty (months)", "保修期(月)", type="int", min_value=0),
        Column(
            "maintenance_interval_months",
            "Maintenance interval (months)",
            "保养周期(月)",
            type="int",
            min_value=0,
        ),
        Column(
            "sale_to_individuals",
            "May be sold to individuals",
            "可销售给个人",
            type="bool",
        ),
        Column("notes", "Notes", "备注"),
    ]

    def prepare(self, rows: list[Row]) -> None:
        self.codes = _Duplicates()
        self.gtins = _Duplicates()

    def validate_row(self, row: Row) -> Any:
        try:
            product = services.build_product(**_present(row, (c.name for c in self.columns)))
        except ValidationError as exc:
            _field_errors(row, exc, {})
            return None
        self.codes.check(row, product.code, "code")
        if product.gtin:
            self.gtins.check(row, product.gtin, "gtin")
        return product


# --- customers and licences (TRC-2) --------------------------------------------------------

CUSTOMER_KIND_ALIASES = {
    "医院": CustomerKind.HOSPITAL,
    "医疗机构": CustomerKind.HOSPITAL,
    "卫生院": CustomerKind.HOSPITAL,
    "诊所": CustomerKind.HOSPITAL,
    "经销商": CustomerKind.DEALER,
    "经销": CustomerKind.DEALER,
    "代理商": CustomerKind.DEALER,
    "配送商": CustomerKind.DEALER,
    "经营企业": CustomerKind.DEALER,
    "其他": CustomerKind.OTHER,
    "其他单位": CustomerKind.OTHER,
    "个人": CustomerKind.INDIVIDUAL,
}
LICENCE_KIND_ALIASES = {
    "营业执照": LicenceKind.BUSINESS,
    "经营许可证": LicenceKind.OPERATING,
    "医疗器械经营许可证": LicenceKind.OPERATING,
    "备案凭证": LicenceKind.FILING,
    "经营备案凭证": LicenceKind.FILING,
    "第二类医疗器械经营备案凭证": LicenceKind.FILING,
    "医疗器械经营备案凭证": LicenceKind.FILING,
    "执业许可证": LicenceKind.PRACTICE,
    "医疗机构执业许可证": LicenceKind.PRACTICE,
}


@register
class CustomerImporter(Importer):
    kind = "customers"
    label = gettext_lazy("Customers")
    description = gettext_lazy(
        "Hospitals, dealers and other customers (TRC-2); import their licences separately."
    )
    permission = "trace.add_customer"
    model = Customer
    order = 20
    columns = [
        Column("code", "Customer code", "客户编码", required=True, max_length=40),
        Column(
            "name",
            "Name",
            "客户名称",
            required=True,
            max_length=200,
            aliases=("单位名称", "名称"),
        ),
        Column(
            "kind",
            "Type",
            "客户类型",
            type="choice",
            required=True,
            choices=CustomerKind.choices,
            choice_aliases=CUSTOMER_KIND_ALIASES,
            help=gettext_lazy("hospital, dealer, other or individual (医院/经销商/其他/个人)"),
        ),
        Column("credit_code", "Unified social credit code", "统一社会信用代码", max_length=40),
        Column("province", "Province", "省份", max_length=40),
        Column("city", "City", "城市", max_length=60),
        Column("address", "Address", "地址", max_length=300),
        Column("contact_person", "Contact person", "联系人", max_length=100),
        Column("phone", "Phone", "电话", max_length=60, aliases=("联系电话",)),
        Column("email", "E-mail", "邮箱", max_length=254, aliases=("email", "电子邮箱")),
        Column("notes", "Notes", "备注"),
    ]

    def prepare(self, rows: list[Row]) -> None:
        self.codes = _Duplicates()

    def validate_row(self, row: Row) -> Any:
        values = _present(row, (c.name for c in self.columns))
        if not _contacts_allowed(row, self.user, Customer, values):
            return None
        try:
            customer = services.build_customer(**values)
        except ValidationError as exc:
            _field_errors(row, exc, {})
            return None
        self.codes.check(row, customer.code, "code")
        return customer


@register
class LicenceImporter(Importer):
    kind = "licences"
    label = gettext_lazy("Customer licences")
    description = gettext_lazy(
        "Business licences, device operating licences or filing certificates, practice "
        "licences (TRC-2). Leave the expiry empty or write 长期 for a licence without expiry."
    )
    permission = "trace.add_licence"
    model = Licence
    order = 30
    columns = [
        customer_column("customer", "Customer", "客户", required=True, aliases=("客户名称",)),
        Column(
            "kind",
            "Licence type",
            "证照类型",
            type="choice",
            required=True,
            choices=LicenceKind.choices,
            choice_aliases=LICENCE_KIND_ALIASES,
        ),
        Column(
            "number",
            "Licence number",
            "证照编号",
            required=True,
            max_length=100,
            aliases=("许可证编号", "证号"),
        ),
        Column("issuer", "Issued by", "发证机关", max_length=200),
        Column("issued_on", "Issued on", "发证日期", type="date"),
        Column(
            "expires_on",
            "Expires on",
            "有效期至",
            type="date",
            blank_values=("长期", "永久", "长期有效", "long-term", "none"),
        ),
        Column("scope", "Scope of business", "经营范围"),
    ]

    def prepare(self, rows: list[Row]) -> None:
        self.keys = _Duplicates()

    def validate_row(self, row: Row) -> Any:
        try:
            licence = services.build_licence(**_present(row, (c.name for c in self.columns)))
        except ValidationError as exc:
            _field_errors(row, exc, {"__all__": "number"})
            return None
        self.keys.check(row, (licence.customer_id, licence.kind, licence.number), "number")
        return licence


# --- lots and units (TRC-3) ----------------------------------------------------------------


@register
class LotImporter(Importer):
    kind = "lots"
    label = gettext_lazy("Production lots")
    description = gettext_lazy(
        "Lots (批号) of catalogue products; the expiry defaults to the production "
        "date plus the product's shelf life."
    )
    permission = "trace.add_lot"
    model = Lot
    order = 40
    columns = [
        product_column(),
        Column("lot_number", "Lot number", "批号", required=True, max_length=40),
        Column("production_date", "Production date", "生产日期", type="date", required=True),
        Column(
            "expiry_date",
            "Expiry date",
            "失效日期",
            type="date",
            aliases=("有效期至", "有效期"),
        ),
        Column("quantity", "Quantity produced", "生产数量", type="int", min_value=0),
        Column(
            "production_record",
            "Production record",
            "生产记录编号",
            max_length=200,
            aliases=("批生产记录", "DHR"),
        ),
        Column("released_on", "Released on", "放行日期", type="date"),
        Column("notes", "Notes", "备注"),
    ]

    def prepare(self, rows: list[Row]) -> None:
        self.keys = _Duplicates()

    def validate_row(self, row: Row) -> Any:
        try:
            lot = services.build_lot(**_present(row, (c.name for c in self.columns)))
        except ValidationError as exc:
            _field_errors(row, exc, {"__all__": "lot_number"})
            return None
        self.keys.check(row, (lot.product_id, lot.lot_number), "lot_number")
        return lot


def _resolve_lots(rows: list[Row], user: Any, number_column: str = "lot_number") -> dict[int, Lot]:
    """The lot of each row that names one (lot number, narrowed by the row's product), through
    services.resolve_lots — once per distinct (lot number, product). Errors go on the rows."""
    # Keyed by the product's id, not the product: hashing a model instance costs two pk
    # look-ups (Model.__hash__), twice per row — 8 % of a 50,000-unit import's CPU (#7).
    keys: dict[tuple[str, int | None], Product | None] = {}
    wanted: list[tuple[Row, tuple[str, int | None]]] = []
    for r in rows:
        number = r.values.get(number_column)
        if not r.ok or not number:
            continue
        product = r.values.get("product")
        key = (number, product.pk if product is not None else None)
        keys.setdefault(key, product)
        wanted.append((r, key))
    ordered = sorted(keys, key=lambda k: (k[0], k[1] or 0))
    found = dict(
        zip(
            ordered,
            services.resolve_lots(
                [n for n, _p in ordered], user=user, products=[keys[k] for k in ordered]
            ),
            strict=True,
        )
    )
    out: dict[int, Lot] = {}
    for r, key in wanted:
        lot = found[key]
        if isinstance(lot, UdiError):
            r.error(number_column, lot.lazy_text)
        else:
            out[r.number] = lot
    return out


@register
class UnitImporter(Importer):
    kind = "units"
    label = gettext_lazy("Units (serial numbers)")
    description = gettext_lazy(
        "Serialised units of a product and lot. Dates and the production record are "
        "taken from the lot when empty. A full UDI may be given instead of or besides the "
        "product: its check digit, serial, lot and dates must agree with the row."
    )
    permission = "trace.add_unit"
    model = Unit
    order = 50
    batch_size = 5000
    columns = [
        product_column(required=False),
        Column(
            "serial",
            "Serial number",
            "出厂编号",
            required=True,
            max_length=40,
            aliases=("序列号", "SN", "serial", "产品序列号"),
        ),
        Column("lot_number", "Lot number", "批号", max_length=40),
        Column("production_date", "Production date", "生产日期", type="date"),
        Column(
            "expiry_date",
            "Expiry date",
            "失效日期",
            type="date",
            aliases=("有效期至",),
        ),
        Column(
            "production_record",
            "Production record",
            "生产记录编号",
            max_length=200,
        ),
        Column(
            "udi",
            "UDI",
            "UDI",
            max_length=200,
            aliases=("完整UDI", "UDI码", "医疗器械唯一标识"),
            help=gettext_lazy("optional GS1 element string or (01)…(21)… text"),
        ),
    ]

    def prepare(self, rows: list[Row]) -> None:
        self.parsed: dict[int, Any] = {}
        gtins: set[str] = set()
        for row in rows:
            text = row.values.get("udi")
            if not text or not row.ok:
                continue
            try:
                udi = parse_udi(text)
            except UdiError as exc:
                row.error("udi", exc.lazy_text)
                continue
            self.parsed[row.number] = udi
            gtins.add(udi.gtin)
        by_gtin: dict[str, Product] = {}
        if gtins:
            products = scope_for_user(self.user, Product) if self.user else Product.objects
            by_gtin = {p.gtin: p for p in products.filter(gtin__in=gtins) if p.gtin}
        for row in rows:
            if not row.ok:
                continue
            parsed = self.parsed.get(row.number)
            product = row.values.get("product")
            if parsed is not None:
                from_udi = by_gtin.get(parsed.gtin)
                if from_udi is None:
                    row.error(
                        "udi",
                        _("No product with UDI-DI %(gtin)s in the catalogue.")
                        % {"gtin": parsed.gtin},
                    )
                    continue
                if product is not None and product.pk != from_udi.pk:
                    row.error(
                        "udi",
                        _("The UDI-DI %(gtin)s is not the product's (%(product)s).")
                        % {"gtin": parsed.gtin, "product": product.code},
                    )
                    continue
                row.values["product"] = product = from_udi
                if not row.values.get("lot_number") and parsed.lot:
                    row.values["lot_number"] = parsed.lot
            if product is None:
                row.error("product", _("Give the product or the unit's full UDI."))
        ok = [r for r in rows if r.ok]
        self.lots = _resolve_lots(ok, self.user)
        self.existing = services.recorded_serials(
            (r.values["product"].pk, r.values["serial"]) for r in ok
        )
        self.seen = _Duplicates()
        self.build = services.UnitBuilder()
        # Units already recorded in each lot with a quantity produced, and those the file adds.
        self.recorded = services.recorded_units(lot.pk for lot in self.lots.values())
        self.in_file: dict[int, int] = defaultdict(int)

    def validate_row(self, row: Row) -> Any:
        product: Product = row.values["product"]
        serial: str = row.values["serial"]
        lot = self.lots.get(row.number)
        if (product.pk, serial) in self.existing:
            row.error("serial", services.serial_recorded_message(serial, product))
        self.seen.check(row, (product.pk, serial), "serial")
        if lot is not None and lot.pk in self.recorded:
            self.in_file[lot.pk] += 1
            problem = services.over_quantity(
                lot, recorded=self.recorded[lot.pk][1], adding=self.in_file[lot.pk]
            )
            if problem:
                row.error("lot_number", problem)
        production_date = row.values.get("production_date")
        expiry_date = row.values.get("expiry_date")
        udi = self.parsed.get(row.number)
        if udi is not None:
            for label_problem in label_problems(
                udi,
                product=product,
                lot=lot,
                serial=serial,
                production_date=production_date,
                expiry_date=expiry_date,
            ):
                row.error("udi", label_problem.lazy_text)
            expiry_date = expiry_date or udi.expiry
            production_date = production_date or udi.production_date
        if not row.ok:
            return None
        try:
            return self.build(
                product=product,
                lot=lot,
                serial=serial,
                production_date=production_date,
                expiry_date=expiry_date,
                production_record=row.values.get("production_record") or "",
            )
        except ValidationError as exc:
            _field_errors(row, exc, {"lot": "lot_number"})
            return None

    def save_rows(self, items: list[Any], progress: Callable[[int], None]) -> int:
        done = 0
        for chunk in chunked(items, self.batch_size):
            services.create_units(chunk, by=self.user)
            done += len(chunk)
            progress(done)
        return done

    def recheck(self, items: list[Any]) -> list[RowError]:
        """Units another user or import recorded meanwhile may have filled a lot up."""
        adding: dict[int, int] = defaultdict(int)
        numbers: dict[int, str] = {}
        for unit in flatten(items):
            if unit.lot_id is not None:
                adding[unit.lot_id] += 1
                numbers[unit.lot_id] = unit.lot.lot_number
        problems = services.lot_quantity_problems(adding, lock=True)
        return [RowError(None, "", numbers[pk], str(msg)) for pk, msg in problems.items()]


# --- shared: units named by serial or UDI ----------------------------------------------------


def resolve_units(
    rows: list[Row], user: Any, column: str = "serial", product_column_name: str = "product"
) -> dict[int, Unit]:
    """The unit of each row (by row number), from a serial or a GS1 UDI, narrowed by the
    product column when given: services.resolve_units, once for the whole file. A unit named
    on several rows is the same object, so callers can follow its state through the file.
    Errors go on the rows."""
    named = [r for r in rows if r.ok and r.values.get(column)]
    found = services.resolve_units(
        [r.values[column] for r in named],
        user=user,
        products=[r.values.get(product_column_name) for r in named],
    )
    out: dict[int, Unit] = {}
    for row, unit in zip(named, found, strict=True):
        if isinstance(unit, UdiError):
            row.error(column, unit.lazy_text)
        else:
            out[row.number] = unit
    return out


def _versions_changed(units: Iterable[Unit], versions: dict[int, int]) -> set[int]:
    """Lock the units (in id order) and return the ids whose version moved since checking."""
    ids = sorted({u.pk for u in units})
    changed: set[int] = set()
    for chunk in chunked(ids, CHUNK):
        for pk, version in (
            Unit.objects.select_for_update().filter(pk__in=chunk).order_by("pk")
        ).values_list("pk", "version"):
            if versions.get(pk) != version:
                changed.add(pk)
    return changed


# --- sales (TRC-4) -------------------------------------------------------------------------

SALE_COLUMNS = ("sale_date", "seller", "buyer")
# check_sale's line fields → this file's columns
LINE_COLUMNS = {"unit": "serial", "lot": "lot_number", "quantity": "quantity", "buyer": "buyer"}


@dataclass
class _SaleDraft:
    key: Any
    first_row: Row
    seller: Customer | None
    buyer: Customer
    sale_date: dt.date
    reference: str
    handler_name: str
    notes: str
    lines: list[tuple[Row, services.LineInput]] = field(default_factory=list)


@register
class SaleImporter(Importer):
    kind = "sales"
    label = gettext_lazy("Sales (one row per line)")
    description = gettext_lazy(
        "Sales records (TRC-4): one row per unit, or per lot and quantity. Rows with the same "
        "document number (or, without one, the same date, seller and buyer) form one sale. "
        "Leave the seller empty for our own sales; a dealer's onward sale names the dealer. "
        "Every buyer's licence is checked on the sale date (TRC-2), and a unit cannot be sold "
        "twice by the same seller. Sales are applied in date order, so a file may hold both "
        "levels of distribution."
    )
    permission = "trace.add_sale"
    model = Sale
    order = 60
    columns = [
        Column(
            "reference",
            "Document number",
            "单据号",
            max_length=100,
            aliases=("销售单号", "出库单号", "发票号", "随货同行单号", "reference", "invoice"),
        ),
        Column("sale_date", "Sale date", "销售日期", type="date", required=True),
        customer_column(
            "seller",
            "Seller",
            "销售方",
            required=False,
            aliases=("销售单位", "供货单位", "供货方"),
            help=gettext_lazy("empty: sold by us; else the dealer who sells on"),
        ),
        customer_column(
            "buyer",
            "Buyer",
            "购买方",
            required=True,
            aliases=("购货单位", "购买单位", "客户", "客户名称"),
        ),
        product_column(required=False),
        Column(
            "serial",
            "Serial number or UDI",
            "出厂编号",
            max_length=200,
            aliases=("序列号", "SN", "UDI", "serial", "serial number"),
        ),
        Column("lot_number", "Lot number", "批号", max_length=40),
        Column("quantity", "Quantity", "数量", type="int", min_value=1),
        Column("handler", "Handler", "经办人", max_length=100),
        Column("notes", "Notes", "备注"),
    ]

    def prepare(self, rows: list[Row]) -> None:
        ok_rows = [r for r in rows if r.ok]
        self.units = resolve_units(ok_rows, self.user)
        self.versions = {u.pk: u.version for u in self.units.values()}
        self._resolve_lots(ok_rows)
        customers = [
            c for r in ok_rows for c in (r.values.get("buyer"), r.values.get("seller")) if c
        ]
        prefetch_related_objects(list({id(c): c for c in customers}.values()), "licences")
        self._group([r for r in ok_rows if r.ok])
        self._check()
        self.has_errors = any(not r.ok for r in rows)

    def _resolve_lots(self, rows: list[Row]) -> None:
        """Lot lines: the lot by lot number (narrowed by the product), and a quantity."""
        need = [r for r in rows if not r.values.get("serial") and r.ok]
        for r in need:
            if not r.values.get("lot_number"):
                r.error("serial", _("Give a serial number (or UDI), or a lot number."))
        self.lot_of = _resolve_lots(need, self.user)
        for r in need:
            if r.number in self.lot_of and r.values.get("quantity") is None:
                r.error("quantity", _("Give the quantity of the lot line."))
                del self.lot_of[r.number]

    @staticmethod
    def _key(row: Row) -> Any:
        ref = row.values.get("reference") or ""
        if ref:
            return ("ref", ref)
        seller = row.values.get("seller")
        return (
            "auto",
            row.values["sale_date"],
            seller.pk if seller else None,
            row.values["buyer"].pk,
        )

    def _group(self, rows: list[Row]) -> None:
        """One draft sale per document number (or date + seller + buyer), in date order."""
        drafts: dict[Any, _SaleDraft] = {}
        self.rows_of: dict[Any, list[Row]] = defaultdict(list)
        for r in rows:
            seller = r.values.get("seller")
            buyer = r.values["buyer"]
            key = self._key(r)
            draft = drafts.get(key)
            if draft is None:
                draft = drafts[key] = _SaleDraft(
                    key=key,
                    first_row=r,
                    seller=seller,
                    buyer=buyer,
                    sale_date=r.values["sale_date"],
                    reference=r.values.get("reference") or "",
                    handler_name=r.values.get("handler") or "",
                    notes=r.values.get("notes") or "",
                )
            elif not (
                draft.sale_date == r.values["sale_date"]
                and (draft.seller.pk if draft.seller else None) == (seller.pk if seller else None)
                and draft.buyer.pk == buyer.pk
            ):
                r.error(
                    "reference",
                    _(
                        "Document %(ref)s has another date, seller or buyer on row %(row)s; "
                        "one document is one sale."
                    )
                    % {"ref": draft.reference, "row": draft.first_row.number},
                )
                continue
            self.rows_of[key].append(r)
        self.drafts = sorted(drafts.values(), key=lambda d: (d.sale_date, d.first_row.number))

    def _lines(self, rows: list[Row]) -> list[tuple[Row, services.LineInput]]:
        """The sale lines of a document's rows; what only a file can get wrong (a serial with
        another lot number or a quantity) is an error here, every rule is check_sale's."""
        out: list[tuple[Row, services.LineInput]] = []
        for row in rows:
            if not row.ok:
                continue
            unit = self.units.get(row.number)
            lot = self.lot_of.get(row.number)
            if unit is not None:
                lot_number = row.values.get("lot_number")
                if lot_number and (unit.lot is None or unit.lot.lot_number != lot_number):
                    row.error(
                        "lot_number",
                        _("Unit %(serial)s is not in lot %(lot)s.")
                        % {"serial": unit.serial, "lot": lot_number},
                    )
                elif (row.values.get("quantity") or 1) != 1:
                    row.error("quantity", _("A line with a serial number has quantity 1."))
                else:
                    out.append((row, services.LineInput(unit=unit)))
            elif lot is not None:
                out.append((row, services.LineInput(lot=lot, quantity=row.values["quantity"])))
        return out

    def _check(self) -> None:
        """check_sale on every sale in date order, with one SaleLedger for the file: each
        checked sale is applied to it, so a later sale (a dealer's onward sale) sees the
        earlier ones."""
        ledger = services.SaleLedger()
        self.line_of: dict[int, tuple[_SaleDraft, services.LineInput, int]] = {}
        for draft in self.drafts:
            rows = self.rows_of[draft.key]
            lines = self._lines(rows)
            if not lines:
                continue
            check = services.check_sale(
                seller=draft.seller,
                buyer=draft.buyer,
                sale_date=draft.sale_date,
                lines=[line for _row, line in lines],
                ledger=ledger,
            )
            for name, messages in check.errors.items():
                for message in messages:
                    draft.first_row.error(name if name in SALE_COLUMNS else None, message)
            for (row, _line), errs in zip(lines, check.line_errors, strict=True):
                for name, message in errs:
                    row.error(LINE_COLUMNS.get(name, name), message)
            if not draft.first_row.ok or any(not r.ok for r in rows):
                continue
            ledger.apply(draft.seller, draft.buyer, check.prepared)
            draft.lines = [
                (row, line) for (row, _in), line in zip(lines, check.prepared, strict=True)
            ]
            for row, line in draft.lines:
                self.line_of[row.number] = (draft, line, row.number)

    def validate_row(self, row: Row) -> Any:
        item = self.line_of.get(row.number)
        if item is None and not self.has_errors:  # never drop a line silently
            row.error(None, _("This line could not be checked; see the other errors."))
        return item

    def recheck(self, items: list[Any]) -> list[RowError]:
        units = [line.unit for _d, line, _n in items if line.unit is not None]
        changed = _versions_changed(units, self.versions)
        return [
            RowError(
                number,
                "",
                line.unit.serial,
                _("Unit %(serial)s was changed by someone else meanwhile; upload the file again.")
                % {"serial": line.unit.serial},
            )
            for _d, line, number in items
            if line.unit is not None and line.unit.pk in changed
        ]

    def save_rows(self, items: list[Any], progress: Callable[[int], None]) -> int:
        saving = {id(d) for d, _line, _n in items}
        drafts = [d for d in self.drafts if id(d) in saving]  # in date order
        sales = services.record_sales(
            [
                services.SaleDraft(
                    seller=d.seller,
                    buyer=d.buyer,
                    sale_date=d.sale_date,
                    lines=[line for _row, line in d.lines],
                    handler_name=d.handler_name,
                    reference=d.reference,
                    notes=d.notes,
                )
                for d in drafts
            ],
            by=self.user,
        )
        return len(sales) + len(items)


# --- installed base (TRC-5) ----------------------------------------------------------------


@register
class InstallationImporter(Importer):
    kind = "installations"
    label = gettext_lazy("Installations")
    description = gettext_lazy(
        "Where sold units are installed (TRC-5): the unit must be held by the end-user "
        "customer (sold to it); the acceptance date starts the warranty."
    )
    permission = "trace.add_installation"
    model = Installation
    order = 70
    columns = [
        Column(
            "serial",
            "Serial number or UDI",
            "出厂编号",
            required=True,
            max_length=200,
            aliases=("序列号", "SN", "UDI", "serial", "serial number"),
        ),
        product_column(required=False),
        customer_column(
            "customer",
            "End-user hospital",
            "使用单位",
            required=True,
            aliases=("终端用户", "医院", "客户", "end user"),
        ),
        Column("department", "Department", "科室", max_length=100),
        Column("address", "Installation address", "安装地址", max_length=300),
        Column("contact_person", "Contact person", "联系人", max_length=100),
        Column("contact_phone", "Contact phone", "联系电话", max_length=60),
        Column("installed_on", "Installed on", "安装日期", type="date", required=True),
        Column("accepted_on", "Accepted on", "验收日期", type="date"),
        Column(
            "installed_by",
            "Installed by (user name)",
            "安装人(用户名)",
            type="lookup",
            lookup=USER_LOOKUP,
            max_length=150,
        ),
        Column("notes", "Notes", "备注"),
    ]

    def prepare(self, rows: list[Row]) -> None:
        self.units = resolve_units([r for r in rows if r.ok], self.user)
        self.versions = {u.pk: u.version for u in self.units.values()}
        self.seen = _Duplicates()

    def validate_row(self, row: Row) -> Any:
        unit = self.units.get(row.number)
        if unit is None:
            return None
        self.seen.check(row, unit.pk, "serial")
        values = row.values
        if not row.ok or not _contacts_allowed(row, self.user, Installation, values):
            return None
        try:
            return services.build_installation(
                unit,
                customer=values["customer"],
                installed_on=values["installed_on"],
                by=self.user,
                installed_by=values.get("installed_by"),
                department=values.get("department") or "",
                address=values.get("address") or "",
                contact_person=values.get("contact_person") or "",
                contact_phone=values.get("contact_phone") or "",
                accepted_on=values.get("accepted_on"),
                notes=values.get("notes") or "",
            )
        except ValidationError as exc:
            _field_errors(row, exc, {"unit": "serial"})
            return None

    def recheck(self, items: list[Any]) -> list[RowError]:
        changed = _versions_changed([i.unit for i in items], self.versions)
        return [
            RowError(
                None,
                "",
                i.unit.serial,
                _("Unit %(serial)s was changed by someone else meanwhile; upload the file again.")
                % {"serial": i.unit.serial},
            )
            for i in items
            if i.unit.pk in changed
        ]

    def save_rows(self, items: list[Any], progress: Callable[[int], None]) -> int:
        return len(services.save_installations(items, by=self.user))


__all__ = [
    "CustomerImporter",
    "InstallationImporter",
    "LicenceImporter",
    "LotImporter",
    "ProductImporter",
    "SaleImporter",
    "UnitImporter",
    "resolve_units",
]
