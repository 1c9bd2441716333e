"""An administrator (Chinese UI) adds a community, renames it, is refused retiring a
department that has customers (the message says how many), and creates a staff member
scoped to a department."""

from collections.abc import Callable

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.domain import Channel, OrgKind, StaffRole
from tests.web.e2e.test_rule_editor import AS_OF, sign_in
from tests.web.lists import communities_under, customers_with_lines_in
from webapp.database import db
from webapp.models import OrgUnit, StaffUser


def test_an_admin_adds_renames_is_refused_retiring_and_creates_a_scoped_person(
        app: Flask, engine: object, live_server: str, page: Page,
        create_user: Callable[..., StaffUser], shoot: Callable[[str], None]) -> None:
    demo = app.test_cli_runner().invoke(args=["demo", "-n", "400", "--as-of", AS_OF])
    assert demo.exit_code == 0, demo.output
    with app.app_context():
        user = create_user(StaffRole.ADMIN, "zhang", locale="zh")
        user.display_name = "张管理员"
        db.session.commit()
        area = db.session.scalars(select(OrgUnit).where(
            OrgUnit.kind == OrgKind.AREA, OrgUnit.channel == Channel.PUBLIC)
            .order_by(OrgUnit.code)).first()
        department = area.parent
        area_code, department_code = area.code, department.code
        customers = len(customers_with_lines_in(communities_under(department_code)))
        assert customers > 0
    sign_in(page, live_server, "zhang")

    page.get_by_role("link", name="组织架构").click()
    expect(page.get_by_test_id("units")).to_be_visible()
    page.goto(f"{live_server}/org/units/{area_code}")
    page.fill("#add-code", "E2E-COMM")
    page.fill("#add-name", "幸福小区")
    page.select_option("#add-kind", "community")
    page.select_option("#add-channel", "public")
    page.locator("#add-unit-submit").click()
    expect(page.locator(".alert-success")).to_contain_text("已添加 E2E-COMM")
    expect(page.get_by_test_id("unit-name")).to_have_text("幸福小区")
    page.fill("#rename-name", "幸福家园")
    page.locator("#rename-submit").click()
    expect(page.locator(".alert-success")).to_contain_text("E2E-COMM 已改名")
    expect(page.get_by_test_id("unit-name")).to_have_text("幸福家园")
    shoot("orgtree-renamed")

    page.get_by_test_id("ancestors").locator(f"a[href$='/org/units/{department_code}']").click()
    expect(page.get_by_test_id("unit-customers")).to_have_text(f"{customers:,}")
    page.locator("#retire-submit").click()
    refusal = page.locator(".alert-danger")
    expect(refusal).to_contain_text(f"{department_code} 不能停用：其下有 {customers} 个客户")
    expect(refusal).to_contain_text("请先把这些客户移到其他单元")
    # The page answering the refusal offers its other forms as on a fresh visit.
    expect(page.locator("#add-kind")).to_have_value("area")
    shoot("orgtree-retire-refused")

    page.get_by_role("link", name="人员", exact=True).click()
    page.locator("#new-staff").click()
    page.fill("#username", "liu.jingli")
    page.fill("#display_name", "刘经理")
    page.select_option("#role", "channel_manager")
    page.fill("#org_unit", department_code)
    page.fill("#password", "a-long-enough-secret")
    page.fill("#confirm", "a-long-enough-secret")
    page.locator("#create-account").click()
    expect(page.locator(".alert-success")).to_contain_text("已创建 liu.jingli")
    expect(page.locator("#account-org_unit")).to_have_value(department_code)
    shoot("staff-created")

    page.goto(f"{live_server}/admin-log/?subject=staff_user")
    expect(page.get_by_test_id("list-rows")).to_contain_text("liu.jingli")
    expect(page.get_by_test_id("list-rows")).to_contain_text(department_code)
    with app.app_context():
        created = db.session.scalar(select(StaffUser).where(StaffUser.username == "liu.jingli"))
        assert created.role == StaffRole.CHANNEL_MANAGER
        assert db.session.get(OrgUnit, created.org_unit_id).code == department_code
