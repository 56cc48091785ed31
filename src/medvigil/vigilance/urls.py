"""Pages of the vigilance app (included at /vigilance/)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "vigilance"

urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("board/", views.board, name="board"),
    path("trends/", views.trends, name="trends"),
    path("trends/baseline/", views.trend_baseline, name="trend_baseline"),
    path("trends/signals/<int:pk>/report/", views.trend_report_open, name="trend_report_open"),
    path("trend-reports/<int:pk>/", views.trend_report_detail, name="trend_report_detail"),
    path("trend-reports/<int:pk>/edit/", views.trend_report_edit, name="trend_report_edit"),
    path("trend-reports/<int:pk>/submit/", views.trend_report_submit, name="trend_report_submit"),
    path("periodic/new/", views.periodic_create, name="periodic_create"),
    path("periodic/<int:pk>/reported/", views.periodic_reported, name="periodic_reported"),
    path("events/new/", views.event_create, name="event_create"),
    path("events/<int:pk>/", views.event_detail, name="event_detail"),
    path("events/<int:pk>/edit/", views.event_edit, name="event_edit"),
    path("events/<int:pk>/close/", views.event_close, name="event_close"),
    path("events/<int:pk>/void/", views.event_void, name="event_void"),
    path("events/<int:pk>/cluster/", views.event_cluster, name="event_cluster"),
    path("events/<int:pk>/follow-up/", views.event_follow_up, name="event_follow_up"),
    path("decisions/<int:pk>/confirm/", views.decision_confirm, name="decision_confirm"),
    path(
        "decisions/<int:pk>/not-reportable/",
        views.decision_not_reportable,
        name="decision_not_reportable",
    ),
    path("decisions/<int:pk>/revise/", views.decision_revise, name="decision_revise"),
    path("reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("reports/<int:pk>/edit/", views.report_edit, name="report_edit"),
    path("reports/<int:pk>/submit/", views.report_submit, name="report_submit"),
    path("reports/<int:pk>/form.pdf", views.report_pdf, name="report_pdf"),
    path("reports/<int:pk>/form.json", views.report_export, {"fmt": "json"}, name="report_json"),
    path("reports/<int:pk>/form.xml", views.report_export, {"fmt": "xml"}, name="report_xml"),
]
