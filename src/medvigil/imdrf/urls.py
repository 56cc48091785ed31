"""The IMDRF pages, included at /imdrf/ (VIG-5)."""

from django.urls import path

from . import views

app_name = "imdrf"

urlpatterns = [
    path("", views.term_list, name="term_list"),
    path("picker/", views.picker, name="picker"),
    path("terms/<str:pk>/", views.term_detail, name="term_detail"),
    path("terms/<str:pk>/edit/", views.term_edit, name="term_edit"),
    path("releases/", views.release_list, name="release_list"),
    path("releases/<int:pk>/", views.release_detail, name="release_detail"),
]
