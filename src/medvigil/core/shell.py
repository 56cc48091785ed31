"""The page shell's main bar, built in Python once per process and kept (issue #13).

Every HTML page showed its main bar through ``{% for %}`` over the user's menus with a
``{% url %}`` per entry: about 25 ``reverse()`` calls and two template loops per page, a
fifth of a list page's server time. The bar's markup depends on nothing but

* which entries the user may open (``registry.nav_for_all``, itself worked out once per
  set of permissions — :func:`permission_key`, read on every request — by :func:`nav_entries`),
* the view shown (its entry and menu are marked active),
* the active language (the labels) and the script prefix and URLconf (the links),
* the registry itself (entries and menus registered at start-up),

so it is built once for each combination of these and kept in a bounded per-process
dictionary: the same entries, the same language, the same page give the same bytes. The
registry's generation is part of the key, so an entry or menu registered later (tests,
apps loaded late) makes a new bar. Nothing in it is the user's own data.

A section's sub-navigation (``trace/_subnav.html``: a dozen ``{% url %}``, ``{% translate %}``
and permission checks, a tenth of a list page's server time) is kept the same way by
:func:`subnav`: its template reads only ``perms`` and ``section``, so its output depends on
nothing but the user's permissions, the section, the language, the script prefix and URLconf.
"""

from __future__ import annotations

import html
from functools import lru_cache
from typing import Any

from django.contrib.auth.context_processors import PermWrapper
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from . import registry

_MAX_BARS = 2048
_bars: dict[tuple[Any, ...], SafeString] = {}


@lru_cache(maxsize=512)
def shell_url(name: str, prefix: str = "/", urlconf: Any = None) -> str:
    """``reverse(name)`` for a view without arguments, once per script prefix and URLconf."""
    return reverse(name, urlconf=urlconf)


def url(name: str) -> str:
    return shell_url(name, get_script_prefix(), get_urlconf())


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _build(entries: list[registry.NavEntry], current: str) -> SafeString:
    home = current == "home"
    active = ' aria-current="page"'
    out = [
        f'<li class="nav-item"><a class="nav-link{" active" if home else ""}" '
        f'href="{_esc(url("home"))}"{active if home else ""}>{_esc(_("My work"))}</a></li>'
    ]
    for entry in entries:
        if entry.item is not None:
            out.append(
                f'<li class="nav-item"><a class="nav-link{" active" if entry.active else ""}" '
                f'href="{_esc(url(entry.item.url_name))}"{active if entry.active else ""}>'
                f"{_esc(entry.label)}</a></li>"
            )
            continue
        key = _esc(entry.key)
        items = "".join(
            f'<li><a class="dropdown-item{" active" if i.url_name == entry.active_url else ""}" '
            f'href="{_esc(url(i.url_name))}"'
            f"{active if i.url_name == entry.active_url else ''}>{_esc(i.label)}</a></li>"
            for i in entry.items
        )
        out.append(
            f'<li class="nav-item dropdown" data-menu="{key}">\n'
            f'<button class="nav-link dropdown-toggle{" active" if entry.active else ""}" '
            f'type="button" id="nav-{key}" data-bs-toggle="dropdown" aria-expanded="false">'
            f"{_esc(entry.label)}</button>\n"
            f'<ul class="dropdown-menu" aria-labelledby="nav-{key}">{items}</ul>\n</li>'
        )
    return mark_safe("\n".join(out))  # noqa: S308 - every value above is escaped


_PERM_KEY = "_mv_perm_key"
_entries: dict[tuple[Any, ...], list[registry.NavItem]] = {}


def permission_key(user: Any) -> tuple[Any, ...]:
    """What `user`'s permission checks depend on, as a dictionary key, read once per request
    (kept on the request's user object, as the backends keep its permissions): active,
    superuser, staff and the set of permissions. Two users with the same key get the same
    ``has_perm`` answers (RoleBackend: an active user has the permissions its backend lists,
    an active superuser all; an inactive user none)."""
    key = getattr(user, _PERM_KEY, None)
    if key is None:
        active = bool(user.is_active)
        key = (
            active,
            active and bool(user.is_superuser),
            bool(getattr(user, "is_staff", False)),
            frozenset(user.get_all_permissions()) if active else frozenset(),
        )
        setattr(user, _PERM_KEY, key)
    return key


def nav_entries(user: Any) -> list[registry.NavItem]:
    """``registry.nav_for_all(user)`` (every entry the user may open), worked out once per
    permission key and registry generation and kept per process: a main bar asked ~35
    ``has_perm`` on every page."""
    key = (registry.generation(), permission_key(user))
    items = _entries.get(key)
    if items is None:
        items = registry.nav_for_all(user)
        if len(_entries) >= _MAX_BARS:
            _entries.clear()
        _entries[key] = items
    return items


def main_bar(user: Any, current: str) -> SafeString:
    """The ``<li>``s of the main bar (``#main-menus``) for `user` on the page of view
    `current`: "My work", then each menu or link the user may open."""
    items = nav_entries(user)
    key = (
        registry.generation(),
        tuple(map(id, items)),
        current,
        get_language(),
        get_script_prefix(),
        get_urlconf(),
    )
    bar = _bars.get(key)
    if bar is None:
        bar = _build(registry.nav_menus_for(user, current, items=items), current)
        if len(_bars) >= _MAX_BARS:
            _bars.clear()
        _bars[key] = bar
    return bar


_subnavs: dict[tuple[Any, ...], tuple[Any, SafeString]] = {}


def subnav(template_name: str, section: Any, user: Any) -> SafeString:
    """The output of `template_name` — a sub-navigation that reads only ``perms`` (the
    user's permissions) and ``section`` — for `user`, rendered once per combination of
    the user's permissions, section, language, script prefix and URLconf, and kept per process
    (with the compiled template it came from: a template reloaded in development renders
    anew)."""
    template = get_template(template_name)
    compiled = template.template  # the loader's cached Template (a new wrapper each call)
    key = (
        template_name,
        section,
        permission_key(user),
        get_language(),
        get_script_prefix(),
        get_urlconf(),
    )
    kept = _subnavs.get(key)
    if kept is not None and kept[0] is compiled:
        return kept[1]
    html_ = mark_safe(template.render({"perms": PermWrapper(user), "section": section}))  # noqa: S308 - the template's own autoescaped output
    if len(_subnavs) >= _MAX_BARS:
        _subnavs.clear()
    _subnavs[key] = (compiled, html_)
    return html_
