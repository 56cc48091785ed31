"""Recall pages, included at /recalls/ (the domain-app contract)."""

from django.urls import path

from . import views

app_name = "recalls"

urlpatterns = [
    path("", views.recall_list, name="recall_list"),
    path("new/", views.recall_create, name="recall_create"),
    path("<int:pk>/", views.recall_detail, name="recall_detail"),
    path("<int:pk>/edit/", views.recall_edit, name="recall_edit"),
    path("<int:pk>/resolve/", views.recall_resolve, name="recall_resolve"),
    path("<int:pk>/decide/", views.recall_decide, name="recall_decide"),
    path("<int:pk>/eu-report/", views.recall_eu_report, name="recall_eu_report"),
    path("<int:pk>/complete/", views.recall_complete, name="recall_complete"),
    path("<int:pk>/close/", views.recall_close, name="recall_close"),
    path("<int:pk>/void/", views.recall_void, name="recall_void"),
    path("<int:pk>/execution/", views.recall_execution, name="recall_execution"),
    path("<int:pk>/execution/email/", views.recall_email_all, name="recall_email_all"),
    path("<int:pk>/execution/outcome/", views.recall_outcome, name="recall_outcome"),
    path("<int:pk>/documents/new/", views.document_new, name="document_new"),
    path("clocks/<int:pk>/meet/", views.clock_meet, name="clock_meet"),
    path("consignees/<int:pk>/notice/", views.consignee_notice, name="consignee_notice"),
    path("consignees/<int:pk>/ack/", views.consignee_ack, name="consignee_ack"),
    path("documents/<int:pk>/", views.recalldocument_detail, name="recalldocument_detail"),
    path("documents/<int:pk>/edit/", views.document_edit, name="document_edit"),
    path("documents/<int:pk>/issue/", views.document_issue, name="document_issue"),
    path("documents/<int:pk>/pdf/", views.document_pdf, name="document_pdf"),
]
