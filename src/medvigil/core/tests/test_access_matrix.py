"""PLAT-1 (ARCHITECTURE rule 6): the access matrix over EVERY URL of the project.

The URL patterns are read from Django's resolver (web pages, the admin and the REST API under
/api/), so a URL added by any app is checked without editing this file. Each pattern is turned
into a concrete path: its parameters are filled with ids of real objects (demo data from
`medvigil.accounts.demo.load_all()`, else one object per model made by a generic builder).
Then:

- the auditor (read-only role): every POST/PUT/PATCH/DELETE is refused — 401/403/405, a
  redirect to a login page, or 404 where the path could not be filled with a real object —
  never a 2xx/3xx success and never a 500, and it writes no audit entry; GETs never fail (500);
- an outsider (active user with no role): every page, list and endpoint is refused (403/404),
  or shows an empty list / no record data (a 200 page is searched for the text of the
  records); its writes are refused like the auditor's;
- anonymous: redirected to the login page, or 401/403 from the API.

Self-service endpoints (sign-in, language, one's own API tokens and notifications) may change
the user's own account and nothing else; they are named below. Patterns that could not be
exercised with a real object are listed in test-artifacts/access-matrix.txt, and the test
fails for each of them (`test_every_url_pattern_is_exercised`) unless a registered record case
(core/tests/record_kit.py) covers its URL name, or NOT_EXERCISED names it with the reason.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import json
import os
import re
import time
import traceback
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils import timezone

from medvigil.core.models import AuditEntry

try:  # Python 3.11+
    import re._constants as sre_c
    import re._parser as sre_parse
except ImportError:  # pragma: no cover
    import sre_constants as sre_c  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-1")]

WRITE_METHODS = ("post", "put", "patch", "delete")

# Endpoints that act on the user's own account only (they may change it, nothing else).
SELF_SERVICE = {
    "login",
    "logout",
    "set_language_pref",
    "profile",
    "password_change",
    "password_change_done",
    "revoke_token",
    "notification_read",
    "notification_open",
    "notifications_read_all",
    "admin:login",
    "admin:logout",
    "api:me",
    "api:list_tokens",
    "api:create_token",
    "api:revoke_token",
}
# Reads that are POSTed (they change nothing; the audit count is still checked).
READ_ONLY_POST = {"audit_verify", "api:verify", "trace:unit_scan"}
# Reachable without signing in.
PUBLIC = {
    "login",
    "logout",
    "set_language_pref",
    "admin:login",
    "admin:logout",
    "api:openapi-json",
    "api:openapi-view",
    "favicon",  # a redirect to the icon in the static files
}
# Forms for the public (no sign-in; complaints' feedback form, FBK-1): anyone may post to
# them, signed in or not; what they register is audited as the form, never as the poster.
PUBLIC_FORMS = {"public_feedback", "public_feedback_lookup", "public_feedback_status"}
PUBLIC |= PUBLIC_FORMS
# URL names (or routes, for unnamed patterns) the walk cannot fill with a real object, each
# with the reason (kept honest: an
# entry whose pattern is gone or now exercised fails the test too).
NOT_EXERCISED: dict[str, str] = {}
# Generated documentation views of the framework: they answer any method with the same page.
FRAMEWORK_DOCS = {"api:openapi-json", "api:openapi-view"}
# Framework or infrastructure apps whose rows are not business records.
NON_RECORD_APPS = {"auth", "contenttypes", "sessions", "admin", "axes", "huey", "djhuey"}
LOGIN_PATHS = ("/login/", "/admin/login/")
# URL parameters that name a record type (filled from one generic record).
GENERIC_NAMES = {"app_label", "model", "model_name", "record_type", "content_type"}


# --- walking the resolver -------------------------------------------------------------------


@dataclass
class Pattern:
    route: str  # human-readable route, e.g. "trace/products/<int:pk>/"
    regex: str  # the full regular expression
    name: str  # namespaced url name or "" when unnamed
    callback: Any
    app_hint: str = ""  # app label the view belongs to, when known


def _regex_of(pattern: Any) -> str:
    rx = pattern.regex.pattern
    if rx.startswith("^"):
        rx = rx[1:]
    for end in ("\\Z", "$"):
        if rx.endswith(end):
            rx = rx[: -len(end)]
    return rx


def walk(patterns: list[Any], route: str = "", regex: str = "", ns: str = "") -> Iterator[Pattern]:
    for p in patterns:
        if isinstance(p, URLResolver):
            sub_ns = ":".join(x for x in (ns, p.namespace or "") if x)
            yield from walk(
                p.url_patterns, route + str(p.pattern), regex + _regex_of(p.pattern), sub_ns
            )
        elif isinstance(p, URLPattern):
            name = f"{ns}:{p.name}" if ns and p.name else (p.name or "")
            yield Pattern(route + str(p.pattern), regex + _regex_of(p.pattern), name, p.callback)


def all_patterns() -> list[Pattern]:
    out = []
    seen = set()
    for p in walk(get_resolver().url_patterns):
        if p.regex in seen:
            continue  # e.g. two ninja operations on one path share one pattern
        seen.add(p.regex)
        module = getattr(p.callback, "__module__", "") or ""
        for config in apps.get_app_configs():
            if module == config.name or module.startswith(config.name + "."):
                p.app_hint = config.label
        out.append(p)
    return out


# --- turning a regex into a concrete path ---------------------------------------------------


def _example(parsed: Any, values: dict[str, str], names: dict[int, str]) -> str:
    out: list[str] = []
    for op, av in parsed:
        if op is sre_c.LITERAL:
            out.append(chr(av))
        elif op is sre_c.NOT_LITERAL:
            out.append("a" if av != ord("a") else "b")
        elif op is sre_c.ANY:
            out.append("a")
        elif op is sre_c.IN:
            out.append(_in_example(av))
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            lo, _hi, sub = av
            out.append(_example(sub, values, names) * lo)
        elif op is sre_c.SUBPATTERN:
            group, _add, _del, sub = av
            name = names.get(group)
            if name and name in values:
                out.append(values[name])
            else:
                out.append(_example(sub, values, names))
        elif op is sre_c.BRANCH:
            out.append(_example(av[1][0], values, names))
        # AT (anchors), ASSERT, GROUPREF...: contribute nothing
    return "".join(out)


def _in_example(items: list[Any]) -> str:
    negate = any(op is sre_c.NEGATE for op, _ in items)
    if negate:
        banned = {chr(v) for op, v in items if op is sre_c.LITERAL}
        return next(c for c in "abc1" if c not in banned)
    for op, v in items:
        if op is sre_c.LITERAL:
            return chr(v)
        if op is sre_c.RANGE:
            return chr(v[0])
        if op is sre_c.CATEGORY:
            return "1" if v is sre_c.CATEGORY_DIGIT else "a"
    return "a"


def group_names(regex: str) -> list[str]:
    return list(re.compile(regex).groupindex)


def make_path(pattern: Pattern, values: dict[str, str]) -> str:
    parsed = sre_parse.parse(pattern.regex)
    names = {v: k for k, v in re.compile(pattern.regex).groupindex.items()}
    return "/" + _example(parsed, values, names)


# --- objects to fill URL parameters with ----------------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _singulars(word: str) -> list[str]:
    w = _norm(word)
    out = [w]
    if w.endswith("ies"):
        out.append(w[:-3] + "y")
    if w.endswith("es"):
        out.append(w[:-2])
    if w.endswith("s"):
        out.append(w[:-1])
    return [x for x in out if x]


def record_models() -> list[type[models.Model]]:
    return [
        m
        for m in apps.get_models()
        if m._meta.app_label not in NON_RECORD_APPS and not m._meta.abstract
    ]


def find_model(word: str, app_hint: str = "") -> type[models.Model] | None:
    """The model a URL word names: 'products' -> Product, 'tokens' -> APIToken,
    'entries' -> AuditEntry, 'destruction' -> DestructionRequest (same app first)."""
    cands = _singulars(word)
    if not cands or cands[0] in {"new", "api", "v1", "admin"}:
        return None
    models_ = sorted(record_models(), key=lambda m: (m._meta.app_label != app_hint,))
    for rank in range(4):
        for m in models_:
            names = {_norm(m._meta.model_name or ""), _norm(str(m._meta.verbose_name))}
            for c in cands:
                if len(c) < 3:
                    continue
                if (
                    (rank == 0 and c in names)
                    or (rank == 1 and any(n.endswith(c) for n in names))
                    or (rank == 2 and any(n.startswith(c) for n in names))
                    or (rank == 3 and any(c in n for n in names))
                ):
                    return m
    return None


class Builder:
    """One saved object per model: demo data if there is some, else built from its fields."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.counter = itertools.count(1)
        self.failed: dict[str, str] = {}

    def get(self, model: type[models.Model], depth: int = 0) -> models.Model | None:
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            return obj
        if depth > 5 or model._meta.label in self.failed:
            return None
        return self.build(model, depth)

    def build(self, model: type[models.Model], depth: int) -> models.Model | None:
        if model is get_user_model():
            return self.user
        error = ""
        # First the required fields only; then also the optional relations (a check
        # constraint may want one of them, e.g. "a unit or a lot").
        for fill_optional in (False, True):
            try:
                values: dict[str, Any] = {}
                for f in model._meta.concrete_fields:
                    if f.primary_key or f.has_default():
                        continue
                    if f.null and not (fill_optional and f.is_relation):
                        continue
                    if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                        continue
                    text_field = isinstance(f, models.CharField | models.TextField)
                    if text_field and f.blank and not f.unique:
                        continue
                    values[f.name] = self.value_for(f, depth)
                obj = model(**values)
                with transaction.atomic():
                    obj.save()
                return obj
            except Exception as exc:  # noqa: BLE001 - reported, never hidden
                error = f"{type(exc).__name__}: {exc}"[:200]
        self.failed[model._meta.label] = error
        return None

    def value_for(self, f: models.Field, depth: int) -> Any:
        n = next(self.counter)
        if f.is_relation:
            rel = self.get(f.related_model, depth + 1)  # type: ignore[arg-type]
            if rel is None:
                raise LookupError(f"no {f.related_model} for {f.name}")
            return rel
        if f.choices:
            return f.choices[0][0]
        if isinstance(f, models.EmailField):
            return f"builder{n}@example.com"
        if isinstance(f, models.CharField | models.TextField | models.SlugField):
            text = f"bld-{f.name}-{n}"
            return text[: f.max_length] if f.max_length else text
        if isinstance(f, models.BooleanField):
            return False
        if isinstance(f, models.DecimalField):
            return decimal.Decimal("1")
        if isinstance(f, models.IntegerField | models.FloatField):
            return 1
        if isinstance(f, models.DateTimeField):
            return timezone.now()
        if isinstance(f, models.DateField):
            return timezone.localdate()
        if isinstance(f, models.TimeField):
            return dt.time(9, 0)
        if isinstance(f, models.DurationField):
            return dt.timedelta(hours=1)
        if isinstance(f, models.UUIDField):
            return uuid.uuid4()
        if isinstance(f, models.JSONField):
            return {}
        if isinstance(f, models.FileField):
            from django.core.files.base import ContentFile
            from django.core.files.storage import default_storage

            return default_storage.save(
                f"access-matrix/builder-{n}.csv", ContentFile(b"a,b\n1,2\n")
            )
        if isinstance(f, models.GenericIPAddressField):
            return "127.0.0.1"
        raise LookupError(f"cannot build a value for {type(f).__name__} {f.name}")


