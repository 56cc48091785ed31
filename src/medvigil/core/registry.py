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
from django.utils.translation import gettext_lazy

from .records.probes import RowSource, with_row_probes
from .records.probes import rows_of as rows_of  # for the timeline providers


@dataclass(frozen=True)
class NavItem:
    label: Any  # lazy translation
    url_name: str
    perm: str | None = None  # shown only to users holding it (None: any signed-in user)
    order: int = 100
    # the menu of the main bar the entry sits in (a NavMenu key: MENUS below); "" a link of
    # its own on the bar (an app that names no menu)
    group: str = ""
    staff: bool = False  # a Django admin page: shown only to staff users (the admin needs it)


@dataclass(frozen=True)
class NavMenu:
    """One menu of the main bar: an area of work. Shown only when the user may open at
    least one of its entries."""

    key: str
    label: Any  # lazy translation; short (one line on the bar, in Chinese too)
    order: int


# The areas of the main bar, in this order. An app files each entry under one (NavItem.group);
# an app that needs an area of its own registers it with register_menu.
MENUS: dict[str, NavMenu] = {
    m.key: m
    for m in (
        NavMenu("trace", gettext_lazy("Traceability"), 20),
        NavMenu("feedback", gettext_lazy("Feedback"), 30),
        NavMenu("vigilance", gettext_lazy("Vigilance"), 40),
        NavMenu("service", gettext_lazy("Service"), 50),
        NavMenu("quality", gettext_lazy("CAPA & recalls"), 60),
        NavMenu("admin", gettext_lazy("Administration"), 900),
    )
}


@dataclass
class NavEntry:
    """One entry of the user's main bar: a menu (`items`) or a single link (`item`)."""

    key: str
    label: Any
    order: int
    items: list[NavItem] = field(default_factory=list)
    item: NavItem | None = None
    active: bool = False  # the current page is (in) this entry
    active_url: str = ""  # the url_name of the current page's entry


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
_generation = [0]  # counts the registrations of entries and menus (core.shell's key)


def generation() -> int:
    """Changes whenever an entry or a menu is registered: the built main bars
    (core.shell) are then built again."""
    return _generation[0]


def register_nav(item: NavItem) -> None:
    if item not in _nav:
        _nav.append(item)
        _generation[0] += 1


def register_menu(menu: NavMenu) -> None:
    if menu.key not in MENUS:
        MENUS[menu.key] = menu
        _generation[0] += 1


def register_work(
    provider: Callable[[Any], Iterable[WorkItem]],
) -> Callable[[Any], Iterable[WorkItem]]:
    if provider not in _work:
        _work.append(provider)
    return provider


def nav_for(user: Any, group: str = "") -> list[NavItem]:
    """The entries of one menu (`group`) the user may open, in order."""
    return [n for n in nav_for_all(user) if n.group == group]


def nav_menus_for(
    user: Any, current: str = "", *, items: list[NavItem] | None = None
) -> list[NavEntry]:
    """The user's main bar: the menus holding at least one entry the user may open (each
    with those entries, in order), and the entries of no menu as links of their own. From
    the user's cached permissions (no query). `current`: the view name of the page shown,
    whose entry and menu are marked active. `items`: nav_for_all(user), when known."""
    menus: dict[str, NavEntry] = {}
    loose: list[NavEntry] = []
    for item in nav_for_all(user) if items is None else items:
        menu = MENUS.get(item.group) if item.group else None
        if menu is None:
            loose.append(NavEntry(item.url_name, item.label, item.order, item=item))
            continue
        entry = menus.get(menu.key)
        if entry is None:
            entry = menus[menu.key] = NavEntry(menu.key, menu.label, menu.order)
        entry.items.append(item)
    entries = sorted([*menus.values(), *loose], key=lambda e: e.order)
    if current:
        for e in entries:
            for item in e.items if e.item is None else [e.item]:
                if item.url_name == current:
                    e.active, e.active_url = True, current
        namespace = current.rpartition(":")[0]
        if namespace and not any(e.active for e in entries):
            # a page of no entry (a record's page): the menu whose entries share its app
            for e in entries:
                if any(i.url_name.rpartition(":")[0] == namespace for i in e.items):
                    e.active = True
                    break
    return entries


def nav_for_all(user: Any) -> list[NavItem]:
    """Every entry the user may open, of every menu, in order."""
    items = [
        n
        for n in _nav
        if (n.perm is None or user.has_perm(n.perm)) and (not n.staff or user.is_staff)
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
# provider -> the number of its probe column (timeline_probe_<n>); never reused in a process
_probe_numbers: dict[TimelineProvider, int] = {}


# Where a provider's rows for a subject live (core.records.probes): rows there are a superset
# of what the provider may show; none there, the provider shows nothing and is not called.
TimelineSource = RowSource


def timeline_sources(
    *sources: TimelineSource,
) -> Callable[[TimelineProvider], TimelineProvider]:
    """Declare where a provider's rows live (#13): a subject read through
    ``with_timeline_probe`` then knows, from its own query, which providers have no rows for
    it, and ``timeline_for`` skips their queries. A provider without sources is always
    called."""

    def mark(fn: TimelineProvider) -> TimelineProvider:
        fn.timeline_sources = sources  # type: ignore[attr-defined]
        return fn

    return mark


def _probe_attr(fn: TimelineProvider) -> str:
    return f"timeline_probe_{_probe_numbers.setdefault(fn, len(_probe_numbers))}"


def with_timeline_probe(qs: Any) -> Any:
    """`qs` (of timeline subjects) with one EXISTS per provider that declares its sources,
    in the same query: no extra round trip, and none of the providers' own queries for a
    subject that has no rows of theirs (most units have no complaint, adverse event,
    service request, nonconformity or recall)."""
    return with_row_probes(
        qs,
        **{
            _probe_attr(fn): fn.timeline_sources  # type: ignore[attr-defined]
            for fn in list(_timeline)
            if getattr(fn, "timeline_sources", ())
        },
    )


def register_timeline_provider(fn: TimelineProvider) -> TimelineProvider:
    if fn not in _timeline:
        _timeline.append(fn)
    return fn


def unregister_timeline_provider(fn: TimelineProvider) -> None:
    if fn in _timeline:
        _timeline.remove(fn)


def timeline_for(subject: Any, user: Any) -> list[TimelineEvent]:
    """The events every provider gives for `subject` and `user`, oldest first. A provider
    whose probe (``with_timeline_probe``) found no rows for the subject is not called."""
    events: list[TimelineEvent] = []
    for provider in list(_timeline):
        if provider in _probe_numbers:
            has_rows = getattr(subject, _probe_attr(provider), None)
            if has_rows is not None and not has_rows:
                continue
        events.extend(provider(subject, user))
    return sorted(events, key=lambda e: e.sort_key)
