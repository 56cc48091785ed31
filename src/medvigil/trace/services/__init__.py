"""Every state change of the traceability records (ARCHITECTURE rule 1).

Each change is one function: it validates, locks the rows it changes (select_for_update),
changes them, and relies on AuditedModel for the audit trail. Validation is exposed apart from
saving (`build_*`, `check_*`, `validate_*`) so that the bulk import can validate every row
first and then save the whole file in one transaction with the same functions.

This module is the one place of every traceability rule. Forms, API endpoints and importers
call these public functions (bulk variants where an importer needs set-based checks:
`resolve_units`, `resolve_lots`, `recorded_serials`, `UnitBuilder`, `check_sale` with a
`SaleLedger`, `build_installation`, `record_sales`, `save_installations`); none of them
repeats a check or writes records on its own.

Errors are django ValidationError with user-facing messages (field errors where there is a
field), never a crash.

The package, by aggregate (every public name is importable from ``medvigil.trace.services``):

* ``common``: the actor's audit context, building and updating with the version check;
* ``contacts``: the contact-data write guard (PLAT-11);
* ``master``: products (TRC-1), customers and licences, the licence check (TRC-2);
* ``units``: lots and units, lot quantities, serials already recorded (TRC-3);
* ``resolve``: units and lots from scans and typed numbers (TRC-3, TRC-4);
* ``sales``: sale-line checks, the ledger, recording and voiding sales (TRC-4);
* ``installations``: the installed base (TRC-5);
* ``returns``: returns and their disposition (TRC-6);
* ``tracing``: the forward-trace criteria (TRC-7); the queries themselves are in
  ``trace/queries.py``;
* ``drills``: traceability drills (TRC-8).
"""

from __future__ import annotations

# The services raise django's ValidationError; importable from here as before the split.
from django.core.exceptions import ValidationError

from .contacts import (
    CONTACT_REFUSED,
    ContactDataRefused,
    check_contact_write,
    contact_fields_written,
    may_write_contacts,
)
from .drills import (
    complete_drill,
    run_drill,
    start_drill,
)
from .installations import (
    INSTALLABLE,
    accept_installation,
    build_installation,
    check_installation,
    install_unit,
    save_installations,
    warranty_end_for,
)
from .master import (
    add_licence,
    build_customer,
    build_licence,
    build_product,
    check_customer_may_buy,
    create_customer,
    create_product,
    licence_problems,
    update_customer,
    update_licence,
    update_product,
    withdraw_licence,
)
from .resolve import (
    lots_for,
    resolve_lot,
    resolve_lots,
    resolve_unit,
    resolve_units,
    units_for,
)
from .returns import (
    record_return,
    set_return_disposition,
)
from .sales import (
    LineInput,
    SaleCheck,
    SaleDraft,
    SaleLedger,
    check_sale,
    create_sale,
    lot_available,
    record_sales,
    sale_header_problems,
    unit_sale_problem,
    validate_sale,
    void_sale,
)
from .tracing import (
    TRACE_RANGE_WITHOUT_PRODUCT,
    validate_trace_criteria,
)
from .units import (
    UnitBuilder,
    add_units,
    build_lot,
    build_unit,
    check_serials_not_recorded,
    compose_udi_pi,
    create_lot,
    create_unit,
    create_units,
    lot_quantity_problems,
    over_quantity,
    recorded_serials,
    recorded_units,
    serial_recorded_message,
    update_lot,
)

__all__ = [
    "ValidationError",
    "CONTACT_REFUSED",
    "ContactDataRefused",
    "INSTALLABLE",
    "LineInput",
    "SaleCheck",
    "SaleDraft",
    "SaleLedger",
    "TRACE_RANGE_WITHOUT_PRODUCT",
    "UnitBuilder",
    "accept_installation",
    "add_licence",
    "add_units",
    "build_customer",
    "build_installation",
    "build_licence",
    "build_lot",
    "build_product",
    "build_unit",
    "check_contact_write",
    "check_customer_may_buy",
    "check_installation",
    "check_sale",
    "check_serials_not_recorded",
    "complete_drill",
    "compose_udi_pi",
    "contact_fields_written",
    "create_customer",
    "create_lot",
    "create_product",
    "create_sale",
    "create_unit",
    "create_units",
    "install_unit",
    "licence_problems",
    "lot_available",
    "lot_quantity_problems",
    "lots_for",
    "may_write_contacts",
    "over_quantity",
    "record_return",
    "record_sales",
    "recorded_serials",
    "recorded_units",
    "resolve_lot",
    "resolve_lots",
    "resolve_unit",
    "resolve_units",
    "run_drill",
    "sale_header_problems",
    "save_installations",
    "serial_recorded_message",
    "set_return_disposition",
    "start_drill",
    "unit_sale_problem",
    "units_for",
    "update_customer",
    "update_licence",
    "update_lot",
    "update_product",
    "validate_sale",
    "validate_trace_criteria",
    "void_sale",
    "warranty_end_for",
    "withdraw_licence",
]
