"""The customer and licence importers (TRC-2)."""

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
    Customer,
    CustomerKind,
    Licence,
    LicenceKind,
)
from .common import _contacts_allowed, _Duplicates, _field_errors, _present, customer_column

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
