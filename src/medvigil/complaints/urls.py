"""Pages of the complaints app (included at /complaints/)."""

from __future__ import annotations

from django.urls import path

from .views import evaluation, investigation, records, resolution

app_name = "complaints"

urlpatterns = [
    path("", records.feedback_list, name="feedback_list"),
    path("<int:pk>/", records.feedback_detail, name="feedback_detail"),
    # --- FBK-5/6/7: evaluation, investigation, resolution (views/evaluation.py, …) ---
    path("<int:pk>/evaluation/start/", evaluation.evaluation_start, name="evaluation_start"),
    path("evaluations/<int:pk>/", evaluation.evaluation_edit, name="evaluation_edit"),
    path(
        "evaluations/<int:pk>/approve/",
        evaluation.evaluation_approve,
        name="evaluation_approve",
    ),
    path(
        "<int:pk>/investigation/start/",
        investigation.investigation_start,
        name="investigation_start",
    ),
    path("investigations/<int:pk>/", investigation.investigation_edit, name="investigation_edit"),
    path(
        "investigations/<int:pk>/complete/",
        investigation.investigation_complete,
        name="investigation_complete",
    ),
    path("<int:pk>/resolution/", resolution.resolution_edit, name="resolution_edit"),
    path("approvals/<int:pk>/approve/", resolution.approval_approve, name="approval_approve"),
    path("approvals/<int:pk>/reject/", resolution.approval_reject, name="approval_reject"),
    path("resolutions/<int:pk>/agree/", resolution.resolution_agree, name="resolution_agree"),
    path("resolutions/<int:pk>/reply/", resolution.resolution_reply, name="resolution_reply"),
    path("resolutions/<int:pk>/confirm/", resolution.resolution_confirm, name="resolution_confirm"),
    path("resolutions/<int:pk>/callback/", resolution.callback_schedule, name="callback_schedule"),
    path("resolutions/<int:pk>/callback/done/", resolution.callback_done, name="callback_done"),
    path("<int:pk>/close/", resolution.feedback_close, name="feedback_close"),
    path("<int:pk>/reopen/", resolution.feedback_reopen, name="feedback_reopen"),
]