@dataclass
class Target:
    pattern: Pattern
    path: str | None
    real: bool  # every parameter was filled from a real object
    note: str = ""
    records: list[models.Model] = field(default_factory=list)


def generic_record(builder: Builder) -> models.Model | None:
    """A record for URLs that take any record (app_label/model/object_id): a domain record
    first (not an account, not a platform row)."""
    preferred = [
        m
        for m in record_models()
        if m._meta.app_label not in {"accounts", "core"} and hasattr(m, "version")
    ]
    for m in preferred:
        obj = builder.get(m)
        if obj is not None:
            return obj
    from medvigil.accounts.models import Department

    return Department.objects.first()


def fill(pattern: Pattern, builder: Builder) -> Target:
    names = group_names(pattern.regex)
    if not names:
        return Target(pattern, make_path(pattern, {}), True)
    values: dict[str, str] = {}
    notes: list[str] = []
    records: list[models.Model] = []
    real = True
    words = [w for w in re.split(r"[/<>.:]+", pattern.route) if w]
    model_admin = getattr(pattern.callback, "model_admin", None)
    view_class = getattr(pattern.callback, "view_class", None)
    generic = None
    for name in names:
        value = None
        model: type[models.Model] | None = None
        if name in GENERIC_NAMES or name.endswith(("_type", "model_name")):
            generic = generic or generic_record(builder)
            if generic is None:
                real = False
                notes.append(f"no record for {name}")
                continue
            meta = generic._meta
            values[name] = {
                "app_label": meta.app_label,
                "model": meta.model_name,
                "model_name": meta.model_name,
            }.get(name, f"{meta.app_label}.{meta.model_name}")
            continue
        if re.search(rf"\(\?P<{name}>\.\*\)", pattern.regex):
            values[name] = "matrix-nowhere"  # a catch-all: any text
            continue
        if name == "content_type_id":
            generic = generic or generic_record(builder)
            if generic is not None:
                values[name] = str(ContentType.objects.get_for_model(generic).pk)
                continue
        if name in {"object_id", "record_id", "oid"} and generic is not None:
            values[name] = str(generic.pk)
            records.append(generic)
            continue
        if model_admin is not None:
            model = model_admin.model
        elif view_class is not None and getattr(view_class, "model", None):
            model = view_class.model
        if model is None and re.search(r"(_id|_pk)$", name):
            model = find_model(name[:-3], pattern.app_hint)
        if model is None and pattern.route.startswith("admin/"):
            # admin/<app_label>/<model_name>/<path:object_id>/...
            idx = next((i for i, w in enumerate(words) if name in w), -1)
            if idx >= 2:
                try:
                    model = apps.get_model(words[idx - 2], words[idx - 1])
                except (LookupError, ValueError):
                    model = None
        if model is None:
            idx = next((i for i, w in enumerate(words) if w.endswith(name)), -1)
            for w in reversed(words[:idx] if idx > 0 else []):
                if "<" in w or w in {"int", "str", "slug", "path", "uuid"}:
                    continue
                model = find_model(w, pattern.app_hint)
                if model is not None:
                    break
        if model is not None:
            obj = builder.get(model)
            if obj is not None:
                records.append(obj)
                attr = name if name not in {"pk", "id", "object_id"} else "pk"
                if name.endswith(("_id", "_pk")) and not hasattr(obj, name):
                    attr = "pk"
                value = getattr(obj, attr, None)
                if value is None:
                    value = obj.pk
        if value is None:
            real = False
            notes.append(f"no object for <{name}>")
            value = "1" if "[0-9]" in pattern.regex or "\\d" in pattern.regex else "x"
        values[name] = str(value)
    for attempt in (values, {k: v for k, v in values.items() if k not in GENERIC_NAMES}):
        # the second attempt lets a group with its own alternatives (the admin's
        # app_label=auth|core|...) take one of them instead of the generic record's
        path = make_path(pattern, attempt)
        try:
            match = resolve(path)
        except Resolver404:
            continue
        if match.func is pattern.callback:
            return Target(pattern, path, real, "; ".join(notes), records)
    return Target(pattern, None, False, f"generated path {path} resolves to another view")


