"""The vigilance demo (issue #10 item 8): MAUDE deaths and injuries on units sold in China, the
US and the EU, at different points of their clocks; loads outside a test transaction (as
`medvigil demo` and the browser tests run it) and is idempotent."""

import pytest
from django.contrib.contenttypes.models import ContentType

from medvigil.core.models import Signature
from medvigil.core.signatures.services import signature_matches, signatures_for

from ..models import (
    AdverseEvent,
    PeriodicObligation,
    ReportabilityDecision,
    TrendReport,
    TrendSignal,
    VigilanceReport,
)


@pytest.mark.req("VIG-1", "VIG-2", "VIG-4", "VIG-7", "KPI-3")
@pytest.mark.django_db(transaction=True)
def test_the_demo_loads_outside_a_transaction_and_only_once():
    from medvigil.accounts.demo import load_all

    load_all()
    load_all()
    events = AdverseEvent.objects.all()
    # 8 serious events at points of their clocks, 6 non-serious ones of last month (trend)
    assert events.count() == 14
    assert events.filter(outcome="other", status="closed").count() == 6
    assert {m for e in events for m in e.markets} == {"CN", "US", "EU"}
    assert all(e.source_reference.startswith("MAUDE ") for e in events)
    assert VigilanceReport.objects.filter(status="submitted").count() == 1
    assert PeriodicObligation.objects.count() == 2
    # VIG-2, VIG-4: the demo's decisions and submitted reports are signed, and still match
    decided = ReportabilityDecision.objects.exclude(status__in=["proposed", "superseded"])
    submitted = VigilanceReport.objects.filter(status="submitted")
    assert decided.count() >= 10
    for record in [*decided, *submitted]:
        sigs = list(signatures_for(record))
        assert len(sigs) == 1 and signature_matches(sigs[0], record), record
    assert (
        Signature.objects.filter(
            content_type=ContentType.objects.get_for_model(VigilanceReport)
        ).count()
        == 1
    )
    # VIG-7 / KPI-3: the demo baseline makes exactly one trend signal
    assert TrendSignal.objects.count() == 1
    # ... which the demo has opened as a draft trend report
    assert TrendReport.objects.filter(signal=TrendSignal.objects.get()).count() == 1
