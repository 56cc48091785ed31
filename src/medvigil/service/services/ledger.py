"""The service ledger (售后服务台账, seed 003 五 流程附表单; issue #11 item 9) and the service
figures the KPI work reads (KPI-2: service arrival compliance, first-time fix, service cost).

One ledger line per piece of service in the period:

    work order      its day: created (dispatched); parts cost: parts issued to it (SVC-10)
    maintenance     onsite visit or phone call-back (SVC-8); its day: due
    loaner          a loaner issued (SVC-7); its day: issued
    quote           an accepted paid-service quote (SVC-5/6); its day: the customer's answer;
                    its labour and travel lines (after the discount) and what is charged

Costs: parts at the part's unit cost (issued minus returned, reversed movements left out);
labour and travel from the accepted quotes (the price list is the only priced source of labour
and travel: warranty work, which is not quoted, carries its parts only). Service cost = parts +
labour + travel; "charged" is what the customers accepted to pay (the quotes' totals).

Service cost as a share of sales (KPI-2, target <= 2 %) cannot be computed: traceability's
sales (trace.Sale / SaleLine) record units and quantities, not amounts. `service_cost` says so.

Every figure reads the same filters as the ledger (:class:`LedgerFilter`); the page, the API
(`GET /api/v1/service-ledger/figures`) and the KPI work call these functions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.apps import apps
from django.db.models import (
    CharField,
    DateField,
    F,
    IntegerField,
    Min,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from medvigil.core.permissions import scope_for_user

from ..models import Loan, MaintenanceVisit, Quote, ServiceRequest, WorkOrder
from .clocks import arrival_compliance as _arrival_compliance

LEDGER_PERM = "service.read_service_ledger"
CENT = Decimal("0.01")
ZERO = Decimal("0.00")

KIND_WORK_ORDER = "work_order"
KIND_VISIT = MaintenanceVisit.Kind.VISIT.value  # "visit"
KIND_CALL = MaintenanceVisit.Kind.CALL.value  # "call"
KIND_LOAN = "loan"
KIND_QUOTE = "quote"
KINDS = (KIND_WORK_ORDER, KIND_VISIT, KIND_CALL, KIND_LOAN, KIND_QUOTE)


@dataclass(frozen=True)
class LedgerFilter:
    """The ledger's filters: the period (both days included, the company's zone; None: open)
    and optionally an engineer, a product, a customer, a zone and a kind of line."""

    start: dt.date | None = None
    end: dt.date | None = None
    engineer_id: int | None = None
    product_id: int | None = None
    customer_id: int | None = None
    zone: str = ""
    kind: str = ""

    def bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The period as aware datetimes [from, to) in the company's zone."""
        tz = timezone.get_current_timezone()
        lo = dt.datetime.combine(self.start, dt.time.min, tz) if self.start else None
        hi = (
            dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tz)
            if self.end
            else None
        )
        return lo, hi


def _in_period(field: str, f: LedgerFilter, *, date: bool = False) -> Q:
    q = Q()
    if date:
        if f.start:
            q &= Q(**{f"{field}__gte": f.start})
        if f.end:
            q &= Q(**{f"{field}__lte": f.end})
        return q
    lo, hi = f.bounds()
    if lo:
        q &= Q(**{f"{field}__gte": lo})
    if hi:
        q &= Q(**{f"{field}__lt": hi})
    return q


def _narrow(
    qs: QuerySet,
    f: LedgerFilter,
    *,
    engineer: str | None,
    product: str | None,
    customer: str | None,
    zone: str | None,
) -> QuerySet:
    """Apply the non-period filters through each model's own paths (None: the model has no
    such field, so a filter on it leaves nothing)."""
    for value, path in (
        (f.engineer_id, engineer),
        (f.product_id, product),
        (f.customer_id, customer),
        (f.zone or None, zone),
    ):
        if value is None:
            continue
        if path is None:
            return qs.none()
        qs = qs.filter(**{path: value})
    return qs