# --- requests and verdicts ------------------------------------------------------------------


@dataclass
class Outcome:
    failures: list[str] = field(default_factory=list)
    not_exercised: dict[str, str] = field(default_factory=dict)

    def fail(self, who: str, method: str, target: Target, why: str) -> None:
        self.failures.append(
            f"{who} {method.upper()} {target.path} ({target.pattern.name or target.pattern.route})"
            f": {why}"
        )


TIMINGS: dict[str, float] = {}


def request(client: Client, method: str, target: Target, body: Any = None) -> Any:
    """Send one request; an exception in the view is returned as a string (a 500)."""
    kwargs: dict[str, Any] = {}
    if target.pattern.name.startswith("api:") and method != "get":
        kwargs = {"data": json.dumps(body or {}), "content_type": "application/json"}
    start = time.perf_counter()
    try:
        return getattr(client, method)(target.path, **kwargs)
    except Exception:  # noqa: BLE001
        return "500: " + traceback.format_exc(limit=-3).strip().splitlines()[-1]
    finally:
        key = f"{method.upper()} {target.path}"
        TIMINGS[key] = max(TIMINGS.get(key, 0.0), time.perf_counter() - start)


def is_login_redirect(resp: Any) -> bool:
    return resp.status_code in (301, 302, 303) and resp["Location"].split("?")[0].endswith(
        LOGIN_PATHS
    )


