"""An auditor narrows the adjustment log to one customer's tier changes and exports
them, in a real browser."""

import csv
import io
from collections.abc import Callable

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select

from engine.domain import ClassifiedAttribute, StaffRole
from tests.web.e2e.test_rule_editor import AS_OF, sign_in
from webapp.database import db
from webapp.models import AdjustmentLogEntry, Customer, StaffUser


def test_an_auditor_filters_one_customers_tier_changes_and_exports_them(
        app: Flask, engine: Engine, live_server: str, page: Page,
        create_user: Callable[..., StaffUser], shoot: Callable[[str], None]) -> None:
    demo = app.test_cli_runner().invoke(args=["demo", "-n", "400", "--as-of", AS_OF])
    assert demo.exit_code == 0, demo.output
    with app.app_context():
        customer = db.session.scalars(select(Customer).order_by(Customer.id)).first()
        assert customer is not None
        code = customer.code
        logged = db.session.scalars(select(AdjustmentLogEntry.chain_seq).where(
            AdjustmentLogEntry.customer_id == customer.id,
            AdjustmentLogEntry.attribute == ClassifiedAttribute.SERVICE_TIER)).all()
    create_user(StaffRole.AUDITOR, "audrey", locale="zh")
    sign_in(page, live_server, "audrey")
    page.get_by_role("link", name="调整日志").click()
    page.fill("#f-customer", code)
    page.select_option("#f-attribute", "service_tier")
    page.locator("#filter").click()
    rows = page.get_by_test_id("log-rows").locator("tbody tr")
    expect(rows).to_have_count(len(logged))
    expect(page.get_by_test_id("log-rows")).to_contain_text(code)
    shoot("audit-log")

    with page.expect_download() as download:
        page.locator("#export").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    exported = list(csv.DictReader(io.StringIO(text)))
    assert sorted(int(row["seq"]) for row in exported) == sorted(logged)
    assert {row["customer"] for row in exported} == {code}
    assert {row["attribute"] for row in exported} == {"service_tier"}

    page.locator("#verify").click()
    expect(page.get_by_role("alert").first).to_contain_text("哈希链完整")
