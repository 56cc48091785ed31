"""What the traceability importers share: the natural-key lookups (product, customer,
user), the product and customer columns, row-error helpers, the contact-data guard of a
row, duplicate detection in a file, and units named by serial or UDI."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from medvigil.core.i18n import gettext_msg as _
from medvigil.core.i18n import validation_messages
from medvigil.core.imports import (
    Column,
    Lookup,
    Row,
    chunked,
)

from .. import services
from ..models import (
    Customer,
    Product,
    Unit,
    normalize_gtin,
)
from ..udi import UdiError

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
