"""Audit-trail pages (PLAT-2) for auditors and quality: search, per-record history, CSV export
and an on-demand chain verification. All read-only."""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from ..models import AuditEntry
from ..permissions import permission_required
from ..records.hooks import hook
from .search import (
    ACTIONS,
    AuditFilter,
    content_type_for,
    iter_export_rows,
    record_type_label,
    record_types,
    search_entries,
    source_label,
)

logger = logging.getLogger("medvigil.audit")

AUDIT_PERM = "core.view_auditentry"
VERIFY_PERM = "core.view_auditchain"
PAGE_SIZE = 50


class AuditSearchForm(forms.Form):
    record_type = forms.ChoiceField(label=gettext_lazy("Record type"), required=False)
    record = forms.CharField(
        label=gettext_lazy("Record id or name"), required=False, max_length=200
    )
    object_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    user = forms.CharField(
        label=gettext_lazy("User"),
        required=False,
        max_length=150,
        help_text=gettext_lazy("user name or name"),
    )
    action = forms.ChoiceField(label=gettext_lazy("Action"), required=False)
    source = forms.CharField(
        label=gettext_lazy("Source"),
        required=False,
        max_length=80,
        help_text=gettext_lazy("ui, api, admin, shell, task:…, command:…"),
    )
    request_id = forms.CharField(
        label=gettext_lazy("Request id"),
        required=False,
        max_length=64,
        help_text=gettext_lazy("e.g. an import number IMP-…"),
    )
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["record_type"].choices = [("", _("All record types")), *record_types()]
        labels = dict(AuditEntry.Action.choices)
        self.fields["action"].choices = [("", _("All actions"))] + [
            (a, labels.get(a, a)) for a in ACTIONS
        ]
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs["class"] = css
            if field.help_text and not isinstance(field, forms.ChoiceField):
                field.widget.attrs["placeholder"] = field.help_text

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["class"] += " is-invalid"

    def clean_record_type(self) -> str:
        value = self.cleaned_data.get("record_type", "")
        if value and content_type_for(value) is None:
            raise ValidationError(_("Unknown record type."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def to_filter(self) -> AuditFilter:
        d = self.cleaned_data
        return AuditFilter(
            record_type=d.get("record_type", ""),
            object_id=d.get("object_id", ""),
            record=d.get("record", ""),
            user=d.get("user", ""),
            action=d.get("action", ""),
            source=d.get("source", ""),
            request_id=d.get("request_id", ""),
            date_from=d.get("date_from"),
            date_to=d.get("date_to"),
        )


def _search(request: HttpRequest) -> tuple[AuditSearchForm, Any]:
    """The bound form and the matching entries (None if the filter is not valid)."""
    form = AuditSearchForm(data=request.GET)
    if not form.is_valid():
        return form, None
    try:
        return form, search_entries(form.to_filter())
    except ValidationError as exc:  # same rules as the form, kept as a safety net
        for field, messages in exc.message_dict.items():
            for msg in messages:
                form.add_error(field if field in form.fields else None, msg)
        return form, None


def record_urls(entries: list[AuditEntry]) -> dict[tuple[int, str], str]:
    """(content type id, object id) -> the record's own page, for the entries' records whose
    model has get_absolute_url and that still exist; one query per record type."""
    wanted: dict[int, set[str]] = {}
    types: dict[int, ContentType] = {}
    for e in entries:
        wanted.setdefault(e.content_type_id, set()).add(e.object_id)
        types[e.content_type_id] = e.content_type  # loaded with the entries: no lookup
    urls: dict[tuple[int, str], str] = {}
    for ct_id, ids in wanted.items():
        model = types[ct_id].model_class()
        if model is None or not hasattr(model, "get_absolute_url"):
            continue
        try:
            related = hook(model, "url_related")
            objects = model._base_manager.select_related(*related).in_bulk(list(ids))
        except (ValueError, TypeError, ValidationError):  # ids not of the key's type
            continue
        for pk, obj in objects.items():
            try:
                urls[(ct_id, str(pk))] = obj.get_absolute_url()
            except NoReverseMatch:
                continue
    return urls


class _Row:
    """An entry prepared for the template."""

    def __init__(
        self,
        entry: AuditEntry,
        user: Any,
        urls: dict[tuple[int, str], str],
        changes: list[dict[str, Any]],
    ) -> None:
        self.entry = entry
        self.record_type = record_type_label(entry.content_type)
        # the record's own page, or (no page, or the record is gone) its history in the trail
        self.history_url = (
            f"{reverse('audit_trail')}?record_type={quote(self.record_type)}"
            f"&object_id={quote(entry.object_id)}"
        )
        self.record_url = urls.get((entry.content_type_id, entry.object_id), "")
        self.source = source_label(entry.source)
        self.model_name = (
            entry.content_type.model_class()._meta.verbose_name  # type: ignore[union-attr]
            if entry.content_type.model_class()
            else self.record_type
        )
        self.changes = changes


def readable_changes(entries: list[AuditEntry], user: Any) -> dict[int, list[dict[str, Any]]]:
    """Each entry's changes as the record's history panel shows them (one renderer for both):
    choice labels, related records by name, times in the company's zone, masked where
    `user` may not see them. Keyed by entry id."""
    from ..templatetags.records import history_rows

    by_type: dict[int, list[AuditEntry]] = {}
    for e in entries:
        by_type.setdefault(e.content_type_id, []).append(e)
    out: dict[int, list[dict[str, Any]]] = {}
    for group in by_type.values():
        model = group[0].content_type.model_class()
        for row in history_rows(group, model, user):
            changes = [
                {
                    "field": r["field"],
                    "label": r["field"],
                    "old_text": r["old"],
                    "new_text": r["new"],
                }
                for r in row["rows"]
            ]
            if row["summary"]:
                changes.insert(
                    0,
                    {
                        "field": "event",
                        "label": _("event"),
                        "old_text": "",
                        "new_text": row["summary"],
                    },
                )
            out[row["entry"].pk] = changes
    return out


def _rows(entries: list[AuditEntry], user: Any) -> list[_Row]:
    urls = record_urls(entries)
    changes = readable_changes(entries, user)
    return [_Row(e, user, urls, changes.get(e.pk, [])) for e in entries]


@require_GET
@permission_required(AUDIT_PERM)
def audit_trail(request: HttpRequest) -> HttpResponse:
    form, qs = _search(request)
    page = None
    rows: list[_Row] = []
    if qs is not None:
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        rows = _rows(list(page.object_list), request.user)
    query = request.GET.copy()
    query.pop("page", None)
    history_of = None
    if (
        form.is_valid()
        and form.cleaned_data.get("object_id")
        and form.cleaned_data.get("record_type")
    ):
        history_of = {
            "record_type": form.cleaned_data["record_type"],
            "object_id": form.cleaned_data["object_id"],
            "repr": rows[0].entry.object_repr if rows else "",
        }
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "history_of": history_of,
        "can_verify": request.user.has_perm(VERIFY_PERM),
    }
    status = 200 if qs is not None else 400
    return render(request, "core/audit/trail.html", context, status=status)


_FORMULA = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def _cell(value: Any) -> Any:
    """Keep spreadsheet programs from running a cell as a formula (CSV injection)."""
    if isinstance(value, str) and _FORMULA.match(value) and not _NUMBER.match(value):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


EXPORT_HEADER = [
    gettext_lazy("Entry id"),
    gettext_lazy("Time"),
    gettext_lazy("User name"),
    gettext_lazy("Actor"),
    gettext_lazy("Source"),
    gettext_lazy("Request id"),
    gettext_lazy("Record type"),
    gettext_lazy("Record id"),
    gettext_lazy("Record"),
    gettext_lazy("Action"),
    gettext_lazy("Sequence"),
    gettext_lazy("Reason"),
    gettext_lazy("Field"),
    gettext_lazy("Field name"),
    gettext_lazy("Old value"),
    gettext_lazy("New value"),
]


@require_GET
@permission_required(AUDIT_PERM)
def audit_export(request: HttpRequest) -> HttpResponseBase:
    """The current filter as CSV (UTF-8 with BOM so Excel reads Chinese), streamed."""
    form, qs = _search(request)
    if qs is None:
        return render(
            request,
            "core/audit/trail.html",
            {"form": form, "page": None, "rows": [], "query": "", "history_of": None},
            status=400,
        )
    tz_name = timezone.get_default_timezone_name()
    header = [str(h) for h in EXPORT_HEADER]
    header[1] = f"{header[1]} ({tz_name})"
    writer = csv.writer(_Echo())
    logger.info(
        "audit trail exported by %s with filter %s",
        request.user.get_username(),
        form.to_filter().as_query(),
    )

    def stream() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(header)
        for row in iter_export_rows(qs, request.user):
            yield writer.writerow([_cell(v) for v in row])

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-trail-{stamp}.csv"'
    return response


@require_POST
@permission_required(AUDIT_PERM)
def audit_verify(request: HttpRequest) -> HttpResponse:
    """Run the same check as `medvigil audit verify` (read-only) and show the outcome."""
    from .verify import verify_trail

    if not request.user.has_perm(VERIFY_PERM):
        raise PermissionDenied
    result = verify_trail()
    logger.info(
        "audit trail verified on request of %s: ok=%s %s",
        request.user.get_username(),
        result.ok,
        result.problem,
    )
    bad = None
    if result.entry_id:
        bad = AuditEntry.objects.select_related("content_type").filter(pk=result.entry_id).first()
    context: dict[str, Any] = {
        "result": result,
        "checked_at": timezone.now(),
        "bad_entry": bad,
        "bad_record_type": record_type_label(bad.content_type) if bad else "",
    }
    if getattr(request, "htmx", False):
        return render(request, "core/audit/_verify.html", context)
    form, qs = _search(request)
    page = Paginator(qs, PAGE_SIZE).get_page(1) if qs is not None else None
    context.update(
        {
            "form": form,
            "page": page,
            "rows": _rows(list(page.object_list), request.user) if page else [],
            "query": "",
            "history_of": None,
            "can_verify": True,
        }
    )
    return render(request, "core/audit/trail.html", context)
