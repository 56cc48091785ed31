"""PDF downloads of the trace pages: the forward-trace report (TRC-7) and the drill report
(TRC-8). Same permissions and the same filtering as the page and its CSV/XLSX exports."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET

from medvigil.core.documents import pdf_response
from medvigil.core.permissions import get_object_for_user, permission_required

from .documents import drill_pdf, forward_trace_filename, forward_trace_pdf
from .exports import EXPORT_PERM
from .models import TraceDrill
from .queries import forward_trace
from .views_trace import forward_criteria


@permission_required("trace.view_unit")
@require_GET
def trace_forward_pdf(request: HttpRequest) -> HttpResponse:
    """The forward trace of the form's criteria as a PDF (perm trace.export_trace, like the
    CSV/XLSX exports). Invalid criteria go back to the trace page, which shows the errors."""
    if not request.user.has_perm(EXPORT_PERM):
        raise PermissionDenied
    _form, criteria = forward_criteria(request)
    if criteria is None:
        query = request.GET.urlencode()
        return redirect(reverse("trace:trace_forward") + (f"?{query}" if query else ""))
    trace = forward_trace(**criteria)
    return pdf_response(forward_trace_pdf(trace, request.user), forward_trace_filename(trace))


@permission_required("trace.view_tracedrill")
@require_GET
def drill_report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The drill report of one drill as a PDF: whoever may see the drill may print it."""
    drill = get_object_for_user(
        request.user,
        TraceDrill.objects.select_related("lot", "lot__product", "performed_by"),
        "view",
        pk=pk,
    )
    return pdf_response(drill_pdf(drill, request.user), f"drill-report-{drill.number}")
