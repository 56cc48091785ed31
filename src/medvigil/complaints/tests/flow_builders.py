"""Builders for the evaluation, investigation and resolution tests (FBK-5/6/7): a routed
complaint made directly (intake and routing have their own services and tests), the people of
each role, and helpers that walk a complaint through the stages with the real services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from medvigil.accounts.models import Department
from medvigil.conftest import PASSWORD
from medvigil.core.audit import audit_context

from ..models import Category, Feedback, Kind, Severity
from ..services import evaluation as ev_svc
from ..services import investigation as inv_svc
from ..services import resolution as res_svc


@dataclass
class People:
    cs: Any
    quality: Any
    mr: Any
    gm: Any
    engineer: Any
    finance: Any


@pytest.fixture
def people(make_user: Any) -> People:
    return People(
        cs=make_user("cs", "customer_service", department="customer-service"),
        quality=make_user("qa", "quality", department="quality"),
        mr=make_user("mr", "management_rep", department="management"),
        gm=make_user("gm", "general_manager", department="management"),
        engineer=make_user("eng", "service_engineer", department="service"),
        finance=make_user("fin", "finance", department="finance"),
    )


def routed_complaint(
    by: Any,
    *,
    category: str = Category.PRODUCT_QUALITY,
    severity: str = Severity.MINOR,
    **extra: Any,
) -> Feedback:
    """A complaint as intake and routing leave it: category, severity, department, routed."""
    fields: dict[str, Any] = {
        "kind": Kind.COMPLAINT,
        "channel": "phone",
        "received_at": timezone.now() - dt.timedelta(hours=3),
        "title": "Pump alarms without reason",
        "description": "The pump stops with an occlusion alarm.",
        "complainant_name": "Dr Wang",
        "complainant_email": "wang@hospital.example",
        "category": category,
        "severity": severity,
        "severity_proposed": severity,
        "department": Department.objects.get(code="quality"),
        "status": Feedback.Status.ROUTED,
        "routed_at": timezone.now() - dt.timedelta(hours=2),
        "owner": by,
    }
    fields.update(extra)
    with audit_context(actor=by):
        return Feedback.objects.create(**fields)


def fresh(obj: Any) -> Any:
    return type(obj)._default_manager.get(pk=obj.pk)


ANSWERS = {
    "nonconforming": "yes",
    "misused": "no",
    "ifu_inadequate": "no",
    "failed_specification": "yes",
    "death_or_serious_injury": "no",
    "device_related": "yes",
}


def evaluated(fb: Feedback, p: People, **outcome: Any) -> Any:
    """Start and complete quality's evaluation with `outcome` (default: CAPA, investigate)."""
    ev = ev_svc.start_evaluation(fb, by=p.quality, version=fb.version)
    values = {**ANSWERS, "capa_needed": True, "investigate": True, **outcome}
    return ev_svc.record_evaluation(ev, by=p.quality, version=ev.version, complete=True, **values)


def investigated(fb: Feedback, p: People) -> Any:
    fb = fresh(fb)
    inv = inv_svc.start_investigation(fb, by=p.engineer, version=fb.version)
    inv = inv_svc.update_investigation(
        inv,
        by=p.engineer,
        version=inv.version,
        method="fishbone",
        factor="material",
        root_cause="A supplier's pressure sensor drifts.",
        responsibility="supplier",
    )
    return inv_svc.complete_investigation(inv, by=p.engineer, version=inv.version)


def replied(fb: Feedback, p: People, remedies: list[str] | None = None) -> Any:
    """Propose, agree (approvals given by the roles asked) and send the reply by e-mail."""
    fb = fresh(fb)
    res = res_svc.propose_resolution(
        fb,
        by=p.cs,
        version=fb.version,
        remedies=remedies or ["repair"],
        reply_text="We will repair the pump free of charge.",
    )
    for a in res.approvals.all():
        approver = p.gm if a.role == "general_manager" else p.mr
        res_svc.decide_approval(a, by=approver, decision="approved", password=PASSWORD)
    res = fresh(res)
    res = res_svc.agree_resolution(res, by=p.cs, version=res.version)
    return res_svc.send_reply(res, by=p.cs, version=res.version, channel="email")
