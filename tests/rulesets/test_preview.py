"""Impact preview of a draft on the demo province, on SQLite and PostgreSQL."""

import copy
import json
from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select

from engine.domain import ClassifiedAttribute
from engine.language import Ruleset
from engine.validation import validate_documents
from webapp.database import db
from webapp.models import AdjustmentLogEntry, Alert, Customer, CustomerDecision, Subscriber
from webapp.rulesets.preview import Impact, preview_impact
from webapp.rulesets.store import latest_published, live_rulesets

AS_OF = date(2026, 11, 23)


@pytest.fixture
def demo(app: Flask, engine: Engine) -> None:
    """A small province, imported, published and classified as of ``AS_OF``."""
    result = app.test_cli_runner().invoke(args=["demo", "-n", "1500", "--as-of",
                                                AS_OF.isoformat()])
    assert result.exit_code == 0, result.output


def _documents() -> dict[str, dict[str, Any]]:
    return {row.name: copy.deepcopy(row.definition) for row in latest_published(db.session)}


def _candidate(document: dict[str, Any]) -> list[Ruleset]:
    """The live rulesets with ``document`` in place of the one of its name."""
    reports = validate_documents({**_documents(), document["name"]: document})
    assert all(report.ok for report in reports), [report.errors for report in reports]
    return [report.ruleset for report in reports if report.ruleset is not None]


def _preview(candidate: list[Ruleset], **options: Any) -> Impact:
    return preview_impact(db.session.connection(), live_rulesets(db.session), candidate,
                          AS_OF, **options)


def _higher_tier_threshold() -> list[Ruleset]:
    """service_tier with mid_high_end from the 95th percentile instead of the 90th."""
    tier = _documents()["service_tier"]
    rule = next(rule for rule in tier["rules"] if rule["id"] == "mid_high_end")
    test = next(test for test in rule["when"]["all"] if test["fact"] == "revenue_percentile")
    assert test["value"] == 90
    test["value"] = 95
    return _candidate(tier)


def test_the_published_rulesets_change_nothing(demo: None) -> None:
    impact = _preview(_candidate(_documents()["service_tier"]))
    assert impact.transitions == {}
    assert not impact.alerts_raised and not impact.alerts_cleared
    assert impact.errors == {} and impact.affected_customers == 0 and impact.sample == []
    assert impact.customers == db.session.scalar(select(func.count()).select_from(Customer))
    assert impact.subscribers == db.session.scalar(select(func.count())
                                                   .select_from(Subscriber))


def test_a_higher_threshold_moves_customers_between_90_and_95_to_standard(demo: None) -> None:
    # Independently: the customers the stored classification made mid_high_end, with the
    # percentile the deciding rule read then (the adjustment log keeps its facts).
    tier = ClassifiedAttribute.SERVICE_TIER
    current = set(db.session.scalars(select(CustomerDecision.customer_id).where(
        CustomerDecision.attribute == tier, CustomerDecision.value == "mid_high_end")))
    percentile = {row.customer_id: Decimal(row.facts["revenue_percentile"])
                  for row in db.session.execute(
                      select(AdjustmentLogEntry.customer_id, AdjustmentLogEntry.facts)
                      .where(AdjustmentLogEntry.attribute == tier,
                             AdjustmentLogEntry.new_value == "mid_high_end")
                      .order_by(AdjustmentLogEntry.id))}
    expected = {customer for customer in current if percentile[customer] < 95}
    assert 0 < len(expected) < len(current)

    impact = _preview(_higher_tier_threshold())

    assert set(impact.transitions) == {"service_tier"}
    service_tier = impact.transitions["service_tier"]
    assert service_tier.subject == "customer"
    assert service_tier.evaluated == impact.customers
    assert service_tier.transitions == Counter({("mid_high_end", "standard"): len(expected)})
    assert impact.affected_customers == len(expected)
    assert not impact.alerts_raised and not impact.alerts_cleared and impact.errors == {}
    assert len(impact.sample) == min(20, len(expected))
    assert [customer.id for customer in impact.sample] == sorted(
        customer.id for customer in impact.sample)
    for customer in impact.sample:
        assert customer.id in expected
        (change,) = customer.changes
        assert (change.subject, change.output, change.old, change.new) == (
            "customer", "service_tier", "mid_high_end", "standard")
        assert change.old_why == (f"rule mid_high_end of service_tier v1; read vip_card=none, "
                                  f"revenue_percentile={percentile[customer.id]}")
        assert change.new_why.startswith("default of service_tier v1 (draft); read ")
        assert f"revenue_percentile={percentile[customer.id]}" in change.new_why


