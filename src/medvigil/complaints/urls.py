"""Pages of the complaints app (included at /complaints/). One views module per stage:
records (list, record page), intake (form, device look-up), actions (routing, severity,
clocks, notices). Later stages add theirs (evaluation, investigation, resolution, …)."""

from __future__ import annotations

from django.urls import path

from .views import actions, analysis, intake, lists, records

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
    # FBK-10: analysis, year-end summary, early warnings (fbkana)
    path("analysis/", analysis.analysis_page, name="analysis"),
    path("analysis/pdf/", analysis.analysis_pdf, name="analysis_pdf"),
]
