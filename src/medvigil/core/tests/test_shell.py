"""The page shell: every asset a page links is served as `make run` serves it, the favicon,
and the Administration menu (PLAT-1, PLAT-6)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = [pytest.mark.django_db]

ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def assets(html: str) -> list[str]:
    return sorted(set(ASSET.findall(html)))


@pytest.mark.req("PLAT-6")
def test_every_linked_asset_is_served_with_the_production_static_setup(
    settings, make_user, client_for
):
    """`medvigil serve` runs with DEBUG off, WhiteNoise in finders mode and the compressed
    storage, and nothing collected into STATIC_ROOT: what a fresh `make run` has."""
    settings.DEBUG = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    }
    assert settings.WHITENOISE_USE_FINDERS
    user = make_user("qe", "quality", department="quality")
    c = client_for(user)  # a new client: WhiteNoise scans the finders with these settings
    found: set[str] = set()
    for url in (reverse("login"), reverse("home"), reverse("import_list")):
        page = (Client() if url == reverse("login") else c).get(url)
        assert page.status_code == 200, url
        found.update(assets(page.content.decode()))
    wanted = {
        "/static/medvigil/app.css",
        "/static/medvigil/app.js",
        "/static/medvigil/favicon.svg",
        "/static/bootstrap/css/bootstrap.min.css",
        "/static/bootstrap/js/bootstrap.bundle.min.js",
    }
    assert wanted <= found
    for url in sorted(found):
        r = c.get(url)
        assert r.status_code == 200, url
        body = b"".join(r.streaming_content) if r.streaming else r.content
        assert body, url


@pytest.mark.req("PLAT-6")
def test_favicon_is_linked_and_favicon_ico_leads_to_it(client):
    html = client.get(reverse("login")).content.decode()
    assert '<link rel="icon" href="/static/medvigil/favicon.svg"' in html
    r = client.get("/favicon.ico")
    assert r.status_code == 301 and r["Location"] == "/static/medvigil/favicon.svg"
    r = client.get(r["Location"])
    assert r.status_code == 200
    body = b"".join(r.streaming_content) if r.streaming else r.content
    assert body.startswith(b"<svg")


def admin_menu(html: str) -> list[str]:
    menu = html.split(">Administration<", 1)
    if len(menu) < 2:
        return []
    return re.findall(r'class="dropdown-item" href="([^"]+)"', menu[1].split("</ul>", 1)[0])


@pytest.mark.req("PLAT-1", "PLAT-4", "PLAT-5")
def test_administration_menu_holds_numbering_retention_users_and_the_admin(
    admin_user, make_user, client_for
):
    links = admin_menu(client_for(admin_user).get(reverse("home")).content.decode())
    for name in (
        "admin:core_numberingscheme_changelist",
        "admin:core_retentionrule_changelist",
        "admin:accounts_user_changelist",
        "admin:accounts_role_changelist",
        "admin:index",
        "destruction_list",
    ):
        assert reverse(name) in links, name
    for url in links:
        assert client_for(admin_user).get(url).status_code == 200, url
    # a quality engineer (not staff) sees record destruction, not the Django admin's pages
    qe = make_user("qe", "quality", department="quality")
    links = admin_menu(client_for(qe).get(reverse("home")).content.decode())
    assert reverse("destruction_list") in links
    assert not [u for u in links if u.startswith("/admin/")]


# --- the main bar: one menu per area (PLAT-1 roles decide what shows, PLAT-6 UI) -------------


def bar(html: str) -> dict[str, list[str]]:
    """The main bar's menus: menu key -> the links it holds."""
    part = html.split('id="main-menus"', 1)[1].split("</ul>\n      <ul", 1)[0]
    menus = {}
    for key, body in re.findall(r'data-menu="([^"]+)">(.*?)</li>\n', part, re.S):
        menus[key] = re.findall(r'class="dropdown-item[^"]*" href="([^"]+)"', body)
    return menus


