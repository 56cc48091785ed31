"""The complaint file (FBK-9) on one screen and as one PDF, masked for the reader (PLAT-11)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from medvigil.core.documents import pdf_response
from medvigil.core.permissions import get_object_for_user

from ..models import Feedback
from ..services.complaint_file import complaint_file, complaint_file_pdf


@login_required
@require_GET
def complaint_file_view(request: HttpRequest, pk: int) -> HttpResponse:
    feedback = get_object_for_user(request.user, Feedback, pk=pk)
    data = complaint_file(feedback, user=request.user)
    return render(
        request, "complaints/complaint_file.html", {"file": data, "feedback": data["feedback"]}
    )


@login_required
@require_GET
def complaint_file_pdf_view(request: HttpRequest, pk: int) -> HttpResponse:
    feedback = get_object_for_user(request.user, Feedback, pk=pk)
    lang = request.GET.get("lang", "")
    if lang not in ("zh-hans", "en"):
        lang = "en" if (get_language() or "").startswith("en") else "zh-hans"
    pdf = complaint_file_pdf(feedback, user=request.user, language=lang)
    return pdf_response(pdf, f"complaint-file-{feedback.number}")
