"""Production hardening (PLAT-1: who may see what also depends on the transport): weak keys
are refused at start, `check --deploy` is clean with the documented production environment,
HTTPS settings follow the environment, every answer has a Content-Security-Policy that the
templates can live with, and signed-in pages are never cached."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from medvigil.accounts.models import APIToken

pytestmark = pytest.mark.req("PLAT-1")

REPO = Path(__file__).resolve().parents[4]
SRC = REPO / "src"
DEPLOYMENT_DOC = REPO / "docs" / "deployment.md"
# Variables that make a run a development or test run.
NOT_PRODUCTION = ("MEDVIGIL_DEV", "MEDVIGIL_TESTING", "DEBUG", "DATABASE_URL", "REDIS_URL")


def run_django(tmp_path: Path, env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter after django.setup(), with exactly this environment."""
    base = {k: v for k, v in os.environ.items() if k not in NOT_PRODUCTION}
    base.pop("SECRET_KEY", None)
    base.pop("SECRET_KEY_FILE", None)
    full = {
        **base,
        "DJANGO_SETTINGS_MODULE": "medvigil.settings",
        "PYTHONPATH": str(SRC),
        "MEDVIGIL_DATA_DIR": str(tmp_path / "var"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup()\n{code}"],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def strong_key() -> str:
    return secrets.token_urlsafe(50)


@pytest.mark.parametrize(
    "env",
    [
        {"SECRET_KEY": "x"},
        {"SECRET_KEY": "ab" * 40},  # long but only two distinct characters
        {"SECRET_KEY": "short-but-not-empty"},
        {"AUDIT_HMAC_KEY": "weak"},
    ],
)
def test_a_short_or_repetitive_key_is_refused_outside_development(tmp_path, env):
    env = {"SECRET_KEY": strong_key(), **env}
    proc = run_django(tmp_path, env, "print('started')")
    assert proc.returncode != 0 and "started" not in proc.stdout
    assert "ImproperlyConfigured" in proc.stderr and "too weak" in proc.stderr


def test_development_and_a_strong_key_still_start(tmp_path):
    assert run_django(tmp_path, {"MEDVIGIL_DEV": "1", "SECRET_KEY": "x"}, "").returncode == 0
    proc = run_django(tmp_path, {"SECRET_KEY": strong_key()}, "print('started')")
    assert proc.returncode == 0 and "started" in proc.stdout, proc.stderr


def documented_production_env() -> dict[str, str]:
    text = DEPLOYMENT_DOC.read_text(encoding="utf-8")
    block = re.search(r"```env\n(.*?)```", text, re.S)
    assert block, "docs/deployment.md has no ```env block"
    env = {}
    for line in block.group(1).splitlines():
        if line.strip() and not line.startswith("#"):
            name, _eq, value = line.partition("=")
            env[name.strip()] = value.strip()
    return env


def test_check_deploy_is_clean_with_the_documented_production_environment(tmp_path):
    env = documented_production_env()
    assert env["HTTPS"] == "1"
    for name in [n for n in env if n.endswith("_FILE")]:  # key files: written here
        path = tmp_path / name.lower()
        path.write_text(strong_key(), encoding="utf-8")
        env[name] = str(path)
    code = (
        "from django.core.management import call_command\n"
        "call_command('check', deploy=True, fail_level='WARNING')\n"
        "from django.conf import settings as s\n"
        "import json\n"
        "print(json.dumps({'hsts': s.SECURE_HSTS_SECONDS, 'redirect': s.SECURE_SSL_REDIRECT,"
        " 'cookies': s.SESSION_COOKIE_SECURE and s.CSRF_COOKIE_SECURE,"
        " 'proxy': list(s.SECURE_PROXY_SSL_HEADER or ())}))"
    )
    proc = run_django(tmp_path, env, code)
    assert proc.returncode == 0, proc.stderr
    assert "no issues" in proc.stderr + proc.stdout
    values = json.loads(proc.stdout.strip().splitlines()[-1])
    assert values == {
        "hsts": 365 * 24 * 3600,
        "redirect": True,
        "cookies": True,
        "proxy": ["HTTP_X_FORWARDED_PROTO", "https"],
    }
    # Without HTTPS the deploy check does complain (the block above is what makes it clean).
    del env["HTTPS"]
    proc = run_django(
        tmp_path,
        env,
        "from django.core.management import call_command\n"
        "call_command('check', deploy=True, fail_level='WARNING')",
    )
    assert proc.returncode != 0 and "security.W004" in proc.stderr


@pytest.mark.django_db
def test_hsts_is_sent_on_https_and_behind_a_trusted_proxy(settings):
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert "Strict-Transport-Security" not in Client().get("/login/")
    r = Client().get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert r["Strict-Transport-Security"].startswith("max-age=3600")


@pytest.mark.django_db
def test_every_answer_has_a_csp_that_allows_only_our_own_scripts(client_for, quality_user):
    for r in (
        Client().get("/login/"),
        client_for(quality_user).get("/trace/products/"),
        Client().get("/api/v1/openapi.json"),
    ):
        policy = dict(
            (part.split(" ", 1) + [""])[:2] for part in r["Content-Security-Policy"].split("; ")
        )
        assert policy["script-src"] == "'self'"
        assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
        assert policy["frame-ancestors"] == "'none'"


def test_no_template_has_an_inline_script_or_event_handler():
    """The CSP refuses inline scripts: behaviour goes into static/medvigil/app.js."""
    offenders = []
    for path in SRC.joinpath("medvigil").rglob("templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<script\b([^>]*)>", text):
            attrs = match.group(1)
            if "src=" not in attrs and 'type="application/json"' not in attrs:
                offenders.append(f"{path}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text) or "javascript:" in text:
            offenders.append(f"{path}: event handler attribute or javascript: URL")
    assert not offenders, offenders


@pytest.mark.django_db
def test_signed_in_pages_and_token_answers_are_not_stored(client_for, quality_user):
    page = client_for(quality_user).get("/trace/products/")
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"] and "private" in page["Cache-Control"]
    raw = APIToken.issue(quality_user, "t")[1]
    api = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 200 and "no-store" in api["Cache-Control"]
    anonymous = Client().get("/api/v1/openapi.json")  # public, nothing personal
    assert "no-store" not in anonymous.get("Cache-Control", "")


def test_with_redis_the_cache_is_shared_between_processes(tmp_path):
    """The public form's limit per address counts across every web process (gunicorn
    workers, several machines) when Redis is configured: two interpreters see one count."""
    import redis

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    prefix = f"mvtest-{secrets.token_hex(4)}"
    env = {"MEDVIGIL_DEV": "1", "REDIS_URL": url, "CACHE_KEY_PREFIX": prefix}
    code = (
        "from django.core.cache import cache\n"
        "from django.conf import settings\n"
        "print(settings.CACHES['default']['BACKEND'])\n"
        "from medvigil.complaints.services.public import hit_limit\n"
        "print([hit_limit('t', '203.0.113.9', limit=2, window=60) for _ in range(2)])\n"
    )
    first = run_django(tmp_path, env, code)
    second = run_django(tmp_path, env, code)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "RedisCache" in first.stdout
    assert "[False, False]" in first.stdout  # requests 1 and 2 of 2 allowed
    assert "[True, True]" in second.stdout  # 3 and 4, in another process, refused
    redis.Redis.from_url(url).delete(*redis.Redis.from_url(url).keys(f"{prefix}:*"))
