"""Forward and backward trace (TRC-7), drills (TRC-8), retention (TRC-9) against the
hand-built world of conftest: lot A (A1-A4) and lot B (B1-B2); we → dealer D (A1-A3);
D → hospital H1 (A1, A2); we → hospital H2 (B1); A1 installed at H1."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from medvigil.core.retention.services import explain_retention
from medvigil.trace import services
from medvigil.trace.models import RiskClass
from medvigil.trace.queries import backward_trace, drill_summary, forward_trace

from .conftest import dealer, hospital, lot, product, units

L = services.LineInput


@pytest.mark.req("TRC-7")
def test_forward_trace_of_a_lot(world):
    trace = forward_trace(lots=[world.lot_a])
    by_serial = {ut.unit.serial: ut for ut in trace.units}
    assert sorted(by_serial) == ["A1", "A2", "A3", "A4"]
    a1, a2, a3, a4 = (by_serial[s] for s in ("A1", "A2", "A3", "A4"))
    assert a1.consignee == world.dealer and a1.onward_line.buyer == world.hospital
    assert a1.end_user == world.hospital and a1.installation.department == "ICU"
    assert a1.contact_phone == "13800000001" and a1.located
    assert a2.end_user == world.hospital and a2.address == world.hospital.address and a2.located
    assert a3.consignee == world.dealer and a3.end_user is None and not a3.located
    assert a4.consignee is None and a4.located  # still in our stock
    assert [c.name for c, _n in trace.consignees()] == sorted(
        [world.dealer.name, world.hospital.name]
    )
    assert {c.pk: n for c, n in trace.consignees()} == {
        world.dealer.pk: 3,
        world.hospital.pk: 2,
    }
    assert [(c.pk, n) for c, n in trace.end_users()] == [(world.hospital.pk, 2)]


@pytest.mark.req("TRC-7")
def test_forward_trace_by_serials_udi_gtin_and_dates(world):
    by_serials = forward_trace(serials=["B1", "A2"])
    assert sorted(ut.unit.serial for ut in by_serials.units) == ["A2", "B1"]
    b1 = next(ut for ut in by_serials.units if ut.unit.serial == "B1")
    assert b1.consignee == world.hospital2 and b1.end_user == world.hospital2
    by_udi = forward_trace(udis=[(world.pump.gtin, "A3")])
    assert [ut.unit.serial for ut in by_udi.units] == ["A3"]
    assert len(forward_trace(gtin=world.pump.gtin).units) == 6
    by_date = forward_trace(produced_from=dt.date(2025, 8, 1), produced_to=dt.date(2025, 12, 31))
    assert sorted(ut.unit.serial for ut in by_date.units) == ["B1", "B2"]
    assert forward_trace().units == []


@pytest.mark.req("TRC-7")
def test_forward_trace_is_set_based(world, django_assert_max_num_queries):
    # the same number of queries for 6 units as for 2
    with CaptureQueriesContext(connection) as small:
        forward_trace(serials=["A1", "B1"])
    with django_assert_max_num_queries(len(small.captured_queries)):
        trace = forward_trace(gtin=world.pump.gtin)
        for ut in trace.units:
            (ut.consignee, ut.end_user, ut.location, ut.located, ut.address)
    assert len(small.captured_queries) <= 10


@pytest.mark.req("TRC-7")
def test_backward_trace_of_a_unit(world):
    trace = backward_trace(world.a_units[0])
    assert trace.lot == world.lot_a
    assert trace.production_record == "DHR-LA-001"
    assert [(ln.sale.number, ln.seller_id, ln.buyer_id) for ln in trace.lines] == [
        (world.sale1.number, None, world.dealer.pk),
        (world.sale2.number, world.dealer.pk, world.hospital.pk),
    ]
    assert [i.customer for i in trace.installations] == [world.hospital]


@pytest.mark.req("TRC-7")
def test_lot_tracked_goods_in_forward_trace(db):
    gauze = product("P-5", risk_class=RiskClass.II, tracking="lot")
    g = lot(gauze, "G1", quantity=100)
    d, h = dealer("D-1"), hospital("H-1")
    services.create_sale(
        seller=None, buyer=d, sale_date=dt.date(2026, 1, 5), lines=[L(lot=g, quantity=60)]
    )
    services.create_sale(
        seller=d, buyer=h, sale_date=dt.date(2026, 1, 6), lines=[L(lot=g, quantity=45)]
    )
    trace = forward_trace(lots=[g])
    assert trace.units == []
    assert [(ln.buyer, ln.quantity) for ln in trace.lot_lines] == [(d, 60), (h, 45)]
    summary = drill_summary(trace)
    # 40 in our stock + 45 at the hospital located; 15 still at the dealer
    assert (summary["total"], summary["located"]) == (100, 85)
    assert summary["percent"] == Decimal("85.00")


@pytest.mark.req("TRC-8")
def test_drill_percentage_and_record(world, quality_user):
    drill = services.start_drill(world.lot_a, by=quality_user)
    # A1 installed, A2 at hospital with address, A4 in our stock: 3 of 4; A3 at the dealer
    assert (drill.total_units, drill.located_units) == (4, 3)
    assert drill.percent_located == Decimal("75.00")
    assert not drill.target_met
    assert [r["serial"] for r in drill.result["rows"] if not r["located"]] == ["A3"]
    assert drill.number.startswith("TD-")
    # the dealer sells A3 on to H2: the drill run again reaches 100 %
    services.create_sale(
        seller=world.dealer,
        buyer=world.hospital2,
        sale_date=dt.date(2026, 3, 1),
        lines=[L(unit=world.a_units[2])],
    )
    drill = services.run_drill(drill, by=quality_user)
    assert drill.percent_located == Decimal("100.00") and drill.target_met


@pytest.mark.req("TRC-8")
def test_drill_completion_is_signed(transactional_db, quality_user):
    from medvigil.conftest import PASSWORD
    from medvigil.core.signatures.services import SignatureError, signatures_for

    pump = product("P-1")
    the_lot = lot(pump, "L1")
    units(pump, the_lot, ["X1"])
    drill = services.start_drill(the_lot, by=quality_user)
    assert drill.percent_located == Decimal("100.00")  # in our stock
    with pytest.raises(SignatureError):
        services.complete_drill(drill, by=quality_user, conclusion="ok", password="wrong")
    drill.refresh_from_db()
    assert drill.status == "open"
    drill = services.complete_drill(
        drill, by=quality_user, conclusion="全部可追溯", password=PASSWORD
    )
    assert drill.status == "completed"
    (sig,) = signatures_for(drill)
    assert sig.meaning == "closed" and sig.signer == quality_user
    with pytest.raises(Exception, match="completed"):
        services.run_drill(drill, by=quality_user)


# --- retention (TRC-9) -------------------------------------------------------------------------


@pytest.mark.req("TRC-9")
def test_retention_rules_exist_with_citation(db):
    from django.contrib.contenttypes.models import ContentType

    from medvigil.core.models import RetentionRule

    for model in ("sale", "returnrecord"):
        rule = RetentionRule.objects.get(
            content_type=ContentType.objects.get(app_label="trace", model=model)
        )
        assert (rule.basis, rule.years, rule.minimum_years) == ("expiry", 2, 5)
        assert rule.permanent_if_implantable and "TRC-9" in rule.citation


def _sale_of(prod, serial, produced=dt.date(2025, 6, 1), **lot_extra):
    the_lot = lot(prod, f"L-{serial}", produced=produced, **lot_extra)
    (unit,) = units(prod, the_lot, [serial])
    return services.create_sale(
        seller=None,
        buyer=hospital(f"H-{serial}"),
        sale_date=dt.date(2026, 1, 10),
        lines=[L(unit=unit)],
    )


@pytest.fixture
def frozen():
    import time_machine

    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0), tick=False):
        yield


@pytest.mark.req("TRC-9")
def test_retention_implantable_is_permanent(db, frozen):
    stent = product("P-1", implantable=True, shelf_life_months=36, service_life_years=None)
    decision = explain_retention(_sale_of(stent, "ST1"))
    assert decision.permanent


@pytest.mark.req("TRC-9")
def test_retention_expiry_plus_two_years(db, frozen):
    gauze = product("P-2", risk_class=RiskClass.II, shelf_life_months=60, service_life_years=None)
    sale = _sale_of(gauze, "G1")
    assert sale.retention_dates()["expiry"] == dt.date(2030, 6, 1)
    # expiry + 2 years is later than creation + 5 years (2031-03-02)
    assert explain_retention(sale).until == dt.date(2032, 6, 1)


@pytest.mark.req("TRC-9")
def test_retention_service_life_counts_as_expiry(db, frozen):
    monitor = product("P-6", shelf_life_months=None, service_life_years=8)
    sale = _sale_of(monitor, "M1")
    assert sale.retention_dates()["expiry"] == dt.date(2033, 6, 1)
    assert explain_retention(sale).until == dt.date(2035, 6, 1)


@pytest.mark.req("TRC-9")
def test_retention_without_expiry_at_least_five_years(db, frozen):
    device = product("P-3", shelf_life_months=None, service_life_years=None)
    sale = _sale_of(device, "D1")
    dates = sale.retention_dates()
    assert dates["expiry"] is None and dates["implantable"] is False
    created = dates["created"]
    assert explain_retention(sale).until == created.replace(year=created.year + 5)


@pytest.mark.req("TRC-9")
def test_retention_short_expiry_still_five_years_minimum(db, frozen):
    swab = product("P-4", risk_class=RiskClass.II, shelf_life_months=12, service_life_years=None)
    sale = _sale_of(swab, "S1")
    created = sale.retention_dates()["created"]
    assert explain_retention(sale).until == created.replace(year=created.year + 5)
    ret = services.record_return(
        unit=sale.lines.get().unit, returned_by=sale.buyer, return_date=created, reason="x"
    )
    assert ret.retention_dates()["expiry"] == dt.date(2026, 6, 1)
    assert explain_retention(ret).until == created.replace(year=created.year + 5)
