"""A channel manager (Chinese UI) finds a junction box of their scope, maps it to another
community, reads how many lines and customers the preview says will move, confirms, and
sees the box in its new community."""

from collections.abc import Callable

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from tests.web.e2e.test_rule_editor import sign_in
from tests.web.test_customers import AS_OF, _codes_under
from tests.web.test_lineplant import (
    _box_community,
    _box_manager,
    _busiest_box,
    _decisions,
    _lines_on,
)
from webapp.database import db
from webapp.models import JunctionBox, StaffUser
from webapp.models.changes import PendingChange


def test_a_manager_remaps_a_box_after_reading_the_preview(
        app: Flask, engine: Engine, live_server: str, page: Page,
        create_user: Callable[..., StaffUser], shoot: Callable[[str], None]) -> None:
    demo = app.test_cli_runner().invoke(args=["demo", "-n", "400", "--as-of", AS_OF])
    assert demo.exit_code == 0, demo.output
    with app.app_context():
        _client, department = _box_manager(app, create_user)
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == "qian"))
        user.display_name, user.locale = "钱经理", "zh"
        db.session.commit()
        box, target = _busiest_box(_codes_under(department))
        current = _box_community(box)
        lines = _lines_on(box)
        moving = [line for line, (value, *_rest) in _decisions(lines).items()
                  if value != target]
        customers = {_decisions(lines)[line][3] for line in moving}

    sign_in(page, live_server, "qian")
    page.get_by_role("link", name="线路资源").click()
    page.fill("#code", box)
    page.locator("#search").click()
    page.get_by_role("link", name=box, exact=True).click()
    expect(page.get_by_role("heading", name=f"交接箱 {box}")).to_be_visible()
    expect(page.get_by_test_id("mapping")).to_contain_text(current)
    page.select_option("#community", target)
    page.locator("#preview").click()
    expect(page.get_by_test_id("movement")).to_contain_text(
        f"{len(customers)} 个客户的 {len(moving)} 条线路将迁移到其他社区")
    shoot("lineplant-preview")
    page.locator("#confirm").click()
    expect(page.locator(".alert-success")).to_contain_text("已修改 1 项对应关系")
    expect(page.get_by_test_id("community")).to_contain_text(target)
    shoot("lineplant-changed")
    with app.app_context():
        db.session.expire_all()
        assert _box_community(box) == target
        queued = set(db.session.scalars(select(PendingChange.subject_id).where(
            PendingChange.subject == "subscriber")))
        assert lines <= queued
        assert db.session.scalar(select(JunctionBox.code).where(JunctionBox.code == box))
