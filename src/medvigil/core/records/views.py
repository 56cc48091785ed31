"""View helpers every record page shares (docs/development/domain-app.md, "The record view
kit"): pagination, the create page, the edit page with the version-conflict message, service
errors on a form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from medvigil.core.models import ConflictError

PER_PAGE = 25


# A list counts its rows only this many pages beyond the page asked for (#13): counting a
# million units took 48 ms of a 70 ms page, and nobody pages through them one by one. 20
# pages (about 1,000 rows of a 50-row list) are as many as anyone pages through; beyond them
# the list shows "Page 1 of 21+" and is narrowed by its filters and search.
COUNT_WINDOW_PAGES = 20


class WindowPaginator(Paginator):
    """A paginator whose count stops `window` pages past the requested page: exact when the
    rows end before that (the usual case), else "more than" (`capped`), shown as "Page 3 of
    203+" with no link to the last page. Counting stays bounded however many rows match,
    on any database (SELECT COUNT(*) over a LIMITed subquery, without its ordering).
    `counted`: the same rows as a queryset cheaper to count, when `object_list` reads values
    across joins (a ``values_list`` of related fields: counting it would join them too)."""

    def __init__(
        self,
        object_list: Any,
        per_page: int,
        *,
        around: int = 1,
        window: int,
        counted: Any = None,
    ) -> None:
        super().__init__(object_list, per_page)
        self.capped = False
        self._limit = (max(around, 1) + window) * per_page
        self._counted = object_list if counted is None else counted

    @cached_property
    def count(self) -> int:
        if not isinstance(self._counted, models.QuerySet):
            return super().count
        n = self._counted.order_by()[: self._limit + 1].count()
        self.capped = n > self._limit
        return min(n, self._limit)


def paginate(
    request: HttpRequest,
    qs: Any,
    per_page: int = PER_PAGE,
    *,
    window: int | None = None,
    counted: Any = None,
) -> Any:
    """The page of `qs` named by `?page=` (a bad or too large number gives the last page).
    With `window` (pages), the rows are counted only that far past the page asked for
    (WindowPaginator; `counted`: the same rows as a queryset cheaper to count)."""
    number = request.GET.get("page")
    if window is None:
        return Paginator(qs, per_page).get_page(number)
    around = int_param(number) or 1
    return WindowPaginator(
        qs, per_page, around=min(around, 10**9), window=window, counted=counted
    ).get_page(number)


def querystring(request: HttpRequest, **drop: Any) -> str:
    """The current GET parameters without `page` (for pagination links)."""
    params = request.GET.copy()
    params.pop("page", None)
    for key in drop:
        params.pop(key, None)
    return params.urlencode()


# Ids are positive 64-bit integers in every database; a number outside that range can name no
# record (and would overflow the database's integer), so it is treated like any non-id.
_ID_MAX = 2**63 - 1


def int_param(value: Any) -> int | None:
    """An id from a query parameter, or None when the value is not one."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= _ID_MAX else None


def apply_errors(
    form: Any, exc: ValidationError | ConflictError, rename: Mapping[str, str] | None = None
) -> None:
    """Show a service's ValidationError (or a version conflict) on the form: an error of a
    model field goes to the form field of that name (or of the name `rename` maps it to,
    e.g. the service's ``serial`` to the form's ``serials``), any other above the form."""
    if isinstance(exc, ConflictError):
        form.add_error(None, str(exc))
        return
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            name = (rename or {}).get(name, name)
            target = name if name in form.fields else None
            for err in errors:
                form.add_error(target, err.messages)
        return
    form.add_error(None, exc.messages)


def form_values(form: Any) -> dict[str, Any]:
    """What a create page hands its service: a model form's fields
    (``VersionedModelForm.changed_values()``), else the cleaned data without ``version``."""
    if hasattr(form, "changed_values"):
        return dict(form.changed_values())
    return {k: v for k, v in form.cleaned_data.items() if k != "version"}


