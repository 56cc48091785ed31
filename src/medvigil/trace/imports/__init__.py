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

The package, one module per aggregate (importing the package registers every importer):
``common`` (lookups, shared columns and row helpers), ``products``, ``customers`` (customers
and licences), ``units`` (lots and units), ``sales``, ``installations``.
"""

from __future__ import annotations

from .common import (
    CHUNK,
    CUSTOMER_LOOKUP,
    PRODUCT_LOOKUP,
    USER_LOOKUP,
    customer_column,
    product_column,
    resolve_units,
)
from .customers import (
    CUSTOMER_KIND_ALIASES,
    LICENCE_KIND_ALIASES,
    CustomerImporter,
    LicenceImporter,
)
from .installations import (
    InstallationImporter,
)
from .products import (
    RISK_ALIASES,
    TRACKING_ALIASES,
    ProductImporter,
)
from .sales import (
    LINE_COLUMNS,
    SALE_COLUMNS,
    SaleImporter,
)
from .units import (
    LotImporter,
    UnitImporter,
)

__all__ = [
    "CHUNK",
    "CUSTOMER_KIND_ALIASES",
    "CUSTOMER_LOOKUP",
    "CustomerImporter",
    "InstallationImporter",
    "LICENCE_KIND_ALIASES",
    "LINE_COLUMNS",
    "LicenceImporter",
    "LotImporter",
    "PRODUCT_LOOKUP",
    "ProductImporter",
    "RISK_ALIASES",
    "SALE_COLUMNS",
    "SaleImporter",
    "TRACKING_ALIASES",
    "USER_LOOKUP",
    "UnitImporter",
    "customer_column",
    "product_column",
    "resolve_units",
]
