"""The service ledger's figures in the API (KPI-2), on the service router (imported at the end
of service/api.py):

    GET /api/v1/service-ledger/figures?start=&end=&engineer=&product=&customer=&zone=&kind=

arrival compliance, first-time fix and service cost of the period, as the ledger page shows
them (services.ledger.figures). Needs service.read_service_ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Schema

from medvigil.core.api import Id, api_user, error_responses
from medvigil.core.api import require_perm as _require_perm

from .api import ComplianceOut, router
from .services import ledger


class LedgerQuery(Schema):
    start: dt.date | None = None
    end: dt.date | None = None
    engineer: Id | None = None
    product: Id | None = None
    customer: Id | None = None
    zone: Literal["city", "suburb", "remote"] | None = None
    kind: Literal["work_order", "visit", "call", "loan", "quote"] | None = None


class FirstTimeFixOut(Schema):
    finished: int
    first_time: int
    repeat: int
    percent: float | None


class ServiceCostOut(Schema):
    parts: Decimal
    labour: Decimal
    travel: Decimal
    total: Decimal
    charged: Decimal
    sales: Decimal | None
    share_of_sales: float | None
    share_note: str


class LedgerFiguresOut(Schema):
    start: dt.date | None
    end: dt.date | None
    arrival_compliance: ComplianceOut
    first_time_fix: FirstTimeFixOut
    service_cost: ServiceCostOut


@router.get("/service-ledger/figures", response={200: LedgerFiguresOut, **error_responses(403)})
def ledger_figures(request: HttpRequest, filters: Query[LedgerQuery]) -> Any:
    """KPI-2: the service ledger's figures for a period (both days included) and filters."""
    _require_perm(request, ledger.LEDGER_PERM)
    if filters.start and filters.end and filters.end < filters.start:
        raise ValidationError({"end": _("The end of the period is before its start.")})
    f = ledger.LedgerFilter(
        start=filters.start,
        end=filters.end,
        engineer_id=filters.engineer,
        product_id=filters.product,
        customer_id=filters.customer,
        zone=filters.zone or "",
        kind=filters.kind or "",
    )
    return ledger.figures(api_user(request), f)
