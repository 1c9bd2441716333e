"""A channel manager moves a new customer out of an unassigned community, finds the move
in the adjustment log with their name and reason, and is refused outside the window."""

from collections.abc import Callable

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from tests.web.e2e.test_rule_editor import AS_OF, sign_in
from tests.web.test_customers import _codes_under, in_window
from tests.web.test_division import _destination, _manager, _waiting
from webapp.database import db
from webapp.models import StaffUser


def test_a_manager_moves_a_new_customer_and_is_refused_outside_the_window(
        app: Flask, engine: Engine, live_server: str, page: Page,
        create_user: Callable[..., StaffUser], shoot: Callable[[str], None]) -> None:
    demo = app.test_cli_runner().invoke(args=["demo", "-n", "400", "--as-of", AS_OF])
    assert demo.exit_code == 0, demo.output
    in_window(app)
    try:
        with app.app_context():
            _client, user, department = _manager(app, create_user)
            user.display_name = "赵经理"
            user.locale = "zh"
            db.session.commit()
            first, second = _waiting(_codes_under(department))[:2]
            target = _destination(department)
        sign_in(page, live_server, "zhao")
        page.get_by_role("link", name="月度划分").click()
        expect(page.get_by_test_id("window")).to_contain_text("调整窗口开放")
        page.get_by_label(first, exact=True).check()
        page.select_option("#move-community", target)
        page.fill("#move-reason", "现场核实属于本社区")
        page.locator("#move").click()
        expect(page.locator(".alert-success")).to_contain_text(target)
        expect(page.get_by_test_id("arrivals")).not_to_contain_text(first)
        shoot("division-moved")

        page.goto(f"{live_server}/customers/{first}")
        history = page.get_by_test_id("history")
        expect(history).to_contain_text("zhao")
        expect(history).to_contain_text("现场核实属于本社区")
        expect(history).to_contain_text(target)
        shoot("customer-after-move")

        in_window(app, open_=False)
        page.goto(f"{live_server}/division/")
        expect(page.get_by_test_id("window")).to_contain_text("调整窗口已关闭")
        page.get_by_label(second, exact=True).check()
        page.select_option("#move-community", target)
        page.fill("#move-reason", "现场核实属于本社区")
        page.locator("#move").click()
        expect(page.locator(".alert-danger")).to_contain_text("调整窗口")
        expect(page.get_by_test_id("arrivals")).to_contain_text(second)
        shoot("division-refused")
    finally:
        app.config.pop("FROZEN_NOW", None)
