"""Alerts, target lists and the adjustment log through the API: keyset pages against the
database, the filters, the caller's org scope, and bad query strings named field by
field."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, or_, select

from engine.domain import StaffRole
from tests.api.conftest import bearer, token_for
from tests.web.lists import (
    SCOPED,
    Province,
    classified_province,
    communities_seen_by,
    customers_with_lines_in,
)
from webapp.alerting import vocabulary
from webapp.alerting.targets import CUSTOMER_LISTS
from webapp.database import db
from webapp.models import (
    AdjustmentLogEntry,
    Alert,
    Customer,
    CustomerDecision,
    OrgUnit,
    StaffUser,
    Subscriber,
)

#: An auditor whose scope is the scoped manager's department.
SCOPED_AUDITOR = "scoped-auditor"


@pytest.fixture(scope="module")
def province(app: Flask) -> Iterator[Province]:
    yield from classified_province(app)


@pytest.fixture(scope="module")
def secrets(province: Province) -> dict[str, str]:
    department = db.session.scalar(select(OrgUnit.id).where(
        OrgUnit.code == province.department))
    db.session.add(StaffUser(username=SCOPED_AUDITOR, display_name="auditor", locale="en",
                             role=StaffRole.AUDITOR, org_unit_id=department,
                             password_hash="-"))
    db.session.commit()
    return {name: token_for(name) for name in ("admin", "viewer", SCOPED, SCOPED_AUDITOR)}


def every_page(app: Flask, url: str, secret: str, **query: Any) -> list[dict[str, Any]]:
    """The items of every page, following ``next_before``."""
    client, items = app.test_client(), []
    while True:
        response = client.get(url, query_string=query, headers=bearer(secret))
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        items += page["items"]
        assert len(page["items"]) <= query.get("limit", 50)
        if page["next_before"] is None:
            return items
        query["before"] = page["next_before"]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_alert_pages_go_newest_first_without_gaps_or_repeats(
        app: Flask, secrets: dict[str, str]) -> None:
    items = every_page(app, "/api/v1/alerts", secrets["viewer"], limit=17)
    stored = db.session.execute(
        select(Alert, Subscriber.service_number, Customer.code)
        .join(Subscriber, Subscriber.id == Alert.subscriber_id)
        .join(Customer, Customer.id == Subscriber.customer_id)).all()
    stored.sort(key=lambda row: (_aware(row[0].raised_at), row[0].id), reverse=True)
    assert [item["id"] for item in items] == [alert.id for alert, _n, _c in stored]
    alert, number, code = stored[0]
    assert items[0] == {
        "id": alert.id, "alert_type": alert.alert_type, "severity": alert.severity.value,
        "customer_code": code, "customer_name": items[0]["customer_name"],
        "service_number": number, "message": alert.message, "open": True,
        "raised_at": _aware(alert.raised_at).isoformat(), "cleared_at": None,
        "acknowledged_at": None, "acknowledged_by": None}


def test_alert_filters_select_what_the_database_holds(
        app: Flask, province: Province, secrets: dict[str, str]) -> None:
    sample = db.session.scalars(select(Alert).order_by(Alert.id)).first()
    assert sample is not None
    cases = {
        "alert_type": (sample.alert_type, Alert.alert_type == sample.alert_type),
        "severity": (sample.severity.value, Alert.severity == sample.severity),
        "status": ("open", Alert.cleared_at.is_(None)),
    }
    for name, (value, condition) in cases.items():
        items = every_page(app, "/api/v1/alerts", secrets["admin"], **{name: value},
                           limit=500)
        assert len(items) == db.session.scalar(select(func.count()).where(condition)), name
    assert every_page(app, "/api/v1/alerts", secrets["admin"], status="cleared") == []
    in_department = every_page(app, "/api/v1/alerts", secrets["admin"],
                               org_unit=province.department)
    seen = customers_with_lines_in(communities_seen_by(province.department))
    assert in_department and {item["customer_code"] for item in in_department} <= seen


def test_a_scoped_token_reads_only_its_scope(
        app: Flask, province: Province, secrets: dict[str, str]) -> None:
    seen = customers_with_lines_in(communities_seen_by(province.department))
    everyone = every_page(app, "/api/v1/alerts", secrets["admin"], limit=500)
    scoped = every_page(app, "/api/v1/alerts", secrets[SCOPED], limit=500)
    assert scoped and len(scoped) < len(everyone)
    assert [item for item in everyone if item["customer_code"] in seen] == scoped

    log = every_page(app, "/api/v1/audit", secrets[SCOPED_AUDITOR], limit=500)
    ids = select(Customer.id).where(Customer.code.in_(seen))
    expected = db.session.scalars(
        select(AdjustmentLogEntry.chain_seq)
        .where(or_(AdjustmentLogEntry.customer_id.in_(ids),
                   AdjustmentLogEntry.subscriber_id.in_(
                       select(Subscriber.id).where(Subscriber.customer_id.in_(ids)))))
        .order_by(AdjustmentLogEntry.chain_seq.desc())).all()
    assert [item["seq"] for item in log] == expected
    assert 0 < len(expected) < db.session.scalar(
        select(func.count()).select_from(AdjustmentLogEntry))
    outside = db.session.scalars(select(Customer.code).where(
        Customer.code.not_in(seen)).order_by(Customer.code)).first()
    assert every_page(app, "/api/v1/audit", secrets[SCOPED_AUDITOR], customer=outside) == []


def test_log_pages_go_newest_first_and_filters_narrow_them(
        app: Flask, secrets: dict[str, str]) -> None:
    total = db.session.scalar(select(func.count()).select_from(AdjustmentLogEntry))
    items = every_page(app, "/api/v1/audit", secrets["admin"], limit=250)
    assert [item["seq"] for item in items] == list(range(total, 0, -1))
    entry = db.session.scalars(select(AdjustmentLogEntry).where(
        AdjustmentLogEntry.customer_id.is_not(None))
        .order_by(AdjustmentLogEntry.chain_seq)).first()
    assert entry is not None
    code = db.session.scalar(select(Customer.code).where(Customer.id == entry.customer_id))
    found = every_page(app, "/api/v1/audit", secrets["admin"], customer=code,
                       attribute=entry.attribute.value)
    assert entry.chain_seq in [item["seq"] for item in found]
    first = next(item for item in found if item["seq"] == entry.chain_seq)
    assert (first["customer_code"], first["new_value"], first["facts"]) == (
        code, entry.new_value, entry.facts)
    assert first["actor"] == f"system (run #{entry.run_id})"
    assert every_page(app, "/api/v1/audit", secrets["admin"], actor="nobody") == []


@pytest.mark.parametrize(("url", "query", "fields"), [
    ("/api/v1/alerts", {"alert_type": "no_such_type"}, {"alert_type"}),
    ("/api/v1/alerts", {"severity": "purple", "status": "asleep"}, {"severity", "status"}),
    ("/api/v1/alerts", {"org_unit": "NO-SUCH-UNIT"}, {"org_unit"}),
    ("/api/v1/alerts", {"org_unit": "x\x00y"}, {"org_unit"}),
    ("/api/v1/alerts", {"date_from": "2026-05-01", "date_to": "2026-04-01"}, {"date_to"}),
    ("/api/v1/alerts", {"date_to": "9999-12-31", "before": "-1"}, {"date_to", "before"}),
    ("/api/v1/alerts", {"limit": "0"}, {"limit"}),
    ("/api/v1/alerts", {"limit": "501"}, {"limit"}),
    ("/api/v1/alerts", {"before": "9" * 400}, {"before"}),
    ("/api/v1/audit", {"attribute": "salary", "version": "abc"}, {"attribute", "version"}),
    ("/api/v1/audit", {"customer": "x" * 500, "run": "0"}, {"customer", "run"}),
    ("/api/v1/audit", {"customer": "C1\x00", "date_to": "9999-12-31"},
     {"customer", "date_to"}),
    ("/api/v1/audit", {"date_from": "2026-13-45", "limit": "-3"}, {"date_from", "limit"}),
])
def test_a_bad_filter_is_named_field_by_field(
        app: Flask, secrets: dict[str, str], url: str, query: dict[str, str],
        fields: set[str]) -> None:
    response = app.test_client().get(url, query_string=query, headers=bearer(secrets["admin"]))
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == 400 and set(body["errors"]["query"]) == fields
    assert all(body["errors"]["query"][name] for name in fields)


def test_blank_and_unknown_parameters_are_no_filter(
        app: Flask, secrets: dict[str, str]) -> None:
    client, headers = app.test_client(), bearer(secrets["admin"])

    def items(query: dict[str, Any]) -> list[int]:
        response = client.get("/api/v1/alerts", query_string=query, headers=headers)
        assert response.status_code == 200, (query, response.get_json())
        return [item["id"] for item in response.get_json()["items"]]

    plain = items({})
    assert items({"severity": "", "alert_type": "  "}) == plain
    assert items({"colour": "red"}) == plain
    # A repeated parameter counts once (its first value), as Flask's own args do.
    assert items({"status": ["cleared", "open"]}) == items({"status": "cleared"}) == []


def test_the_target_lists_are_the_customer_lists_and_one_per_alert_type(
        app: Flask, secrets: dict[str, str]) -> None:
    response = app.test_client().get("/api/v1/target-lists", headers=bearer(secrets["viewer"]))
    lists = response.get_json()
    types = vocabulary.alert_types(db.session)
    assert [item["name"] for item in lists] == [
        *(item.name for item in CUSTOMER_LISTS), *types]
    by_name = {item["name"]: item for item in lists}
    assert by_name["by-tier"] == {"name": "by-tier", "subject": "customers",
                                  "filters": ["service_tier", "org_unit"]}
    assert by_name[types[0]]["subject"] == "alerts"


def _customer_pages(app: Flask, secret: str, list_name: str, **query: Any) -> list[dict]:
    client, rows = app.test_client(), []
    while True:
        response = client.get(f"/api/v1/target-lists/{list_name}", query_string=query,
                              headers=bearer(secret))
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        assert page["alerts"] is None and page["next_before"] is None
        rows += page["customers"]
        if page["next_after"] is None:
            return rows
        query["after"] = page["next_after"]


def test_a_customer_list_pages_by_code_within_the_scope(
        app: Flask, province: Province, secrets: dict[str, str]) -> None:
    tier = "mid_high_end"
    expected = list(db.session.scalars(
        select(Customer.code).join(CustomerDecision, CustomerDecision.customer_id == Customer.id)
        .where(CustomerDecision.attribute == "service_tier", CustomerDecision.value == tier)
        .order_by(Customer.code)))
    assert len(expected) > 3
    rows = _customer_pages(app, secrets["admin"], "by-tier", service_tier=tier, limit=3)
    assert [row["code"] for row in rows] == expected
    assert {row["service_tier"] for row in rows} == {tier}
    assert all(row["lines"] >= 1 and "." in row["revenue_avg_3m"] for row in rows)
    seen = customers_with_lines_in(communities_seen_by(province.department))
    scoped = _customer_pages(app, secrets[SCOPED], "by-tier", service_tier=tier)
    assert [row["code"] for row in scoped] == [code for code in expected if code in seen]
    # A list reads the filters it offers, and only those.
    assert _customer_pages(app, secrets["admin"], "by-org-unit", service_tier=tier) \
        == _customer_pages(app, secrets["admin"], "by-org-unit")


def test_an_anomaly_list_holds_the_open_alerts_of_its_type(
        app: Flask, secrets: dict[str, str]) -> None:
    kind = vocabulary.alert_types(db.session)[0]
    response = app.test_client().get(f"/api/v1/target-lists/{kind}",
                                     query_string={"limit": 500},
                                     headers=bearer(secrets["admin"]))
    page = response.get_json()
    assert page["customers"] is None and page["next_after"] is None
    expected = set(db.session.scalars(select(Alert.id).where(
        Alert.alert_type == kind, Alert.cleared_at.is_(None))))
    assert expected and {alert["id"] for alert in page["alerts"]} == expected


@pytest.mark.parametrize(("name", "query", "status", "fields"), [
    ("no-such-list", {}, 404, None),
    ("by-tier", {"service_tier": "platinum"}, 400, {"service_tier"}),
    ("by-revenue", {"revenue_min": "abc"}, 400, {"revenue_min"}),
    ("by-revenue", {"revenue_min": "12.345"}, 400, {"revenue_min"}),
    ("by-revenue", {"revenue_min": "1e400", "revenue_basis": "forever"}, 400,
     {"revenue_min", "revenue_basis"}),
    ("by-region", {"city": "NOWHERE"}, 400, {"city"}),
    ("by-region", {"after": "x\x00"}, 400, {"after"}),
    ("by-alert-type", {"alert_type": "meteor"}, 400, {"alert_type"}),
])
def test_a_bad_target_list_request_is_named(
        app: Flask, secrets: dict[str, str], name: str, query: dict[str, str], status: int,
        fields: set[str] | None) -> None:
    response = app.test_client().get(f"/api/v1/target-lists/{name}", query_string=query,
                                     headers=bearer(secrets["admin"]))
    assert response.status_code == status
    body = response.get_json()
    assert body["code"] == status
    if fields is not None:
        assert set(body["errors"]["query"]) == fields