def audit_count() -> int:
    return AuditEntry.objects.count()


def own_entries_only(since: int, user: Any) -> list[str]:
    """Audit entries written since `since` that are NOT about the user's own account."""
    from medvigil.accounts.models import APIToken

    user_ct = ContentType.objects.get_for_model(get_user_model())
    token_ct = ContentType.objects.get_for_model(APIToken)
    bad = []
    for e in AuditEntry.objects.filter(pk__gt=since).select_related("content_type"):
        if e.content_type_id == user_ct.pk and e.object_id == str(user.pk):
            continue
        if (
            e.content_type_id == token_ct.pk
            and APIToken.objects.filter(pk=e.object_id, user=user).exists()
        ):
            continue
        bad.append(f"{e.content_type.app_label}.{e.content_type.model}#{e.object_id} {e.action}")
    return bad


def last_entry_id() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# --- request bodies for the API (so that a permission check, not validation, answers) --------


def api_bodies() -> dict[tuple[str, str], Any]:
    """{(path regex, method): example JSON body} from the OpenAPI schema."""
    from medvigil.api import api

    try:
        schema = api.get_openapi_schema()
    except Exception as exc:  # noqa: BLE001 - the OpenAPI test reports it; bodies stay empty
        warnings.warn(
            f"access matrix: no OpenAPI schema ({exc!s:.200}); empty bodies", stacklevel=2
        )
        return {}
    comps = schema.get("components", {}).get("schemas", {})
    out: dict[tuple[str, str], Any] = {}
    for path, ops in schema.get("paths", {}).items():
        rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "/?$"
        for method, op in ops.items():
            content = (op.get("requestBody") or {}).get("content", {})
            js = content.get("application/json", {}).get("schema")
            out[(rx, method.lower())] = _json_example(js, comps, 0) if js else {}
    return out


