"""The public feedback pages (no sign-in), mounted at /public/feedback/ by medvigil/urls.py."""

from __future__ import annotations

from django.urls import path, re_path

from .views import public

urlpatterns = [
    path("", public.public_feedback, name="public_feedback"),
    path("follow/", public.public_feedback_lookup, name="public_feedback_lookup"),
    re_path(
        r"^(?P<code>[A-Za-z0-9-]{1,40})/$",
        public.public_feedback_status,
        name="public_feedback_status",
    ),
]
