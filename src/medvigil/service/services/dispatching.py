"""SVC-3 (QMS-3 in part): engineer qualifications per product and dispatch to a qualified
engineer. Seed 003 售后服务管理程序 三 3: 公司及各地区经销商维修人员必须经培训合格后方可上岗 —
an engineer (ours or a dealer's) is dispatched only with a valid qualification for the
request's product (trained, passed, not expired, not withdrawn)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.permissions import require, scope_for_user
from medvigil.core.registry import WorkItem
from medvigil.core.types import Actor

from ..models import EngineerQualification, ServiceRequest, WorkOrder

DISPATCH_PERM = "service.dispatch_servicerequest"
QUAL_ADD_PERM = "service.add_engineerqualification"
QUAL_CHANGE_PERM = "service.change_engineerqualification"
QUAL_FIELDS = frozenset(
    {
        "engineer",
        "product",
        "dealer",
        "trained_on",
        "passed_on",
        "score",
        "expires_on",
        "certificate",
        "notes",
    }
)


def warn_days() -> int:
    return int(getattr(settings, "SERVICE_QUALIFICATION_WARN_DAYS", 30))


# --- qualifications ------------------------------------------------------------------------


def _check_qualification(q: EngineerQualification) -> None:
    errors: dict[str, str] = {}
    if q.passed_on and q.trained_on and q.passed_on < q.trained_on:
        errors["passed_on"] = _("The exam cannot be passed before the training.")
    if q.expires_on and q.passed_on and q.expires_on < q.passed_on:
        errors["expires_on"] = _("The qualification cannot expire before it was passed.")
    if q.score is not None and q.score > 100:
        errors["score"] = _("A score is between 0 and 100.")
    if errors:
        raise ValidationError(errors)


def add_qualification(*, by: Actor, **fields: Any) -> EngineerQualification:
    """Record an engineer's training and exam for a product (SVC-3)."""
    require(by, QUAL_ADD_PERM)
    unknown = set(fields) - QUAL_FIELDS
    if unknown:
        raise ValidationError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    with transaction.atomic(), audit_context(actor=by):
        q = EngineerQualification(**fields)
        _check_qualification(q)
        q.full_clean()
        q.save()
    return q


def update_qualification(
    q: EngineerQualification, *, by: Actor, version: Any, **fields: Any
) -> EngineerQualification:
    require(by, QUAL_CHANGE_PERM)
    unknown = set(fields) - QUAL_FIELDS - {"withdrawn"}
    if unknown:
        raise ValidationError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    with transaction.atomic(), audit_context(actor=by):
        obj = EngineerQualification.objects.select_for_update().get(pk=q.pk)
        obj.check_version(version)
        for name, value in fields.items():
            setattr(obj, name, value)
        _check_qualification(obj)
        obj.full_clean()
        obj.save()
    return obj


def valid_qualification(
    engineer: Any, product: Any, on: dt.date | None = None
) -> EngineerQualification | None:
    on = on or timezone.localdate()
    for q in EngineerQualification.objects.filter(engineer=engineer, product=product):
        if q.valid_on(on):
            return q
    return None


def qualification_problem(engineer: Any, product: Any, on: dt.date | None = None) -> str:
    """Why `engineer` may not serve `product` on day `on`, or "" when qualified (SVC-3)."""
    on = on or timezone.localdate()
    if product is None:
        return ""
    quals = list(EngineerQualification.objects.filter(engineer=engineer, product=product))
    name = getattr(engineer, "printed_name", "") or str(engineer)
    if any(q.valid_on(on) for q in quals):
        return ""
    if not quals:
        return _(
            "%(engineer)s has no qualification for %(product)s: record the training and the "
            "passed exam first (SVC-3)."
        ) % {"engineer": name, "product": product}
    if all(q.passed_on is None for q in quals):
        return _("%(engineer)s was trained for %(product)s but has not passed the exam.") % {
            "engineer": name,
            "product": product,
        }
    latest = max((q for q in quals if q.expires_on), key=lambda q: q.expires_on, default=None)
    if latest is not None and latest.expires_on and latest.expires_on < on:
        return _("%(engineer)s's qualification for %(product)s expired on %(date)s.") % {
            "engineer": name,
            "product": product,
            "date": latest.expires_on.isoformat(),
        }
    return _("%(engineer)s holds no valid qualification for %(product)s.") % {
        "engineer": name,
        "product": product,
    }


# --- dispatch ----------------------------------------------------------------------------------


