"""In a real browser: an admin issues a token on the API tokens page, opens the
interactive docs (Swagger UI served from the package, under the app's strict CSP: any
violation is a console error and fails the test) and calls the API with the token."""

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from engine.domain import StaffRole
from tests.web.e2e.test_rule_editor import sign_in
from webapp.models import StaffUser


def test_an_admin_issues_a_token_and_tries_the_api_in_its_docs(
        engine: Engine, live_server: str, page: Page,
        create_user: Callable[..., StaffUser], shoot: Callable[[str], None]) -> None:
    create_user(StaffRole.ADMIN, "ada", locale="en")
    create_user(StaffRole.VIEWER, "crm-system")
    sign_in(page, live_server, "ada")
    page.get_by_role("link", name="API tokens").click()
    page.fill("#name", "CRM nightly sync")
    page.select_option("#owner", label="crm-system · viewer")
    page.get_by_role("button", name="Issue a token").click()
    secret = page.get_by_test_id("new-secret").locator("code").inner_text().strip()
    assert re.fullmatch(r"cct_[A-Za-z0-9_-]{43}", secret)
    expect(page.get_by_test_id("tokens")).to_contain_text("CRM nightly sync")
    shoot("api-tokens")

    page.get_by_role("link", name="API documentation").click()
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    expect(page.locator(".swagger-ui")).to_contain_text("/api/v1/what-if")
    page.locator(".swagger-ui .btn.authorize").click()
    page.locator(".swagger-ui .modal-ux input").fill(secret)
    page.locator(".swagger-ui .modal-ux .auth-btn-wrapper .authorize").click()
    page.locator(".swagger-ui .modal-ux .btn-done").click()
    operation = page.locator(".opblock-get").filter(
        has=page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/v1/alerts$")))
    operation.locator(".opblock-summary").click()
    operation.locator(".try-out__btn").click()
    operation.locator(".execute").click()
    answer = operation.locator(".live-responses-table tbody")
    expect(answer.locator(".response-col_status")).to_contain_text("200")
    expect(answer).to_contain_text('"next_before"')
    shoot("api-docs")
