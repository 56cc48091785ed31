from __future__ import annotations

import math
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

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
    # Own tokens only: another user's token id is simply not found.
    token = get_object_or_404(APIToken, user=request.user, pk=pk)
    if token.revoked_at is None:
        token.revoke()
        messages.success(request, _("Token revoked."))
    return redirect("profile")


def lockout_minutes(username: str) -> int:
    """Whole minutes (rounded up) until the lock-out of `username` ends: the cool-off runs
    from the failure that locked the account (LOGIN_LOCKOUT_MINUTES)."""
    from axes.helpers import get_cool_off
    from axes.models import AccessAttempt

    cool_off = get_cool_off()
    if cool_off is None:
        return 0
    last = (
        AccessAttempt.objects.filter(username=username)
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    if last is None:
        return math.ceil(cool_off.total_seconds() / 60)
    remaining = (last + cool_off - timezone.now()).total_seconds()
    return max(1, math.ceil(remaining / 60))


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The lock-out page (settings.AXES_LOCKOUT_CALLABLE), in the visitor's language, with the
    minutes left before the account can sign in again."""
    from axes.helpers import get_client_username

    username = get_client_username(request, credentials) or ""
    context = {
        "cooloff_minutes": lockout_minutes(username),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "username": username,
    }
    return render(
        request,
        "registration/locked_out.html",
        context,
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
