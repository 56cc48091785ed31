"""SVC-3 pages: the dispatch board (open requests by arrival due, engineers' load) and the
engineer qualifications (a RecordList, create and edit pages)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from medvigil.core.permissions import get_object_for_user
from medvigil.core.records.lists import Column, Filter, RecordList, parse_id
from medvigil.core.records.views import create_record
from medvigil.core.records.views import edit_record as _edit_record

from ..forms import QualificationForm
from ..models import EngineerQualification
from ..services import clocks, dispatching

DISPATCH_PERM = "service.dispatch_servicerequest"
# the board shows the most urgent open requests (by arrival due); all of them are in the
# request list. On the loaded 2-core VM 300 rows took ~0.7 s to render, 100 rows ~0.27 s
# (docs/benchmarks.md).
BOARD_ROWS = 50


@login_required
@require_GET
def dispatch_board(request: Any) -> Any:
    """Open requests, the most urgent arrival first, and the engineers with their open work
    orders and the products they are qualified for today."""
    if not request.user.has_perm(DISPATCH_PERM):
        raise PermissionDenied
    now = timezone.now()
    rows = []
    open_qs = dispatching.open_requests(request.user)
    for sr in open_qs[:BOARD_ROWS]:
        nxt = clocks.next_due(sr, now=now)
        due = f"{timezone.localtime(nxt.due_at):%m-%d %H:%M}" if nxt and nxt.due_at else ""
        rows.append((sr, nxt, nxt.state(now) if nxt else "", due))
    return render(
        request,
        "service/dispatch_board.html",
        {
            "rows": rows,
            "open_count": open_qs.count() if len(rows) == BOARD_ROWS else len(rows),
            "engineers": dispatching.engineers_load(request.user),
        },
    )


def _validity(q: EngineerQualification) -> str:
    today = timezone.localdate()
    if q.valid_on(today):
        return str(_("valid"))
    if q.passed_on is None:
        return str(_("not passed"))
    if q.expires_on and q.expires_on < today:
        return str(_("expired"))
    return str(_("not valid"))


class QualificationList(RecordList):
    model = EngineerQualification
    template = "service/qualification_list.html"
    table_template = "service/_qualification_table.html"
    search_fields = ("engineer__username", "engineer__display_name", "product__code", "certificate")
    filters = (
        Filter(
            "engineer",
            gettext_lazy("Engineer"),
            parse=parse_id,
            widget="hidden",
            field="engineer_id",
        ),
    )
    columns = {
        "engineer": Column(gettext_lazy("Engineer"), lambda q: q.engineer.printed_name),
        "product": Column(gettext_lazy("Product"), lambda q: str(q.product)),
        "dealer": Column(gettext_lazy("Dealer"), lambda q: str(q.dealer) if q.dealer_id else ""),
        "trained": Column(
            gettext_lazy("Trained"), lambda q: q.trained_on.isoformat(), sort="trained_on"
        ),
        "passed": Column(
            gettext_lazy("Passed"), lambda q: q.passed_on.isoformat() if q.passed_on else ""
        ),
        "expires": Column(
            gettext_lazy("Expires"),
            lambda q: q.expires_on.isoformat() if q.expires_on else "",
            sort="expires_on",
        ),
        "valid": Column(gettext_lazy("Valid today"), _validity),
    }
    default_sort = "expires_on"
    export_name = "engineer-qualifications"

    def queryset(self) -> QuerySet:
        return super().queryset().select_related("engineer", "product", "dealer")

    def extra_context(self, page: Any) -> dict[str, Any]:
        return {
            "rows": [(q, _validity(q)) for q in page],
            "may_add": self.user.has_perm("service.add_engineerqualification"),
        }


qualification_list = QualificationList.as_view()


@login_required
@require_http_methods(["GET", "POST"])
def qualification_new(request: Any) -> Any:
    if not request.user.has_perm("service.add_engineerqualification"):
        raise PermissionDenied
    from django.urls import reverse

    form = QualificationForm(request.POST or None, user=request.user)
    return create_record(
        request,
        form,
        dispatching.add_qualification,
        lambda q: _("Qualification recorded."),
        _("Record an engineer qualification"),
        cancel=reverse("service:qualification_list"),
        values=lambda f: dict(f.cleaned_data.items()),
        next_url=lambda q: reverse("service:qualification_list"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def qualification_edit(request: Any, pk: int) -> Any:
    from medvigil.core.records.forms import VersionedModelForm

    obj = get_object_for_user(request.user, EngineerQualification, "change", pk=pk)

    class Form(VersionedModelForm):
        class Meta:
            model = EngineerQualification
            fields = ["passed_on", "score", "expires_on", "certificate", "withdrawn", "notes"]

    from django import forms as djforms

    for name in ("passed_on", "expires_on"):
        Form.base_fields[name].widget = djforms.DateInput(attrs={"type": "date"})
    form = Form(request.POST or None, instance=obj)
    return _edit_record(
        request,
        obj,
        form,
        dispatching.update_qualification,
        lambda q: _("Qualification saved."),
        _("Edit qualification"),
    )