def dispatch(
    sr: ServiceRequest, *, by: Actor, version: Any, engineer: Any, note: str = ""
) -> WorkOrder:
    """Assign the request to `engineer` and open a work order for them. Refused with a clear
    message when the engineer holds no valid qualification for the request's product (SVC-3)
    or is not active. A re-dispatch voids the previous engineer's untouched work order."""
    require(by, DISPATCH_PERM)
    if engineer is None or not getattr(engineer, "is_active", False):
        raise ValidationError({"engineer": _("Choose an active engineer.")})
    with transaction.atomic(), audit_context(actor=by, reason=note or None):
        obj = ServiceRequest.objects.select_for_update().get(pk=sr.pk)
        obj.check_version(version)
        if obj.status not in (ServiceRequest.Status.NEW, ServiceRequest.Status.DISPATCHED):
            raise ValidationError(_("Only a new or dispatched request can be (re)dispatched."))
        problem = qualification_problem(engineer, obj.product)
        if problem:
            raise ValidationError({"engineer": problem})
        for old in WorkOrder.objects.select_for_update().filter(
            request=obj, status__in=(WorkOrder.Status.ASSIGNED, WorkOrder.Status.ACCEPTED)
        ):
            old.mark_voided(_("re-dispatched to another engineer"))
            old.save()
        now = timezone.now()
        obj.engineer = engineer
        obj.status = ServiceRequest.Status.DISPATCHED
        obj.dispatched_at = now
        obj.responded_at = obj.responded_at or now
        obj.save()
        wo = WorkOrder(request=obj, engineer=engineer)
        wo.assign_number()
        wo.full_clean()
        wo.save()
    return wo


@dataclass
class EngineerLoad:
    engineer: Any
    open_orders: int
    products: list[Any]
    dealer: Any = None


def engineers_load(user: Any) -> list[EngineerLoad]:
    """Engineers (users holding a qualification or the engineer role) with their open work
    orders and the products they are qualified for today (SVC-3 dispatch board)."""
    from medvigil.accounts.models import User

    today = timezone.localdate()
    quals = list(
        EngineerQualification.objects.filter(withdrawn=False, passed_on__lte=today)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
        .select_related("product", "dealer")
    )
    by_engineer: dict[int, list[EngineerQualification]] = {}
    for q in quals:
        by_engineer.setdefault(q.engineer_id, []).append(q)
    users = (
        User.objects.filter(is_active=True)
        .filter(Q(pk__in=list(by_engineer)) | Q(roles__code="service_engineer"))
        .distinct()
        .annotate(
            open_orders=Count(
                "work_orders",
                filter=Q(work_orders__status__in=WorkOrder.OPEN_STATUSES),
                distinct=True,
            )
        )
        .order_by("open_orders", "username")
    )
    out = []
    for u in users:
        qs = by_engineer.get(u.pk, [])
        out.append(
            EngineerLoad(
                u,
                u.open_orders,
                [q.product for q in qs],
                next((q.dealer for q in qs if q.dealer_id), None),
            )
        )
    return out


def open_requests(user: Any) -> Any:
    return (
        scope_for_user(user, ServiceRequest)
        .filter(status__in=ServiceRequest.OPEN_STATUSES)
        .select_related("product", "customer", "engineer")
        .order_by("arrival_due_at", "received_at")
    )


# --- "My work": expiring qualifications, my open work orders ------------------------------------


def my_work(user: Any) -> list[WorkItem]:
    items: list[WorkItem] = []
    dispatcher = user.has_perm(DISPATCH_PERM)
    engineer = user.has_perm("service.change_workorder")
    if not dispatcher and not engineer:  # readers (quality, finance, auditors): nothing to do
        return items
    today = timezone.localdate()
    horizon = today + dt.timedelta(days=warn_days())
    quals = EngineerQualification.objects.filter(
        withdrawn=False, expires_on__isnull=False, expires_on__lte=horizon, expires_on__gte=today
    ).select_related("product", "engineer")
    if not dispatcher:
        quals = quals.filter(engineer=user)
    for q in quals[:50]:
        items.append(
            WorkItem(
                title=_("Qualification of %(engineer)s for %(product)s expires %(date)s")
                % {
                    "engineer": q.engineer.printed_name,
                    "product": q.product,
                    "date": q.expires_on.isoformat() if q.expires_on else "",
                },
                url=q.get_absolute_url(),
                kind=_("engineer qualification"),
                due=None,
                detail=_("Renew the training and exam"),
            )
        )
    if not engineer:
        return items
    for wo in (
        WorkOrder.objects.filter(engineer=user, status__in=WorkOrder.OPEN_STATUSES)
        .select_related("request")
        .order_by("request__arrival_due_at")[:50]
    ):
        items.append(
            WorkItem(
                title=f"{wo.number} · {wo.request.number} {wo.request.title}",
                url=wo.get_absolute_url(),
                kind=_("work order"),
                due=wo.request.arrival_due_at if wo.request.arrived_at is None else None,
                detail=wo.get_status_display(),
            )
        )
    return items
