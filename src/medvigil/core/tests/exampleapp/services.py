"""Place 3 of 5: every state change (the page, the API and the importer call these), the
"My work" provider, the deadline source, the demo loader and the importer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from medvigil.core.audit import audit_context
from medvigil.core.calendar.deadlines import Deadline
from medvigil.core.documents import render_pdf
from medvigil.core.imports import Column, Importer, register
from medvigil.core.permissions import require, scope_for_user
from medvigil.core.records.issued import check_editable, issue_document
from medvigil.core.registry import WorkItem

from .models import Inspection, InspectionReport


def create_inspection(*, by: Any, title: str, owner: Any = None, **fields: Any) -> Inspection:
    require(by, "exampleapp.add_inspection")
    with transaction.atomic(), audit_context(actor=by):
        obj = Inspection(title=title, owner=owner or by, **fields)
        obj.assign_number()
        obj.full_clean()
        obj.save()
    return obj


def update_inspection(obj: Inspection, *, by: Any, version: Any, **fields: Any) -> Inspection:
    """Change the editable fields of the version the user read (a stale one: ConflictError)."""
    require(by, "exampleapp.change_inspection")
    with transaction.atomic(), audit_context(actor=by):
        obj = Inspection.objects.select_for_update().get(pk=obj.pk)
        obj.check_version(version)
        for name, value in fields.items():
            setattr(obj, name, value)
        obj.full_clean()
        obj.save()
    return obj


def close_inspection(obj: Inspection, *, by: Any, conclusion: str) -> Inspection:
    require(by, "exampleapp.change_inspection")
    with transaction.atomic(), audit_context(actor=by, reason=conclusion):
        obj = Inspection.objects.select_for_update().get(pk=obj.pk)
        obj.conclusion = conclusion
        if not obj.can_close():
            raise ValidationError({"conclusion": "Give a conclusion to close an open inspection."})
        obj.status = Inspection.Status.CLOSED
        obj.save()
    return obj


def void_inspection(obj: Inspection, *, by: Any, reason: str) -> Inspection:
    require(by, "exampleapp.change_inspection")
    with transaction.atomic(), audit_context(actor=by, reason=reason):
        obj = Inspection.objects.select_for_update().get(pk=obj.pk)
        obj.mark_voided(reason)
        obj.save()
    return obj


def my_inspections(user: Any) -> list[WorkItem]:
    qs = scope_for_user(user, Inspection).filter(owner=user, status=Inspection.Status.OPEN)
    return [
        WorkItem(title=str(i), url=i.get_absolute_url(), kind="inspection", due=i.due_at)
        for i in qs[:50]
    ]


def inspection_deadlines(now: dt.datetime) -> Iterable[Deadline]:
    for i in Inspection.objects.filter(status=Inspection.Status.OPEN, due_at__isnull=False):
        assert i.due_at is not None
        yield Deadline(
            key=f"exampleapp:inspection:{i.pk}",
            title=i.number,
            url=i.get_absolute_url(),
            due_at=i.due_at,
            users=[i.owner] if i.owner else [],
        )


def load_demo() -> None:
    from medvigil.accounts.models import User

    owner = User.objects.filter(username="quality").first()
    if owner is None or Inspection.objects.exists():
        return
    inspection = create_inspection(
        by=owner, title="Demo inspection", due_at=timezone.now() + dt.timedelta(days=3)
    )
    draft_report(inspection, by=owner, text="Demo report")


@register
class InspectionImporter(Importer):
    kind = "exampleapp_inspection"
    label = gettext_lazy("Inspections (example)")
    permission = "exampleapp.add_inspection"
    model = Inspection
    columns = [Column("title", "Title", "标题", required=True, max_length=200)]

    def save_rows(self, items: list[Any], progress: Any) -> int:
        for n, item in enumerate(items, 1):
            create_inspection(by=self.user, title=item.title)
            progress(n)
        return len(items)


# --- the inspection report: an issued document (core.records.issued) ------------------------


def draft_report(inspection: Inspection, *, by: Any, text: str) -> InspectionReport:
    require(by, "exampleapp.add_inspectionreport")
    with transaction.atomic(), audit_context(actor=by):
        obj = InspectionReport(inspection=inspection, text=text)
        obj.assign_number()
        obj.full_clean()
        obj.save()
    return obj


def update_report(obj: InspectionReport, *, by: Any, version: Any, text: str) -> InspectionReport:
    require(by, "exampleapp.change_inspectionreport")
    with transaction.atomic(), audit_context(actor=by):
        obj = InspectionReport.objects.select_for_update().get(pk=obj.pk)
        obj.check_version(version)
        check_editable(obj)
        obj.text = text
        obj.save()
    return obj


def report_pdf(obj: InspectionReport, *, user: Any) -> bytes:
    return render_pdf(
        "exampleapp/report_pdf.html", {"report": obj}, record=obj, title="Report", user=user
    )


def issue_report(
    obj: InspectionReport, *, by: Any, password: str, request: Any = None, comment: str = ""
) -> InspectionReport:
    return issue_document(  # type: ignore[no-any-return]
        obj,
        render=report_pdf,
        by=by,
        password=password,
        perm="exampleapp.change_inspectionreport",
        description="Issued inspection report",
        request=request,
        comment=comment,
        reason="Report issued",
    )
