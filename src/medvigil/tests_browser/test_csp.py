"""The Content-Security-Policy in a real browser (PLAT-1): pages, htmx, the signature dialog,
the customer suggestions and the API docs work with it, and Chromium reports no violation."""

from __future__ import annotations

from typing import Any

import pytest

from medvigil.conftest import PASSWORD

from .conftest import login
from .test_records import destruction_request  # noqa: F401 - the fixture, used below

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Recorded by the page itself (an init script runs outside the page's CSP).
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def watched_page(new_page: Any) -> tuple[Any, list[str]]:
    page = new_page(locale="en-US")
    page.add_init_script(WATCH_VIOLATIONS)
    console: list[str] = []
    page.on(
        "console",
        lambda msg: (
            console.append(msg.text)
            if "Content Security Policy" in msg.text or "Refused to" in msg.text
            else None
        ),
    )
    return page, console


def violations(page: Any, console: list[str]) -> list[str]:
    return list(page.evaluate("window.__cspViolations || []")) + console


@pytest.mark.req("PLAT-1")
def test_pages_htmx_and_the_signature_dialog_work_under_the_csp(new_page, live_server, request):
    from medvigil.trace.tests.conftest import hospital

    hospital("H-7", name="Riverside Hospital")
    req = request.getfixturevalue("destruction_request")["request"]
    page, console = watched_page(new_page)
    page.goto("/login/")
    header = page.context.request.get(f"{live_server.url}/login/").headers
    assert "script-src 'self'" in header["content-security-policy"]
    login(page, "lina", PASSWORD)
    for path in ("/", "/trace/products/", "/audit/", "/notifications/", "/api/docs"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    page.wait_for_selector("#swagger-ui .opblock", timeout=15_000)  # Swagger UI rendered

    # customer suggestions: a datalist filled by htmx as you type (static/medvigil/app.js)
    page.goto("/trace/sales/new/")
    page.locator("input[list=customer-options]").first.type("H-", delay=30)
    page.locator("#customer-options option").first.wait_for(state="attached")
    assert "H-7" in page.locator("#customer-options").inner_html()

    # the signature dialog: opened by Bootstrap, refused over htmx inside the dialog …
    page.goto(f"/destruction/{req.pk}/")
    page.locator("[data-bs-target='#approve-dialog']").click()
    dialog = page.locator("#approve-dialog")
    dialog.wait_for(state="visible")
    dialog.locator("input[type=password]").fill("not-my-password")
    dialog.locator("button[type=submit]").click()
    errors = "#approve-dialog .signature-errors, #approve-dialog .invalid-feedback"
    page.locator(errors).first.wait_for(state="visible")
    # … and, posted without htmx, the page comes back with the dialog open on its errors
    # (shown by app.js: there is no inline script any more).
    page.goto(f"/destruction/{req.pk}/")
    page.evaluate(
        """() => {
        const form = document.getElementById("approve-dialog-form");
        form.querySelector("[name=password]").value = "still-not-my-password";
        form.submit();
    }"""
    )
    page.wait_for_load_state("networkidle")
    page.locator("#approve-dialog").wait_for(state="visible")
    page.locator(errors).first.wait_for(state="visible")
    assert violations(page, console) == []
