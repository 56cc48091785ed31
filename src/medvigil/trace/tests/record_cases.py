"""Trace records registered with the record test kit (core/tests/record_kit.py):
core/tests/test_record_kit.py runs the shared access (PLAT-1), audit (PLAT-2), version-conflict
and list query-count tests on each of them."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from medvigil.core.tests.record_kit import ApiWrite, RecordCase
from medvigil.trace import services
from medvigil.trace.models import (
    Customer,
    CustomerKind,
    LicenceKind,
    Lot,
    Product,
    ReturnRecord,
    RiskClass,
    Sale,
    TraceDrill,
    Unit,
)

from .conftest import make_gtin

# Codes far from the ones of the trace tests' world (P-1, D-1, ...): the kit's rows are unique.
_n = itertools.count(700)


def make_product(user: Any) -> Product:
    n = next(_n)
    return services.create_product(
        by=user,
        code=f"KP-{n}",
        name=f"Kit pump {n}",
        model_spec="KIT-1",
        manufacturer="Kit Medical",
        risk_class=RiskClass.II,
        gtin=make_gtin(n),
        warranty_months=12,
    )


def make_customer(user: Any, kind: str = CustomerKind.HOSPITAL) -> Customer:
    n = next(_n)
    customer = services.create_customer(
        by=user, code=f"KC-{n}", name=f"Kit customer {n}", kind=kind, owner=user
    )
    licences = (
        (LicenceKind.BUSINESS, LicenceKind.OPERATING)
        if kind == CustomerKind.DEALER
        else (LicenceKind.PRACTICE,)
    )
    for licence in licences:
        services.add_licence(
            by=user,
            customer=customer,
            kind=licence,
            number=f"KC-{n}-{licence}",
            issuer="Kit authority",
            issued_on=dt.date(2020, 1, 1),
            expires_on=dt.date(2099, 12, 31),
        )
    return customer


def make_lot(user: Any) -> Lot:
    n = next(_n)
    return services.create_lot(
        by=user,
        product=make_product(user),
        lot_number=f"KL-{n}",
        production_date=dt.date(2025, 6, 1),
        quantity=5,
    )


def make_unit(user: Any) -> Unit:
    lot = make_lot(user)
    [unit] = services.create_units(
        [services.build_unit(product=lot.product, lot=lot, serial=f"KU-{next(_n)}")], by=user
    )
    return unit


def make_sale(user: Any) -> Sale:
    unit = make_unit(user)
    return services.create_sale(
        seller=None,
        buyer=make_customer(user, CustomerKind.DEALER),
        sale_date=dt.date(2026, 1, 10),
        lines=[services.LineInput(unit=unit)],
        by=user,
    )


def make_return(user: Any) -> ReturnRecord:
    sale = make_sale(user)
    return services.record_return(
        returned_by=sale.buyer,
        unit=sale.lines.get().unit,
        return_date=dt.date(2026, 2, 1),
        reason="Kit return",
        by=user,
    )


def make_drill(user: Any) -> TraceDrill:
    return services.start_drill(make_lot(user), by=user)


def _product_payload(_obj: Any) -> dict[str, Any]:
    n = next(_n)
    return {
        "code": f"KA-{n}",
        "name": f"Kit API pump {n}",
        "model_spec": "KIT-2",
        "manufacturer": "Kit Medical",
        "risk_class": "II",
    }


def _customer_payload(_obj: Any) -> dict[str, Any]:
    n = next(_n)
    return {"code": f"KAC-{n}", "name": f"Kit API customer {n}", "kind": "hospital"}


def _edited(field: str) -> Any:
    return lambda obj: {field: f"{getattr(obj, field)} (kit edit)"}


API = "/api/v1/trace"

CASES = [
    RecordCase(
        id="trace.product",
        model=Product,
        make=make_product,
        owner_role="quality",
        other_role="finance",
        list_url="trace:product_list",
        detail_url="trace:product_detail",
        edit_url="trace:product_edit",
        edit_changes=_edited("name"),
        api_list=f"{API}/products",
        api_write=ApiWrite("post", lambda o: f"{API}/products", _product_payload, ok=201),
        reqs=("TRC-1",),
    ),
    RecordCase(
        id="trace.customer",
        model=Customer,
        make=make_customer,
        owner_role="quality",
        other_role="finance",
        list_url="trace:customer_list",
        detail_url="trace:customer_detail",
        edit_url="trace:customer_edit",
        edit_changes=_edited("name"),
        api_list=f"{API}/customers",
        api_write=ApiWrite("post", lambda o: f"{API}/customers", _customer_payload, ok=201),
        reqs=("TRC-2",),
    ),
    RecordCase(
        id="trace.lot",
        model=Lot,
        make=make_lot,
        owner_role="quality",
        other_role="finance",
        list_url="trace:lot_list",
        detail_url="trace:lot_detail",
        edit_url="trace:lot_edit",
        edit_changes=_edited("production_record"),
        reqs=("TRC-3",),
    ),
    RecordCase(
        id="trace.unit",
        model=Unit,
        make=make_unit,
        owner_role="quality",
        other_role="finance",
        list_url="trace:unit_list",
        detail_url="trace:unit_detail",
        api_detail=lambda o: f"{API}/units/{o.pk}",
        reqs=("TRC-3",),
    ),
    RecordCase(
        id="trace.sale",
        model=Sale,
        make=make_sale,
        owner_role="logistics",
        other_role="finance",
        list_url="trace:sale_list",
        detail_url="trace:sale_detail",
        api_detail=lambda o: f"{API}/sales/{o.pk}",
        reqs=("TRC-4",),
    ),
    RecordCase(
        id="trace.return",
        model=ReturnRecord,
        make=make_return,
        owner_role="logistics",
        other_role="finance",
        list_url="trace:return_list",
        detail_url="trace:return_detail",
        reqs=("TRC-6",),
    ),
    RecordCase(
        id="trace.drill",
        model=TraceDrill,
        make=make_drill,
        owner_role="quality",
        other_role="finance",
        list_url="trace:drill_list",
        detail_url="trace:drill_detail",
        reqs=("TRC-8",),
    ),
]