# --- the ledger lines --------------------------------------------------------------------------


def _columns(**exprs: Any) -> dict[str, Any]:
    """The union's columns, every one an expression of the same name and type in each part."""
    return exprs


def _null_int() -> Any:
    return Cast(Value(None), output_field=IntegerField())


def ledger_parts(user: Any, f: LedgerFilter) -> list[QuerySet]:
    """The ledger's parts (one values() queryset per kind of line), each narrowed by the
    filters and by what the user may see."""
    parts: list[QuerySet] = []
    want = set(KINDS) if not f.kind else {f.kind}
    if KIND_WORK_ORDER in want:
        qs = scope_for_user(user, WorkOrder).exclude(status=WorkOrder.Status.VOIDED)
        qs = _narrow(
            qs.filter(_in_period("created_at", f)),
            f,
            engineer="engineer_id",
            product="request__product_id",
            customer="request__customer_id",
            zone="request__zone",
        )
        parts.append(
            qs.order_by().values(
                **_columns(
                    row_kind=Value(KIND_WORK_ORDER, output_field=CharField()),
                    row_id=F("pk"),
                    row_number=F("number"),
                    row_day=TruncDate("created_at"),
                    row_status=F("status"),
                    row_engineer=F("engineer_id"),
                    row_product=F("request__product_id"),
                    row_customer=F("request__customer_id"),
                    row_unit=F("request__unit_id"),
                    row_zone=F("request__zone"),
                    row_request=F("request_id"),
                )
            )
        )
    for kind in (KIND_VISIT, KIND_CALL):
        if kind not in want:
            continue
        qs = scope_for_user(user, MaintenanceVisit).filter(kind=kind)
        qs = _narrow(
            qs.filter(_in_period("due_on", f, date=True)),
            f,
            engineer="assigned_to_id",
            product="unit__product_id",
            customer="unit__holder_id",
            zone=None,
        )
        parts.append(
            qs.order_by().values(
                **_columns(
                    row_kind=Value(kind, output_field=CharField()),
                    row_id=F("pk"),
                    row_number=Value("", output_field=CharField()),
                    row_day=Cast("due_on", output_field=DateField()),
                    row_status=F("status"),
                    row_engineer=F("assigned_to_id"),
                    row_product=F("unit__product_id"),
                    row_customer=F("unit__holder_id"),
                    row_unit=F("unit_id"),
                    row_zone=Value("", output_field=CharField()),
                    row_request=_null_int(),
                )
            )
        )
    if KIND_LOAN in want:
        qs = scope_for_user(user, Loan)
        qs = _narrow(
            qs.filter(_in_period("issued_at", f)),
            f,
            engineer="request__engineer_id",
            product="unit__product_id",
            customer="customer_id",
            zone="request__zone",
        )
        parts.append(
            qs.order_by().values(
                **_columns(
                    row_kind=Value(KIND_LOAN, output_field=CharField()),
                    row_id=F("pk"),
                    row_number=F("number"),
                    row_day=TruncDate("issued_at"),
                    row_status=F("status"),
                    row_engineer=F("request__engineer_id"),
                    row_product=F("unit__product_id"),
                    row_customer=F("customer_id"),
                    row_unit=F("unit_id"),
                    row_zone=F("request__zone"),
                    row_request=F("request_id"),
                )
            )
        )
    if KIND_QUOTE in want:
        parts.append(
            _accepted_quotes(user, f)
            .order_by()
            .values(
                **_columns(
                    row_kind=Value(KIND_QUOTE, output_field=CharField()),
                    row_id=F("pk"),
                    row_number=F("number"),
                    row_day=TruncDate("answered_at"),
                    row_status=F("status"),
                    row_engineer=F("request__engineer_id"),
                    row_product=F("request__product_id"),
                    row_customer=F("request__customer_id"),
                    row_unit=F("request__unit_id"),
                    row_zone=F("request__zone"),
                    row_request=F("request_id"),
                )
            )
        )
    return parts


