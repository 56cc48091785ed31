"""FBK-6: the investigation — links to the unit's and lot's history, other complaints on the
same lot, product and category, root cause with method and responsibility, test results."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError

from medvigil.trace.tests.conftest import World, world

from ..models import Category, Feedback
from ..services import investigation as inv_svc
from .flow_builders import People, evaluated, fresh, people, routed_complaint

__all__ = ["people", "world"]

pytestmark = [pytest.mark.django_db, pytest.mark.req("FBK-6")]


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Any:
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def test_root_cause_method_and_responsibility_are_required_to_complete(people: People) -> None:
    fb = routed_complaint(people.cs)
    evaluated(fb, people)
    fb = fresh(fb)
    inv = inv_svc.start_investigation(fb, by=people.engineer, version=fb.version)
    assert fresh(fb).status == Feedback.Status.INVESTIGATION
    with pytest.raises(ValidationError) as exc:
        inv_svc.complete_investigation(inv, by=people.engineer, version=inv.version)
    assert set(exc.value.error_dict) == {"method", "root_cause", "responsibility"}
    with pytest.raises(ValidationError):
        inv_svc.update_investigation(inv, by=people.engineer, version=inv.version, method="guess")
    inv = inv_svc.update_investigation(
        inv,
        by=people.engineer,
        version=inv.version,
        method="5m1e",
        factor="machine",
        root_cause="Worn pump roller.",
        responsibility="company",
        test_results="Returned unit: roller worn 0.4 mm.",
        test_conclusion="Confirmed.",
    )
    inv = inv_svc.complete_investigation(inv, by=people.engineer, version=inv.version)
    assert inv.is_complete
    assert fresh(fb).status == Feedback.Status.RESOLUTION
    with pytest.raises(ValidationError):
        inv_svc.update_investigation(inv, by=people.engineer, version=inv.version, factor="man")


def test_customer_service_does_not_investigate(people: People) -> None:
    fb = routed_complaint(people.cs)
    evaluated(fb, people)
    fb = fresh(fb)
    with pytest.raises(PermissionDenied):
        inv_svc.start_investigation(fb, by=people.cs, version=fb.version)


def test_investigation_waits_for_the_evaluation(people: People) -> None:
    fb = routed_complaint(people.cs)
    with pytest.raises(ValidationError):
        inv_svc.start_investigation(fb, by=people.engineer, version=fb.version)


def test_related_complaints_and_history_links(people: People, world: World) -> None:
    unit = world.a_units[0]
    fb = routed_complaint(people.cs, product=world.pump, lot=world.lot_a, unit=unit)
    same_lot = routed_complaint(people.cs, product=world.pump, unit=world.a_units[1])
    same_product = routed_complaint(people.cs, product=world.pump, lot=world.lot_b)
    same_category = routed_complaint(people.cs, category=Category.PRODUCT_QUALITY)
    other = routed_complaint(people.cs, category=Category.DELIVERY)
    related = inv_svc.related_feedback(fb, user=people.quality)
    assert set(related["lot"]) == {same_lot}
    assert set(related["product"]) == {same_lot, same_product}
    assert set(related["category"]) == {same_lot, same_product, same_category}
    assert other not in related["category"] and fb not in related["category"]
    # a user who may not see complaints sees none
    assert not inv_svc.related_feedback(fb, user=AnonymousUser())["lot"].exists()
    links = {url: str(label) for label, url in inv_svc.unit_history_links(fb, user=people.quality)}
    unit_url = f"/trace/units/{unit.pk}/"
    assert links[unit_url].endswith("production record")
    assert unit_url + "#sales-chain" in links
    assert unit_url + "#installation" in links
    assert unit_url + "#timeline" in links
    assert f"/trace/lots/{world.lot_a.pk}/" in links
    assert any(u.startswith("/trace/trace/forward/?lots=LA-001") for u in links)
    # every link opens
    from django.test import Client

    c = Client()
    c.force_login(people.quality)
    for url in links:
        assert c.get(url.split("#")[0]).status_code == 200, url
