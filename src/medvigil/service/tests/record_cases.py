"""Service records registered with the record test kit (core/tests/record_kit.py): the shared
access (PLAT-1), audit (PLAT-2), version-conflict and list query-count tests on each."""

from __future__ import annotations

import itertools
from typing import Any

from medvigil.core.tests.record_kit import ApiWrite, RecordCase
from medvigil.service.models import ServiceRequest
from medvigil.service.services import create_service_request

_n = itertools.count(1)


def make_request(user: Any) -> ServiceRequest:
    n = next(_n)
    return create_service_request(
        by=user,
        channel="phone",
        fault_level="degraded",
        zone="city",
        title=f"Kit request {n}",
        description=f"Kit request {n}: the alarm is faint.",
        device_text=f"Kit pump {n}",
    )


CASES = [
    RecordCase(
        id="service.servicerequest",
        model=ServiceRequest,
        make=make_request,
        owner_role="customer_service",
        other_role="finance",  # view_* and view_all: reads every request, changes none
        list_url="service:request_list",
        edit_url="service:request_edit",
        edit_changes=lambda r: {"title": f"{r.title} (edited)"},
        api_list="/api/v1/service-requests",
        api_detail=lambda r: f"/api/v1/service-requests/{r.pk}",
        api_write=ApiWrite(
            "patch",
            lambda r: f"/api/v1/service-requests/{r.pk}",
            lambda r: {"title": f"{r.title} (kit)"},
            versioned=True,
        ),
        reqs=("SVC-1", "PLAT-11"),
    ),
]


def _manager() -> Any:
    from medvigil.accounts.models import Role, User

    user = User.objects.filter(username="kit-svcmgr").first()
    if user is None:  # one manager: a role change per record would refresh the access cache
        user = User.objects.create_user(username="kit-svcmgr", password="x")
        user.roles.set(Role.objects.filter(code="service_manager"))
    return User.objects.get(pk=user.pk)


def make_work_order(user: Any) -> Any:
    from medvigil.service.services import dispatch

    manager = _manager()
    sr = make_request(manager)
    return dispatch(sr, by=manager, version=sr.version, engineer=user)


def make_qualification(user: Any) -> Any:
    import datetime as dt

    from medvigil.service.services import add_qualification
    from medvigil.trace.models import Product

    n = next(_n)
    product = Product.objects.create(
        code=f"KIT-SVC-{n}", name="Kit pump", model_spec="K-1", manufacturer="Kit", risk_class="II"
    )
    return add_qualification(
        by=user,
        engineer=user,
        product=product,
        trained_on=dt.date(2026, 1, 5),
        passed_on=dt.date(2026, 1, 6),
        expires_on=dt.date(2030, 1, 6),
    )


from medvigil.service.models import EngineerQualification, WorkOrder  # noqa: E402

CASES += [
    RecordCase(
        id="service.workorder",
        model=WorkOrder,
        make=make_work_order,
        owner_role="service_engineer",
        other_role="finance",
        list_url="service:workorder_list",
        api_detail=lambda w: f"/api/v1/service-work-orders/{w.pk}",
        api_write=ApiWrite(
            "post",
            lambda w: f"/api/v1/service-work-orders/{w.pk}/transitions",
            lambda w: {"action": "accept"},
            versioned=True,
        ),
        reqs=("SVC-4",),
    ),
    RecordCase(
        id="service.engineerqualification",
        model=EngineerQualification,
        make=make_qualification,
        owner_role="service_manager",
        other_role="finance",
        list_url="service:qualification_list",
        edit_url="service:qualification_edit",
        edit_changes=lambda q: {"certificate": "CERT-KIT-EDITED"},
        reqs=("SVC-3",),
    ),
]


def make_quote(user: Any) -> Any:
    from medvigil.service.models import PriceListItem
    from medvigil.service.services import create_quote

    item = PriceListItem.objects.filter(code="KIT-LAB").first() or PriceListItem.objects.create(
        code="KIT-LAB", name="Labour", kind="labour", unit="h", unit_price="100.00"
    )
    return create_quote(make_request(user), by=user, lines=[{"item": item.code, "quantity": "2"}])


from medvigil.service.models import Quote  # noqa: E402

CASES += [
    RecordCase(
        id="service.quote",
        model=Quote,
        make=make_quote,
        owner_role="customer_service",
        other_role="finance",  # service fees visible to finance (SVC-6)
        list_url="service:quote_list",
        reqs=("SVC-6",),
    ),
]


def make_loan(user: Any) -> Any:
    import datetime as dt

    from medvigil.service.services.loans import issue_loan
    from medvigil.trace.models import Customer, Product, Unit

    n = next(_n)
    product = Product.objects.create(
        code=f"KIT-LOAN-{n}", name="Kit pump", model_spec="K-1", manufacturer="Kit", risk_class="II"
    )
    unit = Unit.objects.create(product=product, serial=f"LOAN-{n}")
    customer = Customer.objects.create(code=f"KIT-H-{n}", name=f"Kit hospital {n}", kind="hospital")
    return issue_loan(
        by=user, unit=unit, customer=customer, due_back_on=dt.date.today() + dt.timedelta(days=7)
    )


from medvigil.service.models import Loan  # noqa: E402

CASES += [
    RecordCase(
        id="service.loan",
        model=Loan,
        make=make_loan,
        owner_role="logistics",
        other_role="finance",
        list_url="service:loan_list",
        reqs=("SVC-7",),
    ),
]