def create_record(
    request: HttpRequest,
    form: Any,
    create: Callable[..., Any],
    created: Callable[[Any], str],
    title: str,
    *,
    cancel: str,
    template: str = "records/form.html",
    values: Callable[[Any], dict[str, Any]] | None = None,
    next_url: Callable[[Any], Any] | None = None,
    rename: Mapping[str, str] | None = None,
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """The create page of a record, the twin of :func:`edit_record` without a version: a
    valid POST goes through ``create(by=request.user, **values)`` (`values(form)`, default
    :func:`form_values`); a refusal (ValidationError) shows on the form as on the edit page
    (`rename` maps a service field to a form field); success: the message ``created(result)``
    and the record page (``next_url(result)``: a URL or a model, default the result itself).
    `cancel` is the Cancel link; `context` adds to the template's context (a notice, a
    customer look-up, …)."""
    if request.method == "POST" and form.is_valid():
        data = values(form) if values is not None else form_values(form)
        try:
            result = create(by=request.user, **data)
        except (ValidationError, ConflictError) as exc:
            apply_errors(form, exc, rename)
        else:
            messages.success(request, created(result))
            return redirect(next_url(result) if next_url is not None else result)
    return render(
        request,
        template,
        {"form": form, "title": title, "cancel": cancel, **(context or {})},
    )


def edit_record(
    request: HttpRequest,
    record: Any,
    form: Any,
    update: Any,
    saved: Callable[[Any], str],
    title: str,
    *,
    template: str = "records/form.html",
) -> HttpResponse:
    """The edit page of a record: a valid POST goes through its `update` service with the
    posted version (conflict → form error), then a message and the record page. `template`
    extends ``records/form.html`` when an app adds its own navigation."""
    if request.method == "POST" and form.is_valid():
        try:
            record = update(
                record,
                by=request.user,
                version=form.cleaned_data.get("version"),
                **form.changed_values(),
            )
        except (ValidationError, ConflictError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, saved(record))
            return redirect(record)
    return render(
        request,
        template,
        {"form": form, "title": title, "cancel": record.get_absolute_url(), "record": record},
    )


# --- signed transitions -------------------------------------------------------------------


def htmx_redirect(request: HttpRequest, url: str) -> HttpResponse:
    """Redirect; for htmx, 204 with HX-Redirect so the browser loads the page (instead of
    swapping it into the dialog). A target that is the page the request came from with a
    fragment (``/complaints/7/#evaluation`` from ``/complaints/7/``) would only scroll the old
    page — a same-document navigation, the dialog left open on stale data — so it also gets
    ``HX-Refresh``: htmx then reloads the page at the fragment."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        if _same_document(getattr(request.htmx, "current_url", None), url):
            response["HX-Refresh"] = "true"
        return response
    return redirect(url)


def _same_document(current: str | None, url: str) -> bool:
    """Whether the browser on `current` would go to `url` without loading a page: the same
    address apart from a fragment that `url` has."""
    if not current:
        return False
    target = urlsplit(urljoin(current, url))
    here = urlsplit(current)
    return bool(target.fragment) and target[:4] == here[:4]


def signed_action(
    request: HttpRequest,
    obj: Any,
    *,
    meaning: Any,
    perform: Callable[[str, str], Any],
    dialog: Callable[[Any], dict[str, Any]],
    page: Callable[[dict[str, Any]], HttpResponse],
    success: Callable[[Any], str],
    next_url: Callable[[Any], str] | None = None,
    comment_required: bool = False,
) -> HttpResponse:
    """One signed transition of `obj` (a POST from ``{% signature_dialog %}``), the same on
    every page:

    - the password (+ comment) comes from :class:`~medvigil.core.signatures.services.SignatureForm`;
      the posted ``version`` is checked first (a stale page gets the conflict message);
    - ``perform(password, comment)`` is the service: it re-checks the password through
      ``core.signatures`` (axes counts a wrong one like a failed login) with `meaning`, makes
      the change and signs it, and returns the changed record;
    - success: the message ``success(result)``, then the record page (``next_url(result)``,
      default ``result.get_absolute_url()``): 302, or for htmx 204 + ``HX-Redirect``;
    - refused (wrong password, missing comment, a rule, a version conflict): nothing changed,
      the dialog again with the error — for htmx 200 with the dialog alone (``dialog(form)``,
      the context of :func:`~medvigil.core.templatetags.records.signature_dialog_context`),
      else 400 with the whole page (``page(dialog_context)``) and the dialog open;
    - locked out (too many wrong passwords): the user is logged out and sent to the login
      page: 302, or for htmx 204 + ``HX-Redirect``.
    """
    from django.contrib.auth import logout
    from django.template.loader import render_to_string
    from django.urls import reverse

    from medvigil.core.signatures.services import SignatureError, SignatureForm

    form = SignatureForm(request.POST, comment_required=comment_required)
    posted_meaning = request.POST.get("meaning")
    meaning_value = str(getattr(meaning, "value", meaning))
    if posted_meaning not in (None, "", meaning_value):
        form.add_error(None, _("The signature meaning does not match this action."))
    elif form.is_valid():
        try:
            if hasattr(obj, "check_version"):
                obj.check_version(request.POST.get("version"))
            result = perform(form.cleaned_data["password"], form.cleaned_data["comment"])
        except SignatureError as exc:
            if exc.code == "locked_out":
                # A locked account also loses its session: whoever is at the keyboard has to
                # log in again once an administrator (or the cool-off time) unlocks it.
                messages.error(request, " ".join(exc.messages))
                logout(request)
                return htmx_redirect(request, reverse("login"))
            form.add_signature_error(exc)
        except ConflictError as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            form.add_signature_error(exc)
        else:
            messages.success(request, success(result))
            url = next_url(result) if next_url else result.get_absolute_url()
            return htmx_redirect(request, url)
    if hasattr(obj, "refresh_from_db"):
        obj.refresh_from_db()
    context = dialog(form)
    if getattr(request, "htmx", False):
        return HttpResponse(
            render_to_string("core/_signature_dialog.html", context, request=request)
        )
    response = page(context)
    response.status_code = 400
    return response
