"""The vigilance demo (issue #10 item 8): MAUDE deaths and injuries on units sold in China, the
US and the EU, at different points of their clocks; loads outside a test transaction (as
`medvigil demo` and the browser tests run it) and is idempotent."""

import pytest

from ..models import AdverseEvent, PeriodicObligation, VigilanceReport


@pytest.mark.req("VIG-1")
@pytest.mark.django_db(transaction=True)
def test_the_demo_loads_outside_a_transaction_and_only_once():
    from medvigil.accounts.demo import load_all

    load_all()
    load_all()
    events = AdverseEvent.objects.all()
    assert events.count() == 8
    assert {m for e in events for m in e.markets} == {"CN", "US", "EU"}
    assert all(e.source_reference.startswith("MAUDE ") for e in events)
    assert VigilanceReport.objects.filter(status="submitted").count() == 1
    assert PeriodicObligation.objects.count() == 2
