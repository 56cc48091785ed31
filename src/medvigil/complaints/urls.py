"""Pages of the complaints app (included at /complaints/). One views module per stage:
records (list, record page), intake (form, device look-up), actions (routing, severity,
clocks, notices). Later stages add theirs (evaluation, investigation, resolution, …)."""

from __future__ import annotations

from django.urls import path

from .views import actions, analysis, complaint_file, eight_d, intake, lists, records

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
]
