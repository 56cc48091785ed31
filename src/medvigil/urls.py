from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from medvigil.accounts import views as account_views
from medvigil.api import urlpatterns as api_urlpatterns
from medvigil.core import views as core_views
from medvigil.core.records.domain import domain_urlpatterns

urlpatterns = [
    path("", core_views.home, name="home"),
    # browsers (and the Django admin's pages, which link no icon) ask for /favicon.ico
    path(
        "favicon.ico",
        RedirectView.as_view(
            url=static("medvigil/favicon.svg"), permanent=True, http_method_names=["get", "head"]
        ),
        name="favicon",
    ),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", account_views.set_language_pref, name="set_language_pref"),
    path("profile/", account_views.profile, name="profile"),
    path(
        "profile/password/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/password_change.html", success_url="/profile/password/done/"
        ),
        name="password_change",
    ),
    path(
        "profile/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_done.html"),
        name="password_change_done",
    ),
    path("profile/tokens/<int:pk>/revoke/", account_views.revoke_token, name="revoke_token"),
    path("", include("medvigil.core.urls")),
    path("accounts/", include("medvigil.accounts.urls")),
    # --- complaints: the public feedback form and status page (FBK-1), no sign-in ---
    path("public/feedback/", include("medvigil.complaints.public_urls")),
    # --- end public feedback ---
    *domain_urlpatterns(),  # each domain app's urls at /<label>/ (core.records.domain)
    path("admin/", admin.site.urls),
    *api_urlpatterns,  # /api/v1/..., /api/docs, JSON 404 for unknown /api/ paths
]
