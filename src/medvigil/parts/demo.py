"""Demo spare parts (loaded by `medvigil demo` after trace's demo): ten parts of the demo
products, the central warehouse and two engineers' vans, receipts, transfers to the vans,
parts issued to work orders, a stock count, a scrap and a reversal — and three parts left at
or below their reorder point (on the stock keeper's "My work" and the reorder list).
Deterministic and idempotent (skipped when the demo parts exist)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .models import LocationKind, MovementKind, Part

PREFIX = "DEMO-"

# code, zh, en, product codes (trace demo), cost, lead time, failure rate, min stock,
# rate source, method, below (left at or below the reorder point)
PARTS = [
    (
        "BAT-IP300",
        "胰岛素泵电池",
        "Insulin pump battery",
        ["01"],
        "85.00",
        14,
        "0.5000",
        4,
        "setting",
        "service_level",
        True,
    ),
    (
        "MB-IP300",
        "胰岛素泵主板",
        "Insulin pump main board",
        ["01"],
        "1650.00",
        45,
        "0.0300",
        2,
        "setting",
        "service_level",
        False,
    ),
    (
        "SEN-CGM2",
        "血糖监测传感器",
        "Glucose monitoring sensor",
        ["02"],
        "320.00",
        21,
        "0.8000",
        5,
        "higher",
        "service_level",
        True,
    ),
    (
        "PMP-VP100",
        "输液泵泵送模块",
        "Infusion pump pumping module",
        ["03"],
        "980.00",
        30,
        "0.0800",
        2,
        "setting",
        "service_level",
        False,
    ),
    (
        "DOOR-VP100",
        "输液泵门组件",
        "Infusion pump door assembly",
        ["03"],
        "240.00",
        20,
        "0.1200",
        2,
        "setting",
        "cover_days",
        False,
    ),
    (
        "HTR-APD5",
        "腹透机加热板",
        "APD heater plate",
        ["04"],
        "760.00",
        35,
        "0.1000",
        2,
        "setting",
        "service_level",
        True,
    ),
    (
        "PUMP-APD5",
        "腹透机泵头",
        "APD pump head",
        ["04"],
        "1280.00",
        40,
        "0.0600",
        2,
        "setting",
        "service_level",
        False,
    ),
    (
        "TUBE-XR",
        "X射线球管",
        "X-ray tube",
        ["06"],
        "48000.00",
        90,
        "0.1500",
        1,
        "setting",
        "service_level",
        False,
    ),
    (
        "BAT-WCD",
        "穿戴式除颤器电池",
        "Wearable defibrillator battery",
        ["12"],
        "560.00",
        28,
        "0.4000",
        3,
        "setting",
        "service_level",
        False,
    ),
    (
        "CBL-ECG",
        "心电导联线",
        "ECG lead cable",
        ["06", "12"],
        "120.00",
        10,
        "0.2000",
        3,
        "setting",
        "cover_days",
        False,
    ),
]


def _engineer2() -> Any:
    """A second demo engineer (the second van's driver), created when missing."""
    from medvigil.accounts.demo import DEMO_PASSWORD
    from medvigil.accounts.models import Department, Role, User

    user = User.objects.filter(username="engineer2").first()
    if user is None:
        user = User(
            username="engineer2",
            display_name="李强 Li Qiang (工程师)",
            email="engineer2@demo.medvigil",
            department=Department.objects.filter(code="service").first(),
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.roles.set(Role.objects.filter(code="service_engineer"))
    return user


def load_demo() -> None:
    from medvigil.accounts.models import User
    from medvigil.core.audit import audit_context
    from medvigil.trace.models import Product

    if Part.objects.filter(code=f"{PREFIX}{PARTS[0][0]}").exists():
        return
    keeper = User.objects.filter(username="logistics").first()
    engineer = User.objects.filter(username="engineer").first()
    if keeper is None or engineer is None:
        return
    products = {p.code: p for p in Product.objects.filter(code__startswith="DEMO-")}
    with audit_context(actor=keeper, source="command:demo"):
        _load(keeper, engineer, _engineer2(), products)


def _load(keeper: Any, engineer: Any, engineer2: Any, products: dict[str, Any]) -> None:
    from . import services

    warehouse = services.create_location(
        by=None,
        code=f"{PREFIX}WH-SH",
        name="上海中心备件库 Shanghai central parts store",
        kind=LocationKind.WAREHOUSE,
        address="上海市浦东新区张江路88号",
    )
    van1 = services.create_location(
        by=None,
        code=f"{PREFIX}VAN-01",
        name="服务车 沪A·D1234 (张伟)",
        kind=LocationKind.VAN,
        engineer=engineer,
    )
    van2 = services.create_location(
        by=None,
        code=f"{PREFIX}VAN-02",
        name="服务车 沪A·D5678 (李强)",
        kind=LocationKind.VAN,
        engineer=engineer2,
    )
    wo = iter(range(1, 1000))
    for code, zh, en, fits, cost, lead, rate, min_stock, source, method, below in PARTS:
        part = services.create_part(
            by=None,
            products=[products[f"DEMO-{p}"] for p in fits if f"DEMO-{p}" in products],
            code=f"{PREFIX}{code}",
            name=zh,
            name_en=en,
            unit_cost=Decimal(cost),
            lead_time_days=lead,
            failure_rate=Decimal(rate),
            min_stock=min_stock,
            rate_source=source,
            safety_method=method,
        )
        state = services.recompute_part(part, notify=False)
        rop, up_to = state.reorder_point, state.order_up_to
        # healthy parts: filled to the order-up-to level and a little more; the others just
        # below their reorder point after the issues below
        receive = max(1, rop - 1) + 2 if below else up_to + 6
        services.move(
            kind=MovementKind.RECEIPT,
            part=part,
            quantity=receive,
            by=keeper,
            to_location=warehouse,
            reference=f"PO-DEMO-{code}",
        )
        for van in (van1, van2):
            services.move(
                kind=MovementKind.TRANSFER,
                part=part,
                quantity=1,
                by=keeper,
                from_location=warehouse,
                to_location=van,
            )
        services.issue_for_work_order(
            part, van1, 1, f"WO-DEMO-{next(wo):04d}", engineer, request_key=f"demo-{code}-1"
        )
        if below:
            services.issue_for_work_order(
                part, van2, 1, f"WO-DEMO-{next(wo):04d}", engineer2, request_key=f"demo-{code}-2"
            )
    first = Part.objects.get(code=f"{PREFIX}{PARTS[1][0]}")
    services.adjust_to_count(
        first,
        warehouse,
        services.on_hand(first, warehouse) - 1,
        by=keeper,
        reason="年度盘点 annual count",
    )
    cable = Part.objects.get(code=f"{PREFIX}CBL-ECG")
    services.move(
        kind=MovementKind.SCRAP,
        part=cable,
        quantity=1,
        by=keeper,
        from_location=warehouse,
        reason="外皮破损 damaged insulation",
    )
    wrong = services.move(
        kind=MovementKind.RECEIPT,
        part=cable,
        quantity=10,
        by=keeper,
        to_location=warehouse,
        reference="PO-DEMO-TYPO",
    )
    services.reverse_movement(wrong, by=keeper, reason="录入错误：数量应为0 entered by mistake")
    services.recompute_all()
