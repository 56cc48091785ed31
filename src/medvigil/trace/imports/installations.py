"""The installation importer (TRC-5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from medvigil.core.i18n import gettext_msg as _
from medvigil.core.imports import (
    Column,
    Importer,
    Row,
    RowError,
    register,
)

from .. import services
from ..models import (
    Installation,
)
from .common import (
    USER_LOOKUP,
    _contacts_allowed,
    _Duplicates,
    _field_errors,
    _versions_changed,
    customer_column,
    product_column,
    resolve_units,
)

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
