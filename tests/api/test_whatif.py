"""What-if through the API: stored lines' facts reproduce what the run decided, nothing
is written, and every bad fact is named."""

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from engine.catalog import CUSTOMER_FACTS, SUBSCRIBER_FACTS, Fact, FactType
from engine.values import display
from tests.api.conftest import bearer, token_for
from tests.web.lists import AS_OF, Province, classified_province
from webapp.classification.facts import CustomerChunk
from webapp.classification.reference import load_reference
from webapp.classification.run import Evaluated, Plan, evaluate_range
from webapp.database import db
from webapp.models import (
    AdjustmentLogEntry,
    Alert,
    CustomerDecision,
    Subscriber,
    SubscriberDecision,
)
from webapp.rulesets.store import live_rulesets

URL = "/api/v1/what-if"


@pytest.fixture(scope="module")
def province(app: Flask) -> Iterator[Province]:
    yield from classified_province(app)


@pytest.fixture(scope="module")
def secret(province: Province) -> str:
    return token_for("analyst")


def _literal(fact: Fact, value: Any) -> Any:
    """A native fact value as a caller writes it (as in test cases)."""
    if value is None:
        return None
    if fact.type is FactType.MONEY:
        return display(fact, value)
    if fact.type is FactType.DECIMAL:
        return str(value)
    if fact.type is FactType.DATE:
        return value.isoformat()
    return value


def _facts(record: dict[str, Any], catalog: dict[str, Fact]) -> dict[str, Any]:
    return {name: _literal(catalog[name], value) for name, value in record.items()
            if name in catalog}


def _evaluated(customer_id: int) -> Evaluated:
    """The facts a run reads for the customer and its lines (as the stored run did)."""
    conn = db.session.connection()
    evaluators = Plan.of(live_rulesets(db.session)).evaluators()
    return evaluate_range(conn, load_reference(conn, date.fromisoformat(AS_OF)), evaluators,
                          CustomerChunk(customer_id, customer_id))


def _customers(lines: int, count: int) -> list[int]:
    counted = (select(Subscriber.customer_id).group_by(Subscriber.customer_id)
               .having(func.count() == lines).order_by(Subscriber.customer_id).limit(count))
    return list(db.session.scalars(counted))


def _ask(app: Flask, secret: str, body: dict[str, Any]) -> dict[str, Any]:
    response = app.test_client().post(URL, json=body, headers=bearer(secret))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _values(outcome: dict[str, Any]) -> dict[str, str]:
    return {output: decision["value"] for output, decision in outcome["decisions"].items()}


def test_a_stored_lines_facts_give_what_the_run_decided(
        app: Flask, province: Province, secret: str) -> None:
    log_size = db.session.scalar(select(func.count()).select_from(AdjustmentLogEntry))
    checked = 0
    for customer_id in _customers(2, 4) + _customers(3, 2):
        batch = _evaluated(customer_id)
        customer = _facts(batch.customers[0], CUSTOMER_FACTS)
        stored_customer = dict(db.session.execute(select(
            CustomerDecision.attribute, CustomerDecision.value)
            .where(CustomerDecision.customer_id == customer_id)).all())
        for line in batch.lines:
            answer = _ask(app, secret, {"as_of": AS_OF, "customer": customer,
                                        "subscriber": _facts(line, SUBSCRIBER_FACTS)})
            stored_line = dict(db.session.execute(select(
                SubscriberDecision.attribute, SubscriberDecision.value)
                .where(SubscriberDecision.subscriber_id == line["key"])).all())
            assert _values(answer["subscriber"]) == stored_line
            assert _values(answer["customer"]) == stored_customer
            stored_alerts = set(db.session.execute(select(Alert.alert_type, Alert.rule_id)
                                .where(Alert.subscriber_id == line["key"],
                                       Alert.cleared_at.is_(None))).all())
            assert {(alert["type"], alert["rule_id"]) for alert in
                    answer["subscriber"]["alerts"]} == stored_alerts
            assert answer["rulesets"] and not answer["subscriber"]["errors"]
            checked += 1
    assert checked >= 14
    assert db.session.scalar(select(func.count()).select_from(AdjustmentLogEntry)) == log_size


def test_without_customer_facts_the_line_makes_a_customer_of_its_own(
        app: Flask, province: Province, secret: str) -> None:
    for customer_id in _customers(1, 5):
        line = _evaluated(customer_id).lines[0]
        answer = _ask(app, secret, {"as_of": AS_OF,
                                    "subscriber": _facts(line, SUBSCRIBER_FACTS)})
        stored = dict(db.session.execute(select(
            CustomerDecision.attribute, CustomerDecision.value)
            .where(CustomerDecision.customer_id == customer_id)).all())
        assert _values(answer["customer"]) == stored, customer_id
        facts = answer["customer_facts"]
        assert facts["line_count"] == "1"
        assert facts["community"] == answer["subscriber"]["decisions"]["community"]["value"]
        decision = answer["customer"]["decisions"]["service_tier"]
        assert decision["ruleset"] == "service_tier" and decision["version"] >= 1
        assert decision["rule_id"] == "default" or decision["rule_title"]


def test_relative_dates_count_from_the_evaluation_date(
        app: Flask, province: Province, secret: str) -> None:
    facts = {"status": "active", "agreement_end_date": "today+10d"}
    ending = _ask(app, secret, {"as_of": "2026-03-01", "subscriber": facts})
    alert = next(alert for alert in ending["subscriber"]["alerts"]
                 if alert["type"] == "agreement_ending")
    assert alert["facts"]["agreement_end_date"] == "2026-03-11"
    assert alert["message"] == "The service agreement ends on 2026-03-11."
    later = _ask(app, secret, {"as_of": "2026-03-01",
                               "subscriber": {**facts, "agreement_end_date": "today+40d"}})
    assert "agreement_ending" not in {alert["type"] for alert in
                                      later["subscriber"]["alerts"]}


@pytest.mark.parametrize(("body", "where"), [
    ({}, {"subscriber"}),
    ({"subscriber": []}, {"subscriber"}),
    ({"subscriber": {"salary": 1}}, {"subscriber"}),
    ({"subscriber": {"arrears_days": "12", "balance": "1.234"}}, {"subscriber"}),
    ({"subscriber": {"install_date": "yesterday", "status": "asleep"}}, {"subscriber"}),
    ({"subscriber": {"prepaid": "yes", "product": "x" * 20_000}}, {"subscriber"}),
    ({"subscriber": {"arrears_amount": "NaN", "revenue_change_pct": 1e300}}, {"subscriber"}),
    ({"subscriber": {}, "customer": {"line_count": 1.5}}, {"customer"}),
    ({"subscriber": {}, "customer": "all of them"}, {"customer"}),
    ({"subscriber": {}, "as_of": "0001-01-01"}, {"as_of"}),
    ({"subscriber": {}, "as_of": "2026-02-30"}, {"as_of"}),
    ({"subscriber": {}, "when": "now"}, {"when"}),
])
def test_every_bad_fact_is_named(app: Flask, province: Province, secret: str,
                                 body: dict[str, Any], where: set[str]) -> None:
    response = app.test_client().post(URL, json=body, headers=bearer(secret))
    assert response.status_code == 400
    errors = response.get_json()["errors"]["json"]
    assert set(errors) == where
    for name in where & {"subscriber", "customer"}:
        given = body.get(name)
        if isinstance(given, dict) and given:
            assert set(errors[name]) == set(given), errors[name]
