"""A refused request is logged as one line, not a traceback (PLAT-1: refusals are routine)."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.req("PLAT-1")]


def test_a_403_is_logged_as_one_warning_line_without_a_traceback(client_for, auditor, caplog):
    c = client_for(auditor)
    with caplog.at_level(logging.INFO):
        r = c.get(reverse("trace:product_create"))
    assert r.status_code == 403
    records = [rec for rec in caplog.records if rec.name == "django.request"]
    assert len(records) == 1
    (rec,) = records
    assert rec.levelno == logging.WARNING
    assert rec.getMessage() == "Forbidden (Permission denied): /trace/products/new/"
    assert rec.exc_info is None and rec.exc_text is None
    assert "Traceback" not in caplog.text


def test_an_api_403_is_one_line_too(auditor, caplog):
    from django.test import Client

    from medvigil.accounts.models import APIToken

    raw = APIToken.issue(auditor, "t")[1]
    with caplog.at_level(logging.INFO):
        r = Client().post(
            "/api/v1/trace/products",
            "{}",
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
        )
    assert r.status_code == 403
    assert "Traceback" not in caplog.text
    assert [rec.levelno for rec in caplog.records if rec.name == "django.request"] == [
        logging.WARNING
    ]
