"""CAPA pages (included at /capa/ by the domain-app contract)."""

from django.urls import path

from .views import capa, nonconformity, reports, suppliers

app_name = "capa"

urlpatterns = [
    path("", capa.capa_list, name="capa_list"),
    path("new/", capa.capa_create, name="capa_create"),
    path("capas/<int:pk>/", capa.capa_detail, name="capa_detail"),
    path("capas/<int:pk>/edit/", capa.capa_edit, name="capa_edit"),
    path("capas/<int:pk>/actions/", capa.action_add, name="action_add"),
    path("capas/<int:pk>/verify/", capa.capa_verify, name="capa_verify"),
    path("capas/<int:pk>/close/", capa.capa_close, name="capa_close"),
    path("capas/<int:pk>/void/", capa.capa_void, name="capa_void"),
    path("capas/<int:pk>/reports/new/", reports.capareport_new, name="capareport_new"),
    path("reports/<int:pk>/", reports.capareport_detail, name="capareport_detail"),
    path("reports/<int:pk>/issue/", reports.capareport_issue, name="capareport_issue"),
    path("reports/<int:pk>/pdf/", reports.capareport_pdf, name="capareport_pdf"),
    path("actions/", capa.action_list, name="action_list"),
    path("actions/<int:pk>/edit/", capa.action_edit, name="action_edit"),
    path("actions/<int:pk>/done/", capa.action_done, name="action_done"),
    path("actions/<int:pk>/cancel/", capa.action_cancel, name="action_cancel"),
    path("nonconformities/", nonconformity.nc_list, name="nc_list"),
    path("nonconformities/new/", nonconformity.nc_create, name="nc_create"),
    path("nonconformities/<int:pk>/", nonconformity.nc_detail, name="nc_detail"),
    path("nonconformities/<int:pk>/edit/", nonconformity.nc_edit, name="nc_edit"),
    path("nonconformities/<int:pk>/segregate/", nonconformity.nc_segregate, name="nc_segregate"),
    path(
        "nonconformities/<int:pk>/disposition/",
        nonconformity.nc_disposition,
        name="nc_disposition",
    ),
    path("nonconformities/<int:pk>/approve/", nonconformity.nc_approve, name="nc_approve"),
    path("nonconformities/<int:pk>/reject/", nonconformity.nc_reject, name="nc_reject"),
    path("nonconformities/<int:pk>/close/", nonconformity.nc_close, name="nc_close"),
    path("nonconformities/<int:pk>/scar/", nonconformity.nc_scar, name="nc_scar"),
    path("nonconformities/<int:pk>/capa/", nonconformity.nc_capa, name="nc_capa"),
    path(
        "nonconformities/<int:pk>/recall/",
        nonconformity.nc_link_recall,
        name="nc_link_recall",
    ),
    path("suppliers/", suppliers.supplier_list, name="supplier_list"),
    path("suppliers/new/", suppliers.supplier_create, name="supplier_create"),
    path("suppliers/<int:pk>/", suppliers.supplier_detail, name="supplier_detail"),
    path("suppliers/<int:pk>/edit/", suppliers.supplier_edit, name="supplier_edit"),
    path("scars/", suppliers.scar_list, name="scar_list"),
    path("scars/new/", suppliers.scar_create, name="scar_create"),
    path("scars/<int:pk>/", suppliers.scar_detail, name="scar_detail"),
    path("scars/<int:pk>/response/", suppliers.scar_response, name="scar_response"),
    path("scars/<int:pk>/verify/", suppliers.scar_verify, name="scar_verify"),
]