def _json_example(schema: Any, comps: dict[str, Any], depth: int) -> Any:
    if not isinstance(schema, dict) or depth > 6:
        return None
    if "$ref" in schema:
        return _json_example(comps.get(schema["$ref"].rsplit("/", 1)[-1]), comps, depth + 1)
    for key in ("allOf", "anyOf", "oneOf"):
        if schema.get(key):
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return _json_example(options[0], comps, depth + 1)
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    fmt = schema.get("format", "")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {k: _json_example(v, comps, depth + 1) for k, v in props.items()}
    if kind == "array":
        return []
    if kind == "integer":
        return 1
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if kind == "string":
        if fmt == "date":
            return timezone.localdate().isoformat()
        if fmt == "date-time":
            return timezone.now().isoformat()
        return "matrix"
    return None


def body_for(target: Target, method: str, bodies: dict[tuple[str, str], Any]) -> Any:
    if not target.pattern.name.startswith("api:") or not target.path:
        return None
    for (rx, m), body in bodies.items():
        if m == method and re.match(rx, target.path.removeprefix("/api")):
            return body
    return {}


# --- record text, to see whether a 200 page shows data ---------------------------------------


def record_texts(exclude: set[str]) -> set[str]:
    """Distinctive text of the records in the database (str() and longer char values)."""
    texts: set[str] = set()
    for m in record_models():
        if m._meta.app_label == "accounts" or m is AuditEntry:
            continue
        char_fields = [
            f.attname
            for f in m._meta.concrete_fields
            if isinstance(f, models.CharField) and not f.choices
        ]
        for obj in m._default_manager.all()[:25]:
            try:
                texts.add(str(obj))
            except Exception:  # noqa: BLE001, S112
                continue
            for name in char_fields:
                value = getattr(obj, name, "")
                if isinstance(value, str):
                    texts.add(value)
    # a MIME type ("image/png" of an attachment) is not distinctive: pages name types too
    mime = re.compile(r"(application|audio|font|image|text|video)/[\w.+-]+")
    # nor is a page's path without an id ("/vigilance/trends/" of a notification's link): the
    # API schema and every menu name the same paths
    page = re.compile(r"/[a-z_/-]+")
    return {
        t
        for t in texts
        if len(t) >= 6
        and t not in exclude
        and not t.isdigit()
        and not mime.fullmatch(t)
        and not page.fullmatch(t)
    }


def leaks(body: str, texts: set[str]) -> list[str]:
    return sorted(t for t in texts if t in body)[:5]


def json_is_empty(data: Any) -> bool:
    if isinstance(data, list):
        return not data
    if isinstance(data, dict) and "items" in data:
        return not data["items"] and not data.get("count")
    return False


# --- the fixture: data, users, targets --------------------------------------------------------


def _user(username: str, *roles: str, **extra: Any) -> Any:
    from medvigil.accounts.models import Role
    from medvigil.conftest import PASSWORD

    user = get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)
    if roles:
        user.roles.set(Role.objects.filter(code__in=roles))
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture(scope="module")
def matrix(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any
) -> Iterator[dict[str, Any]]:
    """Demo data and the filled-in URL list, made once for this module inside a transaction
    that is rolled back at its end (each test runs in its own savepoint within it)."""
    from django.test import override_settings

    from medvigil.accounts.demo import load_all
    from medvigil.core.audit import audit_context

    media = override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("matrix-media")))
    with django_db_blocker.unblock(), media:
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            with audit_context(source="test:matrix-setup"):
                owner = _user("matrix-owner", "quality", is_staff=True)
                auditor = _user("matrix-auditor", "auditor")
                outsider = _user("matrix-outsider")
                load_all()
                builder = Builder(owner)
                targets = [fill(p, builder) for p in all_patterns()]
            yield {
                "targets": targets,
                "builder": builder,
                "auditor": auditor,
                "outsider": outsider,
                "owner": owner,
                "bodies": api_bodies(),
            }
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def client_for_user(user: Any) -> Client:
    c = Client()
    # a fresh copy: an earlier test's changes to the user were rolled back with its savepoint
    c.force_login(get_user_model().objects.get(pk=user.pk))
    return c


