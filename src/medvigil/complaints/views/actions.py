"""The record page's actions of intake, routing and clocks (FBK-2 … FBK-4, FBK-8): each a POST
that calls its service; a refused action shows its message on the record page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medvigil.accounts.models import Department
from medvigil.core.models.audit import ConflictError
from medvigil.core.permissions import get_object_for_user

from ..models import Feedback, ProblemNotice
from ..services import clocks, intake, routing


def _run(request: Any, obj: Any, action: Callable[[], Any], done: str) -> Any:
    try:
        action()
    except ValidationError as e:
        for m in e.messages:
            messages.error(request, m)
    except ConflictError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, done)
    target = obj.feedback if isinstance(obj, ProblemNotice) else obj
    return redirect(target.get_absolute_url())


def _feedback(request: Any, pk: int) -> Feedback:
    return get_object_for_user(request.user, Feedback, pk=pk)


def _at(value: str) -> dt.datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValidationError({"at": _("Enter a valid date and time.")})
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@login_required
@require_POST
def route(request: Any, pk: int) -> Any:
    fb = _feedback(request, pk)
    code = request.POST.get("department", "")
    dept = Department.objects.filter(code=code).first() if code else None
    return _run(
        request,
        fb,
        lambda: routing.route_feedback(
            fb, by=request.user, version=request.POST.get("version"), department=dept
        ),
        _("Routed; the problem notices are sent."),
    )


@login_required
@require_POST
def severity(request: Any, pk: int) -> Any:
    fb = _feedback(request, pk)
    return _run(
        request,
        fb,
        lambda: routing.set_severity(
            fb,
            by=request.user,
            version=request.POST.get("version"),
            severity=request.POST.get("severity", ""),
            reason=request.POST.get("reason", ""),
        ),
        _("Severity saved."),
    )


@login_required
@require_POST
def answer(request: Any, pk: int) -> Any:
    fb = _feedback(request, pk)
    return _run(
        request,
        fb,
        lambda: intake.answer_and_close(
            fb,
            by=request.user,
            version=request.POST.get("version"),
            answer=request.POST.get("answer", ""),
        ),
        _("Answered and closed."),
    )


@login_required
@require_POST
def void(request: Any, pk: int) -> Any:
    fb = _feedback(request, pk)
    return _run(
        request,
        fb,
        lambda: intake.void_feedback(
            fb,
            by=request.user,
            version=request.POST.get("version"),
            reason=request.POST.get("reason", ""),
        ),
        _("Voided."),
    )


@login_required
@require_POST
def pause(request: Any, pk: int) -> Any:
    fb = _feedback(request, pk)
    return _run(
        request,
        fb,
        lambda: clocks.pause_clock(fb, by=request.user, reason=request.POST.get("reason", "")),
        _("Clock paused."),
    )


@login_required
@require_POST
def resume(request: Any, pk: int) -> Any:
    fb = _feedback(request, pk)
    return _run(request, fb, lambda: clocks.resume_clock(fb, by=request.user), _("Clock resumed."))


@login_required
@require_POST
def milestone(request: Any, pk: int) -> Any:
    fb = _feedback(request, pk)
    return _run(
        request,
        fb,
        lambda: clocks.record_milestone(
            fb,
            by=request.user,
            version=request.POST.get("version"),
            milestone=request.POST.get("milestone", ""),
            at=_at(request.POST.get("at", "")),
        ),
        _("Recorded."),
    )


@login_required
@require_POST
def notice_acknowledge(request: Any, pk: int) -> Any:
    notice = get_object_for_user(
        request.user, ProblemNotice.objects.select_related("feedback"), pk=pk
    )
    return _run(
        request,
        notice,
        lambda: routing.acknowledge_notice(
            notice, by=request.user, version=request.POST.get("version")
        ),
        _("Notice acknowledged."),
    )


@login_required
@require_POST
def notice_answer(request: Any, pk: int) -> Any:
    notice = get_object_for_user(
        request.user, ProblemNotice.objects.select_related("feedback"), pk=pk
    )
    return _run(
        request,
        notice,
        lambda: routing.answer_notice(
            notice,
            by=request.user,
            version=request.POST.get("version"),
            response=request.POST.get("response", ""),
        ),
        _("Answer sent."),
    )
