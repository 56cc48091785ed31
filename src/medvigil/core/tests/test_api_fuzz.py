"""Schemathesis over the whole OpenAPI schema (/api/v1/openapi.json): for every operation,
generated valid and invalid requests by a writer (quality) and by the auditor must never give
a 5xx, nor a status the schema does not document (ARCHITECTURE rule 7: no 500 for anything a
user can send).

Bounded: FUZZ_EXAMPLES examples per operation and user (MEDVIGIL_FUZZ_EXAMPLES overrides it,
e.g. 500 for a long local run). Runs in-process through the WSGI app: offline, on SQLite and
PostgreSQL alike."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from medvigil.accounts.models import APIToken
from medvigil.trace.tests.conftest import world  # noqa: F401 - the fixture, used by tokens

FUZZ_EXAMPLES = int(os.environ.get("MEDVIGIL_FUZZ_EXAMPLES", "15"))

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture
def keep_test_connection():
    """Like django.test.Client: the WSGI handler must not close the test's connection (it
    holds the test transaction) at the start and end of each request."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def tokens(quality_user: Any, auditor: Any, request: Any) -> dict[str, str]:
    """Tokens of a writer and of the auditor, over the trace test world (products, lots,
    units, customers, sales, an installation and their audit entries), so lists and
    serialisers run on real records too."""
    request.getfixturevalue("world")
    return {
        "quality": APIToken.issue(quality_user, "fuzz")[1],
        "auditor": APIToken.issue(auditor, "fuzz")[1],
    }


@pytest.mark.django_db
@pytest.mark.req("PLAT-1", "PLAT-6")
@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_api_fuzz_no_server_error_and_only_documented_statuses(
    case: Any, tokens: dict[str, str], keep_test_connection: None
) -> None:
    for token in tokens.values():
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"},
            checks=[not_a_server_error, status_code_conformance],
        )
