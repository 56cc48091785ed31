"""The lot and unit importers (TRC-3)."""

from __future__ import annotations

from collections import defaultdict
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
    chunked,
    flatten,
    register,
)
from medvigil.core.permissions import scope_for_user

from .. import services
from ..models import (
    Lot,
    Product,
    Unit,
)
from ..udi import UdiError, label_problems, parse_udi
from .common import _Duplicates, _field_errors, _present, product_column

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
    # look-ups (Model.__hash__), twice per row (#7: a 20,000-unit import, CPU under cProfile,
    # 13.6 -> 12.2 s).
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
        values = row.values
        product: Product = values["product"]
        serial: str = values["serial"]
        lot = self.lots.get(row.number)
        key = (product.pk, serial)
        if key in self.existing:
            row.error("serial", services.serial_recorded_message(serial, product))
        self.seen.check(row, key, "serial")
        lot_pk = lot.pk if lot is not None else None
        if lot_pk in self.recorded:
            assert lot is not None
            adding = self.in_file[lot_pk] = self.in_file[lot_pk] + 1
            problem = services.over_quantity(lot, recorded=self.recorded[lot_pk][1], adding=adding)
            if problem:
                row.error("lot_number", problem)
        production_date = values.get("production_date")
        expiry_date = values.get("expiry_date")
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
                production_record=values.get("production_record") or "",
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