def write_report(result: Outcome, targets: list[Target], builder: Builder, label: str) -> None:
    skipped = [t for t in targets if not t.path or not t.real]
    out = Path(settings.BASE_DIR).parents[1] / "test-artifacts"
    out.mkdir(parents=True, exist_ok=True)
    lines = [f"# access matrix ({label}): {len(targets)} URL patterns"]
    for t in skipped:
        lines.append(f"not fully exercised: {t.pattern.route}  [{t.pattern.name}]  {t.note}")
    for model, why in sorted(builder.failed.items()):
        lines.append(f"could not build a {model}: {why}")
    for f in result.failures:
        lines.append(f"FAIL {f}")
    for key, value in result.not_exercised.items():
        lines.append(f"refused before the permission check: {key} ({value})")
    slowest = sorted(TIMINGS.items(), key=lambda kv: -kv[1])[:10]
    lines += [f"slow: {secs * 1000:.0f} ms {key}" for key, secs in slowest]
    (out / f"access-matrix-{label}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if skipped:
        warnings.warn(
            f"access matrix ({label}): {len(skipped)} of {len(targets)} URL patterns could not "
            "be filled with a real object: "
            + ", ".join(t.pattern.name or t.pattern.route for t in skipped)
            + " (details: test-artifacts/access-matrix-*.txt)",
            stacklevel=2,
        )


# --- the tests ------------------------------------------------------------------------------


def test_the_walk_covers_pages_admin_and_api(matrix):
    targets = matrix["targets"]
    names = {t.pattern.name for t in targets}
    assert {"home", "login", "profile", "admin:index", "api:me"} <= names
    assert any(t.pattern.route.startswith("api/") for t in targets)
    with_params = [t for t in targets if group_names(t.pattern.regex)]
    assert with_params, "some URLs take parameters"
    assert sum(t.real for t in with_params) >= len(with_params) // 2, [
        (t.pattern.route, t.note) for t in with_params if not t.real
    ]


def test_every_url_pattern_is_exercised(matrix):
    """A URL the walk could not fill with real objects is never really checked: it fails here
    unless a record case covers it (its pages are tested per role in test_record_kit) or
    NOT_EXERCISED gives the reason."""
    from .record_kit import registered_cases

    covered = {
        name
        for case in registered_cases()
        for name in (case.list_url, case.detail_url, case.edit_url)
        if name
    }

    def key(t: Target) -> str:
        return t.pattern.name or t.pattern.route

    keys = {key(t) for t in matrix["targets"]}
    problems = [
        f"never exercised: {t.pattern.route} [{t.pattern.name or 'unnamed'}] {t.note}"
        for t in matrix["targets"]
        if not (t.path and t.real) and key(t) not in covered and key(t) not in NOT_EXERCISED
    ]
    exercised = {key(t) for t in matrix["targets"] if t.path and t.real}
    problems += [
        f"NOT_EXERCISED names {name!r}, which is {'now exercised' if name in exercised else 'gone'}"
        for name in NOT_EXERCISED
        if name in exercised or name not in keys
    ]
    assert not problems, (
        "\n".join(problems)
        + "\nGive the walk an object for the URL parameter (a model it can build, or demo data), "
        "register the record in <app>/tests/record_cases.py, or add the URL name to "
        "NOT_EXERCISED with the reason."
    )


def test_auditor_cannot_write_anywhere(matrix):
    auditor = matrix["auditor"]
    result = Outcome()
    client = client_for_user(auditor)
    for target in matrix["targets"]:
        if not target.path:
            continue
        name = target.pattern.name
        for method in WRITE_METHODS:
            if "_auth_user_id" not in client.session:
                client = client_for_user(auditor)
            before, last = audit_count(), last_entry_id()
            resp = request(client, method, target, body_for(target, method, matrix["bodies"]))
            if isinstance(resp, str):
                result.fail("auditor", method, target, resp)
                continue
            code = resp.status_code
            if name in SELF_SERVICE:
                bad = own_entries_only(last, auditor)
                if bad:
                    result.fail("auditor", method, target, f"changed {bad}")
                continue
            if audit_count() != before:
                result.fail("auditor", method, target, f"{code} and wrote audit entries")
                continue
            if code in (401, 403, 405) or is_login_redirect(resp):
                continue
            if name in PUBLIC_FORMS and code < 500:
                continue
            if code == 404:
                if target.records:
                    result.not_exercised[f"{method} {target.path}"] = "404 for a real object"
                continue
            if code in (400, 409, 422) and name.startswith("api:"):
                # refused by validation before the permission check: nothing changed
                result.not_exercised[f"{method} {target.path}"] = f"{code} before permission"
                continue
            if code == 200 and method == "post" and name in READ_ONLY_POST:
                continue
            if code == 200 and name in FRAMEWORK_DOCS:
                continue
            result.fail("auditor", method, target, f"answered {code}, expected 403/405")
    write_report(result, matrix["targets"], matrix["builder"], "auditor")
    assert not result.failures, "\n".join(result.failures)


