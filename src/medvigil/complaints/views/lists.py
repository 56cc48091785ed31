"""The list pages of the records that hang from a feedback: customer problem notices (FBK-8:
what each department has to acknowledge and answer) and 8D reports."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from medvigil.core.records.lists import Column, Filter, RecordList

from ..models import EightDReport, ProblemNotice


def _mine(qs: QuerySet, value: str, user: Any) -> QuerySet:
    return qs.filter(department_id=getattr(user, "department_id", None))


class NoticeList(RecordList):
    model = ProblemNotice
    template = "complaints/notice_list.html"
    table_template = "complaints/_notice_table.html"
    search_fields = ("number", "feedback__number", "feedback__title")
    filters = (
        Filter("status", _("Status"), [("", _("All")), *ProblemNotice.Status.choices]),
        Filter("mine", _("Department"), [("", _("All")), ("1", _("My department"))], apply=_mine),
    )
    columns = {
        "number": Column(_("Number"), lambda o: o.number, sort="number"),
        "feedback": Column(_("Complaint"), lambda o: o.feedback.number),
        "title": Column(_("Subject"), lambda o: o.feedback.title),
        "department": Column(_("Department"), lambda o: str(o.department)),
        "status": Column(_("Status"), lambda o: o.get_status_display(), sort="status"),
        "created": Column(_("Sent"), lambda o: o.created_at.isoformat(), sort="created_at"),
    }
    default_sort = "-created_at"
    export_name = "problem-notices"

    def queryset(self) -> QuerySet:
        return super().queryset().select_related("feedback", "department")


class EightDList(RecordList):
    model = EightDReport
    template = "complaints/eightd_list.html"
    table_template = "complaints/_eightd_table.html"
    search_fields = ("number", "feedback__number", "feedback__title")
    filters = (Filter("status", _("Status"), [("", _("All")), *EightDReport.Status.choices]),)
    columns = {
        "number": Column(_("Number"), lambda o: o.number, sort="number"),
        "feedback": Column(_("Complaint"), lambda o: o.feedback.number),
        "title": Column(_("Subject"), lambda o: o.feedback.title),
        "language": Column(_("Language"), lambda o: o.get_language_display()),
        "status": Column(_("Status"), lambda o: o.get_status_display(), sort="status"),
    }
    default_sort = "-number"
    export_name = "8d-reports"

    def queryset(self) -> QuerySet:
        return super().queryset().select_related("feedback")


notice_list = NoticeList.as_view()
eightd_list = EightDList.as_view()
