"""The alert list: every filter against an independent count, keyset pages, org scope,
acknowledging (who may, what is refused), exports, and bad query strings."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from engine.domain import Severity, StaffRole
from tests.web.conftest import csrf_token
from tests.web.helpers import alerts as flashed
from tests.web.lists import (
    SCOPED,
    Province,
    classified_province,
    communities_seen_by,
    csv_table,
    customers_with_lines_in,
    every_page,
    page_table,
    same_cell,
    signed_in,
    xlsx_table,
)
from webapp.alerting.alerts import PAGE, page_query
from webapp.database import db
from webapp.models import Alert, Customer, OrgUnit, StaffUser, Subscriber
from webapp.scope import Scope
from webapp.web.listing import ALERT_COLUMNS

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Positions in :data:`ALERT_COLUMNS`.
CUSTOMER_CODE, ACKNOWLEDGED_BY = 3, 9


@pytest.fixture(scope="module")
def province(app: Flask) -> Iterator[Province]:
    yield from classified_province(app)


def _alerts(**conditions: object) -> list[Alert]:
    """Every alert, newest first, with its line's customer code as ``owner``."""
    rows = db.session.execute(
        select(Alert, Customer.code).join(Subscriber, Subscriber.id == Alert.subscriber_id)
        .join(Customer, Customer.id == Subscriber.customer_id)).all()
    found = []
    for alert, code in rows:
        alert.owner = code
        if all(getattr(alert, name) == value for name, value in conditions.items()):
            found.append(alert)
    db.session.expunge_all()
    return sorted(found, key=lambda alert: (_aware(alert.raised_at), alert.id), reverse=True)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ids(app: Flask, username: str = "viewer", **query: str) -> list[int]:
    return every_page(signed_in(app, username), "/alerts/", query).ids


def test_pages_go_newest_first_without_gaps_or_repeats(app: Flask, province: Province) -> None:
    expected = [alert.id for alert in _alerts()]
    assert len(expected) > 2 * PAGE
    assert _ids(app) == expected


@pytest.mark.parametrize("kind", ["arrears", "churn_warning", "zero_traffic"])
def test_the_type_filter(app: Flask, province: Province, kind: str) -> None:
    expected = [alert.id for alert in _alerts(alert_type=kind)]
    assert expected
    assert _ids(app, alert_type=kind) == expected


def test_the_severity_filter(app: Flask, province: Province) -> None:
    for severity in (Severity.RED, Severity.YELLOW, Severity.LEVEL_3):
        expected = [alert.id for alert in _alerts(severity=severity)]
        assert expected, severity
        assert _ids(app, severity=severity.value) == expected
    assert _ids(app, alert_type="arrears", severity="green") == [
        alert.id for alert in _alerts(alert_type="arrears", severity=Severity.GREEN)]


def test_the_org_unit_filter_takes_the_units_subtree(app: Flask, province: Province) -> None:
    communities = communities_seen_by(province.department) - _unassigned()
    customers = customers_with_lines_in(communities)
    expected = [alert.id for alert in _alerts() if alert.owner in customers]
    assert expected
    assert _ids(app, org_unit=province.department) == expected


def _unassigned() -> set[str]:
    return set(db.session.scalars(select(OrgUnit.code).where(
        OrgUnit.unassigned_billing_area_id.is_not(None))))


def test_the_date_range_is_in_the_operators_days(app: Flask, province: Province) -> None:
    """Raised at 23:59 and at 00:00 Shanghai time on either side of a day's end."""
    late, early = (alert.id for alert in _alerts()[:2])
    day_end = datetime(2026, 11, 1, 23, 59, 59, tzinfo=SHANGHAI)
    with db.engine.begin() as conn:
        conn.execute(update(Alert).where(Alert.id == late).values(
            raised_at=day_end.astimezone(UTC)))
        conn.execute(update(Alert).where(Alert.id == early).values(
            raised_at=(day_end + timedelta(seconds=1)).astimezone(UTC)))
    assert _ids(app, date_from="2026-11-01", date_to="2026-11-01") == [late]
    assert _ids(app, date_from="2026-11-02", date_to="2026-11-02") == [early]
    assert _ids(app, date_to="2026-11-02") == [early, late]
    assert set(_ids(app, date_from="2026-11-02")) == {
        alert.id for alert in _alerts()} - {late}


