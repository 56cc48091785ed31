"""FBK-3/FBK-8: severity, routing to the owning department, customer problem notices.

The category decides the owning department (CategoryRoute, defaults in rules.DEFAULT_ROUTES);
the owning department and the route's `notify` departments each get a customer problem notice
(顾客问题通知单), which the department acknowledges from "My work" and answers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from medvigil.accounts.models import Department, User
from medvigil.core.audit import audit_context
from medvigil.core.i18n import gettext_msg
from medvigil.core.notifications.services import notify
from medvigil.core.permissions import require

from ..models import CategoryRoute, Feedback, ProblemNotice, Severity
from ..rules import DEFAULT_ROUTES
from ..rules import propose_severity as _propose

CHANGE_PERM = "complaints.change_feedback"
NOTICE_PERM = "complaints.change_problemnotice"
QUALITY_DEPARTMENT = "quality"


def propose_severity(feedback: Feedback) -> tuple[str, list[str]]:
    """The severity the rules (rules.SEVERITY_RULES) propose and the codes of the rules that
    fired."""
    return _propose(feedback)


def set_severity(
    feedback: Feedback, *, by: Any, version: Any, severity: str, reason: str = ""
) -> Feedback:
    """Set the final severity; differing from the proposed one needs a reason, kept on the
    record and in the audit entry (FBK-3)."""
    require(by, CHANGE_PERM)
    if severity not in Severity.values:
        raise ValidationError({"severity": _("Choose a severity from the list.")})
    with transaction.atomic(), audit_context(actor=by, reason=reason.strip() or None):
        obj = Feedback.objects.select_for_update().get(pk=feedback.pk)
        obj.check_version(version)
        if not obj.is_complaint or not obj.is_open:
            raise ValidationError(_("Only an open complaint has a severity to set."))
        was_serious = obj.is_serious
        obj.severity = severity
        obj.severity_override_reason = reason.strip() if severity != obj.severity_proposed else ""
        obj.full_clean()
        if obj.is_serious and not was_serious:
            from .clocks import alert_on_call

            alert_on_call(obj, save=False)
        obj.save()
    return obj


def ensure_routes() -> None:
    """Create the default routes for categories that have none (an administrator's edits are
    kept). Called on migrate and before routing."""
    existing = set(CategoryRoute.objects.values_list("category", flat=True))
    missing = [r for r in DEFAULT_ROUTES if r.category not in existing]
    if not missing:
        return
    depts = {d.code: d for d in Department.objects.all()}
    with transaction.atomic(), audit_context(source="defaults"):
        for r in missing:
            if r.department not in depts:
                continue
            route = CategoryRoute.objects.create(
                category=r.category, department=depts[r.department], citation=r.citation[:300]
            )
            route.notify.set([depts[c] for c in r.notify if c in depts])


def route_for(category: str) -> CategoryRoute | None:
    ensure_routes()
    return (
        CategoryRoute.objects.select_related("department")
        .prefetch_related("notify")
        .filter(category=category)
        .first()
    )


def route_feedback(
    feedback: Feedback,
    *,
    by: Any,
    version: Any,
    department: Department | None = None,
    system: bool = False,
) -> Feedback:
    """Route a complaint to its owning department (the given one, else its category's route),
    send the customer problem notices and stamp `routed_at` (FBK-4: within 30 minutes of
    receipt). A record without an owner (public form, mailbox) is owned by who routes it.
    `system`: routed by the category rule as part of registering (intake, the public form, the
    mailbox), covered by the registering permission; else change_feedback is needed."""
    if not system:
        require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by):
        obj = Feedback.objects.select_for_update().get(pk=feedback.pk)
        obj.check_version(version)
        route = route_for(obj.category) if obj.category else None
        dept = department or (route.department if route else None)
        if dept is None:
            raise ValidationError(
                {"department": _("No department is set up for this category; choose one.")}
            )
        obj.department = dept
        if not obj.can_route():
            raise ValidationError(_("Give the complaint's category and severity to route it."))
        now = timezone.now()
        obj.status = Feedback.Status.ROUTED
        obj.routed_at = now
        if obj.owner_id is None and by is not None:
            # feedback that came in by itself (public form, mailbox): who routes it owns it,
            # so its clocks show in their "My work" and alert them (FBK-4)
            obj.owner = by
        targets = [dept, *(route.notify.all() if route else [])]
        if obj.is_quality_complaint and any(d.code == QUALITY_DEPARTMENT for d in targets):
            obj.quality_received_at = obj.quality_received_at or now
        obj.save()
        send_problem_notices(obj, by=by, departments=targets, system=system)
    return obj


def _department_users(dept: Department) -> list[Any]:
    return list(User.objects.filter(department=dept, is_active=True))


def send_problem_notices(
    feedback: Feedback,
    *,
    by: Any,
    departments: Iterable[Department] | None = None,
    request: str = "",
    system: bool = False,
) -> list[ProblemNotice]:
    """A customer problem notice (顾客问题通知单) to each responsible department that has none
    yet (FBK-8), each department's users notified. Default departments: the owning one."""
    if not system:
        require(by, "complaints.add_problemnotice")
    depts = list(departments) if departments is not None else [feedback.department]
    created: list[ProblemNotice] = []
    with transaction.atomic(), audit_context(actor=by):
        have = set(
            ProblemNotice.objects.filter(feedback=feedback)
            .exclude(status=ProblemNotice.Status.VOIDED)
            .values_list("department_id", flat=True)
        )
        for dept in depts:
            if dept is None or dept.pk in have:
                continue
            have.add(dept.pk)
            notice = ProblemNotice(
                feedback=feedback,
                department=dept,
                request=request or feedback.title,
                created_by=by,
            )
            notice.assign_number()
            notice.full_clean()
            notice.save()
            created.append(notice)
            notify(
                _department_users(dept),
                gettext_msg(gettext_noop("Customer problem notice %(number)s"))
                % {"number": notice.number},
                feedback.title,
                url=feedback.get_absolute_url(),
                level="warning"
                if feedback.severity in (Severity.MAJOR, Severity.SERIOUS)
                else "info",
            )
    return created


def acknowledge_notice(notice: ProblemNotice, *, by: Any, version: Any) -> ProblemNotice:
    """The department acknowledges the notice (from "My work"); only a member of that
    department may. A quality notice on a quality complaint marks its arrival (FBK-4)."""
    require(by, NOTICE_PERM)
    with transaction.atomic(), audit_context(actor=by):
        obj = (
            ProblemNotice.objects.select_for_update().select_related("department").get(pk=notice.pk)
        )
        obj.check_version(version)
        if not obj.can_acknowledge(by):
            raise ValidationError(
                _("Only a member of %(dept)s can acknowledge this notice, once.")
                % {"dept": obj.department}
            )
        obj.status = ProblemNotice.Status.ACKNOWLEDGED
        obj.acknowledged_at = timezone.now()
        obj.acknowledged_by = by
        obj.save()
    return obj


def answer_notice(notice: ProblemNotice, *, by: Any, version: Any, response: str) -> ProblemNotice:
    """The department's answer to the notice (what it found and will do)."""
    require(by, NOTICE_PERM)
    with transaction.atomic(), audit_context(actor=by):
        obj = ProblemNotice.objects.select_for_update().get(pk=notice.pk)
        obj.check_version(version)
        if getattr(by, "department_id", None) != obj.department_id:
            raise ValidationError(_("Only a member of the department can answer its notice."))
        obj.response = (response or "").strip()
        if not obj.can_answer():
            raise ValidationError({"response": _("Write the department's answer.")})
        obj.status = ProblemNotice.Status.ANSWERED
        obj.answered_at = timezone.now()
        obj.save()
    return obj
