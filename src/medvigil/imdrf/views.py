"""Pages of the IMDRF terminology (VIG-5): browse an annex as a tree, search (htmx results),
a term's page with its path, children and earlier texts, the Chinese text form, the picker's
results, and the releases with the upload of a newer one. Every term comes through
services (scoped to the user); every change through a service."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from medvigil.core.imports import max_upload_bytes
from medvigil.core.permissions import can, get_object_for_user, permission_required, scope_for_user
from medvigil.core.records.views import edit_record

from . import services
from .forms import ReleaseForm, TranslationForm
from .models import Annex, Release, Term

_RELATED = ("added_in", "changed_in", "retired_in", "parent")
_TARGET = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
RESULTS_ID = "imdrf-results"


def _messages(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _flat(nodes: list[services.Tree], depth: int = 0, secondary: bool = False) -> list[Any]:
    rows: list[Any] = []
    for node in nodes:
        rows.append({"term": node.node, "depth": depth, "secondary": secondary})
        rows.extend(_flat(node.children, depth + 1))
    return rows


def _secondary_marks(rows: list[Any]) -> list[Any]:
    """A term that appears a second time (a further parent, Annex E) is marked."""
    seen: set[str] = set()
    for row in rows:
        code = row["term"].code
        row["secondary"] = code in seen
        seen.add(code)
    return rows


@permission_required("imdrf.view_term")
@require_GET
def term_list(request: HttpRequest) -> HttpResponse:
    """An annex as a tree, or the results of a search (the search box asks for the results
    alone with htmx as you type)."""
    user = request.user
    q = request.GET.get("q", "")
    annex_raw = request.GET.get("annex", "")
    lang = request.GET.get("lang", "")
    include_retired = request.GET.get("retired") == "1"
    errors: list[str] = []
    results: list[Term] = []
    query, annex = "", ""
    try:
        annex = services.check_annex(annex_raw) or ""
        query = services.check_query(q)
        if query:
            results = services.search(
                query,
                annex=annex or None,
                lang=lang or None,
                user=user,
                include_retired=include_retired,
                limit=100,
            )
    except ValidationError as exc:
        errors = _messages(exc)
        query = ""
    if not query:
        annex = annex or "A"
    context = {
        "q": query,
        "annex": annex,
        "lang": lang if lang in ("en", "zh") else "",
        "include_retired": include_retired,
        "annexes": Annex.choices,
        "results": results,
        "errors": errors,
        "results_id": RESULTS_ID,
    }
    if request.headers.get("HX-Target") == RESULTS_ID:
        return render(request, "imdrf/_results.html", context)
    if not query:
        rows = _flat(services.tree(annex or "A", user=user, include_retired=include_retired))
        context["rows"] = _secondary_marks(rows)
    return render(request, "imdrf/term_list.html", context, status=400 if errors else 200)


def _term(request: HttpRequest, pk: str, action: str = "view") -> Term:
    norm = services.normalise_code(pk) or "-"
    return get_object_for_user(
        request.user, Term.objects.select_related(*_RELATED), action, pk=norm
    )


@permission_required("imdrf.view_term")
@require_GET
def term_detail(request: HttpRequest, pk: str) -> HttpResponse:
    term = _term(request, pk)
    user = request.user
    return render(
        request,
        "imdrf/term_detail.html",
        {
            "obj": term,
            "path": services.path(term.code, user=user),
            "children": services.children(term.code, user=user),
            "also_under": services.also_under(term, user=user),
            "versions": services.versions(term),
            "can_change": can(user, Term, "change"),
        },
    )


@permission_required("imdrf.change_term")
@require_http_methods(["GET", "POST"])
def term_edit(request: HttpRequest, pk: str) -> HttpResponse:
    term = _term(request, pk, "change")
    return edit_record(
        request,
        term,
        TranslationForm(request.POST or None, instance=term),
        services.update_translation,
        lambda t: _("Chinese text of %(code)s saved.") % {"code": t.code},
        _("Chinese text of %(code)s %(term)s") % {"code": term.code, "term": term.term_en},
    )


@permission_required("imdrf.view_term")
@require_GET
def picker(request: HttpRequest) -> HttpResponse:
    """The picker's results: terms matching `q` in `annex`, each a button that adds its code
    to the input `target` (app.js, data-pick-into)."""
    target = request.GET.get("target", "")
    target = target if _TARGET.match(target) else ""
    errors: list[str] = []
    results: list[Term] = []
    try:
        results = services.search(
            request.GET.get("q", ""), annex=request.GET.get("annex") or None, user=request.user
        )
    except ValidationError as exc:
        errors = _messages(exc)
    return render(
        request,
        "imdrf/_picker_results.html",
        {"results": results, "errors": errors, "target": target, "q": request.GET.get("q", "")},
    )


@permission_required("imdrf.view_release")
@require_http_methods(["GET", "POST"])
def release_list(request: HttpRequest) -> HttpResponse:
    """The releases loaded; the upload of a newer one (imdrf.add_release)."""
    user = request.user
    may_load = can(user, Release, "add")
    form = ReleaseForm(request.POST or None, request.FILES or None) if may_load else None
    preview = None
    status = 200
    if request.method == "POST":
        if form is None:
            return HttpResponse(status=403)
        uploads = form.cleaned_data.get("release_files", []) if form.is_valid() else []
        too_big = [f.name for f in uploads if (f.size or 0) > max_upload_bytes()]
        if too_big:
            message = _("The file is larger than %(n)d MB.") % {"n": max_upload_bytes() >> 20}
            form.add_error("release_files", f"{', '.join(too_big)}: {message}")
        if form.is_valid():
            files = [(f.name, f.read()) for f in uploads]
            try:
                outcome = services.load_release(
                    files,
                    label=form.cleaned_data["label"],
                    by=user,
                    title=form.cleaned_data["title"],
                    note=form.cleaned_data["note"],
                    dry_run=form.cleaned_data["dry_run"],
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errs in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errs)
                else:
                    form.add_error("release_files", exc.messages)
            else:
                if outcome.release is None:
                    preview = outcome
                else:
                    messages.success(
                        request,
                        _(
                            "Release %(label)s loaded: %(added)d added, %(changed)d changed, "
                            "%(retired)d retired, %(restored)d restored."
                        )
                        % {"label": outcome.label, **outcome.counts()},
                    )
                    return redirect(outcome.release)
        status = 400 if preview is None else 200
    releases = scope_for_user(user, Release).select_related("loaded_by").order_by("-id")[:200]
    return render(
        request,
        "imdrf/release_list.html",
        {"releases": releases, "form": form, "preview": preview},
        status=status,
    )


@permission_required("imdrf.view_release")
@require_GET
def release_detail(request: HttpRequest, pk: int) -> HttpResponse:
    release = get_object_for_user(request.user, Release.objects.select_related("loaded_by"), pk=pk)
    summary = release.summary or {}
    keys = (
        ("changed", "retired", "restored")
        if release.shipped
        else ("added", "changed", "retired", "restored")
    )
    codes = [c for key in keys for c in summary.get(key, [])]
    found = services.terms_for(codes[:20000], user=request.user)
    groups = [
        (key, label, [found[c] for c in summary.get(key, []) if c in found][:500])
        for key, label in (
            ("added", _("Added")),
            ("changed", _("Changed")),
            ("retired", _("Retired")),
            ("restored", _("Restored")),
        )
    ]
    return render(request, "imdrf/release_detail.html", {"obj": release, "groups": groups})
