"""Sales, licences, installations and returns (TRC-2, TRC-4, TRC-5, TRC-6)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from hypothesis import given
from hypothesis import strategies as st

from medvigil.core.models import AuditEntry
from medvigil.trace import services
from medvigil.trace.models import (
    CustomerKind,
    Disposition,
    Installation,
    LicenceKind,
    RiskClass,
    Sale,
    SaleLine,
    Unit,
    UnitStatus,
)
from medvigil.trace.rules import LICENCE_RULES, licence_rule

from .conftest import customer, dealer, hospital, lot, product, units

L = services.LineInput
DAY = dt.date(2026, 3, 1)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0), tick=False):
        yield


def _messages(exc: ValidationError) -> str:
    return " | ".join(exc.messages)


@pytest.fixture
def stock(db):
    pump = product("P-1")  # class III
    the_lot = lot(pump, "L1", quantity=10)
    return pump, the_lot, units(pump, the_lot, [f"S{i}" for i in range(1, 6)])


# --- licences (TRC-2) ------------------------------------------------------------------------


@pytest.mark.req("TRC-2")
def test_rule_table_has_a_citation_for_every_rule():
    assert all(rule.citation for rule in LICENCE_RULES)
    assert licence_rule(CustomerKind.DEALER, RiskClass.III).requirements == (
        (LicenceKind.BUSINESS,),
        (LicenceKind.OPERATING,),
    )
    assert licence_rule(CustomerKind.DEALER, RiskClass.I).requirements == ((LicenceKind.BUSINESS,),)
    assert LicenceKind.FILING in licence_rule(CustomerKind.DEALER, RiskClass.II).requirements[1]
    assert licence_rule(CustomerKind.HOSPITAL, RiskClass.II).requirements == (
        (LicenceKind.PRACTICE,),
    )


@pytest.mark.req("TRC-2")
def test_sale_to_dealer_without_operating_licence_refused_naming_it(stock):
    pump, _lot, (u1, *_rest) = stock
    d = customer("D-9", CustomerKind.DEALER, licences=(LicenceKind.BUSINESS,), name="无证经销商")
    with pytest.raises(ValidationError) as info:
        services.create_sale(seller=None, buyer=d, sale_date=DAY, lines=[L(unit=u1)])
    text = _messages(info.value)
    assert "医疗器械经营许可证" in text and "无证经销商" in text
    assert not Sale.objects.exists()
    assert Unit.objects.get(pk=u1.pk).status == UnitStatus.IN_STOCK


@pytest.mark.req("TRC-2")
def test_expired_licence_refused_with_number_and_date(stock):
    _pump, _lot, (u1, *_rest) = stock
    h = customer("H-9", CustomerKind.HOSPITAL)
    services.add_licence(
        customer=h, kind=LicenceKind.PRACTICE, number="PDY-123", expires_on=dt.date(2026, 2, 1)
    )
    with pytest.raises(ValidationError) as info:
        services.create_sale(seller=None, buyer=h, sale_date=DAY, lines=[L(unit=u1)])
    text = _messages(info.value)
    assert "医疗机构执业许可证" in text and "PDY-123" in text and "2026-02-01" in text


@pytest.mark.req("TRC-2")
def test_withdrawn_licence_refused(stock):
    _pump, _lot, (u1, *_rest) = stock
    h = hospital("H-8")
    services.withdraw_licence(h.licences.get(), reason="吊销")
    with pytest.raises(ValidationError, match="withdrawn"):
        services.create_sale(seller=None, buyer=h, sale_date=DAY, lines=[L(unit=u1)])


@pytest.mark.req("TRC-2")
def test_class_ii_dealer_with_filing_certificate_allowed_class_i_needs_business_only(db):
    class2 = product("P-2", risk_class=RiskClass.II)
    class1 = product("P-3", risk_class=RiskClass.I)
    (u2,) = units(class2, lot(class2, "L2"), ["X2"])
    (u1,) = units(class1, lot(class1, "L3"), ["X1"])
    filed = customer(
        "D-F", CustomerKind.DEALER, licences=(LicenceKind.BUSINESS, LicenceKind.FILING)
    )
    only_business = customer("D-B", CustomerKind.DEALER, licences=(LicenceKind.BUSINESS,))
    services.create_sale(seller=None, buyer=filed, sale_date=DAY, lines=[L(unit=u2)])
    services.create_sale(seller=None, buyer=only_business, sale_date=DAY, lines=[L(unit=u1)])
    (u2b,) = units(class2, class2.lots.get(), ["X3"])
    with pytest.raises(ValidationError, match="经营备案凭证"):
        services.create_sale(seller=None, buyer=only_business, sale_date=DAY, lines=[L(unit=u2b)])


@pytest.mark.req("TRC-2")
def test_individual_refused_unless_product_allows(db):
    pump = product("P-1")
    meter = product("P-2", risk_class=RiskClass.II, sale_to_individuals=True)
    (pu,) = units(pump, lot(pump, "L1"), ["PU1"])
    (mu,) = units(meter, lot(meter, "L2"), ["MU1"])
    person = customer("I-1", CustomerKind.INDIVIDUAL, name="张三")
    with pytest.raises(ValidationError) as info:
        services.create_sale(seller=None, buyer=person, sale_date=DAY, lines=[L(unit=pu)])
    assert "individual" in _messages(info.value) and "张三" in _messages(info.value)
    sale = services.create_sale(seller=None, buyer=person, sale_date=DAY, lines=[L(unit=mu)])
    assert sale.lines.get().unit_id == mu.pk


# --- sales and the two-level chain (TRC-4) ---------------------------------------------------


@pytest.mark.req("TRC-4")
def test_sale_records_every_field_and_numbers(stock, quality_user):
    pump, the_lot, (u1, u2, *_rest) = stock
    d = dealer("D-1")
    sale = services.create_sale(
        seller=None,
        buyer=d,
        sale_date=DAY,
        lines=[L(unit=u1), L(unit=u2)],
        by=quality_user,
        reference="INV-1",
    )
    assert sale.number == "SO-2026-00001"
    assert sale.handler == quality_user and sale.handler_display
    line = sale.lines.select_related("product", "unit").first()
    # TRC-4: product name, manufacturer, model, production date, serial/lot, sale date,
    # seller, buyer, quantity, handler
    assert (line.product.name, line.product.manufacturer, line.product.model_spec) == (
        pump.name,
        pump.manufacturer,
        pump.model_spec,
    )
    assert line.production_date == the_lot.production_date
    assert line.unit.serial == "S1" and line.quantity == 1
    assert sale.seller_name and sale.buyer == d and sale.sale_date == DAY
    assert Unit.objects.get(pk=u1.pk).status == UnitStatus.SOLD
    assert Unit.objects.get(pk=u1.pk).holder == d
    entries = AuditEntry.objects.filter(actor=quality_user, action="create")
    assert entries.filter(content_type__model="sale").count() == 1
    assert entries.filter(content_type__model="saleline").count() == 2


@pytest.mark.req("TRC-4")
def test_double_sale_by_same_seller_refused(stock):
    _pump, _lot, (u1, *_rest) = stock
    d, h = dealer("D-1"), hospital("H-1")
    services.create_sale(seller=None, buyer=d, sale_date=DAY, lines=[L(unit=u1)])
    with pytest.raises(ValidationError) as info:
        services.create_sale(seller=None, buyer=h, sale_date=DAY, lines=[L(unit=u1)])
    assert "already sold by us" in _messages(info.value)
    # the dealer may sell it on once, not twice
    services.create_sale(seller=d, buyer=h, sale_date=DAY, lines=[L(unit=u1)])
    h2 = hospital("H-2")
    with pytest.raises(ValidationError, match="already sold by"):
        services.create_sale(seller=d, buyer=h2, sale_date=DAY, lines=[L(unit=u1)])
    assert SaleLine.objects.filter(unit=u1).count() == 2
    assert Unit.objects.get(pk=u1.pk).status == UnitStatus.SOLD_ON


@pytest.mark.req("TRC-4")
def test_database_refuses_a_second_open_sale_line(stock):
    """Even bypassing the service, the constraint keeps one open sale per seller and unit."""
    _pump, _lot, (u1, *_rest) = stock
    d, h = dealer("D-1"), hospital("H-1")
    sale = services.create_sale(seller=None, buyer=d, sale_date=DAY, lines=[L(unit=u1)])
    with pytest.raises(IntegrityError), transaction.atomic():
        SaleLine.objects.create(sale=sale, product=u1.product, unit=u1, buyer=h, seller=None)
    other = services.create_sale(seller=d, buyer=h, sale_date=DAY, lines=[L(unit=u1)])
    with pytest.raises(IntegrityError), transaction.atomic():
        SaleLine.objects.create(sale=other, product=u1.product, unit=u1, buyer=h, seller=d)


@pytest.mark.req("TRC-4")
def test_dealer_can_only_sell_what_it_holds_and_seller_must_be_dealer(stock):
    _pump, _lot, (u1, u2, *_rest) = stock
    d, h = dealer("D-1"), hospital("H-1")
    with pytest.raises(ValidationError, match="not held by"):
        services.create_sale(seller=d, buyer=h, sale_date=DAY, lines=[L(unit=u1)])
    with pytest.raises(ValidationError, match="not a dealer"):
        services.create_sale(seller=h, buyer=d, sale_date=DAY, lines=[L(unit=u2)])


@pytest.mark.req("TRC-4")
def test_return_in_between_allows_selling_again(stock):
    _pump, _lot, (u1, *_rest) = stock
    d, h = dealer("D-1"), hospital("H-1")
    services.create_sale(seller=None, buyer=d, sale_date=DAY, lines=[L(unit=u1)])
    services.record_return(
        unit=u1, returned_by=d, return_date=DAY, reason="客户取消", disposition=Disposition.RESTOCK
    )
    assert Unit.objects.get(pk=u1.pk).status == UnitStatus.IN_STOCK
    services.create_sale(seller=None, buyer=h, sale_date=DAY, lines=[L(unit=u1)])
    assert SaleLine.objects.filter(unit=u1, open=True).count() == 1


@pytest.mark.req("TRC-4")
def test_expired_lot_and_lot_quantities(db):
    gauze = product("P-5", risk_class=RiskClass.II, tracking="lot", shelf_life_months=24)
    old = lot(gauze, "OLD", produced=dt.date(2023, 1, 1), quantity=100)
    fresh = lot(gauze, "NEW", produced=dt.date(2025, 12, 1), quantity=50)
    assert old.expiry_date == dt.date(2025, 1, 1)
    h = hospital("H-1")
    with pytest.raises(ValidationError, match="expired"):
        services.create_sale(seller=None, buyer=h, sale_date=DAY, lines=[L(lot=old, quantity=5)])
    services.create_sale(seller=None, buyer=h, sale_date=DAY, lines=[L(lot=fresh, quantity=40)])
    with pytest.raises(ValidationError, match="Only 10 of lot NEW"):
        services.create_sale(seller=None, buyer=h, sale_date=DAY, lines=[L(lot=fresh, quantity=11)])


@pytest.mark.req("TRC-4")
def test_void_sale_returns_units_to_seller(stock):
    _pump, _lot, (u1, *_rest) = stock
    d, h = dealer("D-1"), hospital("H-1")
    s1 = services.create_sale(seller=None, buyer=d, sale_date=DAY, lines=[L(unit=u1)])
    s2 = services.create_sale(seller=d, buyer=h, sale_date=DAY, lines=[L(unit=u1)])
    with pytest.raises(ValidationError, match="moved on"):
        services.void_sale(s1, reason="录入错误")
    with pytest.raises(ValidationError, match="reason"):
        services.void_sale(s2, reason=" ")
    services.void_sale(s2, reason="录入错误")
    unit = Unit.objects.get(pk=u1.pk)
    assert (unit.status, unit.holder) == (UnitStatus.SOLD, d)
    services.void_sale(s1, reason="录入错误")
    unit = Unit.objects.get(pk=u1.pk)
    assert (unit.status, unit.holder) == (UnitStatus.IN_STOCK, None)


# --- installations (TRC-5) -------------------------------------------------------------------


@pytest.mark.req("TRC-5")
def test_acceptance_starts_the_warranty(stock):
    pump, _lot, (u1, *_rest) = stock
    h = hospital("H-1")
    services.create_sale(seller=None, buyer=h, sale_date=DAY, lines=[L(unit=u1)])
    inst = services.install_unit(
        u1,
        customer=h,
        installed_on=dt.date(2026, 3, 1),
        department="心内科",
        address="上海市徐汇区1号",
        contact_person="李医生",
        contact_phone="13900000000",
    )
    assert inst.warranty_end is None
    assert Unit.objects.get(pk=u1.pk).status == UnitStatus.INSTALLED
    with pytest.raises(ValidationError, match="before installation"):
        services.accept_installation(inst, accepted_on=dt.date(2026, 2, 1), version=inst.version)
    inst = services.accept_installation(inst, accepted_on=dt.date(2026, 3, 2), version=inst.version)
    assert pump.warranty_months == 24
    assert inst.warranty_end == dt.date(2028, 3, 2)


@pytest.mark.req("TRC-5")
def test_installation_only_at_the_holder(stock):
    _pump, _lot, (u1, u2, *_rest) = stock
    d, h = dealer("D-1"), hospital("H-1")
    with pytest.raises(ValidationError, match="only a sold unit"):
        services.install_unit(u2, customer=h, installed_on=DAY)
    services.create_sale(seller=None, buyer=d, sale_date=DAY, lines=[L(unit=u1)])
    with pytest.raises(ValidationError, match="record the sale"):
        services.install_unit(u1, customer=h, installed_on=DAY)
    services.create_sale(seller=d, buyer=h, sale_date=DAY, lines=[L(unit=u1)])
    first = services.install_unit(u1, customer=h, installed_on=DAY, department="A")
    second = services.install_unit(u1, customer=h, installed_on=DAY, department="B")
    assert Installation.objects.get(pk=first.pk).current is False
    assert Installation.objects.get(unit=u1, current=True) == second


# --- returns (TRC-6) -------------------------------------------------------------------------


@pytest.mark.req("TRC-6")
def test_return_record_fields_and_unit_state(stock, quality_user):
    pump, the_lot, (u1, *_rest) = stock
    d, h = dealer("D-1"), hospital("H-1")
    services.create_sale(seller=None, buyer=d, sale_date=DAY, lines=[L(unit=u1)])
    services.create_sale(seller=d, buyer=h, sale_date=DAY, lines=[L(unit=u1)])
    services.install_unit(u1, customer=h, installed_on=DAY)
    # hospital returns to the dealer: the dealer holds it again, and could sell it on again
    back = services.record_return(
        unit=u1, returned_by=h, returned_to=d, return_date=DAY, reason="外观破损", by=quality_user
    )
    assert back.number == "RT-2026-00001"
    # seed 001 fields: product, manufacturer/supplier, model, serial, production date,
    # returning party, date, quantity, reason, disposition
    assert back.product == pump and back.supplier == pump.manufacturer
    assert back.unit.serial == "S1" and back.production_date == the_lot.production_date
    assert (back.returned_by, back.return_date, back.quantity) == (h, DAY, 1)
    assert back.reason == "外观破损" and back.disposition == Disposition.PENDING
    unit = Unit.objects.get(pk=u1.pk)
    assert (unit.status, unit.holder) == (UnitStatus.SOLD, d)
    assert not Installation.objects.filter(unit=u1, current=True).exists()
    # the dealer returns it to us; the disposition decides the state
    ret = services.record_return(unit=u1, returned_by=d, return_date=DAY, reason="质量问题")
    assert Unit.objects.get(pk=u1.pk).status == UnitStatus.RETURNED
    with pytest.raises(ValidationError, match="awaits a disposition"):
        services.create_sale(seller=None, buyer=h, sale_date=DAY, lines=[L(unit=u1)])
    services.set_return_disposition(
        ret, disposition=Disposition.SCRAP, note="报废", version=ret.version
    )
    assert Unit.objects.get(pk=u1.pk).status == UnitStatus.SCRAPPED
    with pytest.raises(ValidationError, match="scrapped"):
        services.create_sale(seller=None, buyer=h, sale_date=DAY, lines=[L(unit=u1)])


@pytest.mark.req("TRC-6")
def test_return_refused_from_a_party_not_holding_the_unit(stock):
    _pump, _lot, (u1, *_rest) = stock
    d = dealer("D-1")
    with pytest.raises(ValidationError, match="not held by"):
        services.record_return(unit=u1, returned_by=d, return_date=DAY, reason="x")
    with pytest.raises(ValidationError, match="reason"):
        services.record_return(unit=u1, returned_by=d, return_date=DAY, reason="")


@pytest.mark.req("TRC-6")
def test_lot_return_quantity_checked(db):
    gauze = product("P-5", risk_class=RiskClass.II, tracking="lot")
    the_lot = lot(gauze, "G1", quantity=100)
    d = dealer("D-1")
    services.create_sale(seller=None, buyer=d, sale_date=DAY, lines=[L(lot=the_lot, quantity=30)])
    with pytest.raises(ValidationError, match="holds only 30"):
        services.record_return(lot=the_lot, quantity=31, returned_by=d, return_date=DAY, reason="x")
    ret = services.record_return(
        lot=the_lot, quantity=5, returned_by=d, return_date=DAY, reason="包装破损"
    )
    assert ret.quantity == 5 and ret.unit is None


@pytest.mark.req("TRC-1")
def test_product_gtin_validated_and_normalised(db):
    with pytest.raises(ValidationError) as info:
        product("P-1", gtin="6901234567893")
    assert "check digit" in _messages(info.value)
    p = product("P-2", gtin="6901234567892")
    assert p.gtin == "06901234567892"


@pytest.mark.req("TRC-3")
def test_unit_inherits_lot_data_and_udi(db):
    pump = product("P-1", gtin="06901234567892")
    the_lot = lot(pump, "L7", produced=dt.date(2025, 6, 1), production_record="DHR-7")
    unit = services.build_unit(product=pump, lot=the_lot, serial="Z9")
    assert unit.udi_di == "06901234567892"
    assert unit.production_record == "DHR-7" and unit.production_date == dt.date(2025, 6, 1)
    assert unit.udi_pi == "(11)250601(10)L7(21)Z9"
    other = product("P-3")
    with pytest.raises(ValidationError, match="another product"):
        services.build_unit(product=other, lot=the_lot, serial="Z9")


@pytest.mark.req("TRC-2")
@given(
    kind=st.sampled_from([CustomerKind.DEALER, CustomerKind.OTHER, CustomerKind.HOSPITAL]),
    risk=st.sampled_from(list(RiskClass)),
    held=st.sets(st.sampled_from(list(LicenceKind))),
    expired=st.sets(st.sampled_from(list(LicenceKind))),
)
def test_licence_rule_property(kind, risk, held, expired):
    """Allowed exactly when every requirement of the rule has a valid licence."""
    from medvigil.trace.models import Customer, Licence, Product

    buyer = Customer(pk=1, name="X", kind=kind, active=True)
    lics = [
        Licence(
            customer=buyer,
            kind=k,
            number=k,
            expires_on=dt.date(2020, 1, 1) if k in expired else None,
        )
        for k in held
    ]
    buyer._prefetched_objects_cache = {"licences": lics}
    prod = Product(code="P", name="P", risk_class=risk)
    valid = held - expired
    rule = licence_rule(kind, risk)
    expected = all(any(k in valid for k in alts) for alts in rule.requirements)
    problems = services.licence_problems(buyer, prod, DAY)
    assert (not problems) == expected
    for alts, problem in zip(
        [a for a in rule.requirements if not any(k in valid for k in a)], problems, strict=True
    ):
        assert any(str(Licence(kind=k).get_kind_display()) in problem for k in alts)
