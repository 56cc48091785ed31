"""The shared regulated-record tests, run for every model an app registers in
`<app>.tests.record_cases` (core/tests/record_kit.py; docs/development/domain-app.md):

- PLAT-1: owner / another role / outsider / auditor on the list, record and edit pages and on
  the API (200 / 403 / 404; the auditor reads and never writes);
- PLAT-2: exactly one audit entry per page write and per API write; a stale or missing
  version is a conflict message (page) or a 409 (API), and nothing changes;
- query counts: each list page (and API list) answers with the same number of queries for 2
  and for 6 records (no N+1), no more than its baseline in core/tests/query_baselines.json.
  `UPDATE_QUERY_BASELINES=1 pytest src/medvigil/core/tests/test_record_kit.py -p no:xdist`
  rewrites the baselines (review the diff: a higher count needs a reason)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
from dataclasses import replace
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse

from medvigil.core.models import AuditEntry

from .record_kit import RecordCase, registered_cases

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]  # messages in English

CASES = registered_cases()
BASELINES = Path(__file__).with_name("query_baselines.json")
UPDATE = os.environ.get("UPDATE_QUERY_BASELINES") == "1"
CONFLICT = "changed by someone else"
REFUSED = (403, 404)


def cases(*reqs: str, having: str = "", versioned_api: bool = False) -> list[Any]:
    return [
        pytest.param(c, id=c.id, marks=pytest.mark.req(*reqs, *c.reqs))
        for c in CASES
        if (not having or getattr(c, having))
        and (not versioned_api or (c.api_write is not None and c.api_write.versioned))
    ]


@pytest.fixture
def people(make_user: Any, auditor: Any, outsider: Any) -> Any:
    def for_case(case: RecordCase) -> dict[str, Any]:
        return {
            "owner": make_user("kit-owner", case.owner_role),
            "other": make_user("kit-other", case.other_role),
            "outsider": outsider,
            "auditor": auditor,
        }

    return for_case


def entries_for(obj: Any) -> int:
    ct = ContentType.objects.get_for_model(type(obj))
    return AuditEntry.objects.filter(content_type=ct, object_id=str(obj.pk)).count()


def fresh(obj: Any) -> Any:
    return type(obj)._default_manager.get(pk=obj.pk)


def api(client: Any, method: str, path: str, payload: Any = None) -> Any:
    body = json.dumps(payload) if payload is not None else ""
    return client.generic(method.upper(), path, body, content_type="application/json")


def api_items(data: Any) -> list[Any]:
    return data["items"] if isinstance(data, dict) and "items" in data else data


def form_data(form: Any) -> dict[str, Any]:
    """What the browser posts back for an unchanged form (the edit page's initial values)."""
    data: dict[str, Any] = {}
    for bound in form:
        value = bound.value()
        if value is None or value is False:
            continue
        if value is True:
            value = "on"
        elif isinstance(value, dt.date | dt.datetime | decimal.Decimal):
            value = value.isoformat() if hasattr(value, "isoformat") else str(value)
        data[bound.html_name] = value
    return data


def edit_form(client: Any, case: RecordCase, obj: Any, **override: Any) -> dict[str, Any]:
    resp = client.get(case.edit(obj))
    assert resp.status_code == 200, f"the owner cannot open {case.edit(obj)}"
    assert case.edit_changes is not None
    return {**form_data(resp.context["form"]), **case.edit_changes(obj), **override}


# --- PLAT-1: who sees and who changes ---------------------------------------------------------


@pytest.mark.parametrize("case", cases("PLAT-1"))
def test_pages_owner_other_role_outsider_auditor(case, people, client_for):
    users = people(case)
    obj = case.make(users["owner"])
    urls = {"list": reverse(case.list_url), "detail": case.detail(obj)}
    sees = {"owner": True, "other": case.other_sees, "outsider": False, "auditor": True}
    for who, user in users.items():
        c = client_for(user)
        for page, url in urls.items():
            code = c.get(url).status_code
            if sees[who]:
                assert code == 200, f"{who} gets {code} on {page} {url}"
            else:
                assert code in REFUSED, f"{who} gets {code} on {page} {url}"
        if case.edit_url:
            code = c.get(case.edit(obj)).status_code
            if who == "owner":
                assert code == 200, f"the owner gets {code} on {case.edit(obj)}"
            else:
                assert code in REFUSED, f"{who} may open the edit page ({code})"


@pytest.mark.parametrize("case", cases("PLAT-1", having="edit_url"))
def test_only_the_owner_role_writes_on_the_edit_page(case, people, client_for):
    users = people(case)
    obj = case.make(users["owner"])
    data = edit_form(client_for(users["owner"]), case, obj)
    clients = {who: client_for(users[who]) for who in ("other", "outsider", "auditor")}
    before = AuditEntry.objects.count()  # after the sign-ins (they are audited)
    for who, c in clients.items():
        resp = c.post(case.edit(obj), data)
        assert resp.status_code in REFUSED, f"{who} posted the edit form: {resp.status_code}"
    assert AuditEntry.objects.count() == before
    assert fresh(obj).version == obj.version


@pytest.mark.parametrize("case", cases("PLAT-1", having="api_list"))
def test_api_list_owner_other_role_outsider_auditor(case, people, client_for):
    users = people(case)
    obj = case.make(users["owner"])
    sees = {"owner": True, "other": case.other_sees, "outsider": False, "auditor": True}
    for who, user in users.items():
        resp = client_for(user).get(case.api_list)
        assert resp.status_code in (200, 403), f"{who}: {resp.status_code}"
        ids = {i["id"] for i in api_items(resp.json())} if resp.status_code == 200 else set()
        assert (obj.pk in ids) == sees[who], f"{who} sees {sorted(ids)} (record {obj.pk})"


@pytest.mark.parametrize("case", cases("PLAT-1", having="api_detail"))
def test_api_record_owner_other_role_outsider_auditor(case, people, client_for):
    users = people(case)
    obj = case.make(users["owner"])
    assert case.api_detail is not None
    sees = {"owner": True, "other": case.other_sees, "outsider": False, "auditor": True}
    for who, user in users.items():
        resp = client_for(user).get(case.api_detail(obj))
        if sees[who]:
            assert resp.status_code == 200 and resp.json()["id"] == obj.pk, who
        else:
            assert resp.status_code in REFUSED, f"{who}: {resp.status_code}"


@pytest.mark.parametrize("case", cases("PLAT-1", having="api_write"))
def test_api_write_is_refused_to_other_role_outsider_and_auditor(case, people, client_for):
    users = people(case)
    obj = case.make(users["owner"])
    w = case.api_write
    assert w is not None
    clients = {who: client_for(users[who]) for who in ("other", "outsider", "auditor")}
    before = AuditEntry.objects.count()  # after the sign-ins (they are audited)
    for who, c in clients.items():
        payload = {**w.payload(obj), **({"version": obj.version} if w.versioned else {})}
        resp = api(c, w.method, w.path(obj), payload)
        assert resp.status_code in REFUSED, f"{who}: {resp.status_code} {resp.content[:200]!r}"
    assert AuditEntry.objects.count() == before
    assert fresh(obj).version == obj.version


# --- PLAT-2: one audit entry per write, and the version conflict ------------------------------


@pytest.mark.parametrize("case", cases("PLAT-2", having="edit_url"))
def test_a_page_write_makes_exactly_one_audit_entry(case, people, client_for):
    owner = people(case)["owner"]
    obj = case.make(owner)
    c = client_for(owner)
    data = edit_form(c, case, obj)
    before, own_before = AuditEntry.objects.count(), entries_for(obj)
    resp = c.post(case.edit(obj), data)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    assert AuditEntry.objects.count() == before + 1
    assert entries_for(obj) == own_before + 1
    assert fresh(obj).version == obj.version + 1


@pytest.mark.parametrize("case", cases("PLAT-2", having="edit_url"))
def test_a_stale_or_missing_version_on_the_page_is_a_conflict(case, people, client_for):
    owner = people(case)["owner"]
    obj = case.make(owner)
    c = client_for(owner)
    data = edit_form(c, case, obj)
    before = AuditEntry.objects.count()
    stale = {**data, "version": obj.version - 1}
    missing = {k: v for k, v in data.items() if k != "version"}
    for posted in (stale, missing, {**data, "version": ""}):
        resp = c.post(case.edit(obj), posted)
        assert resp.status_code == 200 and CONFLICT in resp.content.decode(), resp.status_code
    assert AuditEntry.objects.count() == before
    assert fresh(obj).version == obj.version


@pytest.mark.parametrize("case", cases("PLAT-2", having="api_write"))
def test_an_api_write_makes_exactly_one_audit_entry(case, people, client_for):
    owner = people(case)["owner"]
    obj = case.make(owner)
    w = case.api_write
    assert w is not None
    payload = {**w.payload(obj), **({"version": obj.version} if w.versioned else {})}
    c = client_for(owner)
    before = AuditEntry.objects.count()
    resp = api(c, w.method, w.path(obj), payload)
    assert resp.status_code == w.ok, resp.content[:500]
    assert AuditEntry.objects.count() == before + 1
    if w.versioned:
        assert fresh(obj).version == obj.version + 1


@pytest.mark.parametrize("case", cases("PLAT-2", versioned_api=True))
def test_a_stale_or_missing_version_on_the_api_is_a_409(case, people, client_for):
    w = case.api_write
    assert w is not None
    owner = people(case)["owner"]
    obj = case.make(owner)
    c = client_for(owner)
    before = AuditEntry.objects.count()
    payload = w.payload(obj)
    for version in ({"version": obj.version - 1}, {}, {"version": None}):
        resp = api(c, w.method, w.path(obj), {**payload, **version})
        assert resp.status_code == 409, (version, resp.content[:300])
        assert resp.json()["error"]["code"] == "conflict"
    assert AuditEntry.objects.count() == before
    assert fresh(obj).version == obj.version


# --- PLAT-1 in the history: a related record is named only to who may view it ---------------


def _named_in_history(obj: Any) -> list[Any]:
    """The records the history of `obj` names through its relation fields (not people,
    departments or record types, which every reader may read: history_name_public). A
    record's own copy of a name (a consignee's name, a report's title) is its own data."""
    from medvigil.core.records.hooks import hook

    fields = {}
    for f in type(obj)._meta.get_fields():
        if getattr(f, "concrete", False) and f.is_relation and f.related_model is not None:
            fields[f.name] = fields[f.attname] = f
    found: dict[tuple[Any, str], Any] = {}
    ct = ContentType.objects.get_for_model(type(obj))
    for e in AuditEntry.objects.filter(content_type=ct, object_id=str(obj.pk)):
        for name, pair in (e.changes or {}).items():
            f = fields.get(name)
            if f is None or f.related_model is ContentType:
                continue
            if hook(f.related_model, "history_name_public"):
                continue
            for v in pair if isinstance(pair, list) else [pair]:
                for item in v if isinstance(v, list) else [v]:
                    if item in (None, ""):
                        continue
                    rec = f.related_model._base_manager.filter(pk=item).first()
                    if rec is not None:
                        found[(f.related_model, str(item))] = rec
    return list(found.values())


@pytest.mark.parametrize("case", cases("PLAT-1", "PLAT-2"))
def test_the_history_names_a_related_record_only_to_who_may_view_it(case, people, make_user):
    """The history of a record (panel, htmx fragment, audit search, complaint file: one
    renderer) names a record it links to — a complaint, a work order, a customer — only to a
    reader who may view that record (core.permissions.scope_for_user: the permission and the
    model's own rule, e.g. sales staff's own customers); the others read its type alone. A
    reader holding nothing but this record type's view permission sees none of them."""
    from django.contrib.auth.models import Permission

    from medvigil.accounts.models import Role
    from medvigil.core.permissions import perm_name, scope_for_user
    from medvigil.core.templatetags.records import hidden_record, history_rows

    users = people(case)
    obj = case.make(users["owner"])
    app_label, codename = perm_name(case.model, "view").split(".")
    role = Role.objects.create(code="kit-reader", name_zh="只读", name_en="Kit reader")
    role.permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )
    users["reader"] = make_user("kit-reader", "kit-reader")
    ct = ContentType.objects.get_for_model(case.model)
    entries = list(
        AuditEntry.objects.filter(content_type=ct, object_id=str(obj.pk)).order_by("-seq")
    )
    named = _named_in_history(obj)
    relation_labels = {
        str(f.verbose_name)
        for f in case.model._meta.get_fields()
        if getattr(f, "concrete", False) and f.is_relation
    }
    for who, user in users.items():
        rows = history_rows(entries, case.model, user=user, obj=fresh(obj))
        text = "\n".join(
            f"{r['old']}\n{r['new']}"
            for item in rows
            for r in item["rows"]
            if r["field"] in relation_labels
        )
        for rec in named:
            model = type(rec)._meta.concrete_model
            name = str(rec)
            if scope_for_user(user, model).filter(pk=rec.pk).exists():
                assert name in text, f"{who} does not see {model.__name__} {name!r}"
            else:
                assert name not in text, f"{who} may not view {model.__name__} {name!r}"
                assert hidden_record(model) in text, who


