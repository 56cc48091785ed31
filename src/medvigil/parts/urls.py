"""Pages of the spare-parts app (included at /parts/ by the domain-app contract)."""

from django.urls import path

from . import views

app_name = "parts"

urlpatterns = [
    path("", views.part_list, name="part_list"),
    path("new/", views.part_create, name="part_create"),
    path("<int:pk>/", views.part_detail, name="part_detail"),
    path("<int:pk>/edit/", views.part_edit, name="part_edit"),
    path("locations/", views.stocklocation_list, name="stocklocation_list"),
    path("locations/new/", views.stocklocation_create, name="stocklocation_create"),
    path("locations/<int:pk>/", views.stocklocation_detail, name="stocklocation_detail"),
    path("locations/<int:pk>/edit/", views.stocklocation_edit, name="stocklocation_edit"),
    path("locations/<int:pk>/count/", views.stocklocation_count, name="stocklocation_count"),
    path("stock/", views.stocklevel_list, name="stocklevel_list"),
    path("movements/", views.stockmovement_list, name="stockmovement_list"),
    path("movements/new/", views.stockmovement_create, name="stockmovement_create"),
    path("movements/<int:pk>/", views.stockmovement_detail, name="stockmovement_detail"),
    path("movements/<int:pk>/reverse/", views.stockmovement_reverse, name="stockmovement_reverse"),
    path("reorder/", views.reorderlevel_list, name="reorderlevel_list"),
    path("reorder/recompute/", views.reorder_recompute, name="reorder_recompute"),
]
