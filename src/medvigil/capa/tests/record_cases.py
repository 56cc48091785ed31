"""CAPA records registered with the record test kit (core/tests/record_kit.py): the shared
access (PLAT-1), audit (PLAT-2), version-conflict and list query-count tests run on each."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from medvigil.core.tests.record_kit import ApiWrite, RecordCase

from ..models import Capa, CapaAction, CapaReport, Nonconformity, Scar, Supplier
from ..services import capa as capa_svc
from ..services import nonconformity as nc_svc
from ..services import reports as report_svc
from ..services import suppliers as sup_svc

_n = itertools.count(1)


def make_capa(user: Any) -> Capa:
    n = next(_n)
    return capa_svc.create_capa(
        by=user, title=f"Kit CAPA {n}", problem=f"Kit problem {n}", source_kind="audit"
    )


def make_action(user: Any) -> CapaAction:
    return capa_svc.add_action(
        make_capa(user),
        by=user,
        description=f"Kit action {next(_n)}",
        owner=user,
        due_date=timezone.localdate() + dt.timedelta(days=5),
    )


def make_nc(user: Any) -> Nonconformity:
    n = next(_n)
    return nc_svc.create_nonconformity(
        by=user, title=f"Kit NC {n}", stage="in_process", description=f"Kit nonconformity {n}"
    )


def make_supplier(user: Any) -> Supplier:
    n = next(_n)
    return sup_svc.create_supplier(by=user, code=f"KIT-{n}", name=f"Kit supplier {n}")


def make_scar(user: Any) -> Scar:
    return sup_svc.request_scar(
        by=user,
        supplier=make_supplier(user),
        title=f"Kit request {next(_n)}",
        problem="Kit problem",
        due_date=timezone.localdate() + dt.timedelta(days=5),
    )


def make_report(user: Any) -> CapaReport:
    return report_svc.draft_capa_report(make_capa(user), by=user, language="zh-hans")


CASES = [
    RecordCase(
        id="capa.capa",
        model=Capa,
        make=make_capa,
        owner_role="quality",
        other_role="technical",  # view_* (every CAPA), carries out actions, no change
        list_url="capa:capa_list",
        edit_url="capa:capa_edit",
        edit_changes=lambda c: {"title": f"{c.title} (edited)"},
        api_list="/api/v1/capa/capas",
        api_detail=lambda c: f"/api/v1/capa/capas/{c.pk}",
        api_write=ApiWrite(
            "patch",
            lambda c: f"/api/v1/capa/capas/{c.pk}",
            lambda c: {"title": f"{c.title} (kit)"},
            versioned=True,
        ),
        reqs=("CAPA-1",),
    ),
    RecordCase(
        id="capa.capaaction",
        model=CapaAction,
        make=make_action,
        owner_role="quality",
        other_role="technical",  # sees actions, changes only its own
        list_url="capa:action_list",
        edit_url="capa:action_edit",
        edit_changes=lambda a: {"description": f"{a.description} (edited)"},
        reqs=("CAPA-1",),
    ),
    RecordCase(
        id="capa.nonconformity",
        model=Nonconformity,
        make=make_nc,
        owner_role="quality",
        other_role="technical",  # view_*, records new ones, never changes
        list_url="capa:nc_list",
        edit_url="capa:nc_edit",
        edit_changes=lambda n: {"title": f"{n.title} (edited)"},
        api_list="/api/v1/capa/nonconformities",
        api_detail=lambda n: f"/api/v1/capa/nonconformities/{n.pk}",
        reqs=("CAPA-2",),
    ),
    RecordCase(
        id="capa.supplier",
        model=Supplier,
        make=make_supplier,
        owner_role="quality",
        other_role="technical",
        list_url="capa:supplier_list",
        edit_url="capa:supplier_edit",
        edit_changes=lambda s: {"name": f"{s.name} (edited)"},
        api_list="/api/v1/capa/suppliers",
        api_detail=lambda s: f"/api/v1/capa/suppliers/{s.pk}",
        reqs=("CAPA-3",),
    ),
    RecordCase(
        id="capa.scar",
        model=Scar,
        make=make_scar,
        owner_role="quality",
        other_role="technical",
        list_url="capa:scar_list",
        api_list="/api/v1/capa/scars",
        api_detail=lambda s: f"/api/v1/capa/scars/{s.pk}",
        reqs=("CAPA-3",),
    ),
    RecordCase(
        id="capa.capareport",
        model=CapaReport,
        make=make_report,
        owner_role="quality",
        other_role="technical",  # view_*: reads the reports, never issues them
        list_url="capa:capa_list",
        detail_url="capa:capareport_detail",
        reqs=("CAPA-1",),
    ),
]
