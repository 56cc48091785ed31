"""The product importer (TRC-1)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from medvigil.core.imports import (
    Column,
    Importer,
    Row,
    register,
)

from .. import services
from ..models import (
    Product,
    RiskClass,
    Tracking,
)
from .common import _Duplicates, _field_errors, _present

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
