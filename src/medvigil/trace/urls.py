from django.urls import path

from . import views, views_documents, views_sales, views_trace

app_name = "trace"

urlpatterns = [
    # catalogue (TRC-1)
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("products/<int:product_pk>/lots/new/", views.lot_create, name="lot_create"),
    # customers and licences (TRC-2)
    path("customers/", views.customer_list, name="customer_list"),
    path("customers/new/", views.customer_create, name="customer_create"),
    path("customers/options/", views.customer_options, name="customer_options"),
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("customers/<int:pk>/licences/new/", views.licence_add, name="licence_add"),
    path("licences/<int:pk>/", views.licence_detail, name="licence_detail"),
    # lots and units (TRC-3)
    path("lots/", views.lot_list, name="lot_list"),
    path("lots/<int:pk>/", views.lot_detail, name="lot_detail"),
    path("lots/<int:pk>/edit/", views.lot_edit, name="lot_edit"),
    path("lots/<int:pk>/units/new/", views.units_add, name="units_add"),
    path("units/", views.unit_list, name="unit_list"),
    path("units/scan/", views.unit_scan, name="unit_scan"),
    path("units/<int:pk>/", views_trace.unit_detail, name="unit_detail"),
    path("units/<int:pk>/export/", views_trace.unit_export, name="unit_export"),
    path(
        "units/<int:unit_pk>/install/",
        views_sales.installation_create,
        name="installation_create",
    ),
    # sales (TRC-4), installations (TRC-5), returns (TRC-6)
    path("sales/", views_sales.sale_list, name="sale_list"),
    path("sales/new/", views_sales.sale_create, name="sale_create"),
    path("sales/preview/", views_sales.sale_preview, name="sale_preview"),
    path("sales/<int:pk>/", views_sales.sale_detail, name="sale_detail"),
    path("sales/<int:pk>/void/", views_sales.sale_void, name="sale_void"),
    path(
        "installations/<int:pk>/accept/",
        views_sales.installation_accept,
        name="installation_accept",
    ),
    path("returns/", views_sales.return_list, name="return_list"),
    path("returns/new/", views_sales.return_create, name="return_create"),
    path("returns/<int:pk>/", views_sales.return_detail, name="return_detail"),
    path(
        "returns/<int:pk>/disposition/",
        views_sales.return_disposition,
        name="return_disposition",
    ),
    # trace (TRC-7) and drills (TRC-8)
    path("trace/forward/", views_trace.trace_forward, name="trace_forward"),
    path("trace/backward/", views_trace.trace_backward, name="trace_backward"),
    path("drills/", views_trace.drill_list, name="drill_list"),
    path("drills/new/", views_trace.drill_create, name="drill_create"),
    path("drills/<int:pk>/", views_trace.drill_detail, name="drill_detail"),
    path("drills/<int:pk>/history/", views_trace.drill_history, name="drill_history"),
    path("drills/<int:pk>/rerun/", views_trace.drill_rerun, name="drill_rerun"),
    path("drills/<int:pk>/complete/", views_trace.drill_complete, name="drill_complete"),
    # PDF documents of the trace (TRC-7) and of a drill (TRC-8)
    path("trace/forward/pdf/", views_documents.trace_forward_pdf, name="trace_forward_pdf"),
    path("drills/<int:pk>/pdf/", views_documents.drill_report_pdf, name="drill_report_pdf"),
]
