"""A classification run on the demo province, on SQLite and PostgreSQL."""

from datetime import date

from flask import Flask
from sqlalchemy import Engine, func, select, update

from engine.domain import ClassifiedAttribute, DecisionSource, RunKind
from webapp.database import db
from webapp.models import (
    Alert,
    Customer,
    CustomerDecision,
    Subscriber,
    SubscriberDecision,
)
from webapp.pipeline.runs import reclassify

AS_OF = date(2026, 11, 23)


def test_demo_is_classified_completely_and_reruns_change_nothing(app: Flask,
                                                                  engine: Engine) -> None:
    runner = app.test_cli_runner()
    demo = runner.invoke(args=["demo", "-n", "1500", "--as-of", AS_OF.isoformat()])
    assert demo.exit_code == 0, demo.output
    assert "records not decided: 0" in demo.output
    for attribute in ("statistical_attribute (customers): ", "service_tier (customers): ",
                      "lifecycle_stage (customers): ", "community (lines): ",
                      "open alerts (lines): "):
        assert attribute in demo.output
    with engine.connect() as conn:
        customers = conn.scalar(select(func.count()).select_from(Customer))
        lines = conn.scalar(select(func.count()).select_from(Subscriber))
        per_attribute = dict(conn.execute(select(CustomerDecision.attribute, func.count())
                                          .group_by(CustomerDecision.attribute)).all())
        assert set(per_attribute.values()) == {customers} and len(per_attribute) == 4
        assert conn.scalar(select(func.count()).select_from(SubscriberDecision)) == lines
        assert conn.scalar(select(func.count()).select_from(Alert)) > 0

    again = runner.invoke(args=["reclassify", "--all", "--as-of", AS_OF.isoformat()])
    assert again.exit_code == 0, again.output
    assert "decisions 0" in again.output and "alerts raised 0" in again.output
    assert "alerts cleared 0" in again.output

    number = db.session.scalar(select(Subscriber.service_number).order_by(Subscriber.id))
    explained = runner.invoke(args=["rules", "explain", number, "--as-of", AS_OF.isoformat()])
    assert explained.exit_code == 0, explained.output
    assert "line community = " in explained.output
    assert "customer service_tier = " in explained.output and " v1; read " in explained.output
    unknown = runner.invoke(args=["rules", "explain", "nope"])
    assert unknown.exit_code == 1 and "no subscriber" in unknown.output


def test_a_pinned_value_stays_and_records_the_rules_opinion(app: Flask,
                                                            engine: Engine) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "-n", "300", "--as-of", AS_OF.isoformat()]).exit_code == 0
    customer_id = db.session.scalar(select(func.min(Customer.id)))
    tier = ClassifiedAttribute.SERVICE_TIER
    where = (CustomerDecision.customer_id == customer_id, CustomerDecision.attribute == tier)
    rule_value = db.session.scalar(select(CustomerDecision.value).where(*where))
    db.session.execute(update(CustomerDecision).where(*where).values(
        value="pinned_tier", source=DecisionSource.PIN, pin_reason="test"))
    db.session.commit()
    reclassify(db.session, RunKind.FULL, AS_OF)
    row = db.session.execute(select(CustomerDecision.value, CustomerDecision.rule_value)
                             .where(*where)).one()
    assert tuple(row) == ("pinned_tier", rule_value)