def test_the_status_filter(app: Flask, province: Province) -> None:
    some = [alert.id for alert in _alerts(alert_type="arrears")][:4]
    now = datetime.now(UTC)
    admin = db.session.scalar(select(StaffUser.id).where(StaffUser.username == "admin"))
    with db.engine.begin() as conn:
        conn.execute(update(Alert).where(Alert.id.in_(some[:2])).values(cleared_at=now))
        conn.execute(update(Alert).where(Alert.id.in_(some[1:3])).values(
            acknowledged_at=now, acknowledged_by_id=admin))
    every = _alerts()
    expected = {
        "open": [alert.id for alert in every if alert.cleared_at is None],
        "cleared": [alert.id for alert in every if alert.cleared_at is not None],
        "acknowledged": [alert.id for alert in every if alert.acknowledged_at is not None],
        "unacknowledged": [alert.id for alert in every if alert.cleared_at is None
                           and alert.acknowledged_at is None],
    }
    for status, ids in expected.items():
        assert _ids(app, status=status) == ids, status
    assert set(expected["cleared"]) >= set(some[:2])
    assert set(expected["acknowledged"]) >= set(some[1:3])


def test_a_scoped_manager_sees_the_alerts_of_their_customers_only(
        app: Flask, province: Province) -> None:
    customers = customers_with_lines_in(communities_seen_by(province.department))
    expected = [alert.id for alert in _alerts() if alert.owner in customers]
    assert 0 < len(expected) < len(_alerts())
    assert _ids(app, SCOPED) == expected
    assert _ids(app, SCOPED, alert_type="arrears") == [
        alert.id for alert in _alerts(alert_type="arrears") if alert.owner in customers]


def _open_alert(owner_in: set[str] | None = None, *, exclude: set[str] | None = None
                ) -> Alert:
    """An open, unacknowledged alert (of a customer in ``owner_in``, not in ``exclude``)."""
    return next(alert for alert in _alerts(cleared_at=None, acknowledged_at=None)
                if (owner_in is None or alert.owner in owner_in)
                and (exclude is None or alert.owner not in exclude))


def _acknowledge(app: Flask, username: str, alert_id: int, **form: str) -> object:
    client = signed_in(app, username)
    token = csrf_token(client.get("/alerts/").get_data(as_text=True))
    return client.post(f"/alerts/{alert_id}/acknowledge",
                       data={"csrf_token": token, "next": "/alerts/?status=open", **form})


@pytest.mark.parametrize(("role", "allowed"), [
    (StaffRole.VIEWER, True), (StaffRole.CHANNEL_MANAGER, True), (StaffRole.ADMIN, True),
    (StaffRole.ANALYST, False), (StaffRole.AUDITOR, False)])
def test_who_may_acknowledge(app: Flask, province: Province, role: StaffRole,
                             allowed: bool) -> None:
    alert = _open_alert()
    response = _acknowledge(app, role.value, alert.id)
    stored = db.session.get(Alert, alert.id)
    assert stored is not None
    if not allowed:
        assert response.status_code == 403
        assert stored.acknowledged_at is None
        return
    assert response.status_code == 302
    assert response.headers["Location"] == "/alerts/?status=open"
    person = db.session.scalar(select(StaffUser.id).where(StaffUser.username == role.value))
    assert stored.acknowledged_by_id == person and stored.acknowledged_at is not None
    page = signed_in(app, role.value).get("/alerts/", query_string={"status": "acknowledged"})
    table = page_table(page.get_data(as_text=True))
    row = table.rows[table.ids.index(alert.id)]
    assert row[ACKNOWLEDGED_BY] == role.value


def test_acknowledging_twice_changes_nothing(app: Flask, province: Province) -> None:
    alert = _open_alert()
    assert _acknowledge(app, "viewer", alert.id).status_code == 302
    first = db.session.get(Alert, alert.id)
    assert first is not None
    when = first.acknowledged_at
    db.session.expunge_all()
    again = _acknowledge(app, "channel_manager", alert.id)
    assert again.status_code == 302
    stored = db.session.get(Alert, alert.id)
    assert stored is not None and stored.acknowledged_at == when
    assert stored.acknowledged_by_id == db.session.scalar(
        select(StaffUser.id).where(StaffUser.username == "viewer"))
    client = signed_in(app, "channel_manager")
    token = csrf_token(client.get("/alerts/").get_data(as_text=True))
    shown = client.post(f"/alerts/{alert.id}/acknowledge", data={"csrf_token": token},
                        follow_redirects=True)
    assert any("already acknowledged" in message
               for message in flashed(shown.get_data(as_text=True)))