def service_only(make_user):
    """A user whose one role grants the service app's request, dispatch and work-order
    permissions and nothing else (the service manager also has an engineer's rights in the
    other apps: accounts.defaults.ROLE_BASES)."""
    from django.contrib.auth.models import Permission

    from medvigil.accounts.models import Role

    role = Role.objects.create(code="dispatcher", name_zh="派工", name_en="Dispatcher")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="service",
            codename__in=["view_servicerequest", "dispatch_servicerequest", "view_workorder"],
        )
    )
    return make_user("mgr", "dispatcher", department="service")


@pytest.mark.req("PLAT-1", "PLAT-6")
def test_main_bar_groups_entries_by_area_and_shows_only_permitted_menus(make_user, client_for):
    qe = make_user("qe", "quality", department="quality")
    menus = bar(client_for(qe).get(reverse("home")).content.decode())
    assert list(menus)[:5] == ["trace", "feedback", "vigilance", "service", "quality"]
    assert reverse("trace:unit_list") in menus["trace"]
    assert reverse("complaints:feedback_list") in menus["feedback"]
    assert reverse("imdrf:term_list") in menus["vigilance"]
    assert reverse("parts:part_list") in menus["service"]
    assert {reverse("capa:capa_list"), reverse("recalls:recall_list")} <= set(menus["quality"])
    assert reverse("audit_trail") in menus["admin"]
    # a dispatcher: the service menu only, with the dispatch board
    mgr = service_only(make_user)
    menus = bar(client_for(mgr).get(reverse("home")).content.decode())
    assert "service" in menus and reverse("service:dispatch_board") in menus["service"]
    assert list(menus) == ["service"]  # no menu whose entries their roles do not allow
    for key, links in menus.items():
        assert links, key  # a menu with nothing permitted is not shown
    # nobody's roles: no menu at all, only "My work"
    nobody = make_user("nobody")
    html = client_for(nobody).get(reverse("home")).content.decode()
    assert bar(html) == {}
    assert reverse("home") in html.split('id="main-menus"', 1)[1]


@pytest.mark.req("PLAT-6")
def test_main_bar_marks_the_current_page_and_its_menu(make_user, client_for):
    qe = make_user("qe", "quality", department="quality")
    html = client_for(qe).get(reverse("trace:unit_list")).content.decode()
    toggle = re.search(r'<button class="nav-link dropdown-toggle([^"]*)"[^>]*id="nav-trace"', html)
    assert toggle and "active" in toggle.group(1)
    assert f'href="{reverse("trace:unit_list")}" aria-current="page"' in html
    assert html.count('aria-current="page"') == 1
    # a page of no entry of its own (a new record, a record): its app's menu, no entry claimed
    html = client_for(qe).get(reverse("trace:product_create")).content.decode()
    toggle = re.search(r'<button class="nav-link dropdown-toggle([^"]*)"[^>]*id="nav-trace"', html)
    assert toggle and "active" in toggle.group(1)
    assert 'aria-current="page"' not in html
    # each menu's toggle is a button that says whether it is open (Bootstrap keeps it current)
    for key in bar(html):
        assert re.search(
            rf'type="button" id="nav-{key}" data-bs-toggle="dropdown" aria-expanded="false"', html
        )


@pytest.mark.req("PLAT-6")
def test_main_bar_is_built_once_per_entries_page_and_language(make_user, client_for):
    """#13: the bar is kept per process, keyed by the entries the user may open, the page,
    the language and the registry: a user with other roles, another page, the other
    language or a newly registered entry each get their own bar."""
    from medvigil.core import registry, shell

    qe = make_user("qe", "quality", department="quality")
    mgr = service_only(make_user)
    shell._bars.clear()
    c = client_for(qe)
    first = c.get(reverse("trace:unit_list")).content.decode()
    assert len(shell._bars) == 1
    again = c.get(reverse("trace:unit_list")).content.decode()
    assert again.split('id="main-menus"')[1][:3000] == first.split('id="main-menus"')[1][:3000]
    assert len(shell._bars) == 1  # the same bar again
    assert list(bar(client_for(mgr).get(reverse("trace:unit_list")).content.decode())) == [
        "service"
    ]
    html = c.get(reverse("home")).content.decode()
    assert 'class="nav-link active" href="/" aria-current="page"' in html
    qe.language = "zh-hans"
    qe.save(update_fields=["language"])
    zh = client_for(qe).get(reverse("trace:unit_list")).content.decode()
    assert bar(zh) == bar(first) and ">追溯<" in zh and ">Traceability<" not in zh
    before = registry.generation()
    item = registry.NavItem("Extra entry", "notifications", None, 999, group="trace")
    registry.register_nav(item)
    try:
        assert registry.generation() == before + 1
        html = c.get(reverse("trace:unit_list")).content.decode()
        assert reverse("notifications") in bar(html)["trace"]
    finally:
        registry._nav.remove(item)
        registry._generation[0] += 1
    assert reverse("notifications") not in bar(c.get(reverse("home")).content.decode())["trace"]


