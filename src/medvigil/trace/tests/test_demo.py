"""The demo data loads through the services and gives the trace pages something to show."""

from __future__ import annotations

import pytest

from medvigil.trace.models import Customer, Installation, Lot, Product, Sale, TraceDrill, Unit


@pytest.mark.req("TRC-7")
def test_demo_loads_and_is_idempotent(db):
    from medvigil.accounts.demo import load_all
    from medvigil.core.audit import audit_context

    with audit_context(source="test:demo"):
        load_all()
        load_all()
    assert Product.objects.count() == 12
    # the vigilance demo adds a US and an EU hospital (DEMO-VIG-…) for its markets
    assert Customer.objects.exclude(code__startswith="DEMO-VIG-").count() == 30
    assert Lot.objects.count() == 40
    assert 390 <= Unit.objects.count() <= 400
    assert Sale.objects.filter(seller__isnull=False).exists()  # dealer → hospital
    assert Installation.objects.filter(accepted_on__isnull=False).exists()
    assert TraceDrill.objects.count() == 1
    assert all(len(p.gtin) == 14 for p in Product.objects.all())
