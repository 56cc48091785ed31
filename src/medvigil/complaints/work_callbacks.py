""" "My work" items of the resolution stage (FBK-7): the follow-up call-backs a person is to
make, and the approvals waiting for one of their roles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from medvigil.core.permissions import scope_for_user
from medvigil.core.registry import WorkItem

from .models import Feedback, Resolution, ResolutionApproval


def _end_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59)))


def my_callbacks(user: Any) -> Iterable[WorkItem]:
    visible = scope_for_user(user, Feedback)
    rows = (
        Resolution.objects.filter(
            callback_by=user,
            callback_due__isnull=False,
            callback_done_at__isnull=True,
            feedback__in=visible,
        )
        .select_related("feedback")
        .order_by("callback_due", "pk")
    )
    for res in rows:
        fb = res.feedback
        yield WorkItem(
            title=_("Call back the customer: %(n)s %(t)s") % {"n": fb.number, "t": fb.title},
            url=res.get_absolute_url(),
            kind=_("Call-back"),
            due=_end_of(res.callback_due) if res.callback_due else None,
        )
    roles = user.role_codes() if hasattr(user, "role_codes") else set()
    if not roles or not user.has_perm("complaints.change_resolutionapproval"):
        return
    waiting = (
        ResolutionApproval.objects.filter(
            role__in=roles,
            decision="",
            resolution__feedback__status=Feedback.Status.RESOLUTION,
            resolution__feedback__in=visible,
        )
        .select_related("resolution__feedback")
        .order_by("pk")
    )
    for a in waiting:
        if a.role not in a.resolution.required_roles():
            continue
        fb = a.resolution.feedback
        yield WorkItem(
            title=_("Approve the resolution of %(n)s %(t)s") % {"n": fb.number, "t": fb.title},
            url=a.resolution.get_absolute_url(),
            kind=_("Approval"),
        )
