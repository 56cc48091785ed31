"""CAPA-3: suppliers as master data with an approved status; the supplier corrective-action
request, its response by a due date and our verification."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from medvigil.complaints.tests.flow_builders import People

from ..models import Scar, Supplier
from ..services import suppliers as svc
from ..services import work
from .builders import fresh

pytestmark = [pytest.mark.django_db, pytest.mark.req("CAPA-3"), pytest.mark.usefixtures("english")]


def supplier(by: Any, **extra: Any) -> Supplier:
    return svc.create_supplier(by=by, code="S-1", name="Sensor Co", **extra)


def test_supplier_master_data_with_its_approved_status(people: People) -> None:
    s = supplier(people.quality, status="approved")
    assert s.is_approved and s.approved_on == timezone.localdate()
    s = svc.update_supplier(s, by=people.quality, version=s.version, status="disqualified")
    assert not s.is_approved
    with pytest.raises(ValidationError):
        svc.create_supplier(by=people.quality, code="S-1", name="Duplicate")
    with pytest.raises(PermissionDenied):
        svc.create_supplier(by=people.cs, code="S-2", name="x")


def test_request_response_and_verification(people: People) -> None:
    s = supplier(people.quality)
    due = timezone.localdate() + dt.timedelta(days=7)
    with pytest.raises(ValidationError):
        svc.request_scar(
            by=people.quality,
            supplier=s,
            title="x",
            problem="y",
            due_date=timezone.localdate() - dt.timedelta(days=1),
        )
    scar = svc.request_scar(
        by=people.quality, supplier=s, title="Sensor drift", problem="Zero drifts.", due_date=due
    )
    assert scar.number.startswith("SCAR-") and scar.status == Scar.Status.REQUESTED
    # on "My work" and in the deadline alerts until the supplier answers
    assert any(i.title.startswith(scar.number) for i in work.my_work(people.quality))
    keys = [d.key for d in work.deadline_source(timezone.now())]
    assert f"capa:scar:{scar.pk}:{due:%Y%m%d}" in keys
    # verification only once the supplier responded
    with pytest.raises(ValidationError):
        svc.verify_scar(
            scar, by=people.quality, version=scar.version, effective=True, verification="x"
        )
    scar = svc.record_response(
        scar,
        by=people.quality,
        version=scar.version,
        response="Calibration step added.",
        supplier_root_cause="No zero calibration.",
    )
    # "not effective" asks again, with a new due date
    with pytest.raises(ValidationError) as exc:
        svc.verify_scar(
            scar,
            by=people.quality,
            version=scar.version,
            effective=False,
            verification="Drift remains",
        )
    assert "new_due_date" in exc.value.message_dict
    scar = svc.verify_scar(
        scar,
        by=people.quality,
        version=scar.version,
        effective=False,
        verification="Drift remains",
        new_due_date=due + dt.timedelta(days=7),
    )
    assert scar.status == Scar.Status.REQUESTED and scar.due_date == due + dt.timedelta(days=7)
    scar = svc.record_response(scar, by=people.quality, version=scar.version, response="Fixed.")
    scar = svc.verify_scar(
        scar, by=people.quality, version=scar.version, effective=True, verification="3 lots OK"
    )
    assert fresh(scar).status == Scar.Status.CLOSED and scar.verified_by == people.quality
