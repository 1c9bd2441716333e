"""An admin opens the dashboard, reads its charts, starts a run and sees it finish, in a
real browser."""

from collections.abc import Callable

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text

from engine.domain import StaffRole
from tests.web.e2e.test_rule_editor import AS_OF, sign_in
from webapp.database import db
from webapp.models import StaffUser

#: Collects the page's Content-Security-Policy violations (an init script is not subject
#: to the policy; a violation would also be logged as a console error).
WATCH_CSP = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""

#: Per chart: whether it is drawn (some pixel not transparent), its numbers, and the
#: numbers its table shows as text.
READ_CHARTS = """
() => Array.from(document.querySelectorAll("table[data-chart]")).map(function (table) {
  var canvas = document.getElementById(table.dataset.canvas);
  var chart = canvas && window.Chart.getChart(canvas);
  var pixels = canvas ? canvas.getContext("2d").getImageData(0, 0, canvas.width,
                                                             canvas.height).data : [];
  var painted = false;
  for (var i = 3; i < pixels.length; i += 4) { if (pixels[i]) { painted = true; break; } }
  var columns = [];
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell, index) {
    if (cell.dataset.series) { columns.push(index); }
  });
  var shown = columns.map(function (index) {
    return Array.prototype.filter.call(table.tBodies[0].rows, function (row) {
      return row.querySelector("th[scope='row']");
    }).map(function (row) { return Number(row.cells[index].textContent.replace(/,/g, "")); });
  });
  var labels = Array.prototype.map.call(table.tBodies[0].querySelectorAll("th[scope='row']"),
                                        function (head) { return head.textContent.trim(); });
  return {canvas: table.dataset.canvas, drawn: !!chart, painted: painted,
          width: canvas ? canvas.width : 0, labels: labels,
          chartLabels: chart ? chart.data.labels : [],
          chartData: chart ? chart.data.datasets.map(function (set) { return set.data; }) : [],
          tableData: shown};
})
"""


def test_an_admin_reads_the_charts_and_runs_the_pipeline_now(
        app: Flask, engine: Engine, live_server: str, page: Page,
        create_user: Callable[..., StaffUser], shoot: Callable[[str], None]) -> None:
    demo = app.test_cli_runner().invoke(args=["demo", "-n", "400", "--as-of", AS_OF])
    assert demo.exit_code == 0, demo.output
    with app.app_context():
        tiers = dict(db.session.execute(text(
            "SELECT value, count(*) FROM customer_decision WHERE attribute = 'service_tier' "
            "GROUP BY value")).all())
        customers = db.session.scalar(text("SELECT count(*) FROM customer"))
    create_user(StaffRole.ADMIN, "adele", locale="zh")
    page.add_init_script(WATCH_CSP)
    sign_in(page, live_server, "adele")
    expect(page.get_by_role("heading", name="服务等级")).to_be_visible()
    expect(page.get_by_role("heading", name="按类型统计的未解除预警")).to_be_visible()

    charts = {chart["canvas"]: chart for chart in page.evaluate(READ_CHARTS)}
    assert set(charts) == {"chart-statistical_attribute", "chart-service_tier",
                           "chart-lifecycle_stage", "chart-changes", "chart-alerts"}
    for name, chart in charts.items():
        assert chart["drawn"] and chart["painted"] and chart["width"] > 0, name
        assert chart["chartLabels"] == chart["labels"], name
        assert chart["chartData"] == chart["tableData"], name
    tier = charts["chart-service_tier"]
    assert dict(zip(tier["labels"], tier["tableData"][0], strict=True)) == tiers
    assert sum(charts["chart-changes"]["tableData"][3]) > 0  # service tiers set by the demo
    shoot("dashboard")

    page.select_option("#run-kind", "full")
    page.locator("#run-now").click()
    expect(page.get_by_role("alert").first).to_contain_text("已启动")
    newest = page.get_by_test_id("runs").locator("tbody tr").first
    # The page polls the run and reloads when it has ended.
    expect(newest.get_by_test_id("run-status")).to_have_attribute("data-status", "finished",
                                                                  timeout=60_000)
    expect(newest).to_contain_text("全量（所有客户）")
    expect(newest).to_contain_text(f"{customers:,}")
    expect(page.get_by_test_id("runs").locator("tbody tr")).to_have_count(2)
    shoot("dashboard-after-run")
    assert page.evaluate("window.cspViolations") == []