def test_auditor_reads_every_page_without_errors(matrix):
    result = Outcome()
    client = client_for_user(matrix["auditor"])
    for target in matrix["targets"]:
        if not target.path or target.pattern.name in {"logout", "admin:logout"}:
            continue
        resp = request(client, "get", target)
        if isinstance(resp, str):
            result.fail("auditor", "get", target, resp)
        elif resp.status_code >= 500:
            result.fail("auditor", "get", target, f"answered {resp.status_code}")
    assert not result.failures, "\n".join(result.failures)


def test_outsider_sees_no_records_and_changes_nothing(matrix):
    outsider = matrix["outsider"]
    client = client_for_user(outsider)
    # text every signed-in user sees anyway (own name, department...) is not a leak
    baseline = client.get("/").content.decode() + client.get("/profile/").content.decode()
    texts = record_texts(exclude={t for t in record_texts(set()) if t in baseline})
    assert texts, "the matrix needs records to look for"
    result = Outcome()
    for target in matrix["targets"]:
        if not target.path:
            continue
        name = target.pattern.name
        if "_auth_user_id" not in client.session:
            client = client_for_user(outsider)
        if name not in {"logout", "admin:logout"}:
            resp = request(client, "get", target)
            hops = 0
            while not isinstance(resp, str) and resp.status_code in (301, 302, 303) and hops < 3:
                if is_login_redirect(resp) or not resp["Location"].startswith("/"):
                    break
                hops += 1
                resp = client.get(resp["Location"])
            if isinstance(resp, str):
                result.fail("outsider", "get", target, resp)
            elif resp.status_code >= 500:
                result.fail("outsider", "get", target, f"answered {resp.status_code}")
            elif resp.status_code == 200:
                ctype = resp.get("Content-Type", "")
                body = b"".join(resp.streaming_content) if resp.streaming else resp.content
                text = body.decode("utf-8", "ignore")
                found = leaks(text, texts)
                if found:
                    result.fail("outsider", "get", target, f"shows record data {found}")
                elif (
                    ctype.startswith("application/json")
                    and name not in SELF_SERVICE | PUBLIC
                    and not json_is_empty(json.loads(text or "null"))
                ):
                    result.fail("outsider", "get", target, "JSON with data for no role")
        for method in ("post", "delete"):
            if "_auth_user_id" not in client.session:
                client = client_for_user(outsider)
            before, last = audit_count(), last_entry_id()
            resp = request(client, method, target, body_for(target, method, matrix["bodies"]))
            if isinstance(resp, str):
                result.fail("outsider", method, target, resp)
            elif name in SELF_SERVICE:
                if own_entries_only(last, outsider):
                    result.fail("outsider", method, target, "changed another record")
            elif audit_count() != before:
                result.fail("outsider", method, target, f"{resp.status_code}, wrote entries")
            elif resp.status_code >= 500 or (
                resp.status_code in (200, 201, 204) and name not in READ_ONLY_POST | FRAMEWORK_DOCS
            ):
                result.fail("outsider", method, target, f"answered {resp.status_code}")
    write_report(result, matrix["targets"], matrix["builder"], "outsider")
    assert not result.failures, "\n".join(result.failures)


def test_anonymous_is_sent_to_login_or_refused(matrix):
    result = Outcome()
    for target in matrix["targets"]:
        if not target.path:
            continue
        name = target.pattern.name
        for method in ("get", "post"):
            client = Client()
            before = audit_count()
            resp = request(client, method, target, body_for(target, method, matrix["bodies"]))
            if isinstance(resp, str):
                result.fail("anonymous", method, target, resp)
                continue
            code = resp.status_code
            if audit_count() != before and name != "login":
                result.fail("anonymous", method, target, f"{code} and wrote audit entries")
            elif name in PUBLIC:
                if code >= 500:
                    result.fail("anonymous", method, target, f"answered {code}")
            elif is_login_redirect(resp) or code in (401, 403, 405):
                continue
            elif code == 404:
                continue  # refused without saying whether the record exists
            else:
                result.fail("anonymous", method, target, f"answered {code}, expected login")
    write_report(result, matrix["targets"], matrix["builder"], "anonymous")
    assert not result.failures, "\n".join(result.failures)


