from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from medvigil.core.permissions import get_object_for_user

from .models import APIToken

LANG_CODES = {code for code, _name in settings.LANGUAGES}


@require_POST
def set_language_pref(request: HttpRequest) -> HttpResponse:
    """Switch the UI language; for a signed-in user the choice is kept in the profile."""
    lang = request.POST.get("language", "")
    nxt = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = "/"
    response = HttpResponseRedirect(nxt)
    if lang not in LANG_CODES:
        return response
    if request.user.is_authenticated:
        user = request.user
        user.language = lang  # type: ignore[attr-defined]
        user.save(update_fields=["language"])
    translation.activate(lang)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, lang, samesite="Lax")
    return response


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Token name"),
        max_length=100,
        help_text=gettext_lazy("What the token is for, e.g. 'ERP sync'."),
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    new_token = None
    form = TokenForm()
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            _token, new_token = APIToken.issue(request.user, form.cleaned_data["name"])  # type: ignore[arg-type]
            messages.success(request, _("Token created. Copy it now: it will not be shown again."))
            form = TokenForm()
    tokens = APIToken.objects.filter(user=request.user)
    return render(
        request, "accounts/profile.html", {"form": form, "tokens": tokens, "new_token": new_token}
    )


@login_required
@require_POST
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_for_user(
        request.user, APIToken.objects.filter(user=request.user), "view", pk=pk
    )
    if token.revoked_at is None:
        token.revoke()
        messages.success(request, _("Token revoked."))
    return redirect("profile")