def ledger_lines(user: Any, f: LedgerFilter, *, ordering: Iterable[str] = ()) -> QuerySet:
    """Every ledger line of the period the user may see, one queryset (a UNION ALL) that
    counts and slices in the database: a page reads only its own lines."""
    parts = ledger_parts(user, f)
    if not parts:
        return WorkOrder.objects.none().values("pk")
    qs = parts[0] if len(parts) == 1 else parts[0].union(*parts[1:], all=True)
    return qs.order_by(*(ordering or ("-row_day", "row_kind", "-row_id")))


def _accepted_quotes(user: Any, f: LedgerFilter) -> QuerySet:
    qs = scope_for_user(user, Quote).filter(status=Quote.Status.ACCEPTED)
    return _narrow(
        qs.filter(_in_period("answered_at", f)),
        f,
        engineer="request__engineer_id",
        product="request__product_id",
        customer="request__customer_id",
        zone="request__zone",
    )


# --- costs -------------------------------------------------------------------------------------


@dataclass
class Costs:
    parts: Decimal = ZERO
    labour: Decimal = ZERO
    travel: Decimal = ZERO
    charged: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        """The service cost: parts + labour + travel."""
        return self.parts + self.labour + self.travel

    def add(self, other: Costs) -> None:
        self.parts += other.parts
        self.labour += other.labour
        self.travel += other.travel
        self.charged += other.charged


def quote_costs(q: Quote) -> Costs:
    """Labour and travel of an accepted quote (its lines at the list price, less the quote's
    discount, to the cent) and what it charges (its total). Its part lines are charged but not
    counted as cost: parts cost what was issued from stock."""
    keep = (Decimal(100) - (q.discount_percent or 0)) / Decimal(100)
    c = Costs(charged=q.total or ZERO)
    for line in q.lines or []:
        try:
            amount = (Decimal(str(line.get("amount", "0"))) * keep).quantize(CENT, ROUND_HALF_UP)
        except (ArithmeticError, ValueError, AttributeError):
            continue
        if line.get("kind") == "labour":
            c.labour += amount
        elif line.get("kind") == "travel":
            c.travel += amount
    return c


def parts_cost_by_work_order(work_orders: QuerySet | Iterable[int]) -> dict[int, Decimal]:
    """Parts issued to each work order at the part's unit cost (issues minus returns; movements
    that were reversed, and the reversals, left out). Empty without the parts app."""
    if not apps.is_installed("medvigil.parts"):
        return {}
    from django.contrib.contenttypes.models import ContentType

    from medvigil.parts.models import MovementKind, StockMovement

    ct = ContentType.objects.get_for_model(WorkOrder)
    if isinstance(work_orders, QuerySet):
        ids: Any = work_orders.order_by().annotate(_ref=Cast("pk", CharField())).values("_ref")
    else:
        ids = [str(i) for i in work_orders]
        if not ids:
            return {}
    rows = (
        StockMovement.objects.filter(
            reference_type=ct,
            reference_id__in=ids,
            kind__in=(MovementKind.ISSUE, MovementKind.RETURN),
            reversal__isnull=True,
        )
        .order_by()
        .values_list("reference_id", "kind", "quantity", "part__unit_cost")
    )
    out: dict[int, Decimal] = {}
    for ref, kind, qty, cost in rows:
        amount = Decimal(qty) * (cost or ZERO)
        key = int(ref)
        out[key] = out.get(key, ZERO) + (amount if kind == MovementKind.ISSUE else -amount)
    return {k: v.quantize(CENT, ROUND_HALF_UP) for k, v in out.items()}


