"""Extension points of the shell: navigation entries, providers of "My work" items and of
timeline entries. A domain app declares its entries in its AppConfig (core.records.domain.
DomainApp), which registers them here at start-up; the register_* functions stay callable
directly. The shell shows only what the user may use."""

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


# --- timeline entries (TRC-7: the life of a unit on one screen) ----------------------------


@dataclass
class TimelineEvent:
    date: dt.date | dt.datetime | None
    kind: Any
    title: Any
    url: str = ""
    detail: Any = ""
    style: str = "secondary"  # Bootstrap contextual colour of the badge
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sort_key(self) -> tuple[dt.date, int]:
        if self.date is None:
            return (dt.date.min, 0)
        if isinstance(self.date, dt.datetime):
            return (self.date.date(), 1)
        return (self.date, 0)


# provider(subject, user) -> the events of `subject` (today: a trace unit) the user may see
TimelineProvider = Callable[[Any, Any], Iterable[TimelineEvent]]
_timeline: list[TimelineProvider] = []


def register_timeline_provider(fn: TimelineProvider) -> TimelineProvider:
    if fn not in _timeline:
        _timeline.append(fn)
    return fn


def unregister_timeline_provider(fn: TimelineProvider) -> None:
    if fn in _timeline:
        _timeline.remove(fn)


def timeline_for(subject: Any, user: Any) -> list[TimelineEvent]:
    events: list[TimelineEvent] = []
    for provider in list(_timeline):
        events.extend(provider(subject, user))
    return sorted(events, key=lambda e: e.sort_key)
