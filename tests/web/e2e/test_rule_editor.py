"""The analyst's path through the rule editor, in a real browser."""

from collections.abc import Callable

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from engine.domain import StaffRole
from tests.web.conftest import PASSWORD
from webapp.database import db
from webapp.models import RulesetVersion, StaffUser

AS_OF = "2026-11-23"


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.locator("#sign-in").click()
    expect(page.get_by_test_id("who")).to_be_visible()


def threshold_cell(page: Page):
    return page.locator("tr[data-row='r3'] td[data-column='revenue_percentile']")


def test_an_analyst_raises_a_threshold_previews_publishes_and_sees_the_diff(
        app: Flask, engine: Engine, live_server: str, page: Page,
        create_user: Callable[..., StaffUser], shoot: Callable[[str], None]) -> None:
    demo = app.test_cli_runner().invoke(args=["demo", "-n", "1200", "--as-of", AS_OF])
    assert demo.exit_code == 0, demo.output
    create_user(StaffRole.ANALYST, "ana", locale="zh")
    sign_in(page, live_server, "ana")
    page.get_by_role("link", name="规则").first.click()
    expect(page.get_by_test_id("rulesets")).to_contain_text("service_tier")
    shoot("rules-list")

    page.goto(f"{live_server}/rules/service_tier")
    cell = threshold_cell(page)
    cell.locator("input").fill("9x")
    page.locator("#save").click()
    expect(threshold_cell(page).get_by_test_id("problem")).to_contain_text("9x")
    expect(page.locator("#publish")).to_be_disabled()
    shoot("editor-with-problem")

    threshold_cell(page).locator("input").fill("95")
    page.locator("#save").click()
    expect(page.get_by_test_id("check")).to_contain_text("12")
    expect(threshold_cell(page).get_by_test_id("problem")).to_have_count(0)
    shoot("editor")

    page.locator("#preview").click()
    expect(page.get_by_test_id("preview-done")).to_be_visible(timeout=120_000)
    transitions = page.get_by_test_id("transitions-service_tier")
    expect(transitions).to_contain_text("mid_high_end")
    expect(transitions).to_contain_text("standard")
    shoot("impact-preview")

    # The test cases at the old threshold now fail, and a failing test blocks publishing.
    page.goto(f"{live_server}/rules/service_tier")
    expect(page.locator("#publish")).to_be_disabled()
    page.get_by_role("link", name="测试用例").click()
    for name in ("no card, percentile exactly 90", "no card, percentile one hundredth above 90"):
        row = page.locator(f"tr:has(input[value='{name}'])")
        row.locator("input[name^='expect-']").fill("standard")
    page.locator("#test-cases-form button[type=submit]").click()
    expect(page.get_by_test_id("test-summary")).to_contain_text("12 个测试用例中通过 12 个")
    shoot("test-cases")

    page.get_by_role("link", name="决策表").click()
    page.fill("#comment", "top 5 % only")
    page.locator("#publish").click()
    versions = page.get_by_test_id("versions")
    expect(versions).to_contain_text("v2")
    expect(versions).to_contain_text("top 5 % only")
    shoot("history")
    with app.app_context():
        published = db.session.scalar(select(RulesetVersion).where(
            RulesetVersion.name == "service_tier", RulesetVersion.version == 2))
        assert published is not None and published.comment == "top 5 % only"

    page.locator("#old").select_option("1")
    page.locator("#new").select_option("2")
    page.locator("#diff-form button[type=submit]").click()
    rows = page.get_by_test_id("diff-rows")
    expect(rows).to_contain_text("mid_high_end")
    expect(rows).to_contain_text("ge 90")
    expect(rows).to_contain_text("ge 95")
    shoot("diff")


def test_a_viewer_cannot_open_the_editor(app: Flask, engine: Engine, live_server: str,
                                         page: Page, create_user: Callable[..., StaffUser]
                                         ) -> None:
    assert app.test_cli_runner().invoke(args=["rules", "publish"]).exit_code == 0
    create_user(StaffRole.VIEWER, "vic")
    sign_in(page, live_server, "vic")
    page.goto(f"{live_server}/rules/")
    expect(page.get_by_test_id("rulesets")).to_contain_text("service_tier")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    response = page.goto(f"{live_server}/rules/service_tier")
    assert response is not None and response.status == 403
    expect(page.get_by_test_id("error")).to_be_visible()
