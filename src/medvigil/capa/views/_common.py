"""Helpers the CAPA pages share: a POST that runs one service and returns to the record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from medvigil.core.models import ConflictError


def form_errors(form: Any) -> str:
    return " ".join(
        f"{form.fields[name].label if name in form.fields else ''}: {' '.join(errs)}".lstrip(": ")
        for name, errs in form.errors.items()
    )


def run_post(
    request: HttpRequest,
    record: Any,
    form: Any,
    perform: Callable[[dict[str, Any]], Any],
    success: str,
) -> HttpResponse:
    """Validate `form`, run `perform(cleaned_data)` (a service), then back to the record page
    with a message; a refusal (a form or service error, a stale version) changes nothing and
    shows its message."""
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return redirect(record)
    try:
        perform(form.cleaned_data)
    except ConflictError as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success)
    return redirect(record)
