"""Extension points that domain apps fill in their AppConfig.ready(): navigation entries and
providers of "My work" items. The shell shows only what the user may use."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone


@dataclass(frozen=True)
class NavItem:
    label: Any  # lazy translation
    url_name: str
    perm: str | None = None  # shown only to users holding it (None: any signed-in user)
    order: int = 100
    group: str = ""  # "" main bar; "admin" admin menu
    staff: bool = False  # a Django admin page: shown only to staff users (the admin needs it)


@dataclass
class WorkItem:
    title: str
    url: str
    kind: Any = ""
    due: dt.datetime | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def overdue(self) -> bool:
        return self.due is not None and self.due < timezone.now()

    @property
    def due_soon(self) -> bool:
        return (
            self.due is not None
            and not self.overdue
            and self.due < timezone.now() + dt.timedelta(hours=24)
        )


_nav: list[NavItem] = []
_work: list[Callable[[Any], Iterable[WorkItem]]] = []


def register_nav(item: NavItem) -> None:
    if item not in _nav:
        _nav.append(item)


def register_work(
    provider: Callable[[Any], Iterable[WorkItem]],
) -> Callable[[Any], Iterable[WorkItem]]:
    if provider not in _work:
        _work.append(provider)
    return provider


def nav_for(user: Any, group: str = "") -> list[NavItem]:
    items = [
        n
        for n in _nav
        if n.group == group
        and (n.perm is None or user.has_perm(n.perm))
        and (not n.staff or user.is_staff)
    ]
    return sorted(items, key=lambda n: n.order)


def work_for(user: Any) -> list[WorkItem]:
    items: list[WorkItem] = []
    for provider in _work:
        items.extend(provider(user))
    far = timezone.now() + dt.timedelta(days=36500)
    return sorted(items, key=lambda w: w.due or far)
