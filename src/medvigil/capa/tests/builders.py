"""Builders of the CAPA tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from ..models import Capa, CapaAction
from ..services import capa as svc


def fresh(obj: Any) -> Any:
    return type(obj)._default_manager.get(pk=obj.pk)


def new_capa(by: Any, **extra: Any) -> Capa:
    values = {
        "title": "Occlusion alarm silent",
        "problem": "The occlusion alarm did not sound on three pumps.",
        "source_kind": "complaint",
        **extra,
    }
    return svc.create_capa(by=by, **values)


def with_root_cause(capa: Capa, by: Any) -> Capa:
    return svc.update_capa(
        capa,
        by=by,
        version=fresh(capa).version,
        method="fishbone",
        factor="material",
        whys=["alarm silent", "sensor drift", "no zero check at incoming"],
        root_cause="Incoming inspection does not check the sensor's zero point.",
    )


def action(capa: Capa, by: Any, owner: Any, days: int = 7) -> CapaAction:
    return svc.add_action(
        capa,
        by=by,
        description="Add the zero-point check to the incoming inspection",
        owner=owner,
        due_date=timezone.localdate() + dt.timedelta(days=days),
    )
