"""The list-page kit (docs/development/domain-app.md, "The record view kit"): one small
declaration gives a record list its search, filters, sort, pagination, CSV/XLSX export of the
filtered list and the htmx partial of its table::

    class InspectionList(RecordList):
        model = Inspection
        template = "exampleapp/inspection_list.html"      # the page; it includes…
        table_template = "exampleapp/_inspection_table.html"  # …the table (the htmx partial)
        search_fields = ("number", "title")
        filters = (Filter("status", _("Status"), Inspection.Status.choices),)
        columns = {
            "number": Column(_("Number"), lambda o: o.number, sort="number"),
            "title": Column(_("Title"), lambda o: o.title, sort="title"),
        }
        default_sort = "-number"
        export_name = "inspections"

    urlpatterns = [path("inspections/", InspectionList.as_view(), name="inspection_list")]

The records come through ``scope_for_user`` (override :meth:`RecordList.queryset` for
``select_related`` or a narrower scope); the view needs the model's view permission. ``?q=``
searches, each filter reads its own parameter (unknown values are ignored), ``?sort=key`` or
``-key`` orders by a column's ``sort`` (else ``default_sort``), ``?page=`` pages and
``?format=csv|xlsx`` downloads the whole filtered, sorted list with the columns' values.
A filter's choices may come from the database per user (``Filter("product", _("Product"),
product_choices)`` with ``product_choices(user)``), or a filter may take a free value with
``parse=`` (``parse_date``, ``parse_id``). An htmx request aimed at the table
(``HX-Target: <table_id>``) gets the table alone; sort and page links ask for exactly that
(and are plain links without JavaScript). On a phone the table reads as cards through the
central app.js/app.css (a table in a ``.card``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any, ClassVar

from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .exports import FORMATS, export_response
from .views import COUNT_WINDOW_PAGES, PER_PAGE, int_param, paginate, querystring


@dataclass(frozen=True)
class Column:
    """A column of the list: its label, its value in the export, the ordering of ``?sort=``
    (empty: not sortable)."""

    label: Any
    value: Callable[[Any], Any]
    sort: str = ""


Choices = Sequence[tuple[str, Any]]


@dataclass(frozen=True)
class Filter:
    """A filter read from ``?<name>=``: one of `choices` (value, label), else `default`.
    ``apply(qs, value, user)`` narrows the list; default ``qs.filter(<field or name>=value)``.
    The value "all" (or empty) applies nothing.

    `choices` may be a function of the user, called once per request, for choices that come
    from the database (``lambda user: [("", _("All")), *scope_for_user(user, …)…]``): the
    list offers, and accepts, only what the user may see. A filter with `parse` takes a free
    value instead (a date, an id): accepted when ``parse(raw)`` is not None, and the parsed
    value is what narrows the list. `widget` is how ``records/_list_filters.html`` shows it:
    "select", "date" (with a parse such as :func:`parse_date`) or "hidden" (kept while set,
    e.g. an id a link put there); `css` its grid cell."""

    name: str
    label: Any
    choices: Choices | Callable[[Any], Choices] = ()
    default: str = ""
    field: str = ""
    apply: Callable[[QuerySet, Any, Any], QuerySet] | None = None
    parse: Callable[[str], Any] | None = None
    widget: str = "select"
    css: str = "col-6 col-md-2"

    def options(self, user: Any = None) -> list[tuple[str, Any]]:
        """The choices offered to `user` (evaluated now when they come from the database)."""
        choices = self.choices(user) if callable(self.choices) else self.choices
        return [(str(v), label) for v, label in choices]

    def value(self, request: HttpRequest, options: Choices | None = None) -> str:
        raw = str(request.GET.get(self.name, self.default))[:200]
        if self.parse is not None:
            return raw if raw and self.parse(raw) is not None else self.default
        if options is None:
            options = self.options(getattr(request, "user", None))
        return raw if raw in {str(v) for v, _label in options} else self.default

    def narrow(self, qs: QuerySet, value: str, user: Any) -> QuerySet:
        if value in ("", "all"):
            return qs
        parsed: Any = self.parse(value) if self.parse is not None else value
        if self.apply is not None:
            return self.apply(qs, parsed, user)
        return qs.filter(**{self.field or self.name: parsed})


def parse_date(raw: str) -> dt.date | None:
    """A YYYY-MM-DD date of a date filter, or None."""
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


def parse_id(raw: str) -> int | None:
    """A record id of an id filter (a positive 64-bit integer), or None."""
    return int_param(raw)


class RecordList:
    """A record list page. Declare the class attributes; override :meth:`queryset`,
    :meth:`search`, :meth:`cell` or :meth:`extra_context` only when the page needs more."""

    model: ClassVar[type[Model]]
    template: ClassVar[str]
    table_template: ClassVar[str]
    search_fields: ClassVar[tuple[str, ...]] = ()
    search_placeholder: ClassVar[Any] = ""  # the search box's hint (empty: "Search")
    search_css: ClassVar[str] = "col-12 col-md-4"  # its grid cell in the filter form
    filters: ClassVar[tuple[Filter, ...]] = ()
    columns: ClassVar[dict[str, Column]] = {}
    default_sort: ClassVar[str | tuple[str, ...]] = "-pk"  # order_by() fields without ?sort=
    per_page: ClassVar[int] = PER_PAGE
    export_name: ClassVar[str] = ""  # empty: no export
    export_perm: ClassVar[str] = ""  # empty: whoever sees the list may download it

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.user = request.user
        self.q = request.GET.get("q", "").strip()[:200]
        self.options = {f.name: f.options(self.user) for f in self.filters if f.parse is None}
        self.values = {f.name: f.value(request, self.options.get(f.name)) for f in self.filters}
        self.sort = self._sort_key(request.GET.get("sort", ""))

    # --- what to show ----------------------------------------------------------------------

    @property
    def table_id(self) -> str:
        return f"{self.model._meta.model_name}-list"

    def queryset(self) -> QuerySet:
        from medvigil.core.permissions import scope_for_user

        return scope_for_user(self.user, self.model)

    def search(self, qs: QuerySet, q: str) -> QuerySet:
        if not self.search_fields:
            return qs
        return qs.filter(reduce(or_, (Q(**{f"{f}__icontains": q}) for f in self.search_fields)))

    def _sort_key(self, raw: str) -> str:
        key = raw.removeprefix("-")
        if key and key in self.columns and self.columns[key].sort:
            return raw
        return ""

    def ordering(self) -> list[str]:
        if not self.sort:
            default = self.default_sort
            return [*((default,) if isinstance(default, str) else default), "pk"]
        key = self.sort.removeprefix("-")
        field = self.columns[key].sort
        desc = self.sort.startswith("-")
        return [f"-{field}" if desc else field, "-pk" if desc else "pk"]

    def filtered(self) -> QuerySet:
        qs = self.queryset()
        if self.q:
            qs = self.search(qs, self.q)
        for f in self.filters:
            qs = f.narrow(qs, self.values[f.name], self.user)
        return qs.order_by(*self.ordering())

    def listed(self, qs: QuerySet) -> QuerySet:
        """What the page's table reads of the filtered rows `qs`: `qs`, or (override) only
        the values its rows show, e.g. ``qs.values_list(...)`` for rows built in Python
        without a model instance per record. The rows are counted on `qs` and the export
        reads :meth:`filtered`."""
        return qs

    def extra_context(self, page: Any) -> dict[str, Any]:
        return {}

    # --- the answer --------------------------------------------------------------------------

    def may_export(self) -> bool:
        return bool(self.export_name) and (
            not self.export_perm or self.user.has_perm(self.export_perm)
        )

    def cell(self, key: str, column: Column, obj: Any) -> Any:
        """A cell of the export: the column's value (override to mask what the user may not
        read, as the page does)."""
        return column.value(obj)

    def export(self, fmt: str) -> HttpResponse:
        header = [str(c.label) for c in self.columns.values()]
        rows = (
            [self.cell(key, c, obj) for key, c in self.columns.items()] for obj in self.filtered()
        )
        return export_response(fmt, self.export_name, header, rows)

    def sort_links(self) -> dict[str, dict[str, Any]]:
        """Per sortable column: the query string that sorts by it (toggling the direction)
        and the current direction ("asc", "desc" or "")."""
        out = {}
        for key, col in self.columns.items():
            if not col.sort:
                continue
            params = self.request.GET.copy()
            params.pop("page", None)
            current = "asc" if self.sort == key else "desc" if self.sort == f"-{key}" else ""
            params["sort"] = f"-{key}" if current == "asc" else key
            out[key] = {"qs": params.urlencode(), "dir": current}
        return out

    def context(self) -> dict[str, Any]:
        rows = self.filtered()
        page = paginate(
            self.request,
            self.listed(rows),
            self.per_page,
            window=COUNT_WINDOW_PAGES,
            counted=rows,
        )
        export_qs = querystring(self.request)
        return {
            "page": page,
            "q": self.q,
            "values": self.values,
            "filters": [
                (f, self.values[f.name], self.options.get(f.name, [])) for f in self.filters
            ],
            "searchable": bool(self.search_fields) or type(self).search is not RecordList.search,
            "search_placeholder": self.search_placeholder,
            "search_css": self.search_css,
            "list_path": self.request.path,
            "filtered": bool(self.q)
            or any(v != f.default for f, v in ((f, self.values[f.name]) for f in self.filters)),
            "sort": self.sort,
            "sorts": self.sort_links(),
            "qs": querystring(self.request),
            "table_id": self.table_id,
            "table_template": self.table_template,
            "export": self.may_export(),
            "export_qs": export_qs,
            **self.extra_context(page),
        }

    @property
    def wants_table(self) -> bool:
        """An htmx request aimed at the table: it gets the table alone."""
        htmx = getattr(self.request, "htmx", None)
        return bool(htmx) and htmx.target == self.table_id

    def render(self, context: dict[str, Any]) -> HttpResponse:
        """The page, or the table alone for an htmx request aimed at it."""
        table_only = self.wants_table
        template = self.table_template if table_only else self.template
        return render(self.request, template, {**context, "table_only": table_only})

    def respond(self) -> HttpResponse:
        fmt = self.request.GET.get("format", "")
        if fmt in FORMATS and self.may_export():
            return self.export(fmt)
        return self.render(self.context())

    @classmethod
    def as_view(cls) -> Callable[[HttpRequest], HttpResponse]:
        from medvigil.core.permissions import permission_required

        opts = cls.model._meta

        @permission_required(f"{opts.app_label}.view_{opts.model_name}")
        @require_GET
        def view(request: HttpRequest) -> HttpResponse:
            return cls(request).respond()

        view.__name__ = view.__qualname__ = f"{opts.model_name}_list"
        view.__doc__ = cls.__doc__
        return view
