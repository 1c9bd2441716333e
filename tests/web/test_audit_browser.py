"""The adjustment-log browser: filters, keyset pages, CSV export, integrity check."""

import csv
import io
from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select, text

from engine.domain import ClassifiedAttribute, StaffRole
from tests.test_pipeline import _bypass_triggers
from tests.web.conftest import csrf_token
from tests.web.helpers import alerts
from webapp.audit.search import _query
from webapp.database import db
from webapp.models import AdjustmentLogEntry, Customer
from webapp.web.access import Permission

AS_OF = "2026-11-23"
TIER = ClassifiedAttribute.SERVICE_TIER.value


@pytest.fixture
def auditor(app: Flask, engine: Engine, client_as: Callable[[StaffRole], FlaskClient]
            ) -> FlaskClient:
    """An auditor's browser on a small classified province (its full run logged every
    value it set)."""
    result = app.test_cli_runner().invoke(args=["demo", "-n", "400", "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    return client_as(StaffRole.AUDITOR)


def _seqs(client: FlaskClient, **query: str) -> tuple[list[int], str]:
    response = client.get("/audit/", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    html = response.get_data(as_text=True)
    body = html[html.index('data-testid="log-rows"'):]
    return [int(cell) for cell in _first_cells(body)], html


def _first_cells(body: str) -> list[str]:
    cells = []
    for row in body.split("<tr>")[2:]:
        first = row.split("<td>", 1)[1].split("</td>", 1)[0]
        if first.isdigit():
            cells.append(first)
    return cells


def _export(client: FlaskClient, **query: str) -> list[dict[str, str]]:
    response = client.get("/audit/export.csv", query_string=query)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_pages_go_newest_first_without_gaps_or_repeats(auditor: FlaskClient) -> None:
    total = db.session.scalar(select(func.count()).select_from(AdjustmentLogEntry))
    assert total > 120
    seen: list[int] = []
    query: dict[str, str] = {}
    while True:
        seqs, html = _seqs(auditor, **query)
        seen.extend(seqs)
        if 'id="older"' not in html:
            break
        query = {"before": str(seqs[-1])}
    assert seen == list(range(total, 0, -1))


def test_a_customers_tier_changes_are_filtered_and_exported(auditor: FlaskClient) -> None:
    customer = db.session.scalars(select(Customer).order_by(Customer.id)).first()
    assert customer is not None
    expected = db.session.scalars(
        select(AdjustmentLogEntry.chain_seq).where(
            AdjustmentLogEntry.customer_id == customer.id,
            AdjustmentLogEntry.attribute == ClassifiedAttribute.SERVICE_TIER)
        .order_by(AdjustmentLogEntry.chain_seq.desc())).all()
    assert expected
    seqs, html = _seqs(auditor, customer=customer.code, attribute=TIER)
    assert seqs == expected
    assert "facts read" in html and "system (run #1)" in html
    rows = _export(auditor, customer=customer.code, attribute=TIER)
    assert [int(row["seq"]) for row in rows] == expected
    assert {row["customer"] for row in rows} == {customer.code}
    assert all(row["attribute"] == TIER and row["actor"].startswith("system") for row in rows)


def test_every_filter_narrows_to_what_sql_counts(auditor: FlaskClient) -> None:
    log = AdjustmentLogEntry
    sample = db.session.scalars(select(log).where(log.rule_id.is_not(None))
                                .order_by(log.chain_seq.desc())).first()
    assert sample is not None
    cases = {
        "rule_id": (sample.rule_id, log.rule_id == sample.rule_id),
        "new_value": (sample.new_value, log.new_value == sample.new_value),
        "ruleset": (sample.ruleset_name, log.ruleset_name == sample.ruleset_name),
        "run": (str(sample.run_id), log.run_id == sample.run_id),
        "actor": ("system", log.run_id.is_not(None)),
    }
    for name, (value, condition) in cases.items():
        rows = _export(auditor, **{name: value})
        assert len(rows) == db.session.scalar(select(func.count()).where(condition)), name
    assert _export(auditor, actor="nobody-of-that-name") == []
    assert _export(auditor, date_from="2000-01-01", date_to="2000-01-02") == []


@pytest.mark.parametrize(("query", "field"), [
    ({"attribute": "salary"}, "attribute"),
    ({"version": "abc"}, "version"),
    ({"date_from": "2026-13-45"}, "date_from"),
    ({"before": "-5"}, "before"),
    ({"customer": "x" * 500}, "customer"),
])
def test_a_bad_filter_is_named_and_nothing_breaks(auditor: FlaskClient, query: dict[str, str],
                                                   field: str) -> None:
    response = auditor.get("/audit/", query_string=query)
    assert response.status_code == 400
    assert f'data-testid="filter-problem">{field}: ' in response.get_data(as_text=True)
    exported = auditor.get("/audit/export.csv", query_string=query)
    assert exported.status_code == 400 and field in exported.get_json()["errors"]


def test_verify_reports_an_intact_chain_then_the_tampered_row(auditor: FlaskClient,
                                                              engine: Engine) -> None:
    token = csrf_token(auditor.get("/audit/").get_data(as_text=True))
    checked = auditor.post("/audit/verify", data={"csrf_token": token}, follow_redirects=True)
    assert any("intact" in message for message in alerts(checked.get_data(as_text=True)))
    row = db.session.scalar(select(AdjustmentLogEntry.id)
                            .where(AdjustmentLogEntry.chain_seq == 5))
    with engine.begin() as conn:
        _bypass_triggers(conn, f"UPDATE adjustment_log SET new_value = 'gold' WHERE id = {row}")
    checked = auditor.post("/audit/verify", data={"csrf_token": token}, follow_redirects=True)
    assert any(f"row {row}" in message and "broken" in message
               for message in alerts(checked.get_data(as_text=True)))


def test_the_filters_use_indexes_on_postgresql(auditor: FlaskClient, engine: Engine) -> None:
    """Every filter can be answered newest first from an index (never a scan of the
    whole log): the planner is told scans are dear, as they are at 10 million rows."""
    if engine.dialect.name != "postgresql":
        pytest.skip("EXPLAIN plans are PostgreSQL's")
    filters = [{"customer": "C1"}, {"service_number": "1"}, {"attribute": TIER},
               {"attribute": TIER, "new_value": "gold"}, {"rule_id": "x"},
               {"ruleset": "alerts", "version": 1}, {"run": 1}, {"actor": "someone"},
               {"date_from": date(2026, 1, 1)}, {}]
    with engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        for chosen in filters:
            statement = _query(chosen, ZoneInfo("Asia/Shanghai")).limit(51).compile(
                dialect=conn.dialect, compile_kwargs={"literal_binds": True})
            plan = "\n".join(conn.scalars(text(f"EXPLAIN {statement}")))
            log_lines = [line for line in plan.splitlines() if "adjustment_log" in line]
            assert log_lines and not any("Seq Scan" in line for line in log_lines), \
                (chosen, plan)


def test_the_audit_permission_is_the_auditors_and_admins() -> None:
    from webapp.web.access import ROLE_PERMISSIONS

    assert {role for role, granted in ROLE_PERMISSIONS.items()
            if Permission.READ_AUDIT in granted} == {StaffRole.ADMIN, StaffRole.AUDITOR}