# --- query counts of the list pages ---------------------------------------------------------


def _count(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return len(ctx.captured_queries)


def _baselines() -> dict[str, int]:
    return json.loads(BASELINES.read_text(encoding="utf-8")) if BASELINES.exists() else {}


def list_query_problems(
    case: RecordCase, client: Any, owner: Any, baselines: dict[str, int], update: bool = False
) -> list[str]:
    """Count the queries of the case's list page (and API list) with 2 and with 6 records of
    `owner`; what is wrong, as messages. With `update`, good counts go into `baselines`."""
    urls = {"page": reverse(case.list_url)}
    if case.api_list:
        urls["api"] = case.api_list
    for _ in range(2):
        case.make(owner)
    for url in urls.values():
        client.get(url)  # the session and per-process caches
    small = {kind: _count(client, url) for kind, url in urls.items()}
    for _ in range(4):
        case.make(owner)
    large = {kind: _count(client, url) for kind, url in urls.items()}
    how = (
        "UPDATE_QUERY_BASELINES=1 .venv/bin/python -m pytest "
        "src/medvigil/core/tests/test_record_kit.py -k list_queries -p no:xdist"
    )
    problems = []
    for kind, url in urls.items():
        key = f"{case.id} {kind}"
        if large[kind] != small[kind]:
            problems.append(
                f"{url}: {small[kind]} queries with 2 records, {large[kind]} with 6 (an N+1: "
                "select_related/prefetch_related the rows' relations)"
            )
        elif update:
            baselines[key] = large[kind]
        elif key not in baselines:
            problems.append(f"{url}: no baseline for {key!r} ({large[kind]} queries); run {how}")
        elif large[kind] > baselines[key]:
            problems.append(
                f"{url}: {large[kind]} queries, baseline {baselines[key]} "
                f"({BASELINES.name}); find the new queries, or if they are needed run {how}"
            )
    return problems


@pytest.mark.parametrize("case", cases())
def test_list_queries_do_not_grow_with_rows_and_stay_within_the_baseline(case, people, client_for):
    owner = people(case)["owner"]
    baselines = _baselines()
    problems = list_query_problems(case, client_for(owner), owner, baselines, update=UPDATE)
    if UPDATE and not problems:
        BASELINES.write_text(
            json.dumps(dict(sorted(baselines.items())), indent=2) + "\n", encoding="utf-8"
        )
    assert not problems, "\n".join(problems)


def _n_plus_one_list(request: Any) -> HttpResponse:
    """A list page with an N+1: each row fetches its owner."""
    from .exampleapp.models import Inspection

    return HttpResponse(", ".join(str(i.owner) for i in Inspection.objects.all()))


# the project's URLs and one page with an N+1 (used with pytest.mark.urls below)
urlpatterns = [
    path("kit/n-plus-one/", _n_plus_one_list, name="kit_n_plus_one"),
    *import_module(django_settings.ROOT_URLCONF).urlpatterns,
]


@pytest.mark.urls(__name__)
def test_the_query_check_catches_an_n_plus_one_and_a_count_over_the_baseline(make_user, client_for):
    [example] = [c for c in CASES if c.id == "exampleapp.inspection"]
    owner = make_user("kit-owner", example.owner_role)
    bad = replace(example, id="kit.n-plus-one", list_url="kit_n_plus_one", api_list=None)
    problems = list_query_problems(bad, client_for(owner), owner, {"kit.n-plus-one page": 99})
    assert len(problems) == 1 and "an N+1" in problems[0], problems
    grown = replace(example, id="kit.grown")
    baselines = {"kit.grown page": 1, "kit.grown api": 1}
    problems = list_query_problems(grown, client_for(owner), owner, baselines)
    assert len(problems) == 2 and all("baseline 1" in p for p in problems), problems


def test_every_regulated_record_is_registered():
    """A regulated record (core.records.contract.RegulatedRecord) of any installed app has a
    record case, so the kit's tests run on it: a new app gets them by registering."""
    from django.apps import apps

    from medvigil.core.records.contract import RegulatedRecord

    registered = {c.model for c in CASES}
    missing = [
        m._meta.label
        for m in apps.get_models()
        if issubclass(m, RegulatedRecord) and m not in registered
    ]
    assert not missing, (
        f"regulated records without a record case: {missing}; add them to "
        "<app>/tests/record_cases.py (docs/development/domain-app.md)"
    )
    assert {"exampleapp.inspection", "trace.product", "trace.sale"} <= {c.id for c in CASES}
    for c in CASES:
        assert reverse(c.list_url), c.id
        assert c.owner_role != c.other_role, c.id


@pytest.mark.django_db
def test_list_counts_only_a_window_past_the_page(rf):
    """#13: a list counts its rows at most `window` pages past the page asked for; past that
    it says "more than" and offers no last page, however many rows match."""
    from django.template.loader import render_to_string

    from medvigil.accounts.models import Department
    from medvigil.core.records.views import paginate

    base = Department.objects.count()
    for i in range(12 - base if base < 12 else 0):
        Department.objects.create(code=f"W{i:02d}", name_zh=f"部{i}", name_en=f"D{i}")
    total = Department.objects.count()
    qs = Department.objects.order_by("pk")

    first = paginate(rf.get("/x/"), qs, 2, window=2)
    assert first.paginator.capped and first.paginator.count == 6
    html = render_to_string("records/_pagination.html", {"page": first, "qs": ""})
    assert "Page 1 of more than 3" in html and "last" not in html and "page=2" in html

    far = paginate(rf.get("/x/", {"page": "6"}), qs, 2, window=2)
    assert not far.paginator.capped and far.paginator.count == total
    assert far.number == 6
    html = render_to_string("records/_pagination.html", {"page": far, "qs": ""})
    assert f"Page 6 of {-(-total // 2)}" in html and "more than" not in html

    exact = paginate(rf.get("/x/"), qs, 2)
    assert exact.paginator.count == total and not hasattr(exact.paginator, "capped")


def test_styling_a_bound_form_does_not_validate_it():
    """The kit's forms validate when the view asks, not while they are built: a view may
    still narrow a field's queryset after construction (the leftover of #9)."""
    from django import forms as dj_forms

    from medvigil.core.records.forms import BootstrapMixin

    calls = []

    class F(BootstrapMixin, dj_forms.Form):
        name = dj_forms.CharField()

        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self._style()

        def clean_name(self):
            calls.append(self.cleaned_data["name"])
            return self.cleaned_data["name"]

    form = F(data={"name": ""})
    assert calls == [] and form._errors is None
    assert "form-control" in form.fields["name"].widget.attrs["class"]
    assert not form.is_valid()
    assert "is-invalid" in form.fields["name"].widget.attrs["class"]
    ok = F(data={"name": "x"})
    assert ok.is_valid() and calls == ["x"]
    assert "is-invalid" not in ok.fields["name"].widget.attrs["class"]
