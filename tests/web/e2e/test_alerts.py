"""Front-line staff work their alerts and take a target list away, in a real browser."""

import io
from collections.abc import Callable

from flask import Flask
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.domain import StaffRole
from tests.web.e2e.test_rule_editor import AS_OF, sign_in
from webapp.database import db
from webapp.models import Alert, StaffUser


def test_a_viewer_filters_acknowledges_and_downloads_a_target_list(
        app: Flask, engine: object, live_server: str, page: Page,
        create_user: Callable[..., StaffUser], shoot: Callable[[str], None]) -> None:
    demo = app.test_cli_runner().invoke(args=["demo", "-n", "400", "--as-of", AS_OF])
    assert demo.exit_code == 0, demo.output
    with app.app_context():
        arrears = db.session.scalars(select(Alert.id).where(
            Alert.alert_type == "arrears", Alert.cleared_at.is_(None))).all()
        zero_traffic = db.session.scalars(select(Alert.id).where(
            Alert.alert_type == "zero_traffic", Alert.cleared_at.is_(None))).all()
    assert arrears and zero_traffic
    create_user(StaffRole.VIEWER, "vera", locale="zh")
    sign_in(page, live_server, "vera")

    page.get_by_role("link", name="预警", exact=True).click()
    page.select_option("#f-alert_type", "arrears")
    page.select_option("#f-status", "unacknowledged")
    page.locator("#filter").click()
    rows = page.get_by_test_id("list-rows").locator("tbody tr")
    expect(rows).to_have_count(len(arrears))
    expect(page.get_by_test_id("list-rows")).to_contain_text("欠费")
    shoot("alerts")

    first = rows.first
    alert_id = int(first.get_attribute("data-alert") or 0)
    first.get_by_test_id("acknowledge").click()
    expect(page.get_by_role("alert").first).to_contain_text("预警已确认")
    # Still filtered on what is left to do: the acknowledged alert has left the list.
    expect(rows).to_have_count(len(arrears) - 1)
    page.select_option("#f-status", "acknowledged")
    page.locator("#filter").click()
    acknowledged = page.locator(f"tr[data-alert='{alert_id}']")
    expect(acknowledged).to_contain_text("vera")
    expect(acknowledged.get_by_test_id("acknowledge")).to_have_count(0)
    with app.app_context():
        stored = db.session.get(Alert, alert_id)
        assert stored is not None and stored.acknowledged_at is not None

    page.get_by_role("link", name="目标清单").click()
    page.get_by_role("link", name="未解除的预警：零话务").click()
    expect(page.get_by_test_id("list-rows").locator("tbody tr")).to_have_count(
        len(zero_traffic))
    shoot("target-list")
    with page.expect_download() as download:
        page.locator("#export-xlsx").click()
    assert download.value.suggested_filename == "target-list-zero_traffic.xlsx"
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    header, *lines = list(sheet.iter_rows(values_only=True))
    assert header[:3] == ("产生时间", "预警类型", "级别")
    assert len(lines) == len(zero_traffic)
    assert {line[1] for line in lines} == {"零话务"}