def test_a_removed_alert_rule_clears_every_open_alert_of_its_type(demo: None) -> None:
    alerts = _documents()["alerts"]
    alerts["rules"] = [rule for rule in alerts["rules"] if rule["id"] != "zero_traffic"]
    open_alerts = (select(Alert.subscriber_id)
                   .where(Alert.alert_type == "zero_traffic", Alert.cleared_at.is_(None)))
    stored = db.session.scalar(select(func.count()).select_from(open_alerts.subquery()))
    customers = db.session.scalar(select(func.count(func.distinct(Subscriber.customer_id)))
                                  .where(Subscriber.id.in_(open_alerts)))
    assert stored > 0

    impact = _preview(_candidate(alerts), sample_size=3)

    assert impact.alerts_cleared == Counter({"zero_traffic": stored})
    assert not impact.alerts_raised and impact.transitions == {}
    assert impact.affected_customers == customers
    assert len(impact.sample) == 3
    change = impact.sample[0].changes[0]
    assert change.subject.startswith("line ") and change.output == "alert zero_traffic"
    assert (change.old, change.new, change.new_why) == ("yellow", None, "not raised")
    assert change.old_why.startswith("rule zero_traffic of alerts v1; read zero_traffic=")


def test_progress_ends_with_every_customer(demo: None) -> None:
    calls: list[tuple[int, int]] = []
    impact = _preview(_higher_tier_threshold(), progress=lambda *call: calls.append(call))
    total = db.session.scalar(select(func.count()).select_from(Customer))
    assert calls[0] == (0, total) and calls[-1] == (total, total) == (impact.customers, total)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_an_impact_survives_its_json_column(demo: None) -> None:
    impact = _preview(_higher_tier_threshold(), sample_size=5)
    assert impact.sample and impact.transitions
    stored = json.loads(json.dumps(impact.as_dict()))
    assert Impact.from_dict(stored) == impact
    assert stored["transitions"]["service_tier"]["transitions"] == [
        ["mid_high_end", "standard", impact.affected_customers]]


def test_worker_processes_give_the_same_impact(demo: None) -> None:
    candidate = _higher_tier_threshold()
    assert _preview(candidate, processes=2) == _preview(candidate)


def _everything_twice(published: list[Ruleset], candidate: list[Ruleset]
                      ) -> tuple[Counter, Counter]:
    """What the preview must find, computed the long way: both sides evaluated in full
    with a run's own code, outcomes compared record by record."""
    from webapp.classification.reference import load_reference
    from webapp.classification.run import Plan, all_customers, evaluate_range

    conn = db.session.connection()
    reference = load_reference(conn, AS_OF)
    sides = [Plan.of(rulesets).evaluators() for rulesets in (published, candidate)]
    transitions, alerts = Counter(), Counter()
    for chunk in all_customers(conn):
        old, new = (evaluate_range(conn, reference, evaluators, chunk) for evaluators in sides)
        for was, now in (*zip(old.customer_results, new.customer_results, strict=True),
                         *zip(old.line_results, new.line_results, strict=True)):
            for output in was.decisions.keys() | now.decisions.keys():
                before, after = (side.decisions.get(output) for side in (was, now))
                values = (before and before.value, after and after.value)
                if values[0] != values[1]:
                    transitions[output, *values] += 1
            raised = {alert.type for alert in was.alerts}
            raising = {alert.type for alert in now.alerts}
            alerts.update(("cleared", kind) for kind in raised - raising)
            alerts.update(("raised", kind) for kind in raising - raised)
    return transitions, alerts


def _attribution_without_boxes() -> list[Ruleset]:
    """Attribution (the first stage, read by every customer ruleset) without its
    junction-box rule: lines fall back to their number segment's community."""
    attribution = _documents()["attribution"]
    attribution["rules"] = [rule for rule in attribution["rules"]
                            if rule["then"] != {"fact": "box_community"}]
    attribution["tests"] = []
    return _candidate(attribution)


def _no_zero_traffic_alert() -> list[Ruleset]:
    alerts = _documents()["alerts"]
    alerts["rules"] = [rule for rule in alerts["rules"] if rule["id"] != "zero_traffic"]
    alerts["tests"] = []
    return _candidate(alerts)


@pytest.mark.parametrize("draft", [_attribution_without_boxes, _higher_tier_threshold,
                                   _no_zero_traffic_alert])
def test_reusing_the_published_outcomes_finds_what_evaluating_everything_finds(
        demo: None, draft: Any) -> None:
    published, candidate = live_rulesets(db.session), draft()
    transitions, alerts = _everything_twice(published, candidate)
    assert transitions or alerts, "the draft must change something for the test to mean anything"
    impact = _preview(candidate)
    found = Counter({(output, old, new): count for output, item in impact.transitions.items()
                     for (old, new), count in item.transitions.items()})
    assert found == transitions
    assert Counter({**{("cleared", k): n for k, n in impact.alerts_cleared.items()},
                    **{("raised", k): n for k, n in impact.alerts_raised.items()}}) == alerts