def line_costs(lines: Iterable[dict[str, Any]]) -> dict[tuple[str, int], Costs]:
    """The costs of some ledger lines (a page, a chunk of an export), by (kind, id), in two
    queries at most."""
    lines = list(lines)
    wo_ids = [ln["row_id"] for ln in lines if ln["row_kind"] == KIND_WORK_ORDER]
    quote_ids = [ln["row_id"] for ln in lines if ln["row_kind"] == KIND_QUOTE]
    out: dict[tuple[str, int], Costs] = {}
    for wo_id, parts in parts_cost_by_work_order(wo_ids).items():
        out[(KIND_WORK_ORDER, wo_id)] = Costs(parts=parts)
    if quote_ids:
        for q in Quote.objects.filter(pk__in=quote_ids).only("lines", "discount_percent", "total"):
            out[(KIND_QUOTE, q.pk)] = quote_costs(q)
    return out


# --- the figures (KPI-2) ---------------------------------------------------------------------


def _requests(user: Any, f: LedgerFilter) -> QuerySet:
    """The requests a figure counts: received in the period, not voided, through the filters."""
    qs = scope_for_user(user, ServiceRequest).exclude(status=ServiceRequest.Status.VOIDED)
    return _narrow(
        qs.filter(_in_period("received_at", f)),
        f,
        engineer="engineer_id",
        product="product_id",
        customer="customer_id",
        zone="zone",
    )


def arrival_compliance(user: Any, f: LedgerFilter) -> dict[str, Any]:
    """KPI-2 / SVC-2: of the period's requests with an arrival target where the engineer has
    arrived, those that arrived by the committed time (arrived_at <= arrival_due_at); plus
    those still waiting past it."""
    return _arrival_compliance(_requests(user, f))


def first_time_fix(user: Any, f: LedgerFilter) -> dict[str, Any]:
    """KPI-2: of the period's requests whose first work order is finished (signed off or
    closed) with a repair result (fixed or not fixed; advice-only visits are left out), those
    fixed by that first visit. The first work order is the request's earliest one not voided."""
    reqs = _requests(user, f)
    first_ids = (
        WorkOrder.objects.filter(request__in=reqs.values("pk"))
        .exclude(status=WorkOrder.Status.VOIDED)
        .order_by()
        .values("request_id")
        .annotate(first=Min("pk"))
        .values("first")
    )
    rows = WorkOrder.objects.filter(
        pk__in=first_ids,
        status__in=(WorkOrder.Status.SIGNED, WorkOrder.Status.CLOSED),
        result__in=(WorkOrder.Result.FIXED, WorkOrder.Result.NOT_FIXED),
    ).values_list("result", flat=True)
    results = list(rows)
    fixed = sum(1 for r in results if r == WorkOrder.Result.FIXED)
    total = len(results)
    return {
        "finished": total,
        "first_time": fixed,
        "repeat": total - fixed,
        "percent": round(100.0 * fixed / total, 1) if total else None,
    }


def service_cost(user: Any, f: LedgerFilter) -> dict[str, Any]:
    """KPI-2: the period's service cost (parts issued to its work orders + labour and travel of
    its accepted quotes) and what was charged. The share of sales is None: trace's sales have
    no amounts (`share_note` says so)."""
    c = Costs()
    want = set(KINDS) if not f.kind else {f.kind}
    if KIND_WORK_ORDER in want:
        wos = _narrow(
            scope_for_user(user, WorkOrder)
            .exclude(status=WorkOrder.Status.VOIDED)
            .filter(_in_period("created_at", f)),
            f,
            engineer="engineer_id",
            product="request__product_id",
            customer="request__customer_id",
            zone="request__zone",
        )
        c.parts = sum(parts_cost_by_work_order(wos).values(), ZERO)
    if KIND_QUOTE in want:
        for q in _accepted_quotes(user, f).only("lines", "discount_percent", "total"):
            c.add(quote_costs(q))
    return {
        "parts": c.parts,
        "labour": c.labour,
        "travel": c.travel,
        "total": c.total,
        "charged": c.charged,
        "sales": None,
        "share_of_sales": None,
        "share_note": "trace sales record units and quantities, not amounts",
    }