@pytest.mark.req("PLAT-6")
def test_section_subnav_is_rendered_once_per_permissions_section_and_language(
    make_user, client_for
):
    """#13: a section's sub-navigation ({% subnav %}, core.shell.subnav) is the output of its
    template for the user's permissions, kept per process: the same markup as rendering the
    template, only the links the user may open, the active section marked, in the user's
    language."""
    from django.contrib.auth.context_processors import PermWrapper
    from django.template.loader import render_to_string
    from django.utils import translation

    from medvigil.core import shell

    qe = make_user("qe", "quality", department="quality")
    mgr = make_user("mgr", "service_manager", department="service")
    shell._subnavs.clear()
    html = client_for(qe).get(reverse("trace:unit_list")).content.decode()
    assert len(shell._subnavs) == 1
    expected = render_to_string(
        "trace/_subnav_links.html", {"perms": PermWrapper(qe), "section": "units"}
    )
    assert expected in html
    assert f'class="nav-link py-1 active" href="{reverse("trace:unit_list")}"' in expected
    client_for(qe).get(reverse("trace:unit_list"))
    assert len(shell._subnavs) == 1  # kept
    lots = shell.subnav("trace/_subnav_links.html", "lots", qe)
    assert f'class="nav-link py-1 active" href="{reverse("trace:lot_list")}"' in lots
    assert len(shell._subnavs) == 2
    # another user's permissions: only what they may open
    theirs = shell.subnav("trace/_subnav_links.html", "units", mgr)
    assert theirs == render_to_string(
        "trace/_subnav_links.html", {"perms": PermWrapper(mgr), "section": "units"}
    )
    for perm, name in (("view_tracedrill", "drill_list"), ("view_product", "product_list")):
        assert (reverse(f"trace:{name}") in theirs) == mgr.has_perm(f"trace.{perm}")
    with translation.override("zh-hans"):
        zh = shell.subnav("trace/_subnav_links.html", "units", qe)
    assert ">器械<" in zh and ">产品<" in zh and ">Units<" not in zh
    assert shell.subnav("trace/_subnav_links.html", "units", qe) == expected


@pytest.mark.req("PLAT-1")
def test_main_bar_entries_are_worked_out_once_per_permission_set(make_user, client_for):
    """#13: the entries of the main bar are kept per set of permissions (core.shell
    .nav_entries): two users with the same roles share them, another role gets its own, and
    each is what the registry gives that user."""
    from medvigil.core import registry, shell

    qe = make_user("qe", "quality", department="quality")
    qe2 = make_user("qe2", "quality", department="quality")
    mgr = make_user("mgr", "service_manager", department="service")
    shell._entries.clear()
    for user in (qe, qe2):
        assert client_for(user).get(reverse("home")).status_code == 200
    assert len(shell._entries) == 1
    assert client_for(mgr).get(reverse("home")).status_code == 200
    assert len(shell._entries) == 2
    for user in (qe, mgr):
        fresh = type(user).objects.get(pk=user.pk)
        assert shell.nav_entries(fresh) == registry.nav_for_all(fresh)
    assert shell.permission_key(qe) != shell.permission_key(mgr)