def test_refused_out_of_scope_cleared_unknown_or_without_csrf(
        app: Flask, province: Province) -> None:
    seen = customers_with_lines_in(communities_seen_by(province.department))
    outside = _open_alert(exclude=seen)
    assert _acknowledge(app, SCOPED, outside.id).status_code == 404
    cleared = _open_alert()
    with db.engine.begin() as conn:
        conn.execute(update(Alert).where(Alert.id == cleared.id)
                     .values(cleared_at=datetime.now(UTC)))
    refused = _acknowledge(app, "viewer", cleared.id)
    assert refused.status_code == 409 and "cleared" in refused.get_data(as_text=True)
    assert _acknowledge(app, "viewer", 987654).status_code == 404
    unprotected = _open_alert()
    client = signed_in(app, "viewer")
    assert client.post(f"/alerts/{unprotected.id}/acknowledge").status_code == 400
    assert client.post(f"/alerts/{unprotected.id}/acknowledge",
                       data={"csrf_token": "forged"}).status_code == 400
    for alert in (outside, cleared, unprotected):
        stored = db.session.get(Alert, alert.id)
        assert stored is not None and stored.acknowledged_at is None
    inside = _open_alert(seen)
    assert _acknowledge(app, SCOPED, inside.id).status_code == 302


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/",
                                    "/alerts/\\\\evil", "/login"])
def test_acknowledging_returns_only_to_a_list_page(app: Flask, province: Province,
                                                   target: str) -> None:
    response = _acknowledge(app, "viewer", _open_alert().id, next=target)
    assert response.status_code == 302 and response.headers["Location"] == "/alerts/"


def test_the_exports_hold_the_pages_rows(app: Flask, province: Province) -> None:
    client = signed_in(app, "viewer")
    query = {"alert_type": "arrears"}
    shown = every_page(client, "/alerts/", query)
    assert len(shown.rows) == len(_alerts(alert_type="arrears"))
    exported = csv_table(client.get("/alerts/export", query_string={**query,
                                                                     "format": "csv"}))
    with force_locale("en"):
        assert exported.header == shown.header == [str(title) for title in ALERT_COLUMNS]
    assert exported.rows == shown.rows
    header, rows = xlsx_table(client.get("/alerts/export", query_string={**query,
                                                                          "format": "xlsx"}))
    assert header == shown.header and len(rows) == len(shown.rows)
    for page_row, sheet_row in zip(shown.rows, rows, strict=True):
        assert all(same_cell(text, value) for text, value in zip(page_row, sheet_row,
                                                                  strict=True)), \
            (page_row, sheet_row)
    everything = csv_table(client.get("/alerts/export"))
    assert len(everything.rows) == len(_alerts())


def test_an_export_is_limited_to_the_scope(app: Flask, province: Province) -> None:
    customers = customers_with_lines_in(communities_seen_by(province.department))
    exported = csv_table(signed_in(app, SCOPED).get("/alerts/export?format=csv"))
    assert {row[CUSTOMER_CODE] for row in exported.rows} <= customers
    assert len(exported.rows) == len([alert for alert in _alerts()
                                      if alert.owner in customers])


@pytest.mark.parametrize(("query", "field"), [
    ({"severity": "purple"}, "severity"),
    ({"status": "closed"}, "status"),
    ({"alert_type": "no_such_type"}, "alert_type"),
    ({"alert_type": "<script>alert(1)</script>"}, "alert_type"),
    ({"date_from": "2026-02-30"}, "date_from"),
    ({"date_from": "2026-11-05", "date_to": "2026-11-01"}, "date_to"),
    ({"date_to": "9999-12-31"}, "date_to"),
    ({"before": "-1"}, "before"),
    ({"before": "1" * 40}, "before"),
    ({"before": "abc"}, "before"),
    ({"org_unit": "x" * 5000}, "org_unit"),
    ({"org_unit": "A\x00B"}, "org_unit"),
    ({"org_unit": "NO-SUCH-UNIT"}, "org_unit"),
])
def test_a_bad_filter_is_named_and_nothing_breaks(app: Flask, province: Province,
                                                  query: dict[str, str], field: str) -> None:
    client = signed_in(app, "viewer")
    response = client.get("/alerts/", query_string=query)
    assert response.status_code == 400
    assert f'data-testid="filter-problem">{field}: ' in response.get_data(as_text=True)
    exported = client.get("/alerts/export", query_string={**query, "format": "xlsx"})
    assert exported.status_code == 400 and field in exported.get_json()["errors"]