def figures(user: Any, f: LedgerFilter) -> dict[str, Any]:
    """The three figures at the top of the ledger, as the API returns them."""
    return {
        "start": f.start,
        "end": f.end,
        "arrival_compliance": arrival_compliance(user, f),
        "first_time_fix": first_time_fix(user, f),
        "service_cost": service_cost(user, f),
    }


# --- lines for people: names, costs --------------------------------------------------------


@dataclass
class Line:
    """A ledger line with what the page and the export show."""

    kind: str
    id: int
    number: str
    day: dt.date | None
    status: str
    engineer: str
    product: str
    customer: str
    serial: str
    zone: str
    request_number: str
    request_id: int | None
    costs: Costs

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.kind, {}).get(self.status, self.status))

    @property
    def url(self) -> str:
        from django.urls import reverse

        if self.kind == KIND_WORK_ORDER:
            return reverse("service:workorder_detail", args=[self.id])
        if self.kind == KIND_QUOTE:
            return reverse("service:quote_detail", args=[self.id])
        if self.kind == KIND_LOAN:
            return reverse("service:loan_list") + f"#loan-{self.id}"
        return reverse("service:maintenance_list") + f"#visit-{self.id}"


def _labels() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    from django.utils.translation import gettext_lazy as _

    kinds = {
        KIND_WORK_ORDER: _("work order"),
        KIND_VISIT: _("maintenance visit"),
        KIND_CALL: _("call-back"),
        KIND_LOAN: _("loaner"),
        KIND_QUOTE: _("paid service (quote)"),
    }
    statuses = {
        KIND_WORK_ORDER: dict(WorkOrder.Status.choices),
        KIND_VISIT: dict(MaintenanceVisit.Status.choices),
        KIND_CALL: dict(MaintenanceVisit.Status.choices),
        KIND_LOAN: dict(Loan.Status.choices),
        KIND_QUOTE: dict(Quote.Status.choices),
    }
    return kinds, statuses


KIND_LABELS, STATUS_LABELS = _labels()


def describe(lines: Iterable[dict[str, Any]]) -> list[Line]:
    """Ledger lines (the union's rows) as :class:`Line` with names and costs: a fixed number
    of queries whatever the number of lines."""
    from medvigil.accounts.models import User
    from medvigil.trace.models import Customer, Product, Unit

    from ..models import Zone

    rows = list(lines)

    def ids(key: str) -> set[int]:
        return {r[key] for r in rows if r[key] is not None}

    users = {u.pk: u.printed_name for u in User.objects.filter(pk__in=ids("row_engineer"))}
    products = {p.pk: str(p) for p in Product.objects.filter(pk__in=ids("row_product"))}
    customers = {
        c.pk: c.name for c in Customer.objects.filter(pk__in=ids("row_customer")).only("name")
    }
    serials = dict(Unit.objects.filter(pk__in=ids("row_unit")).values_list("pk", "serial"))
    numbers = dict(
        ServiceRequest.objects.filter(pk__in=ids("row_request")).values_list("pk", "number")
    )
    costs = line_costs(rows)
    zones = dict(Zone.choices)
    out = []
    for r in rows:
        kind, pk = r["row_kind"], r["row_id"]
        out.append(
            Line(
                kind=kind,
                id=pk,
                number=r["row_number"] or "",
                day=r["row_day"],
                status=r["row_status"] or "",
                engineer=users.get(r["row_engineer"], ""),
                product=products.get(r["row_product"], ""),
                customer=customers.get(r["row_customer"], ""),
                serial=serials.get(r["row_unit"], ""),
                zone=str(zones.get(r["row_zone"] or "", "")),
                request_number=numbers.get(r["row_request"], ""),
                request_id=r["row_request"],
                costs=costs.get((kind, pk), Costs()),
            )
        )
    return out
