from django.urls import path

from . import views_records
from .attachments import views as views_attachments
from .audit import views as views_audit
from .calendar import views as views_calendar
from .imports import views as views_imports
from .notifications import views as views_notifications
from .retention import views as views_retention

urlpatterns: list = [
    # notifications (PLAT-8)
    path("notifications/", views_notifications.notification_list, name="notifications"),
    path(
        "notifications/<int:pk>/read/",
        views_notifications.notification_read,
        name="notification_read",
    ),
    path(
        "notifications/<int:pk>/open/",
        views_notifications.notification_open,
        name="notification_open",
    ),
    path(
        "notifications/read-all/",
        views_notifications.notifications_read_all,
        name="notifications_read_all",
    ),
    # attachments (PLAT-9)
    path(
        "attachments/<slug:app_label>/<slug:model>/<str:object_id>/",
        views_attachments.attachment_panel,
        name="attachment_panel",
    ),
    path(
        "attachments/<slug:app_label>/<slug:model>/<str:object_id>/upload/",
        views_attachments.attachment_upload,
        name="attachment_upload",
    ),
    path(
        "attachments/<int:pk>/download/",
        views_attachments.attachment_download,
        name="attachment_download",
    ),
    path("attachments/<int:pk>/void/", views_attachments.attachment_void, name="attachment_void"),
    # audit trail (PLAT-2)
    path("audit/", views_audit.audit_trail, name="audit_trail"),
    path("audit/export.csv", views_audit.audit_export, name="audit_export"),
    path("audit/verify/", views_audit.audit_verify, name="audit_verify"),
    # imports (PLAT-10)
    path("imports/", views_imports.import_list, name="import_list"),
    path("imports/new/", views_imports.import_new, name="import_new"),
    path("imports/<int:pk>/", views_imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/status/", views_imports.import_status, name="import_status"),
    path("imports/<int:pk>/errors.csv", views_imports.import_errors, name="import_errors"),
    path("imports/<int:pk>/file/", views_imports.import_file, name="import_file"),
    path(
        "imports/template/<slug:kind>.csv",
        views_imports.import_template,
        name="import_template",
    ),
    # record history fragment (PLAT-2) and record destruction (PLAT-5)
    path(
        "records/<slug:app_label>/<slug:model>/<str:object_id>/history/",
        views_records.record_history,
        name="record_history",
    ),
    path("destruction/", views_retention.destruction_list, name="destruction_list"),
    path("destruction/new/", views_retention.destruction_new, name="destruction_new"),
    path("destruction/<int:pk>/", views_retention.destruction_detail, name="destruction_detail"),
    path(
        "destruction/<int:pk>/approve/",
        views_retention.destruction_approve,
        name="destruction_approve",
    ),
    path(
        "destruction/<int:pk>/reject/",
        views_retention.destruction_reject,
        name="destruction_reject",
    ),
    # market calendars and deadline rules (PLAT-7)
    path("calendars/", views_calendar.calendar_list, name="calendar_list"),
    path(
        "calendars/<slug:code>/<int:year>/",
        views_calendar.calendar_year,
        name="calendar_year",
    ),
    path("deadline-rules/", views_calendar.deadline_rules, name="deadline_rules"),
]
