"""Warnings before licences and registration certificates lapse (TRC-1, TRC-2): items on
"My work" and deadline alerts (PLAT-8)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medvigil.core.registry import WorkItem

from .models import Licence, Product
from .rules import licence_warning_days, registration_warning_days

# Expired items stay on the list this long (then the record itself is the reminder).
EXPIRED_GRACE_DAYS = 90


def _end_of_day(day: dt.date) -> dt.datetime:
    tz = ZoneInfo(settings.TIME_ZONE)
    return dt.datetime.combine(day, dt.time(23, 59), tzinfo=tz)


def _quality_users() -> list[Any]:
    """Users whose roles may change products (quality), active."""
    User = get_user_model()
    return list(
        User.objects.filter(
            is_active=True,
            roles__permissions__content_type__app_label="trace",
            roles__permissions__codename="change_product",
        ).distinct()
    )


def expiring_licences(today: dt.date | None = None) -> Any:
    today = today or timezone.localdate()
    return (
        Licence.objects.filter(
            withdrawn=False,
            customer__active=True,
            expires_on__isnull=False,
            expires_on__lte=today + dt.timedelta(days=licence_warning_days()),
            expires_on__gte=today - dt.timedelta(days=EXPIRED_GRACE_DAYS),
        )
        .select_related("customer", "customer__owner")
        .order_by("expires_on")
    )


def unrenewed(lics: list[Licence]) -> list[Licence]:
    """Leave out licences already replaced by a newer one of the same kind (1 query)."""
    if not lics:
        return []
    others: dict[tuple[int, str], list[Licence]] = {}
    for other in Licence.objects.filter(customer_id__in={lic.customer_id for lic in lics}):
        others.setdefault((other.customer_id, other.kind), []).append(other)

    def renewed(lic: Licence) -> bool:
        return any(
            o.pk != lic.pk
            and not o.withdrawn
            and (o.expires_on is None or (lic.expires_on and o.expires_on > lic.expires_on))
            for o in others.get((lic.customer_id, lic.kind), [])
        )

    return [lic for lic in lics if not renewed(lic)]


def licence_items(user: Any) -> Iterable[WorkItem]:
    """Licences of my customers (ownerless customers: quality) expiring soon or expired."""
    if not user.is_authenticated:
        return []
    mine = Q(customer__owner=user)
    if user.has_perm("trace.change_licence"):
        mine |= Q(customer__owner__isnull=True)
    items = []
    today = timezone.localdate()
    for lic in unrenewed(list(expiring_licences(today).filter(mine)[:200])):
        assert lic.expires_on is not None
        params = {
            "customer": lic.customer.name,
            "licence": lic.get_kind_display(),
            "number": lic.number,
            "date": lic.expires_on.isoformat(),
        }
        if lic.expires_on < today:  # a past date reads "expired", not "expires"
            title = _("Licence of %(customer)s expired: %(licence)s") % params
            detail = _("No. %(number)s, expired %(date)s") % params
        else:
            title = _("Licence of %(customer)s expires: %(licence)s") % params
            detail = _("No. %(number)s, expires %(date)s") % params
        items.append(
            WorkItem(
                title=title,
                url=reverse("trace:customer_detail", args=[lic.customer_id]),
                kind=gettext_lazy("licence"),
                due=_end_of_day(lic.expires_on),
                detail=detail,
            )
        )
    return items


def expiring_registrations(today: dt.date | None = None) -> Any:
    today = today or timezone.localdate()
    return Product.objects.filter(
        active=True,
        registration_expiry__isnull=False,
        registration_expiry__lte=today + dt.timedelta(days=registration_warning_days()),
        registration_expiry__gte=today - dt.timedelta(days=EXPIRED_GRACE_DAYS),
    ).order_by("registration_expiry")


def registration_items(user: Any) -> Iterable[WorkItem]:
    """Registration certificates lapsing soon, for quality (holders of change_product)."""
    if not user.is_authenticated or not user.has_perm("trace.change_product"):
        return []
    by_cert: dict[tuple[str, dt.date], list[Product]] = {}
    today = timezone.localdate()
    for p in expiring_registrations(today)[:500]:
        assert p.registration_expiry is not None
        by_cert.setdefault((p.registration_number or p.code, p.registration_expiry), []).append(p)
    items = []
    for (number, expiry), products in by_cert.items():
        items.append(
            WorkItem(
                title=(
                    _("Registration certificate %(number)s expired")
                    if expiry < today
                    else _("Registration certificate %(number)s expires")
                )
                % {"number": number},
                url=reverse("trace:product_detail", args=[products[0].pk]),
                kind=gettext_lazy("registration"),
                due=_end_of_day(expiry),
                detail=", ".join(str(p) for p in products[:5]),
            )
        )
    return items


def deadline_source(now: dt.datetime) -> Iterable[Any]:
    """Deadlines for core.calendar.deadlines: registrations (quality) and licences (account
    owner)."""
    from medvigil.core.calendar.deadlines import Deadline

    today = timezone.localtime(now).date()
    quality = _quality_users()
    reg_lead = dt.timedelta(days=registration_warning_days())
    for p in expiring_registrations(today):
        assert p.registration_expiry is not None
        yield Deadline(
            key=f"trace:registration:{p.pk}:{p.registration_expiry.isoformat()}",
            title=gettext_lazy("Registration certificate expires"),
            detail=f"{p.registration_number} · {p}",
            url=reverse("trace:product_detail", args=[p.pk]),
            due_at=_end_of_day(p.registration_expiry),
            users=quality,
            lead=reg_lead,
        )
    lic_lead = dt.timedelta(days=licence_warning_days())
    for lic in unrenewed(list(expiring_licences(today))):
        assert lic.expires_on is not None
        owner = lic.customer.owner
        yield Deadline(
            key=f"trace:licence:{lic.pk}:{lic.expires_on.isoformat()}",
            title=gettext_lazy("Customer licence expires"),
            detail=f"{lic.customer.name} · {lic.get_kind_display()} {lic.number}",
            url=reverse("trace:customer_detail", args=[lic.customer_id]),
            due_at=_end_of_day(lic.expires_on),
            users=[owner] if owner is not None else quality,
            lead=lic_lead,
        )
