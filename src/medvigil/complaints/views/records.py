"""The feedback list (a RecordList declaration) and the record page ({% record_panels %})."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, QuerySet
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from medvigil.accounts.models import Department
from medvigil.core.permissions import get_object_for_user
from medvigil.core.records.lists import Column, Filter, RecordList
from medvigil.trace.models import Product

from ..models import (
    CONTACT_PERM,
    PATIENT_PERM,
    Category,
    ClockPause,
    Feedback,
    Kind,
    Party,
    ProblemNotice,
    Severity,
    Want,
)
from ..rules import rule_by_code
from ..services.clocks import clocks_for, next_due_stored

MASK = "***"


class _DbChoices:
    """Filter choices read from the database when the list is shown (products, departments)."""

    def __init__(self, rows: Any) -> None:
        self.rows = rows

    def _all(self) -> list[tuple[str, Any]]:
        return [("", _("All")), *self.rows()]

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __getitem__(self, i: Any) -> Any:
        return self._all()[i]


def _products() -> list[tuple[str, Any]]:
    return [
        (str(pk), f"{code} {name}")
        for pk, code, name in Product.objects.order_by("code").values_list("pk", "code", "name")
    ]


def _departments() -> list[tuple[str, Any]]:
    return [(d.code, str(d)) for d in Department.objects.filter(active=True)]


def _due(o: Feedback) -> str:
    c = next_due_stored(o)
    return c.due_at.isoformat() if c and c.due_at else ""


class FeedbackList(RecordList):
    model = Feedback
    template = "complaints/feedback_list.html"
    table_template = "complaints/_feedback_table.html"
    search_fields = ("number", "title", "complainant_organisation", "device_text", "udi_text")
    filters = (
        Filter("status", _("Status"), [("", _("All")), *Feedback.Status.choices]),
        Filter("kind", _("Kind"), [("", _("All")), *Kind.choices]),
        Filter("category", _("Category"), [("", _("All")), *Category.choices]),
        Filter("severity", _("Severity"), [("", _("All")), *Severity.choices]),
        Filter("product", _("Product"), _DbChoices(_products), field="product_id"),  # type: ignore[arg-type]
        Filter("department", _("Department"), _DbChoices(_departments), field="department__code"),  # type: ignore[arg-type]
    )
    columns = {
        "number": Column(_("Number"), lambda o: o.number, sort="number"),
        "received": Column(_("Received"), lambda o: o.received_at.isoformat(), sort="received_at"),
        "kind": Column(_("Kind"), lambda o: o.get_kind_display(), sort="kind"),
        "title": Column(_("Subject"), lambda o: o.title, sort="title"),
        "organisation": Column(_("Organisation"), lambda o: o.complainant_organisation),
        "product": Column(
            _("Product"), lambda o: str(o.product) if o.product_id else o.device_text
        ),
        "category": Column(_("Category"), lambda o: o.get_category_display()),
        "severity": Column(_("Severity"), lambda o: o.get_severity_display(), sort="severity"),
        "department": Column(
            _("Department"), lambda o: str(o.department) if o.department_id else ""
        ),
        "status": Column(_("Status"), lambda o: o.get_status_display(), sort="status"),
        "due": Column(_("Next due"), _due),
    }
    default_sort = "-received_at"
    export_name = "feedback"
    export_perm = "complaints.export_feedback"

    def queryset(self) -> QuerySet:
        return (
            super()
            .queryset()
            .select_related("product", "department")
            .prefetch_related(
                Prefetch("pauses", queryset=ClockPause.objects.order_by("started_at"))
            )
        )

    def extra_context(self, page: Any) -> dict[str, Any]:
        now = timezone.now()
        rows = []
        for o in page:
            nxt = next_due_stored(o, now=now)
            rows.append((o, nxt, nxt.state(now) if nxt else ""))
        return {"rows": rows, "may_add": self.user.has_perm("complaints.add_feedback")}


feedback_list = FeedbackList.as_view()


@login_required
@require_GET
def feedback_detail(request: Any, pk: int) -> Any:
    qs = Feedback.objects.select_related(
        "product",
        "lot",
        "unit",
        "customer",
        "end_user",
        "dealer",
        "department",
        "owner",
        "received_by",
    ).prefetch_related(
        Prefetch(
            "pauses",
            queryset=ClockPause.objects.select_related("started_by", "ended_by").order_by(
                "started_at"
            ),
        ),
        Prefetch(
            "notices",
            queryset=ProblemNotice.objects.select_related("department", "acknowledged_by").order_by(
                "id"
            ),
        ),
    )
    obj = get_object_for_user(request.user, qs, pk=pk)
    user = request.user
    now = timezone.now()
    contact = user.has_perm(CONTACT_PERM)
    patient = user.has_perm(PATIENT_PERM)
    masked = {
        name: (getattr(obj, name) if contact or not getattr(obj, name) else MASK)
        for name in Feedback.CONTACT_FIELDS
    }
    masked["patient_details"] = obj.patient_details if patient or not obj.patient_details else MASK
    clocks = [(c, c.state(now)) for c in clocks_for(obj, now=now)]
    rules = [r for code in obj.severity_reasons if (r := rule_by_code(code))]
    may_change = user.has_perm("complaints.change_feedback")
    ctx = {
        "obj": obj,
        "masked": masked,
        "clocks": clocks,
        "rules": rules,
        "notices": list(obj.notices.all()),
        "pauses": list(obj.pauses.all()),
        "paused": obj.is_paused,
        "may_change": may_change and obj.is_open,
        "may_pause": user.has_perm("complaints.add_clockpause") and obj.is_open,
        "may_resume": user.has_perm("complaints.change_clockpause"),
        "departments": Department.objects.filter(active=True),
        "severities": Severity.choices,
        "user_department": getattr(user, "department_id", None),
    }
    ctx["wants"] = [Want(w).label for w in obj.customer_wants if w in Want.values]
    ctx["parties"] = [Party(p).label for p in obj.outside_parties if p in Party.values]
    return render(request, "complaints/feedback_detail.html", ctx)
