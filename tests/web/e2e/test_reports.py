"""An analyst opens the population report in Chinese, sees its chart drawn and its
numbers, drills down from a city to its centres, and exports the table."""

import csv
import io
from collections.abc import Callable

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text

from engine.domain import StaffRole
from tests.web.e2e.test_rule_editor import AS_OF, sign_in
from webapp.database import db
from webapp.models import StaffUser


def test_an_analyst_reads_a_report_drills_down_and_exports_it(
        app: Flask, engine: Engine, live_server: str, page: Page,
        create_user: Callable[..., StaffUser], shoot: Callable[[str], None]) -> None:
    demo = app.test_cli_runner().invoke(args=["demo", "-n", "400", "--as-of", AS_OF])
    assert demo.exit_code == 0, demo.output
    with app.app_context():
        user = create_user(StaffRole.ANALYST, "li")
        user.locale = "zh"
        db.session.commit()
        # Lines per city, counted here from the decisions (not through the report).
        lines = dict(db.session.execute(text(
            "SELECT city.code, COUNT(*) FROM subscriber_decision d "
            "JOIN org_unit c ON c.code = d.value "
            "JOIN org_unit p ON p.id = c.parent_id "
            "JOIN org_unit city ON city.id = CASE WHEN p.kind = 'city' THEN p.id ELSE "
            "(SELECT a.parent_id FROM org_unit a WHERE a.id = (SELECT d2.parent_id FROM "
            "org_unit d2 WHERE d2.id = (SELECT ar.parent_id FROM org_unit ar "
            "WHERE ar.id = c.parent_id))) END "
            "WHERE d.attribute = 'community' GROUP BY city.code")).all())
    city = sorted(lines)[0]
    sign_in(page, live_server, "li")
    page.get_by_role("link", name="报表").click()
    page.get_by_role("link", name="各组织单元的客户与用户").click()
    page.select_option("#control-measure", "subscribers")
    page.locator("#show").click()
    table = page.get_by_test_id("report-population")
    expect(table).to_contain_text("合计")
    row = table.locator("tbody tr", has=page.locator(f"td:text-is('{city}')"))
    expect(row.locator("td").last).to_have_text(f"{lines[city]:,}")
    # Chart.js drew the table: the canvas has a chart with a bar per city.
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-population')")
    bars = page.evaluate("() => Chart.getChart('chart-population').data.labels.length")
    assert bars == len(lines)
    shoot("report-population")

    row.locator("a[data-drill]").click()
    expect(page.get_by_test_id("unit-path")).to_contain_text(city)
    expect(page.locator("#control-level")).to_have_value("centre")
    centres = page.get_by_test_id("report-population").locator("tbody tr")
    expect(centres.first).to_contain_text(city)
    total = page.get_by_test_id("report-population").locator("tfoot td").last
    expect(total).to_have_text(f"{lines[city]:,}")
    shoot("report-population-city")

    with page.expect_download() as download:
        page.get_by_test_id("export-population").locator("a[data-format='csv']").click()
    content = download.value.path().read_text(encoding="utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(content)))
    assert header[:2] == ["编码", "组织单元"] and header[-1] == "合计"
    assert sum(int(one[-1]) for one in rows) == lines[city]
