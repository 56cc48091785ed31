from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from .records.render import Cell, esc, link, table_rows
from .registry import WorkItem, work_for


def work_rows(items: list[WorkItem], now: dt.datetime | None = None) -> SafeString:
    """The rows of "My work" (item with its detail, type, due time marked overdue or due
    soon), built in Python (records.render: a hundred items through the template language
    were a third of the page's time)."""
    now = now or timezone.now()
    soon = now + dt.timedelta(hours=24)
    overdue = f" · {esc(gettext('overdue'))}"

    def item(w: WorkItem) -> str:
        if not w.detail:
            return link(w.url, w.title)
        return f'{link(w.url, w.title)}<div class="small text-body-secondary">{esc(w.detail)}</div>'

    def due(w: WorkItem) -> str:
        if w.due is None:
            return "—"
        text = f"{timezone.localtime(w.due):%Y-%m-%d %H:%M}"
        return text + overdue if w.due < now else text

    def state(w: WorkItem) -> str:
        if w.due is None:
            return ""
        return "due-overdue" if w.due < now else "due-soon" if w.due < soon else ""

    return table_rows(items, [Cell(item), Cell(lambda w: esc(w.kind)), Cell(due, css=state)])


@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """My work: what is assigned to me, soonest due first (domain apps add their items)."""
    items = work_for(request.user)
    return render(request, "core/home.html", {"items": items, "rows": work_rows(items)})
