"""An analyst (Chinese UI) creates a group type and a group, uploads a workbook of
customer codes with one bad line, sees that line reported and nothing added, fixes the
file, and sees the members with their classification."""

import io
from collections.abc import Callable

from flask import Flask
from openpyxl import Workbook
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from engine.domain import ClassifiedAttribute, StaffRole
from tests.web.e2e.test_rule_editor import AS_OF, sign_in
from webapp.database import db
from webapp.models import Customer, CustomerDecision, StaffUser


def _workbook(codes: list[str]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["客户编码"])
    for code in codes:
        sheet.append([code])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _file(codes: list[str]) -> dict:
    return {"name": "名单.xlsx", "buffer": _workbook(codes),
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def test_an_analyst_builds_a_group_from_a_workbook(
        app: Flask, engine: Engine, live_server: str, page: Page,
        create_user: Callable[..., StaffUser], shoot: Callable[[str], None]) -> None:
    demo = app.test_cli_runner().invoke(args=["demo", "-n", "400", "--as-of", AS_OF])
    assert demo.exit_code == 0, demo.output
    with app.app_context():
        create_user(StaffRole.ANALYST, "qian", locale="zh")
        codes = list(db.session.scalars(select(Customer.code).order_by(Customer.code)
                                        .limit(3)))
        category = dict(db.session.execute(
            select(Customer.code, CustomerDecision.value)
            .join(CustomerDecision, CustomerDecision.customer_id == Customer.id)
            .where(Customer.code.in_(codes),
                   CustomerDecision.attribute == ClassifiedAttribute.STATISTICAL_ATTRIBUTE)
        ).all())
    sign_in(page, live_server, "qian")
    page.get_by_role("link", name="客户群组").click()
    page.get_by_role("link", name="群组类型").click()
    page.fill("#type-code", "industrial_park")
    page.fill("#type-name", "工业园区")
    page.locator("#add-type").click()
    expect(page.locator(".alert-success")).to_contain_text("industrial_park")
    expect(page.locator("tr[data-type='industrial_park'] input[name='name']")).to_have_value(
        "工业园区")

    page.get_by_role("link", name="客户群组").first.click()
    page.fill("#group-name", "高新技术园区")
    page.select_option("#group-group_type", label="industrial_park 工业园区")
    page.locator("#create-group").click()
    expect(page.locator("h1")).to_have_text("高新技术园区")

    # The second line of the file (line 3, after the header) names nobody.
    page.set_input_files("#upload-file", _file([codes[0], "C不存在的客户", codes[1]]))
    page.locator("#upload").click()
    expect(page.locator(".alert-danger").first).to_contain_text("未做任何改动")
    expect(page.get_by_test_id("problems")).to_contain_text("C不存在的客户")
    expect(page.get_by_test_id("problems")).to_contain_text("3")
    expect(page.get_by_test_id("member-count")).to_contain_text("0 个成员")
    shoot("groups-upload-refused")

    page.set_input_files("#upload-file", _file([codes[0], codes[2], codes[1]]))
    page.locator("#upload").click()
    expect(page.locator(".alert-success")).to_contain_text("已加入 3 个客户")
    expect(page.get_by_test_id("member-count")).to_contain_text("3 个成员")
    table = page.get_by_test_id("list-rows")
    for code in codes:
        row = table.locator("tr", has=page.get_by_role("link", name=code))
        expect(row).to_contain_text(category[code])
    shoot("groups-members")
