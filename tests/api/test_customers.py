"""A customer's and a line's classification through the API: values and sources as
stored, the reason in words, pins, alerts, and the caller's org scope."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select

from engine.domain import ClassifiedAttribute, DecisionSource
from tests.api.conftest import bearer, token_for
from tests.web.lists import (
    SCOPED,
    Province,
    classified_province,
    communities_seen_by,
    customers_with_lines_in,
)
from webapp.database import db
from webapp.models import (
    AdjustmentLogEntry,
    Alert,
    Customer,
    CustomerDecision,
    StaffUser,
    Subscriber,
    SubscriberDecision,
)
from webapp.pipeline.adjust import Policy, pin

TIER = ClassifiedAttribute.SERVICE_TIER


@pytest.fixture(scope="module")
def province(app: Flask) -> Iterator[Province]:
    yield from classified_province(app)


@pytest.fixture(scope="module")
def secrets(province: Province) -> dict[str, str]:
    return {name: token_for(name) for name in ("viewer", SCOPED)}


def _get(app: Flask, url: str, secret: str, status: int = 200) -> dict[str, Any]:
    response = app.test_client().get(url, headers=bearer(secret))
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _customer_with(lines: int) -> Customer:
    customer_id = db.session.scalar(
        select(Subscriber.customer_id).group_by(Subscriber.customer_id)
        .having(func.count() == lines).order_by(Subscriber.customer_id))
    customer = db.session.get(Customer, customer_id)
    assert customer is not None
    return customer


def test_a_customers_values_come_with_their_rule_and_reason(
        app: Flask, secrets: dict[str, str]) -> None:
    customer = _customer_with(3)
    body = _get(app, f"/api/v1/customers/{customer.code}", secrets["viewer"])
    assert body["customer"]["code"] == customer.code and body["line_count"] == 3
    stored = {row.attribute.value: row for row in db.session.scalars(
        select(CustomerDecision).where(CustomerDecision.customer_id == customer.id))}
    shown = {why["attribute"]: why for why in body["classification"]}
    assert set(shown) == set(stored)
    for attribute, why in shown.items():
        row = stored[attribute]
        assert (why["value"], why["source"], why["rule_id"], why["ruleset"], why["version"],
                why["run_id"]) == (row.value, "rule", row.rule_id, row.ruleset_name,
                                   row.ruleset_version, row.run_id)
        assert why["because"], attribute
        if row.rule_id != "default":
            logged = db.session.scalars(
                select(AdjustmentLogEntry.facts).where(
                    AdjustmentLogEntry.customer_id == customer.id,
                    AdjustmentLogEntry.attribute == row.attribute)
                .order_by(AdjustmentLogEntry.chain_seq.desc())).first()
            assert why["facts"] == logged and why["rule_title"]
    numbers = sorted(db.session.scalars(select(Subscriber.service_number).where(
        Subscriber.customer_id == customer.id)))
    assert [line["service_number"] for line in body["lines"]] == numbers
    assert all(line["classification"][0]["attribute"] == "community"
               for line in body["lines"])
    alerts = set(db.session.scalars(select(Alert.id).join(
        Subscriber, Subscriber.id == Alert.subscriber_id).where(
        Subscriber.customer_id == customer.id)))
    assert {alert["id"] for alert in body["alerts"]} == alerts
    assert all(alert["service_number"] in numbers for alert in body["alerts"])


def test_a_pin_shows_who_why_until_when_and_the_rules_opinion(
        app: Flask, secrets: dict[str, str]) -> None:
    customer = _customer_with(1)
    admin = db.session.scalar(select(StaffUser).where(StaffUser.username == "admin"))
    assert admin is not None
    zone = ZoneInfo(app.config["TIMEZONE"])
    ruled = db.session.scalar(select(CustomerDecision.value).where(
        CustomerDecision.customer_id == customer.id, CustomerDecision.attribute == TIER))
    value = "gold" if ruled != "gold" else "silver"
    pin(db.session, admin, customer, TIER, value, "VIP complaint", datetime(
        2026, 11, 15, 10, tzinfo=zone), Policy.from_config(app.config),
        datetime(2027, 1, 30, 16, tzinfo=UTC))  # midnight of 2027-01-31 in Shanghai
    body = _get(app, f"/api/v1/customers/{customer.code}", secrets["viewer"])
    why = next(why for why in body["classification"] if why["attribute"] == TIER)
    assert (why["value"], why["source"], why["pin_reason"], why["rule_value"]) == (
        value, DecisionSource.PIN.value, "VIP complaint", ruled)
    assert why["pinned_by"] == admin.display_name
    assert why["pin_expires_at"].startswith("2027-01-30T16:00:00")


def test_a_line_shows_its_own_values_its_customers_and_its_alerts(
        app: Flask, secrets: dict[str, str]) -> None:
    customer = _customer_with(3)
    lines = db.session.scalars(select(Subscriber).where(
        Subscriber.customer_id == customer.id).order_by(Subscriber.service_number)).all()
    for line in lines:
        body = _get(app, f"/api/v1/subscribers/{line.service_number}", secrets["viewer"])
        assert body["service_number"] == line.service_number
        community = db.session.scalar(select(SubscriberDecision.value).where(
            SubscriberDecision.subscriber_id == line.id))
        assert [why["value"] for why in body["classification"]] == [community]
        assert body["customer"]["code"] == customer.code
        assert {why["attribute"] for why in body["customer_classification"]} >= {
            "statistical_attribute", "service_tier", "lifecycle_stage"}
        alerts = set(db.session.scalars(select(Alert.id).where(
            Alert.subscriber_id == line.id)))
        assert {alert["id"] for alert in body["alerts"]} == alerts
        assert {alert["service_number"] for alert in body["alerts"]} <= {line.service_number}


def test_outside_the_scope_is_as_if_it_did_not_exist(
        app: Flask, province: Province, secrets: dict[str, str]) -> None:
    seen = customers_with_lines_in(communities_seen_by(province.department))
    inside = db.session.scalars(select(Customer).where(Customer.code.in_(seen))
                                .order_by(Customer.code)).first()
    outside = db.session.scalars(select(Customer).where(Customer.code.not_in(seen))
                                 .order_by(Customer.code)).first()
    assert inside is not None and outside is not None
    _get(app, f"/api/v1/customers/{inside.code}", secrets[SCOPED])
    missing = _get(app, "/api/v1/customers/C-NO-SUCH", secrets[SCOPED], 404)
    hidden = _get(app, f"/api/v1/customers/{outside.code}", secrets[SCOPED], 404)
    assert hidden == missing
    line = db.session.scalar(select(Subscriber.service_number).where(
        Subscriber.customer_id == outside.id))
    _get(app, f"/api/v1/subscribers/{line}", secrets[SCOPED], 404)
    _get(app, f"/api/v1/subscribers/{line}", secrets["viewer"])


@pytest.mark.parametrize("code", ["%00", "C%00X", "x" * 300, "%E2%80%AE", "..", "C 1"])
def test_a_strange_code_is_a_404(app: Flask, secrets: dict[str, str], code: str) -> None:
    for url in (f"/api/v1/customers/{code}", f"/api/v1/subscribers/{code}"):
        assert _get(app, url, secrets["viewer"], 404)["code"] == 404
