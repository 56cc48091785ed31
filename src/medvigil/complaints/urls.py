"""Pages of the complaints app (included at /complaints/)."""

from __future__ import annotations

from django.urls import path

from .views import records

app_name = "complaints"

urlpatterns = [
    path("", records.feedback_list, name="feedback_list"),
    path("<int:pk>/", records.feedback_detail, name="feedback_detail"),
]
