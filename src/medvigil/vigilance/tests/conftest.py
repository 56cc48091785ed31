"""Shared builders of the vigilance tests: people per role, a traced world (a pump with units
sold in China, the US and the EU), and events made through the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from medvigil.conftest import PASSWORD
from medvigil.trace import services as trace
from medvigil.trace.models import CustomerKind, LicenceKind, RiskClass, gtin_check_digit

from ..services import events as ev_svc

__all__ = ["PASSWORD"]


@pytest.fixture(autouse=True)
def _english(english: Any) -> None:
    """The vigilance tests read messages in English."""


@dataclass
class People:
    quality: Any
    mr: Any
    technical: Any
    engineer: Any
    finance: Any
    auditor: Any
    gm: Any


@pytest.fixture
def people(make_user: Any) -> People:
    return People(
        quality=make_user("qa", "quality", department="quality"),
        mr=make_user("mr", "management_rep", department="management"),
        technical=make_user("tech", "technical", department="technical"),
        engineer=make_user("eng", "service_engineer", department="service"),
        finance=make_user("fin", "finance", department="finance"),
        auditor=make_user("aud", "auditor", department="audit"),
        gm=make_user("gm", "general_manager", department="management"),
    )


def _gtin(n: int) -> str:
    payload = f"0697777{n:06d}"
    return payload + str(gtin_check_digit(payload))


def _hospital(code: str, name: str, address: str, province: str = "") -> Any:
    c = trace.create_customer(
        code=code, name=name, kind=CustomerKind.HOSPITAL, address=address, province=province
    )
    trace.add_licence(
        customer=c,
        kind=LicenceKind.PRACTICE,
        number=f"{code}-L",
        issuer="authority",
        issued_on=dt.date(2020, 1, 1),
        expires_on=dt.date(2099, 12, 31),
    )
    return c


@dataclass
class World:
    pump: Any
    lot: Any
    units: list[Any]  # V1 sold in China, V2 in the US, V3 in the EU, V4 in stock
    cn: Any
    us: Any
    eu: Any


_counter = iter(range(1, 10_000))


@pytest.fixture
def world(db: Any) -> World:
    n = next(_counter)
    pump = trace.create_product(
        code=f"VP-{n}",
        name="输液泵",
        name_en="Infusion pump",
        model_spec="VP-100",
        manufacturer="华康医疗器械股份有限公司",
        registration_number="国械注准20213140001",
        risk_class=RiskClass.III,
        gtin=_gtin(n),
        warranty_months=24,
        service_life_years=8,
    )
    the_lot = trace.create_lot(
        product=pump, lot_number=f"VL-{n}", production_date=dt.date(2025, 6, 1), quantity=4
    )
    units = trace.create_units(
        trace.build_unit(product=pump, lot=the_lot, serial=f"V{n}-{i}") for i in range(1, 5)
    )
    cn = _hospital(f"VCN-{n}", "上海市第一人民医院", "上海市虹口区海宁路100号", "上海")
    us = _hospital(f"VUS-{n}", "Mayo Clinic", "200 First St SW, Rochester, MN, USA")
    eu = _hospital(f"VEU-{n}", "Charité", "Charitéplatz 1, Berlin, Germany")
    L = trace.LineInput
    for buyer, unit in ((cn, units[0]), (us, units[1]), (eu, units[2])):
        trace.create_sale(
            seller=None, buyer=buyer, sale_date=dt.date(2026, 1, 10), lines=[L(unit=unit)]
        )
    return World(pump, the_lot, units, cn, us, eu)


def make_event(by: Any, *, unit: Any = None, **extra: Any) -> Any:
    fields: dict[str, Any] = {
        "title": "Pump over-infusion",
        "aware_at": dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC),
        "outcome": "serious_injury",
        "narrative": "患者输注过量, 出现低血压, 经处理后好转。",
        "patient_name": "张三",
        "patient_age": "67",
        "patient_sex": "M",
    }
    fields.update(extra)
    if unit is not None:
        fields["unit"] = unit
    return ev_svc.create_event(by=by, **fields)
