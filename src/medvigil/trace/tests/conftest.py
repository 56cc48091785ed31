"""Builders for trace tests: a small, hand-built world with two lots and a dealer → hospital
chain (see `world`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from medvigil.trace import services
from medvigil.trace.models import (
    Customer,
    CustomerKind,
    LicenceKind,
    Lot,
    Product,
    RiskClass,
    Unit,
    gtin_check_digit,
)

TODAY = dt.date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _english(english: Any) -> None:
    """The trace tests read messages in English: the shared `english` fixture (conftest.py)."""


def make_gtin(n: int) -> str:
    payload = f"0690123{n:06d}"
    return payload + str(gtin_check_digit(payload))


def product(code: str = "P-1", **extra: Any) -> Product:
    fields = {
        "code": code,
        "name": "输液泵",
        "name_en": "Infusion pump",
        "model_spec": "IP-100",
        "manufacturer": "医械科技有限公司",
        "registration_number": "国械注准20203140001",
        "registration_expiry": dt.date(2030, 1, 1),
        "risk_class": RiskClass.III,
        "gtin": make_gtin(int(code.rsplit("-", 1)[-1]) if code[-1].isdigit() else 99),
        "warranty_months": 24,
        "service_life_years": 8,
    }
    fields.update(extra)
    return services.create_product(**fields)


def customer(code: str, kind: str, *, licences: tuple[str, ...] = (), **extra: Any) -> Customer:
    fields = {
        "code": code,
        "name": extra.pop("name", f"Customer {code}"),
        "kind": kind,
        "address": extra.pop("address", f"{code} Road 1, Shanghai"),
        "contact_person": extra.pop("contact_person", f"Contact {code}"),
        "phone": extra.pop("phone", "021-5555-0101"),
    }
    fields.update(extra)
    c = services.create_customer(**fields)
    for kind_ in licences:
        services.add_licence(
            customer=c,
            kind=kind_,
            number=f"{code}-{kind_}",
            issuer="上海市药品监督管理局",
            issued_on=dt.date(2020, 1, 1),
            expires_on=dt.date(2030, 12, 31),
        )
    return c


def hospital(code: str, **extra: Any) -> Customer:
    return customer(code, CustomerKind.HOSPITAL, licences=(LicenceKind.PRACTICE,), **extra)


def dealer(code: str, **extra: Any) -> Customer:
    return customer(
        code, CustomerKind.DEALER, licences=(LicenceKind.BUSINESS, LicenceKind.OPERATING), **extra
    )


def lot(prod: Product, number: str, produced: dt.date = dt.date(2025, 6, 1), **extra: Any) -> Lot:
    return services.create_lot(product=prod, lot_number=number, production_date=produced, **extra)


def units(prod: Product, the_lot: Lot | None, serials: list[str]) -> list[Unit]:
    return services.create_units(
        services.build_unit(product=prod, lot=the_lot, serial=s) for s in serials
    )


@dataclass
class World:
    pump: Product
    lot_a: Lot
    lot_b: Lot
    a_units: list[Unit]
    b_units: list[Unit]
    dealer: Customer
    hospital: Customer
    hospital2: Customer
    sale1: Any
    sale2: Any
    sale3: Any


@pytest.fixture
def world(db: Any, quality_user: Any) -> World:
    """Lot A (4 units) and lot B (2 units) of one class III pump.
    Sale 1: we → dealer D: A1, A2, A3.  Sale 2: D → hospital H1: A1, A2.
    Sale 3: we → hospital H2 (direct): B1. A1 installed at H1. A4 and B2 stay in stock."""
    import time_machine

    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0), tick=False):
        pump = product("P-1")
        lot_a = lot(pump, "LA-001", quantity=4, production_record="DHR-LA-001")
        lot_b = lot(pump, "LB-002", produced=dt.date(2025, 9, 1), quantity=2)
        a_units = units(pump, lot_a, ["A1", "A2", "A3", "A4"])
        b_units = units(pump, lot_b, ["B1", "B2"])
        d = dealer("D-1", name="华东医疗器械经销公司")
        h1 = hospital("H-1", name="上海第一人民医院")
        h2 = hospital("H-2", name="杭州市中心医院")
        L = services.LineInput
        s1 = services.create_sale(
            seller=None,
            buyer=d,
            sale_date=dt.date(2026, 1, 10),
            lines=[L(unit=u) for u in a_units[:3]],
            by=quality_user,
        )
        s2 = services.create_sale(
            seller=d,
            buyer=h1,
            sale_date=dt.date(2026, 1, 20),
            lines=[L(unit=u) for u in a_units[:2]],
            by=quality_user,
            handler_name="经销商 王五",
        )
        s3 = services.create_sale(
            seller=None,
            buyer=h2,
            sale_date=dt.date(2026, 2, 1),
            lines=[L(unit=b_units[0])],
            by=quality_user,
        )
        services.install_unit(
            a_units[0],
            customer=h1,
            installed_on=dt.date(2026, 2, 5),
            department="ICU",
            contact_person="护士长 李",
            contact_phone="13800000001",
            by=quality_user,
        )
    refresh = (
        [Unit.objects.get(pk=u.pk) for u in a_units],
        [Unit.objects.get(pk=u.pk) for u in b_units],
    )
    return World(pump, lot_a, lot_b, refresh[0], refresh[1], d, h1, h2, s1, s2, s3)
