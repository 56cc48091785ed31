"""The sale importer (TRC-4): one row per sale line, rows grouped into sales, checked with
one ``SaleLedger`` for the whole file."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import prefetch_related_objects
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
    Customer,
    Sale,
)
from .common import _versions_changed, customer_column, product_column, resolve_units
from .units import _resolve_lots

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
