"""core.records.render: table rows built in Python give what the template language gave
(issue #13: list pages fast), TRC-3 (the unit list)."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.urls import NoReverseMatch, reverse, set_script_prefix
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from medvigil.core.records.render import Cell, esc, link, pk_url, table_rows


@pytest.mark.parametrize("pk", [1, 7, 123456789, 2**63 - 1])
def test_pk_url_is_reverse(pk: int) -> None:
    for name in ("trace:unit_detail", "trace:lot_detail", "trace:product_detail"):
        assert pk_url(name, pk) == reverse(name, args=[pk])


def test_pk_url_follows_the_script_prefix() -> None:
    try:
        set_script_prefix("/medvigil/")
        assert pk_url("trace:unit_detail", 5) == reverse("trace:unit_detail", args=[5])
        assert pk_url("trace:unit_detail", 5).startswith("/medvigil/")
    finally:
        set_script_prefix("/")
    assert pk_url("trace:unit_detail", 5) == reverse("trace:unit_detail", args=[5])


def test_pk_url_refuses_what_reverse_refuses() -> None:
    with pytest.raises((TypeError, ValueError)):
        pk_url("trace:unit_detail", None)
    with pytest.raises(ValueError):
        pk_url("trace:unit_detail", "1/../admin")
    with pytest.raises(ValueError):
        pk_url("trace:unit_detail", -1)
    with pytest.raises(NoReverseMatch):
        pk_url("home", 1)  # a view without a key


@pytest.mark.parametrize(
    "value",
    ["plain", "<b>&\"'", 42, None, mark_safe("<i>safe</i>"), gettext_lazy("Units"), "监护仪"],
)
def test_esc_prints_what_the_template_prints(value: object) -> None:
    rendered = Template("{{ v }}").render(Context({"v": value}))
    assert esc(value) == (rendered if value is not None else "")
    assert esc(value) == (str(conditional_escape(value)) if value is not None else "")


def test_table_rows_escape_every_cell() -> None:
    objs = [{"id": 3, "name": "<script>x</script>"}, {"id": 4, "name": "A & B"}]
    html = table_rows(
        objs,
        [
            Cell(lambda o: link(f"/x/{o['id']}/?a=1&b=2", o["name"])),
            Cell(lambda o: esc(o["name"]), css="d-none d-md-table-cell"),
        ],
    )
    assert html == (
        '<tr><td><a href="/x/3/?a=1&amp;b=2">&lt;script&gt;x&lt;/script&gt;</a></td>'
        '<td class="d-none d-md-table-cell">&lt;script&gt;x&lt;/script&gt;</td></tr>'
        '<tr><td><a href="/x/4/?a=1&amp;b=2">A &amp; B</a></td>'
        '<td class="d-none d-md-table-cell">A &amp; B</td></tr>'
    )
    assert "<script>" not in Template("{{ rows }}").render(Context({"rows": html}))


def test_table_rows_cell_class_per_object() -> None:
    html = table_rows(
        [{"late": True}, {"late": False}],
        [Cell(lambda o: esc(o["late"]), css=lambda o: "due-overdue" if o["late"] else "")],
    )
    assert html == '<tr><td class="due-overdue">True</td></tr><tr><td>False</td></tr>'


@override_settings(LANGUAGE_CODE="en")
def test_table_rows_of_nothing() -> None:
    assert table_rows([], [Cell(esc)]) == ""


# The column head's template before it was built in Python (records/_sort_header.html).
OLD_SORT_HEADER = (
    '{% load i18n %}{% if info %}<a class="link-body-emphasis text-decoration-none sort-link" '
    'href="?{{ info.qs }}"{% if table_id %} hx-get="{{ list_path }}?{{ info.qs }}" '
    'hx-target="#{{ table_id }}" hx-push-url="true"{% endif %}{% if info.dir %} '
    'aria-current="true"{% endif %}>{{ label }}{% if info.dir == "asc" %} <span '
    'aria-hidden="true">&#9650;</span><span class="visually-hidden">{% translate "sorted '
    'ascending" %}</span>{% elif info.dir == "desc" %} <span aria-hidden="true">&#9660;</span>'
    '<span class="visually-hidden">{% translate "sorted descending" %}</span>{% endif %}</a>'
    "{% else %}{{ label }}{% endif %}"
)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("direction", ["asc", "desc", "", None])
@pytest.mark.parametrize("table_id", ["unit-list", ""])
def test_sort_header_prints_what_its_template_printed(
    language: str, direction: str | None, table_id: str
) -> None:
    from django.utils import translation

    sorts = (
        {} if direction is None else {"serial": {"qs": "q=a%26b&sort=-serial", "dir": direction}}
    )
    context = {
        "sorts": sorts,
        "table_id": table_id,
        "list_path": "/trace/units/",
        "label": gettext_lazy("Serial number"),
    }
    with translation.override(language):
        new = Template('{% load records %}{% sort_header "serial" label %}').render(
            Context(context)
        )
        info = sorts.get("serial")
        old = Template(OLD_SORT_HEADER).render(Context({**context, "info": info}))
    assert new == old
