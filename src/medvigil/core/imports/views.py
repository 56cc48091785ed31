"""Import pages (PLAT-10): upload, batch detail with live progress (htmx polling), error report
and template downloads, list of batches. Every change goes through core.imports services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from ..models import ImportBatch
from ..permissions import get_object_for_user, permission_required, scope_for_user
from . import (
    ALLOWED_EXTENSIONS,
    ERROR_REPORT_SUFFIX,
    KIND_HELP,
    all_importers,
    create_batch,
    error_report_csv,
    fail_lost_imports,
    get_importer,
    importers_for,
    settle,
    stored_errors,
    template_csv,
)

PER_PAGE = 25


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What to import"))
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV (UTF-8 or GB18030) or Excel XLSX; the first row names the columns."),
        widget=forms.ClearableFileInput(
            attrs={"accept": ",".join(f".{e}" for e in ALLOWED_EXTENSIONS)}
        ),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(c.kind, c.label) for c in importers_for(user)]


def _batch_for_user(request: HttpRequest, pk: int) -> ImportBatch:
    return settle(
        get_object_for_user(request.user, ImportBatch.objects.select_related("uploaded_by"), pk=pk)
    )


@permission_required("core.view_importbatch")
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    fail_lost_imports()
    qs = scope_for_user(request.user, ImportBatch).select_related("uploaded_by")
    kind = request.GET.get("kind", "")
    if kind:
        qs = qs.filter(kind=kind)
    status = request.GET.get("status", "")
    if status in ImportBatch.Status.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    labels = {c.kind: c.label for c in importers_for(request.user)}
    all_labels = {c.kind: c.label for c in all_importers()}
    for b in page.object_list:
        b.kind_label = all_labels.get(b.kind, b.kind)
    return render(
        request,
        "core/imports/list.html",
        {
            "page": page,
            "batches": page.object_list,
            "can_import": bool(labels) and request.user.has_perm("core.add_importbatch"),
            "kinds": all_labels,
            "kind": kind,
            "status": status,
            "statuses": ImportBatch.Status.choices,
        },
    )


@permission_required("core.add_importbatch")
@require_http_methods(["GET", "POST"])
def import_new(request: HttpRequest) -> HttpResponse:
    importers = importers_for(request.user)
    initial_kind = request.GET.get("kind", "")
    form = ImportForm(
        request.POST or None,
        request.FILES or None,
        user=request.user,
        initial={"kind": initial_kind},
    )
    if request.method == "POST" and form.is_valid():
        try:
            batch = create_batch(
                user=request.user,
                kind=form.cleaned_data["kind"],
                uploaded=form.cleaned_data["file"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errs in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errs)
            else:
                form.add_error(None, exc.messages)
        except PermissionDenied:
            form.add_error("kind", _("You are not allowed to import this kind of data."))
        else:
            return redirect("import_detail", pk=batch.pk)
    return render(
        request,
        "core/imports/new.html",
        {"form": form, "importers": importers, "help": KIND_HELP},
    )


def _detail_context(request: HttpRequest, batch: ImportBatch) -> dict[str, Any]:
    cls = get_importer(batch.kind)
    return {
        "batch": batch,
        "kind_label": cls.label if cls else batch.kind,
        "importer": cls,
    }


@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request)
    batch = _batch_for_user(request, pk)
    return render(request, "core/imports/detail.html", _detail_context(request, batch))


@require_GET
def import_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress fragment polled by htmx while the batch is running."""
    if not request.user.is_authenticated:
        return redirect_to_login(request)
    batch = _batch_for_user(request, pk)
    response = render(request, "core/imports/_status.html", _detail_context(request, batch))
    if not batch.is_running and request.headers.get("HX-Request"):
        # Finished: reload the whole page once so the result and error list appear.
        response["HX-Refresh"] = "true"
    return response


@require_GET
def import_errors(request: HttpRequest, pk: int) -> HttpResponseBase:
    if not request.user.is_authenticated:
        raise Http404
    return error_report_response(_batch_for_user(request, pk))


def error_report_response(batch: ImportBatch) -> HttpResponseBase:
    """The batch's error report as a CSV download (page and API), its messages in the
    reader's language; 404 if it has none. Reports stored before messages were kept
    untranslated (a CSV file) are sent as they are."""
    if not batch.error_report:
        raise Http404
    if batch.error_report.name.endswith(ERROR_REPORT_SUFFIX):
        response = StreamingHttpResponse(
            error_report_csv(stored_errors(batch)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{batch.number}-errors.csv"'
        return response
    return FileResponse(
        batch.error_report.open("rb"),
        as_attachment=True,
        filename=f"{batch.number}-errors.csv",
        content_type="text/csv; charset=utf-8",
    )


@require_GET
def import_file(request: HttpRequest, pk: int) -> FileResponse:
    if not request.user.is_authenticated:
        raise Http404
    batch = _batch_for_user(request, pk)
    return FileResponse(batch.file.open("rb"), as_attachment=True, filename=batch.original_name)


@permission_required("core.add_importbatch")
@require_GET
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    cls = get_importer(kind)
    if cls is None or not cls.allowed(request.user):
        raise Http404
    lang = request.GET.get("lang") or translation.get_language()
    response = HttpResponse(template_csv(cls, lang), content_type="text/csv; charset=utf-8")
    suffix = "zh" if (lang or "").lower().startswith("zh") else "en"
    response["Content-Disposition"] = f'attachment; filename="{kind}-template-{suffix}.csv"'
    return response


def redirect_to_login(request: HttpRequest) -> HttpResponse:
    from django.contrib.auth.views import redirect_to_login as to_login

    return to_login(request.get_full_path())
