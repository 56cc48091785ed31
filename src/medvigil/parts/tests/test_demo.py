"""SVC-10 demo: parts, a warehouse and two vans, movements of every kind, some parts below
their reorder point (on the stock keeper's "My work"); idempotent; the ledger agrees."""

from __future__ import annotations

import pytest

from medvigil.core.models import Notification
from medvigil.core.registry import work_for
from medvigil.parts import services
from medvigil.parts.models import LocationKind, Part, ReorderLevel, StockLocation, StockMovement


@pytest.mark.req("SVC-10")
def test_demo_loads_and_is_idempotent(db, settings, tmp_path):
    from medvigil.accounts.demo import load_all
    from medvigil.accounts.models import User
    from medvigil.core.audit import audit_context

    settings.MEDIA_ROOT = str(tmp_path)
    with audit_context(source="test:demo"):
        load_all()
        load_all()
    assert Part.objects.filter(code__startswith="DEMO-").count() == 10
    assert StockLocation.objects.filter(kind=LocationKind.WAREHOUSE).count() == 1
    assert StockLocation.objects.filter(kind=LocationKind.VAN).count() == 2
    kinds = set(StockMovement.objects.values_list("kind", flat=True))
    assert kinds == {"receipt", "transfer", "issue", "adjustment", "scrap", "reversal"}
    below = ReorderLevel.objects.filter(below=True).count()
    assert below >= 3
    assert services.verify_levels() == []
    keeper = User.objects.get(username="logistics")
    assert Notification.objects.filter(user=keeper, title__contains="reorder point").count() >= 3
    assert len([w for w in work_for(keeper) if w.url.startswith("/parts/")]) == below