def test_an_unknown_export_format_is_named(app: Flask, province: Province) -> None:
    response = signed_in(app, "viewer").get("/alerts/export?format=pdf")
    assert response.status_code == 400 and "format" in response.get_json()["errors"]


def test_links_carry_only_the_filters(app: Flask, province: Province) -> None:
    response = signed_in(app, "viewer").get("/alerts/", query_string={
        "_external": "1", "_scheme": "javascript", "before": "", "severity": "red",
        "endpoint": "x"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="export-xlsx" href="/alerts/export?format=xlsx&amp;severity=red"' in html


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(
    st.sampled_from(["alert_type", "severity", "status", "org_unit", "date_from", "date_to",
                     "before", "format"]),
    st.text(max_size=30) | st.sampled_from(["arrears", "red", "open", "2026-11-01", "1"]),
    max_size=5))
def test_no_query_string_makes_a_server_error(app: Flask, province: Province,
                                              query: dict[str, str]) -> None:
    client = signed_in(app, "viewer")
    for url in ("/alerts/", "/alerts/export"):
        response = client.get(url, query_string=query)
        assert response.status_code in (200, 400), (url, query, response.status_code)
        response.close()


def test_the_customer_code_links_to_the_customer_page(
        app: Flask, province: Province) -> None:
    html = signed_in(app, "viewer").get("/alerts/").get_data(as_text=True)
    code = _alerts()[0].owner
    assert f'<a href="/customers/{code}">{code}</a>' in html


def test_amounts_and_times_are_cells_not_formulas() -> None:
    """Unit check of the table cells the pages and exports share."""
    from webapp.web.exports import cell_text

    assert cell_text(Decimal("12.50")) == "12.50"
    assert cell_text(datetime(2026, 11, 1, 8, 5, 9)) == "2026-11-01 08:05"
    assert cell_text(None) == ""


def test_a_page_is_read_newest_first_from_an_index_on_postgresql(
        app: Flask, province: Province) -> None:
    """No filter, a type, a type and a later page: each can be an index range scan in the
    list's order, never a sort of every alert. The planner is told scans and sorts are
    dear, as they are at millions of alerts, and is left only the index under test (the
    other is dropped inside a transaction that is rolled back): on the demo's few alerts
    it would rightly pick either."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("EXPLAIN plans are PostgreSQL's")
    newest = _alerts()[0].id
    db.session.rollback()  # its locks would keep DROP INDEX waiting
    other = {"ix_alert_raised_id": "ix_alert_type_raised_id",
             "ix_alert_type_raised_id": "ix_alert_raised_id"}
    cases = [({}, "ix_alert_raised_id"), ({"alert_type": "arrears"}, "ix_alert_type_raised_id"),
             ({"alert_type": "arrears", "status": "open"}, "ix_alert_type_raised_id")]
    with db.engine.connect() as conn:
        for filters, index in cases:
            for keyed in (filters, {**filters, "before": newest}):
                with conn.begin() as transaction:
                    conn.execute(text("SET LOCAL enable_seqscan = off"))
                    conn.execute(text("SET LOCAL enable_sort = off"))
                    conn.execute(text("SET LOCAL lock_timeout = '20s'"))
                    conn.execute(text(f"DROP INDEX {other[index]}"))
                    statement = page_query(keyed, Scope(None), SHANGHAI).compile(
                        dialect=conn.dialect, compile_kwargs={"literal_binds": True})
                    plan = "\n".join(conn.scalars(text(f"EXPLAIN {statement}")))
                    transaction.rollback()
                assert f"Index Scan Backward using {index}" in plan, (keyed, plan)
                assert "Sort" not in plan, (keyed, plan)
