"""The spare-parts importer (PLAT-10 × SVC-10): the parts list, with the products each part
fits (product codes, GTINs or models separated by ";", "," or "、"). Rows are checked with
services.build_part (the same validation as the form and the API) and saved with
services.create_part; products are looked up once per file, among the products the
importing user may see (trace's PRODUCT_LOOKUP). All or nothing (core.imports)."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from medvigil.core.i18n import gettext_msg as _
from medvigil.core.imports import AMBIGUOUS, Column, Importer, Row, register
from medvigil.trace.imports import PRODUCT_LOOKUP
from medvigil.trace.imports.common import _Duplicates, _field_errors, _present

from . import services
from .models import Part, RateSource, SafetyMethod

SEPARATORS = re.compile(r"[;,，；、\n]+")

RATE_ALIASES = {
    "设定": RateSource.SETTING,
    "故障率": RateSource.SETTING,
    "历史": RateSource.HISTORY,
    "近12个月": RateSource.HISTORY,
    "较高": RateSource.HIGHER,
    "取高": RateSource.HIGHER,
}
SAFETY_ALIASES = {
    "服务水平": SafetyMethod.SERVICE_LEVEL,
    "覆盖天数": SafetyMethod.COVER_DAYS,
    "天数": SafetyMethod.COVER_DAYS,
}


def split_products(text: Any) -> list[str]:
    return [p.strip() for p in SEPARATORS.split(str(text or "")) if p.strip()]


@register
class PartImporter(Importer):
    kind = "spare_parts"
    label = gettext_lazy("Spare parts")
    description = gettext_lazy(
        "The spare parts list (SVC-10): code, names, the products each part fits (product "
        "codes, GTINs or models separated by ';'), cost, lead time and the safety-stock "
        "settings. A part code that exists already is refused."
    )
    permission = "parts.add_part"
    model = Part
    order = 60
    columns = [
        Column(
            "code",
            "Part code",
            "备件编码",
            required=True,
            max_length=40,
            aliases=("备件号", "料号"),
        ),
        Column("name", "Part name", "备件名称", required=True, max_length=200, aliases=("名称",)),
        Column("name_en", "English name", "英文名称", max_length=200),
        Column(
            "products",
            "Products it fits",
            "适用产品",
            max_length=4000,
            aliases=("适用机型", "products", "产品"),
            help=gettext_lazy("product codes, GTINs or models separated by ;"),
        ),
        Column("unit_cost", "Unit cost", "单价", type="decimal", max_digits=12, decimal_places=2),
        Column(
            "lead_time_days",
            "Lead time (days)",
            "采购周期(天)",
            type="int",
            min_value=0,
            aliases=("交货期(天)", "提前期(天)"),
        ),
        Column(
            "failure_rate",
            "Annual failure rate",
            "年故障率",
            type="decimal",
            max_digits=8,
            decimal_places=4,
            help=gettext_lazy("parts per installed unit per year, e.g. 0.05"),
        ),
        Column(
            "rate_source",
            "Demand from",
            "需求来源",
            type="choice",
            choices=RateSource.choices,
            choice_aliases=RATE_ALIASES,
        ),
        Column(
            "safety_method",
            "Safety stock method",
            "安全库存方法",
            type="choice",
            choices=SafetyMethod.choices,
            choice_aliases=SAFETY_ALIASES,
        ),
        Column(
            "service_level",
            "Service level (%)",
            "服务水平(%)",
            type="decimal",
            max_digits=5,
            decimal_places=2,
        ),
        Column("cover_days", "Cover days", "覆盖天数", type="int", min_value=0),
        Column("min_stock", "Minimum safety stock", "最低安全库存", type="int", min_value=0),
        Column("order_cycle_days", "Order cycle (days)", "补货周期(天)", type="int", min_value=1),
        Column(
            "order_multiple",
            "Order multiple",
            "订货倍数",
            type="int",
            min_value=1,
            aliases=("包装数量",),
        ),
        Column("notes", "Notes", "备注"),
    ]

    def prepare(self, rows: list[Row]) -> None:
        self.codes = _Duplicates()
        names = {name for row in rows for name in split_products(row.values.get("products"))}
        self.products = PRODUCT_LOOKUP.resolve(names, self.user)

    def validate_row(self, row: Row) -> Any:
        products = []
        for name in split_products(row.values.get("products")):
            found = self.products.get(name)
            if found is None:
                row.error("products", _("No product %(name)s in the catalogue.") % {"name": name})
            elif found is AMBIGUOUS:
                row.error(
                    "products",
                    _("%(name)s names several products: use the product code.") % {"name": name},
                )
            elif found not in products:
                products.append(found)
        fields = _present(row, (c.name for c in self.columns if c.name != "products"))
        try:
            part = services.build_part(**fields)
        except ValidationError as exc:
            _field_errors(row, exc, {})
            return None
        self.codes.check(row, part.code, "code")
        return (fields, products) if row.ok else None

    def save_rows(self, items: list[Any], progress: Any) -> int:
        done = 0
        for item in items:
            if item is None:
                continue
            fields, products = item
            services.create_part(by=self.user, products=products, **fields)
            done += 1
            progress(done)
        return done
