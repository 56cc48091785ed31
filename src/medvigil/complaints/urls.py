"""Pages of the complaints app (included at /complaints/). One views module per stage:
records (list, record page), intake (form, device look-up), actions (routing, severity,
clocks, notices). Later stages add theirs (evaluation, investigation, resolution, …)."""

from __future__ import annotations

from django.urls import path

from .views import (
    actions,
    analysis,
    complaint_file,
    eight_d,
    evaluation,
    intake,
    investigation,
    lists,
    records,
    resolution,
)

app_name = "complaints"

urlpatterns = [
    path("", records.feedback_list, name="feedback_list"),
    path("new/", intake.feedback_new, name="feedback_new"),
    path("device/", intake.device_lookup, name="device_lookup"),
    path("<int:pk>/", records.feedback_detail, name="feedback_detail"),
    path("<int:pk>/edit/", intake.feedback_edit, name="feedback_edit"),
    path("<int:pk>/route/", actions.route, name="feedback_route"),
    path("<int:pk>/severity/", actions.severity, name="feedback_severity"),
    path("<int:pk>/answer/", actions.answer, name="feedback_answer"),
    path("<int:pk>/void/", actions.void, name="feedback_void"),
    path("<int:pk>/pause/", actions.pause, name="feedback_pause"),
    path("<int:pk>/resume/", actions.resume, name="feedback_resume"),
    path("<int:pk>/milestone/", actions.milestone, name="feedback_milestone"),
    path("notices/", lists.notice_list, name="notice_list"),
    path("8d/", lists.eightd_list, name="eightdreport_list"),
    path("notices/<int:pk>/acknowledge/", actions.notice_acknowledge, name="notice_acknowledge"),
    path("notices/<int:pk>/answer/", actions.notice_answer, name="notice_answer"),
    # --- 8D report (FBK-8) and complaint file (FBK-9) ---
    path("<int:pk>/8d/new/", eight_d.eightd_new, name="eightd_new"),
    path("8d/<int:pk>/", eight_d.eightd_detail, name="eightdreport_detail"),
    path("8d/<int:pk>/edit/", eight_d.eightd_edit, name="eightd_edit"),
    path("8d/<int:pk>/issue/", eight_d.eightd_issue, name="eightd_issue"),
    path("8d/<int:pk>/pdf/", eight_d.eightd_pdf, name="eightd_pdf"),
    path("<int:pk>/file/", complaint_file.complaint_file_view, name="complaint_file"),
    path("<int:pk>/file/pdf/", complaint_file.complaint_file_pdf_view, name="complaint_file_pdf"),
    # --- end 8D and complaint file ---
    # FBK-10: analysis, year-end summary, early warnings (fbkana)
    path("analysis/", analysis.analysis_page, name="analysis"),
    path("analysis/pdf/", analysis.analysis_pdf, name="analysis_pdf"),
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