# --- the query budget of every page and endpoint (issue #13) ---------------------------------

BUDGETS = Path(__file__).with_name("query_baselines.json")
UPDATE_BUDGETS = os.environ.get("UPDATE_QUERY_BASELINES") == "1"
BUDGET_PREFIX = "GET /"
REGENERATE = (
    "UPDATE_QUERY_BASELINES=1 .venv/bin/python -m pytest "
    "src/medvigil/core/tests/test_access_matrix.py -k query_budget -p no:xdist"
)


def count_queries(client: Client, path: str, **headers: str) -> tuple[int, int]:
    """(status, queries) of one GET, the response read to its end (streamed files too)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(path, **headers)
        if resp.streaming:
            b"".join(resp.streaming_content)
    return resp.status_code, len(ctx.captured_queries)


def budget_problems(counts: dict[str, int], budgets: dict[str, int]) -> list[str]:
    problems = []
    for key, n in sorted(counts.items()):
        if key not in budgets:
            problems.append(f"{key}: {n} queries and no budget; run {REGENERATE}")
        elif n > budgets[key]:
            problems.append(
                f"{key}: {n} queries, budget {budgets[key]} ({BUDGETS.name}); find the new "
                f"queries (an N+1, a lookup repeated per row or per call), or if they are "
                f"needed run {REGENERATE} and say why in the commit"
            )
    problems += [
        f"{key}: a budget for a URL that is gone; run {REGENERATE}"
        for key in budgets
        if key.startswith(BUDGET_PREFIX) and key not in counts
    ]
    return problems


def test_every_page_and_endpoint_stays_within_its_query_budget(matrix):
    """Every GET the matrix can fill with real objects, as a user who sees records (the
    quality engineer, staff): pages with a session, the API with a token. Each is asked once
    to warm the per-process caches, then counted twice (the lower count: a cache that
    expires between two requests is not a regression); more queries than the budget in
    core/tests/query_baselines.json fails."""
    from medvigil.accounts.models import APIToken

    owner = get_user_model().objects.get(pk=matrix["owner"].pk)
    _token, raw = APIToken.issue(owner, "query budgets")
    token = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    session = client_for_user(owner)
    api_client = Client()
    counts: dict[str, int] = {}
    failures: list[str] = []
    for target in matrix["targets"]:
        name = target.pattern.name
        if not (target.path and target.real) or name in {"logout", "admin:logout"}:
            continue
        if "_auth_user_id" not in session.session:
            session = client_for_user(owner)
        is_api = name.startswith("api:")
        client, headers = (api_client, token) if is_api else (session, {})
        try:
            results = [count_queries(client, target.path, **headers) for _ in range(3)]
        except Exception as exc:  # noqa: BLE001 - reported with the URL
            failures.append(f"GET {target.path}: {type(exc).__name__}: {exc}")
            continue
        if results[0][0] >= 500:
            failures.append(f"GET {target.path}: answered {results[0][0]}")
            continue
        counts[f"GET /{target.pattern.route}"] = min(n for _status, n in results[1:])
    assert not failures, "\n".join(failures)
    assert len(counts) > 50, "the walk should count most pages and endpoints"
    budgets = json.loads(BUDGETS.read_text(encoding="utf-8")) if BUDGETS.exists() else {}
    if UPDATE_BUDGETS:
        kept = {k: v for k, v in budgets.items() if not k.startswith(BUDGET_PREFIX)}
        BUDGETS.write_text(
            json.dumps(dict(sorted({**kept, **counts}.items())), indent=2) + "\n",
            encoding="utf-8",
        )
        return
    problems = budget_problems(counts, budgets)
    assert not problems, "\n".join(problems)


def test_the_budget_check_catches_a_repeated_lookup_and_a_gone_url():
    counts = {"GET /a/": 5, "GET /b/": 3, "GET /new/": 2}
    budgets = {"GET /a/": 5, "GET /b/": 2, "GET /gone/": 1, "trace.unit page": 13}
    problems = budget_problems(counts, budgets)
    assert len(problems) == 3, problems
    assert "GET /b/: 3 queries, budget 2" in problems[0]
    assert "GET /new/: 2 queries and no budget" in problems[1]
    assert "GET /gone/: a budget for a URL that is gone" in problems[2]
