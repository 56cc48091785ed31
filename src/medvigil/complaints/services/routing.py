"""FBK-3/FBK-8: severity, routing to the owning department, customer problem notices.

The category decides the owning department (CategoryRoute, defaults in rules.DEFAULT_ROUTES);
the owning department and the route's `notify` departments each get a customer problem notice
(顾客问题通知单), which the department acknowledges from "My work" and answers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from medvigil.accounts.models import Department, User
from medvigil.core.audit import audit_context
from medvigil.core.audit.context import current_context
from medvigil.core.i18n import gettext_msg
from medvigil.core.notifications.services import notify_each
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


@dataclass(frozen=True)
class RoutePlan:
    """Where a complaint goes (FBK-3/8): the owning department and every department that gets
    a problem notice, with their active users (read before the routing transaction)."""

    department: Department
    targets: tuple[Department, ...]
    users: dict[int, list[Any]]


def _columns(model: type[Any], alias: str) -> tuple[list[str], str, Any]:
    """The attnames of `model`'s concrete fields, their columns as `alias`.column, … and a
    function that turns the selected values into field values (the database's converters,
    as the ORM applies them: SQLite's booleans and dates, for one)."""
    qn = connection.ops.quote_name
    fields = model._meta.concrete_fields
    converters = []
    for i, f in enumerate(fields):
        col = f.get_col(model._meta.db_table)
        fns = connection.ops.get_db_converters(col) + f.get_db_converters(connection)
        if fns:
            converters.append((i, col, fns))

    def convert(values: list[Any], conn: Any) -> list[Any]:
        for i, col, fns in converters:
            for fn in fns:
                values[i] = fn(values[i], col, conn)
        return values

    cols = ", ".join(f"{alias}.{qn(f.column)}" for f in fields)
    return [f.attname for f in fields], cols, convert


@lru_cache(maxsize=4)
def _directory_query(vendor: str) -> tuple[str, tuple[Any, ...], tuple[Any, ...]]:
    """_route_directory's SQL and, for the department and the user, (attnames, converter)
    — built once per database vendor."""
    qn = connection.ops.quote_name
    route_t = qn(CategoryRoute._meta.db_table)
    through = CategoryRoute.notify.through._meta
    notify_t = qn(through.db_table)
    n_route = qn(through.get_field("categoryroute").column)
    n_dept = qn(through.get_field("department").column)
    dept_names, dept_cols, dept_convert = _columns(Department, "d")
    user_names, user_cols, user_convert = _columns(User, "u")
    sql = (
        f"SELECT t.pos, {dept_cols}, {user_cols} FROM ("
        f"SELECT r.{qn('department_id')} AS dept_id, 0 AS pos FROM {route_t} r "
        f"WHERE r.{qn('category')} = %s "
        f"UNION ALL SELECT n.{n_dept}, 1 FROM {notify_t} n "
        f"JOIN {route_t} r ON r.{qn('id')} = n.{n_route} WHERE r.{qn('category')} = %s"
        f") t JOIN {qn(Department._meta.db_table)} d ON d.{qn('id')} = t.dept_id "
        f"LEFT JOIN {qn(User._meta.db_table)} u ON u.{qn('department_id')} = d.{qn('id')} "
        f"AND u.{qn('is_active')} = %s "
        f"ORDER BY t.pos, d.{qn('code')}, d.{qn('id')}, u.{qn('id')}"
    )
    return sql, (dept_names, dept_convert), (user_names, user_convert)


def _route_directory(category: str) -> list[tuple[Department, bool, list[Any]]] | None:
    """The category's route in ONE query: its owning department first, then the notified
    ones (in Department order), each with its active users (by key) — what the route with
    its department, its notify list and _department_users took three queries for. None when
    the category has no route."""
    sql, (dept_names, dept_convert), (user_names, user_convert) = _directory_query(
        connection.vendor
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [category, category, True])
        rows = cursor.fetchall()
    if not rows:
        return None
    out: list[tuple[Department, bool, list[Any]]] = []
    n_dept_cols = len(dept_names)
    db = connection.alias
    for pos, *values in rows:
        dept_values, user_values = values[:n_dept_cols], values[n_dept_cols:]
        if not out or out[-1][0].pk != dept_values[0] or out[-1][1] != (pos == 0):
            dept = Department.from_db(db, dept_names, dept_convert(dept_values, connection))
            out.append((dept, pos == 0, []))
        if user_values[0] is not None:
            user = User.from_db(db, user_names, user_convert(user_values, connection))
            out[-1][2].append(user)
    return out


def plan_route(feedback: Feedback, *, department: Department | None = None) -> RoutePlan:
    """The owning department (the given one, else the category's route) and the notified
    ones, with their users: one query (_route_directory). Raises ValidationError when no
    department is set up for the category."""
    directory = _route_directory(feedback.category) if feedback.category else None
    if directory is None and feedback.category:
        ensure_routes()  # the defaults are created on migrate; a category added since
        directory = _route_directory(feedback.category)
    directory = directory or []
    dept = department or next((d for d, owning, _u in directory if owning), None)
    if dept is None:
        raise ValidationError(
            {"department": _("No department is set up for this category; choose one.")}
        )
    users = {d.pk: u for d, _owning, u in directory}
    if dept.pk not in users:  # a department given by hand that the route does not name
        users.update(_department_users([dept]))
    targets: list[Department] = []
    for d in [dept, *(d for d, owning, _u in directory if not owning)]:
        if d.pk not in {t.pk for t in targets}:
            targets.append(d)
    return RoutePlan(dept, tuple(targets), {t.pk: users[t.pk] for t in targets})


def apply_route(obj: Feedback, plan: RoutePlan, now: Any) -> None:
    """Set the owning department and the routed state on the record (not saved)."""
    obj.department = plan.department
    if not obj.can_route():
        raise ValidationError(_("Give the complaint's category and severity to route it."))
    obj.status = Feedback.Status.ROUTED
    obj.routed_at = now
    if obj.is_quality_complaint and any(d.code == QUALITY_DEPARTMENT for d in plan.targets):
        obj.quality_received_at = obj.quality_received_at or now


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
    mailbox; register_feedback routes a new record before saving it, with plan_route and
    apply_route), covered by the registering permission; else change_feedback is needed."""
    if not system:
        require(by, CHANGE_PERM)
    with transaction.atomic(), audit_context(actor=by):
        obj = Feedback.objects.select_for_update().get(pk=feedback.pk)
        obj.check_version(version)
        plan = plan_route(obj, department=department)
        apply_route(obj, plan, timezone.now())
        if obj.owner_id is None and by is not None:
            # feedback that came in by itself (public form, mailbox): who routes it owns it,
            # so its clocks show in their "My work" and alert them (FBK-4)
            obj.owner = by
        obj.save()
        send_problem_notices(obj, by=by, plan=plan, system=system)
    return obj


def _department_users(depts: Iterable[Department]) -> dict[int, list[Any]]:
    """The active users of each department, in one query."""
    ids = {d.pk for d in depts if d is not None}
    out: dict[int, list[Any]] = {pk: [] for pk in ids}
    if ids:
        for u in User.objects.filter(department_id__in=ids, is_active=True).order_by("pk"):
            out[u.department_id].append(u)
    return out


def send_problem_notices(
    feedback: Feedback,
    *,
    by: Any,
    departments: Iterable[Department] | None = None,
    request: str = "",
    system: bool = False,
    plan: RoutePlan | None = None,
    new: bool = False,
    extra_messages: Iterable[tuple[Any, Any, Any, str, str]] = (),
    notify_after_commit: bool = False,
) -> list[ProblemNotice]:
    """A customer problem notice (顾客问题通知单) to each responsible department that has none
    yet (FBK-8), each department's users notified. Default departments: the plan's targets,
    else the owning one. Set-based: the notices take their numbers with one increment, are
    inserted (with their audit entries) together, and every notification — with
    `extra_messages` (as core.notifications.notify_each takes them) — in one INSERT. `new`:
    the feedback was created in this transaction (it has no notices yet).
    `notify_after_commit` (without `extra_messages`): the notifications are written once the
    transaction has committed (transaction.on_commit), not while it holds its locks; a crash
    in between loses the in-app message and its e-mail, not the notice, which the
    department finds in its "My work" queue all the same."""
    if not system:
        require(by, "complaints.add_problemnotice")
    depts: list[Department | None]
    if departments is not None:
        depts = list(departments)
    elif plan is not None:
        depts = list(plan.targets)
    else:
        depts = [feedback.department]
    with transaction.atomic(savepoint=False), audit_context(actor=by):
        have: set[int] = set()
        if not new:
            have = set(
                ProblemNotice.objects.filter(feedback=feedback)
                .exclude(status=ProblemNotice.Status.VOIDED)
                .values_list("department_id", flat=True)
            )
        todo: list[Department] = []
        for dept in depts:
            if dept is None or dept.pk in have:
                continue
            have.add(dept.pk)
            todo.append(dept)
        created: list[ProblemNotice] = []
        if todo:
            users = plan.users if plan is not None else {}
            if any(d.pk not in users for d in todo):
                users = {**users, **_department_users(d for d in todo if d.pk not in users)}
            # as CreatedByMixin.save would: the caller, else the audit context's actor
            creator = by if by is not None else current_context().actor
            if getattr(creator, "pk", None) is None:
                creator = None
            created = [
                ProblemNotice(
                    feedback=feedback,
                    department=dept,
                    request=request or feedback.title,
                    created_by=creator,
                )
                for dept in todo
            ]
            for notice in created:
                # the keys are objects in hand and `have` answers the one-per-department rule
                notice.full_clean(
                    exclude=["feedback", "department", "created_by", "number"],
                    validate_unique=False,
                    validate_constraints=False,
                )
            for notice, number in zip(
                created, ProblemNotice.next_numbers(len(created)), strict=True
            ):
                notice.number = number
            created = ProblemNotice.objects.bulk_create(created, savepoint=False)
        level = "warning" if feedback.severity in (Severity.MAJOR, Severity.SERIOUS) else "info"
        extra = list(extra_messages)
        messages = [
            *(
                (
                    users[n.department_id],
                    gettext_msg(gettext_noop("Customer problem notice %(number)s"))
                    % {"number": n.number},
                    feedback.title,
                    feedback.get_absolute_url(),
                    level,
                )
                for n in created
            ),
            *extra,
        ]
        if notify_after_commit and not extra:
            transaction.on_commit(partial(notify_each, messages))
        else:
            notify_each(messages)
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
