"""CAPA-1/CAPA-2/CAPA-3 on "My work" and in the deadline alerts (PLAT-8): every open CAPA action
by its owner and due date (due soon → overdue → escalated to the CAPA's owner and the
management representatives), the CAPA's own target date, concessions waiting for approval,
supplier responses due, and complaints waiting for a CAPA."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from medvigil.core.calendar.deadlines import Deadline
from medvigil.core.i18n import gettext_msg
from medvigil.core.permissions import scope_for_user
from medvigil.core.registry import WorkItem

from ..models import Capa, CapaAction, Nonconformity, Scar

ESCALATION_ROLES = ("management_rep",)


def _end_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time(23, 59, 59)), timezone.get_default_timezone()
    )


def my_work(user: Any) -> list[WorkItem]:
    items: list[WorkItem] = []
    if user.has_perm("capa.view_capaaction"):
        actions = (
            scope_for_user(user, CapaAction)
            .filter(owner=user, status=CapaAction.Status.OPEN)
            .select_related("capa")
            .order_by("due_date")[:50]
        )
        for a in actions:
            items.append(
                WorkItem(
                    title=f"{a.capa.number} · {a.description[:80]}",
                    url=a.capa.get_absolute_url(),
                    kind=_("CAPA action"),
                    due=a.due_at(),
                    detail=str(a.get_kind_display()),
                )
            )
    if user.has_perm("capa.view_capa"):
        for c in scope_for_user(user, Capa).filter(owner=user, status=Capa.Status.OPEN)[:50]:
            items.append(
                WorkItem(
                    title=str(c),
                    url=c.get_absolute_url(),
                    kind=_("CAPA"),
                    due=_end_of(c.due_date) if c.due_date else None,
                    detail=str(_("Close when every action is done and verified")),
                )
            )
    if user.has_perm("capa.approve_concession"):
        waiting = scope_for_user(user, Nonconformity).filter(
            status=Nonconformity.Status.AWAITING_APPROVAL
        )[:50]
        for nc in waiting:
            items.append(
                WorkItem(
                    title=str(nc),
                    url=nc.get_absolute_url(),
                    kind=_("nonconformity"),
                    detail=str(_("Approve or reject the concession")),
                )
            )
    if user.has_perm("capa.view_scar"):
        scars = (
            scope_for_user(user, Scar)
            .filter(owner=user, status__in=(Scar.Status.REQUESTED, Scar.Status.RESPONDED))
            .select_related("supplier")[:50]
        )
        for s in scars:
            items.append(
                WorkItem(
                    title=f"{s.number} · {s.supplier.name}",
                    url=s.get_absolute_url(),
                    kind=_("supplier corrective-action request"),
                    due=s.due_at() if s.status == Scar.Status.REQUESTED else None,
                    detail=s.get_status_display(),
                )
            )
    from .capa import pending_complaint_handoffs

    for ev in pending_complaint_handoffs(user)[:50]:
        items.append(
            WorkItem(
                title=f"{ev.feedback.number} {ev.feedback.title}",
                url=reverse("capa:capa_create") + f"?evaluation={ev.pk}",
                kind=_("complaint waiting for a CAPA"),
                detail=str(_("Open a CAPA")),
            )
        )
    return items


def _escalation_users() -> list[Any]:
    from medvigil.accounts.models import User

    return list(User.objects.filter(is_active=True, roles__code__in=ESCALATION_ROLES).distinct())


def deadline_source(now: dt.datetime) -> Iterable[Deadline]:
    """Open CAPA actions (owner; escalated to the CAPA's owner and the management
    representatives), open CAPAs' target dates and supplier responses due."""
    managers: list[Any] | None = None
    actions = (
        CapaAction.objects.filter(status=CapaAction.Status.OPEN, capa__status=Capa.Status.OPEN)
        .select_related("capa", "capa__owner", "owner")
        .iterator(chunk_size=500)
    )
    for a in actions:
        if managers is None:
            managers = _escalation_users()
        escalate = [*managers, *([a.capa.owner] if a.capa.owner_id else [])]
        yield Deadline(
            key=f"capa:action:{a.pk}:{a.due_date:%Y%m%d}",
            title=gettext_msg(gettext_noop("%(number)s: CAPA action due"))
            % {"number": a.capa.number},
            url=a.capa.get_absolute_url(),
            due_at=a.due_at(),
            users=[a.owner],
            escalate_to=escalate,
            started_at=a.created_at,
            detail=a.description[:200],
        )
    for c in Capa.objects.filter(status=Capa.Status.OPEN, due_date__isnull=False).select_related(
        "owner"
    ):
        assert c.due_date is not None
        if managers is None:
            managers = _escalation_users()
        yield Deadline(
            key=f"capa:capa:{c.pk}:{c.due_date:%Y%m%d}",
            title=gettext_msg(gettext_noop("%(number)s: CAPA target date")) % {"number": c.number},
            url=c.get_absolute_url(),
            due_at=_end_of(c.due_date),
            users=[c.owner] if c.owner_id else [],
            escalate_to=managers,
            started_at=c.created_at,
        )
    for s in Scar.objects.filter(status=Scar.Status.REQUESTED).select_related("owner"):
        yield Deadline(
            key=f"capa:scar:{s.pk}:{s.due_date:%Y%m%d}",
            title=gettext_msg(gettext_noop("%(number)s: supplier response due"))
            % {"number": s.number},
            url=s.get_absolute_url(),
            due_at=s.due_at(),
            users=[s.owner] if s.owner_id else [],
            started_at=s.requested_at,
        )
