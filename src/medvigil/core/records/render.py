"""Markup built in Python where the template language is too slow for it (issue #13): the
rows of a list page's table and the record links in them.

A list page of 50 rows rendered through ``{% for %}`` spent most of its server time
resolving template variables (one lookup chain per cell), escaping through ``keep_lazy``
and reversing two URLs per row — an order of magnitude more than the page's queries. The
same rows built here produce the same markup:

* :func:`pk_url` — ``reverse(name, args=[pk])`` for a view that takes one integer key,
  from one ``reverse()`` per view name, script prefix and URLconf (then string joining);
* :func:`pk_url_maker` — the same for every row of a table (prefix and URLconf read once);
* :func:`esc` — ``conditional_escape`` without the lazy wrapper (same output: safe strings
  pass as they are, everything else through :func:`html.escape`);
* :class:`Cell` and :func:`table_rows` — the ``<tr>`` of each record from the cells'
  functions, returned as one safe string for ``{{ rows }}`` in the table template.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.safestring import SafeData, SafeString, mark_safe

# A key no real record has, reversed once per view name; its digits are then replaced.
_PLACEHOLDER = str(9_000_000_000_000_000_017)


@lru_cache(maxsize=1024)
def _pk_url_parts(viewname: str, prefix: str, urlconf: Any) -> tuple[str, str]:
    url = reverse(viewname, args=[int(_PLACEHOLDER)], urlconf=urlconf)
    head, found, tail = url.partition(_PLACEHOLDER)
    if not found or _PLACEHOLDER in tail:  # pragma: no cover - no such view today
        raise ValueError(f"{viewname} does not take one integer key")
    return head, tail


def pk_url(viewname: str, pk: Any) -> str:
    """The URL of `viewname` for the integer key `pk`: ``reverse(viewname, args=[pk])``
    (the same string, script prefix included) without resolving the URLconf again."""
    head, tail = _pk_url_parts(viewname, get_script_prefix(), get_urlconf())
    key = int(pk)
    if key < 0:
        raise ValueError(f"{pk!r} is not a record key")
    return f"{head}{key}{tail}"


def pk_url_maker(viewname: str) -> Callable[[Any], str]:
    """``lambda pk: pk_url(viewname, pk)`` for the rows of one table: the script prefix and
    URLconf are read once, not once per row."""
    head, tail = _pk_url_parts(viewname, get_script_prefix(), get_urlconf())

    def url(pk: Any) -> str:
        key = int(pk)
        if key < 0:
            raise ValueError(f"{pk!r} is not a record key")
        return f"{head}{key}{tail}"

    return url


def esc(value: Any) -> str:
    """`value` as HTML text: what ``{{ value }}`` prints under autoescape (None as "")."""
    if value is None:
        return ""
    if isinstance(value, SafeData):
        return str(value)
    return html.escape(str(value))


def link(url: str, text: Any) -> str:
    """``<a href="url">text</a>``, both escaped."""
    return f'<a href="{html.escape(url)}">{esc(text)}</a>'


@dataclass(frozen=True)
class Cell:
    """A table cell: ``html(obj)`` is its content as markup (build it with :func:`esc` and
    :func:`link`); `css` the ``class`` of its ``<td>``, or a function of the object giving it
    (a state's colour: "" for none)."""

    html: Callable[[Any], str]
    css: str | Callable[[Any], str] = ""


def _td(css: str) -> str:
    return f'<td class="{html.escape(css)}">' if css else "<td>"


def table_rows(objs: Iterable[Any], cells: Sequence[Cell]) -> SafeString:
    """The ``<tr>`` of each object, one ``<td>`` per cell, as one safe string."""
    opens = [c.css if callable(c.css) else _td(c.css) for c in cells]
    fns = [c.html for c in cells]
    parts = []
    for obj in objs:
        parts.append("<tr>")
        for open_td, fn in zip(opens, fns, strict=True):
            start = _td(open_td(obj)) if callable(open_td) else open_td
            parts.append(f"{start}{fn(obj)}</td>")
        parts.append("</tr>")
    return mark_safe("".join(parts))  # noqa: S308 - every cell escapes its values (esc, link)
