"""Pages of the service app (included at /service/)."""

from __future__ import annotations

from django.urls import path

from .views import aftercare, dispatch, ledger, quotes, requests, workorders

app_name = "service"

urlpatterns = [
    path("", requests.request_list, name="request_list"),
    path("new/", requests.request_new, name="request_new"),
    path("device/", requests.device_lookup, name="device_lookup"),
    path("policy/", requests.policy_page, name="policy"),
    path("ledger/", ledger.ledger_page, name="ledger"),
    path("<int:pk>/", requests.request_detail, name="request_detail"),
    path("<int:pk>/edit/", requests.request_edit, name="request_edit"),
    path("<int:pk>/respond/", requests.request_respond, name="request_respond"),
    path("<int:pk>/answer/", requests.request_answer, name="request_answer"),
    path("<int:pk>/dispatch/", requests.request_dispatch, name="request_dispatch"),
    path("<int:pk>/loaner/", requests.request_loaner, name="request_loaner"),
    path("<int:pk>/void/", requests.request_void, name="request_void"),
    path("dispatch/", dispatch.dispatch_board, name="dispatch_board"),
    path("qualifications/", dispatch.qualification_list, name="qualification_list"),
    path("qualifications/new/", dispatch.qualification_new, name="qualification_new"),
    path("qualifications/<int:pk>/edit/", dispatch.qualification_edit, name="qualification_edit"),
    path("work-orders/", workorders.workorder_list, name="workorder_list"),
    path("work-orders/<int:pk>/", workorders.workorder_detail, name="workorder_detail"),
    path(
        "work-orders/<int:pk>/step/<slug:step>/",
        workorders.workorder_step,
        name="workorder_step",
    ),
    path("work-orders/<int:pk>/save/", workorders.workorder_save, name="workorder_save"),
    path("work-orders/<int:pk>/sign/", workorders.workorder_sign, name="workorder_sign"),
    path("work-orders/<int:pk>/parts/", workorders.workorder_part_use, name="workorder_part_use"),
    path(
        "work-orders/<int:pk>/parts/return/",
        workorders.workorder_part_return,
        name="workorder_part_return",
    ),
    path("work-orders/<int:pk>/code/", workorders.workorder_code_send, name="workorder_code_send"),
    path(
        "work-orders/<int:pk>/code/confirm/",
        workorders.workorder_code_confirm,
        name="workorder_code_confirm",
    ),
    path("work-orders/<int:pk>/close/", workorders.workorder_close, name="workorder_close"),
    path("work-orders/<int:pk>/archive/", workorders.workorder_archive, name="workorder_archive"),
    path("loans/", aftercare.loan_list, name="loan_list"),
    path("loans/new/", aftercare.loan_new, name="loan_new"),
    path("loans/<int:pk>/return/", aftercare.loan_return, name="loan_return"),
    path("maintenance/", aftercare.maintenance_list, name="maintenance_list"),
    path("maintenance/<int:pk>/done/", aftercare.visit_done, name="visit_done"),
    path("prices/", quotes.price_list, name="price_list"),
    path("prices/new/", quotes.price_new, name="price_new"),
    path("<int:pk>/quote/", quotes.quote_new, name="quote_new"),
    path("quotes/", quotes.quote_list, name="quote_list"),
    path("quotes/<int:pk>/", quotes.quote_detail, name="quote_detail"),
    path("quotes/<int:pk>/approve/", quotes.quote_approve, name="quote_approve"),
    path("quotes/<int:pk>/answer/", quotes.quote_answer, name="quote_answer"),
]
