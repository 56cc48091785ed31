"""The service ledger page (售后服务台账): every piece of service of a period with its costs,
filtered, paginated and exported by the record-list kit, with the KPI-2 figures on top
(arrival compliance, first-time fix, service cost). Read by the service manager, quality and
finance (service.read_service_ledger)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from medvigil.core.permissions import permission_required
from medvigil.core.records.exports import export_response
from medvigil.core.records.lists import Column, Filter, RecordList, parse_date, parse_id

from ..models import Loan, ServiceRequest, WorkOrder, Zone
from ..services import ledger

EXPORT_CHUNK = 500


def _engineers(user: Any) -> list[tuple[str, Any]]:
    from medvigil.accounts.models import User

    qs = (
        User.objects.filter(
            Q(pk__in=WorkOrder.objects.values("engineer_id"))
            | Q(service_qualifications__isnull=False)
        )
        .distinct()
        .order_by("username")
    )
    return [("", gettext_lazy("All engineers")), *((u.pk, u.printed_name) for u in qs)]


def _products(user: Any) -> list[tuple[str, Any]]:
    from medvigil.trace.models import Product

    return [
        ("", gettext_lazy("All products")),
        *((p.pk, str(p)) for p in Product.objects.order_by("name")),
    ]


def _customers(user: Any) -> list[tuple[str, Any]]:
    """The customers served: those of service requests and loaners (at most 500)."""
    from medvigil.trace.models import Customer

    served = Customer.objects.filter(
        Q(pk__in=ServiceRequest.objects.values("customer_id"))
        | Q(pk__in=Loan.objects.values("customer_id"))
    ).order_by("name")[:500]
    return [("", gettext_lazy("All customers")), *((c.pk, c.name) for c in served)]


def _money(v: Any) -> str:
    return f"{v:.2f}"


class LedgerList(RecordList):
    """The ledger: a union of work orders, maintenance visits, call-backs, loaners and accepted
    quotes (services.ledger.ledger_lines); each filter is applied inside every part."""

    model = WorkOrder
    template = "service/ledger.html"
    table_template = "service/_ledger_table.html"
    filters = (
        Filter("start", gettext_lazy("From"), parse=parse_date, widget="date"),
        Filter("end", gettext_lazy("To"), parse=parse_date, widget="date"),
        Filter(
            "kind",
            gettext_lazy("Type"),
            [("", gettext_lazy("All types")), *ledger.KIND_LABELS.items()],
        ),
        Filter("engineer", gettext_lazy("Engineer"), _engineers),
        Filter("product", gettext_lazy("Product"), _products),
        Filter("customer", gettext_lazy("Customer"), _customers),
        Filter("zone", gettext_lazy("Zone"), [("", gettext_lazy("All zones")), *Zone.choices]),
    )
    columns = {
        "day": Column(gettext_lazy("Date"), lambda ln: ln.day.isoformat() if ln.day else "", "d"),
        "kind": Column(gettext_lazy("Type"), lambda ln: ln.kind_label, sort="k"),
        "number": Column(gettext_lazy("Number"), lambda ln: ln.number),
        "request": Column(gettext_lazy("Service request"), lambda ln: ln.request_number),
        "engineer": Column(gettext_lazy("Engineer"), lambda ln: ln.engineer),
        "customer": Column(gettext_lazy("Customer"), lambda ln: ln.customer),
        "product": Column(gettext_lazy("Product"), lambda ln: ln.product),
        "serial": Column(gettext_lazy("Serial"), lambda ln: ln.serial),
        "zone": Column(gettext_lazy("Zone"), lambda ln: ln.zone),
        "status": Column(gettext_lazy("Status"), lambda ln: ln.status_label),
        "parts": Column(gettext_lazy("Parts"), lambda ln: _money(ln.costs.parts)),
        "labour": Column(gettext_lazy("Labour"), lambda ln: _money(ln.costs.labour)),
        "travel": Column(gettext_lazy("Travel"), lambda ln: _money(ln.costs.travel)),
        "cost": Column(gettext_lazy("Service cost"), lambda ln: _money(ln.costs.total)),
        "charged": Column(gettext_lazy("Charged"), lambda ln: _money(ln.costs.charged)),
    }
    export_name = "service-ledger"
    # the union's order: ?sort=day / -day / kind / -kind
    _ORDER = {"d": "row_day", "k": "row_kind"}

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request)
        self.lf = self.ledger_filter()

    @property
    def table_id(self) -> str:
        return "service-ledger"

    def ledger_filter(self) -> ledger.LedgerFilter:
        v = self.values
        start, end = parse_date(v["start"]), parse_date(v["end"])
        return ledger.LedgerFilter(
            start=start,
            end=end,
            engineer_id=parse_id(v["engineer"]),
            product_id=parse_id(v["product"]),
            customer_id=parse_id(v["customer"]),
            zone=v["zone"],
            kind=v["kind"],
        )

    def filtered(self) -> QuerySet:
        if not self.sort:
            return ledger.ledger_lines(self.user, self.lf)
        key = self.sort.removeprefix("-")
        col = self._ORDER[self.columns[key].sort]
        desc = self.sort.startswith("-")
        order = (f"-{col}" if desc else col, "-row_id" if desc else "row_id")
        return ledger.ledger_lines(self.user, self.lf, ordering=order)

    def export(self, fmt: str) -> HttpResponse:
        header = [str(c.label) for c in self.columns.values()]

        def rows() -> Any:
            chunk: list[dict[str, Any]] = []
            for raw in self.filtered().iterator(chunk_size=EXPORT_CHUNK):
                chunk.append(raw)
                if len(chunk) >= EXPORT_CHUNK:
                    yield from self._cells(chunk)
                    chunk = []
            yield from self._cells(chunk)

        return export_response(fmt, self.export_name, header, rows())

    def _cells(self, chunk: list[dict[str, Any]]) -> Any:
        for ln in ledger.describe(chunk):
            yield [c.value(ln) for c in self.columns.values()]

    def extra_context(self, page: Any) -> dict[str, Any]:
        today = timezone.localdate()
        month = today.replace(day=1)
        q_start = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1)
        last_month_end = month - dt.timedelta(days=1)
        return {
            "lines": ledger.describe(page.object_list),
            "figures": ledger.figures(self.user, self.lf),
            "lf": self.lf,
            "periods": [
                (gettext_lazy("This month"), month, today),
                (gettext_lazy("Last month"), last_month_end.replace(day=1), last_month_end),
                (gettext_lazy("This quarter"), q_start, today),
                (gettext_lazy("This year"), today.replace(month=1, day=1), today),
            ],
        }


@permission_required(ledger.LEDGER_PERM)
@require_GET
def ledger_page(request: HttpRequest) -> HttpResponse:
    """The service ledger (售后服务台账) with its figures; ?format=csv|xlsx downloads it."""
    return LedgerList(request).respond()
